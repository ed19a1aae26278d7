"""The submission API: ``POST /api/v1/forms/{slug}/submissions`` for other front-ends (a city
app, a kiosk). The same checks as the web form, the same one service call."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.errors import HttpError

from rathaus.core.errors import api_error_body
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.forms.api_validation import entry, submission_errors
from rathaus.forms.definition import FieldSpec, fields_of
from rathaus.forms.selectors import definition_of, form_published_version
from rathaus.forms.uploads import UploadRejected, check_and_store, upload_dir
from rathaus.submissions.models import Submission
from rathaus.submissions.receipt import status_path
from rathaus.submissions.selectors import submission_status_code
from rathaus.submissions.services import (
    StoredFile,
    SubmissionRefused,
    email_of,
    submission_create,
)

router = Router(tags=["submissions"])
PART = "part:"
MAX_PARTS = 20


class SubmissionCreated(Schema):
    reference: str
    submitted_at: str
    status_url: str  # the status page, with its secret code: give it only to the applicant
    receipt_url: str  # the receipt PDF (Eingangsbestätigung)


# The data as OpenAPI describes it: field ids as keys; texts (without NUL), numbers, yes/no,
# a date range {from, to}, or the entries of a repeatable group (each again such an object).
DATA_SCHEMAS: dict[str, Any] = {
    "SubmissionData": {
        "title": "SubmissionData",
        "type": "object",
        "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,99}$"},
        "additionalProperties": {"$ref": "#/components/schemas/SubmissionValue"},
    },
    "SubmissionValue": {
        "title": "SubmissionValue",
        "anyOf": [
            {"type": "string", "pattern": "^[^\\u0000]*$"},
            {"type": "number"},
            {"type": "boolean"},
            {
                "type": "object",
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                "additionalProperties": False,
            },
            {"type": "array", "items": {"$ref": "#/components/schemas/SubmissionData"}},
        ],
    },
}
REQUEST_BODY = {
    "required": True,
    "description": (
        "The data keyed by field ids (see GET /api/v1/forms/{slug}: `data_schema`). With files: "
        "multipart/form-data with the data as JSON in the part `data`, each file as its own "
        "part, and in the data the file field's value `part:<name of the part>`."
    ),
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/SubmissionData"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"data": {"type": "string", "description": "the data as JSON"}},
                "required": ["data"],
                "additionalProperties": {"type": "string", "format": "binary"},
            }
        },
    },
}


def _body(request: HttpRequest) -> Any:
    try:
        if request.content_type == "multipart/form-data":
            return json.loads(request.POST.get("data") or "null")
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "malformed") from None


def _parts(data: Any, path: str = "") -> list[tuple[str, str]]:
    """(field path, part name) of every ``part:<name>`` value."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _parts(v, f"{path}/{k}" if path else str(k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _parts(v, f"{path}/{i}")]
    if isinstance(data, str) and data.startswith(PART):
        return [(path, data[len(PART) :])]
    return []


def _replace(data: Any, names: dict[str, str]) -> Any:
    if isinstance(data, dict):
        return {k: _replace(v, names) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace(v, names) for v in data]
    if isinstance(data, str) and data.startswith(PART) and data[len(PART) :] in names:
        return names[data[len(PART) :]]
    return data


def _created(request: HttpRequest, submission: Submission, *, replayed: bool) -> HttpResponse:
    code = submission_status_code(submission)
    body = {
        "reference": submission.reference,
        "submitted_at": submission.submitted_at.isoformat(),
        "status_url": request.build_absolute_uri(status_path(submission)),
        "receipt_url": request.build_absolute_uri(
            reverse("submissions:receipt", kwargs={"reference": submission.reference, "code": code})
        ),
    }
    response = JsonResponse(body, status=201)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _invalid(errors: list[dict[str, Any]]) -> HttpResponse:
    body = api_error_body(
        "validation_error", _("Die Angaben sind unvollständig oder fehlerhaft."), errors=errors
    )
    return JsonResponse(body, status=422)


@router.post(
    "/forms/{slug}/submissions",
    response={201: SubmissionCreated},
    openapi_extra={
        "requestBody": REQUEST_BODY,
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 120},
                "description": "the same key again gives the first answer, nothing new",
            }
        ],
    },
)
def create_submission(request: HttpRequest, slug: str) -> HttpResponse:
    """Submit an application. A retry with the same `Idempotency-Key` header gives the first
    answer again (header `Idempotent-Replayed: true`) and creates nothing. 422 lists every
    problem per field (`errors`: `field` as the data's path, message in German and English)."""
    if ratelimit_exceeded(
        scope="submit", key=client_address(request), rate=settings.RATELIMIT_SUBMIT
    ):
        raise HttpError(429, "too many")
    version = form_published_version(slug=slug)
    idempotency_key = request.headers.get("Idempotency-Key", "")
    key = f"api:{slug}:{idempotency_key.strip()[:120]}" if idempotency_key else None
    if key and (done := Submission.objects.filter(idempotency_key=key).first()):
        return _created(request, done, replayed=True)
    data = _body(request)
    if "\x00" in json.dumps(data, ensure_ascii=False):
        raise HttpError(400, "NUL")  # never meant, and no text column can store it
    if not isinstance(data, dict):
        return _invalid([entry("$", _("Erwartet wird ein JSON-Objekt."))])
    definition = definition_of(version)
    specs = {spec.id: spec for spec in fields_of(definition)}
    errors: list[dict[str, Any]] = []
    stored: dict[str, StoredFile] = {}
    names: dict[str, str] = {}
    parts = _parts(data)
    if len(parts) > MAX_PARTS:
        return _invalid([entry("$", _("Zu viele Dateien in einer Anfrage."))])
    for path, part in parts:
        spec: FieldSpec | None = specs.get(path.rsplit("/", 1)[-1])
        upload = request.FILES.get(part)
        if spec is None or spec.type != "file" or upload is None:
            errors.append(entry(path, _("Bitte laden Sie eine Datei hoch.")))
            continue
        try:
            token, meta = check_and_store(
                upload, max_bytes=spec.max_bytes, media_types=spec.media_types
            )
        except UploadRejected as exc:
            errors.append(entry(path, exc))
            continue
        stored[token] = StoredFile(token=token, **meta)  # type: ignore[arg-type]
        names[part] = f"upload:{token}"
    data = _replace(data, names)
    if not errors:
        errors = submission_errors(
            key=f"version:{version.pk}",
            schema=version.json_schema,
            definition=definition,
            data=data,
        )
    try:
        if errors:
            return _invalid(errors)
        submission, created = submission_create(
            version=version,
            data=data,
            files=stored,
            user=None,
            email=email_of(definition, data),
            language=get_language() or "de",
            idempotency_key=key,
        )
    except SubmissionRefused as exc:
        errors = [entry(field, message) for field, message in exc.errors]
        return _invalid(errors)
    finally:
        if errors:
            for token in stored:  # nothing of a refused request is kept
                (upload_dir() / token).unlink(missing_ok=True)
    return _created(request, submission, replayed=not created)
