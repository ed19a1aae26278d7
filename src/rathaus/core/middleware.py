"""Request-level middleware: request ids and access log, metrics, body size limit, error pages."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from rathaus.core.context import request_id_var
from rathaus.core.metrics import LATENCY, REQUESTS

Handler = Callable[[HttpRequest], HttpResponse]
access_log = logging.getLogger("rathaus.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy when it looks sane, else makes one; echoes it back."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a trusted proxy may name the request; a client's own header is ignored.
        incoming = request.headers.get("X-Request-ID", "") if settings.PROXY_COUNT else ""
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unnamed"


class MetricsMiddleware:
    """Counts and times every request by route pattern (bounded label values) and logs it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - start
        route = _route(request)
        method = request.method if request.method in _METHODS else "OTHER"
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        LATENCY.labels(method, route).observe(elapsed)
        user = getattr(request, "user", None)
        access_log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _has_nul(request: HttpRequest) -> bool:
    """A NUL character is never meant and no text column can store it (PostgreSQL refuses
    it): such a request is answered 400 here, before any view sees it."""
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("application/json"):  # "%00" is just text in JSON
        return b"\x00" in request.body or b"\\u0000" in request.body
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"\x00" in request.body or b"%00" in request.body
    return False


class BodySizeLimitMiddleware:
    """Refuses bodies over RATHAUS_MAX_REQUEST_BYTES before anything reads them (413)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if _has_nul(request):
            from rathaus.core.errors import error_response

            return error_response(request, 400)
        if length > settings.MAX_REQUEST_BYTES:
            from django.utils import translation

            from rathaus.core.errors import error_response

            with translation.override(translation.get_language_from_request(request)):
                return error_response(request, 413)
        return self.get_response(request)


class ErrorPageMiddleware:
    """Gives bare 405 answers (from require_http_methods or the API router) a page or a
    JSON body in the user's language."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code == 405 and "json" not in content_type:
            from rathaus.core.errors import error_response

            allowed = response.get("Allow", "")
            response = error_response(request, 405)
            if allowed:
                response["Allow"] = allowed
        return response
