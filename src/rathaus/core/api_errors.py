"""The JSON API's error answers: one shape for every error, messages in German and English."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from rathaus.core.errors import ERRORS, api_error_body

MALFORMED_BODY = _("Der Inhalt der Anfrage ist kein gültiges JSON oder unvollständig.")
FIELD_MESSAGES = {
    "missing": _("Dieses Feld ist erforderlich."),
    "string_too_long": _("Der Text ist zu lang."),
    "string_too_short": _("Der Text ist zu kurz."),
    "value_error": _("Der Wert ist ungültig."),
    "int_parsing": _("Bitte geben Sie eine ganze Zahl an."),
    "int_type": _("Bitte geben Sie eine ganze Zahl an."),
    "string_type": _("Bitte geben Sie einen Text an."),
    "model_attributes_type": _("Erwartet wird ein JSON-Objekt."),
    "dict_type": _("Erwartet wird ein JSON-Objekt."),
}
DEFAULT_FIELD_MESSAGE = _("Der Wert ist ungültig.")

_MESSAGES = {
    "type": "object",
    "properties": {"de": {"type": "string"}, "en": {"type": "string"}},
    "required": ["de", "en"],
}
ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "title": "Error",
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "machine-readable code"},
            "message": {"type": "string", "description": "in the language of the request"},
            "messages": _MESSAGES,
            "errors": {
                "type": "array",
                "description": "per field, for validation errors (422)",
                "items": {"$ref": "#/components/schemas/FieldError"},
            },
        },
        "required": ["error", "message", "messages"],
    },
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "properties": {
            "field": {"type": "string"},
            "message": {"type": "string"},
            "messages": _MESSAGES,
        },
        "required": ["field", "message", "messages"],
    },
}


def _field_name(loc: list[Any]) -> str:
    # ("body", "payload", "email") -> "email"; ("query", "limit") -> "limit"
    parts = [str(part) for part in loc[1:] if part not in {"payload", "data"}]
    return ".".join(parts) or str(loc[0] if loc else "")


def _status_response(api: NinjaAPI, request: HttpRequest, status: int) -> HttpResponse:
    code, _title, message = ERRORS.get(status, ERRORS[400])
    return api.create_response(request, api_error_body(code, message), status=status)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = []
        for error in exc.errors:
            message = FIELD_MESSAGES.get(str(error.get("type")), DEFAULT_FIELD_MESSAGE)
            item = api_error_body(str(error.get("type", "invalid")), message)
            item.pop("error")
            errors.append({"field": _field_name(list(error.get("loc", []))), **item})
        body = api_error_body(
            "validation_error", _("Die Angaben sind unvollständig oder fehlerhaft."), errors=errors
        )
        return api.create_response(request, body, status=422)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            body = api_error_body("malformed_body", MALFORMED_BODY)
            return api.create_response(request, body, status=400)
        return _status_response(api, request, exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _status_response(api, request, 404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _status_response(api, request, 403)
