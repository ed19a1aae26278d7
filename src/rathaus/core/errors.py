"""Error responses for people (a KERN page in their language) and for programs (JSON with the
message in German and English). Never a stack trace."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

ERRORS: dict[int, tuple[str, Promise, Promise]] = {
    400: (
        "bad_request",
        _("Ungültige Anfrage"),
        _("Die Anfrage konnte nicht verarbeitet werden, weil sie fehlerhaft ist."),
    ),
    403: (
        "forbidden",
        _("Zugriff verweigert"),
        _("Sie haben keine Berechtigung, diese Seite aufzurufen."),
    ),
    404: (
        "not_found",
        _("Seite nicht gefunden"),
        _("Die aufgerufene Seite gibt es nicht. Bitte prüfen Sie die Adresse."),
    ),
    405: (
        "method_not_allowed",
        _("Methode nicht erlaubt"),
        _("Diese Adresse kann so nicht aufgerufen werden."),
    ),
    413: (
        "payload_too_large",
        _("Anfrage zu groß"),
        _("Die gesendeten Daten sind zu groß. Bitte senden Sie weniger oder kleinere Dateien."),
    ),
    415: (
        "unsupported_media_type",
        _("Falsches Datenformat"),
        _("Bitte senden Sie die Daten als JSON (Content-Type: application/json)."),
    ),
    429: (
        "too_many_requests",
        _("Zu viele Anfragen"),
        _(
            "Sie haben zu viele Anfragen gestellt. Bitte warten Sie etwas und versuchen Sie es dann erneut."
        ),
    ),
    500: (
        "server_error",
        _("Technischer Fehler"),
        _(
            "Leider ist ein Fehler aufgetreten. Ihre Eingaben sind nicht verloren; bitte "
            "versuchen Sie es in einigen Minuten erneut."
        ),
    ),
    503: (
        "unavailable",
        _("Vorübergehend nicht verfügbar"),
        _("Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut."),
    ),
}
CSRF_MESSAGE = _(
    "Ihre Sitzung ist abgelaufen oder das Formular wurde von einer anderen Seite gesendet. "
    "Bitte laden Sie die Seite neu und senden Sie das Formular erneut."
)


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def message_format(message: str | Promise, params: dict[str, object]) -> Promise:
    """A translatable message with its values, still lazy: ``bilingual`` can render it in
    German and in English (``_("...") % {...}`` would fix the language at once)."""
    return cast(Promise, lazy(lambda: str(message) % params, str)())


def bilingual(message: Promise | str) -> dict[str, str]:
    texts = {}
    for language in ("de", "en"):
        with translation.override(language):
            texts[language] = str(message)
    return texts


def api_error_body(code: str, message: Promise | str, **extra: Any) -> dict[str, Any]:
    """The JSON shape of every API error: a code, the message in the request's language and
    in both German and English."""
    return {"error": code, "message": str(message), "messages": bilingual(message), **extra}


def error_response(
    request: HttpRequest, status: int, message: Promise | str | None = None
) -> HttpResponse:
    code, title, default_message = ERRORS[status]
    text = message if message is not None else default_message
    if wants_json(request):
        return JsonResponse(api_error_body(code, text), status=status)
    html: str
    try:
        # Some errors are answered before LocaleMiddleware ran (413): choose the language here.
        with translation.override(translation.get_language_from_request(request)):
            html = render_to_string(
                "core/error.html",
                {"status": status, "title": title, "message": text},
                request=request,
            )
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        html = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
    return HttpResponse(html, status=status)
