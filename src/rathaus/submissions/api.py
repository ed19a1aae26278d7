"""The submission API: ``POST /api/v1/forms/{slug}/submissions`` for other front-ends (a city
app, a kiosk). The same checks as the web form, the same one service call."""

import hashlib
import json
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.security import HttpBearer

from rathaus.core.errors import api_error_body
from rathaus.core.jsondata import substitute, texts
from rathaus.core.pagination import Pagination
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.forms.api_validation import entry
from rathaus.forms.definition import FieldSpec
from rathaus.forms.selectors import form_published_version, version_facts
from rathaus.forms.uploads import UploadRejected, check_and_store, upload_delete
from rathaus.submissions.handover import export_submission, exported_file, file_ids
from rathaus.submissions.models import ApiToken, Submission
from rathaus.submissions.receipt import status_path
from rathaus.submissions.selectors import (
    api_token_by_secret,
    submission_for_office,
    submission_status_code,
    submissions_for_office,
)
from rathaus.submissions.services import (
    IdempotencyConflict,
    StoredFile,
    SubmissionRefused,
    email_of,
    submission_acknowledge,
    submission_create,
    submission_mark_fetched,
)

router = Router(tags=["submissions"])
PART = "part:"
MAX_PARTS = 20


class SubmissionCreated(Schema):
    reference: str
    submitted_at: str
    status_url: str  # the status page, with its secret code: give it only to the applicant
    receipt_url: str  # the receipt PDF (Eingangsbestätigung)


# The data as OpenAPI describes it: field ids as keys; texts, numbers, yes/no, a date range
# {from, to}, or the entries of a repeatable group (each again such an object). No text holds
# a NUL, the date range's neither: the middleware refuses such a body (400) before the route,
# so even an unknown form would not answer 404 (core.middleware._has_nul).
_TEXT = {"$ref": "#/components/schemas/SubmissionText"}
DATA_SCHEMAS: dict[str, Any] = {
    "SubmissionData": {
        "title": "SubmissionData",
        "type": "object",
        "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,99}$"},
        "additionalProperties": {"$ref": "#/components/schemas/SubmissionValue"},
    },
    "SubmissionText": {
        "title": "SubmissionText",
        "type": "string",
        "pattern": "^[^\\u0000]*$",
        "description": "any text without NUL (U+0000): a request holding one is answered 400",
    },
    "SubmissionValue": {
        "title": "SubmissionValue",
        "anyOf": [
            _TEXT,
            {"type": "number"},
            {"type": "boolean"},
            {
                "type": "object",
                "properties": {"from": _TEXT, "to": _TEXT},
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
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting too deep is malformed
        raise HttpError(400, "malformed") from None


def _has_nul(data: Any) -> bool:
    """A NUL character in any text or key of the parsed data."""
    return any("\x00" in path or "\x00" in text for path, text in texts(data))


def _fingerprint(data: Any, request: HttpRequest) -> str:
    """What was sent: the data and every file part (name and content)."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
    for name in sorted(request.FILES):
        digest.update(name.encode() + b"\0")
        for upload in request.FILES.getlist(name):
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)  # read again when it is checked
    return digest.hexdigest()


def _conflict() -> HttpResponse:
    body = api_error_body(
        "idempotency_conflict",
        _("Dieser Idempotency-Key wurde schon für andere Daten verwendet."),
    )
    return JsonResponse(body, status=409)


def _created(request: HttpRequest, submission: Submission, *, replayed: bool) -> HttpResponse:
    code = submission_status_code(submission)
    body = {
        "reference": submission.reference,
        "submitted_at": submission.submitted_at.isoformat(),
        "status_url": request.build_absolute_uri(status_path(submission, code)),
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
    data = _body(request)
    fingerprint = _fingerprint(data, request) if key else ""
    if key and (done := Submission.objects.filter(idempotency_key=key).first()):
        if done.request_hash != fingerprint:
            return _conflict()
        return _created(request, done, replayed=True)
    if request.content_type != "application/json" and _has_nul(data):  # JSON: the middleware
        raise HttpError(400, "NUL")  # never meant, and no text column can store it
    if not isinstance(data, dict):
        return _invalid([entry("$", _("Erwartet wird ein JSON-Objekt."))])
    facts = version_facts(version)
    specs = facts.specs
    errors: list[dict[str, Any]] = []
    stored: dict[str, StoredFile] = {}
    names: dict[str, str] = {}
    parts = (
        [(path, text.removeprefix(PART)) for path, text in texts(data) if text.startswith(PART)]
        if facts.has_files or request.FILES
        else []
    )
    if len(parts) > MAX_PARTS:
        return _invalid([entry("$", _("Zu viele Dateien in einer Anfrage."))])
    for path, part in parts:
        if f"{PART}{part}" in names:  # the same part named twice: one file
            continue
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
        names[f"{PART}{part}"] = f"upload:{token}"
    data = substitute(data, names) if names else data
    submission: Submission | None = None
    try:
        if errors:
            return _invalid(errors)
        submission, created = submission_create(
            version=version,
            data=data,
            files=stored,
            user=None,
            email=email_of(version, data),
            language=get_language() or "de",
            idempotency_key=key,
            request_hash=fingerprint,
        )
    except SubmissionRefused as exc:  # the one check of the data, in the service
        return _invalid(exc.errors)
    except IdempotencyConflict:
        return _conflict()
    finally:  # files of this request that no submission holds are not kept
        kept = (
            set(submission.attachments.values_list("token", flat=True))
            if submission and stored
            else set()
        )
        for token in set(stored) - kept:
            upload_delete(token)
    return _created(request, submission, replayed=not created)


# -- the pull API for an office's own software --------------------------------------------


class OfficeToken(HttpBearer):
    """``Authorization: Bearer rh_...``: a token of one office (``rathaus create-api-token``)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_by_secret(token)
        if found is not None:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        return found


def token_with_scope(request: HttpRequest, scope: str) -> ApiToken:
    """The token of the request, 403 unless it has ``scope``."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if scope not in token.scopes:
        raise PermissionDenied
    return token


class SubmissionBrief(Schema):
    reference: str
    submitted_at: str
    form: str
    service: str  # LeiKa key
    status: str
    fetched: bool
    acknowledged: bool

    @staticmethod
    def resolve_submitted_at(obj: Submission) -> str:
        return obj.submitted_at.isoformat()

    @staticmethod
    def resolve_form(obj: Submission) -> str:
        return obj.version.form.slug

    @staticmethod
    def resolve_service(obj: Submission) -> str:
        return obj.service.leika_key if obj.service else ""

    @staticmethod
    def resolve_fetched(obj: Submission) -> bool:
        return obj.fetched_at is not None

    @staticmethod
    def resolve_acknowledged(obj: Submission) -> bool:
        return obj.acknowledged_at is not None


class AttachmentOut(Schema):
    attachmentId: str  # noqa: N815 - FIT-Connect's name
    filename: str
    mimeType: str  # noqa: N815
    purpose: str
    url: str


class SubmissionOut(Schema):
    reference: str
    metadata: dict[str, Any]  # FIT-Connect metadata 1.0.0
    data: dict[str, Any]  # keyed by FIM field ids
    attachments: list[AttachmentOut]


@router.get("/submissions", response=list[SubmissionBrief], auth=OfficeToken(), tags=["hand-over"])
@paginate(Pagination)
def list_office_submissions(
    request: HttpRequest, status: Literal["new", "all"] = "new"
) -> QuerySet[Submission]:
    """The office's submissions, oldest first, paginated; `status=new`: not acknowledged yet."""
    token = token_with_scope(request, "submissions:read")
    return submissions_for_office(office_id=token.office_id, only_new=status == "new")


@router.get(
    "/submissions/{reference}", response=SubmissionOut, auth=OfficeToken(), tags=["hand-over"]
)
def get_office_submission(request: HttpRequest, reference: str) -> dict[str, Any]:
    """One submission, shaped like a FIT-Connect submission: metadata with the SHA-512 of the
    data and of each attachment, the data keyed by FIM field ids, the attachments to fetch."""
    token = token_with_scope(request, "submissions:read")
    submission = submission_for_office(office_id=token.office_id, reference=reference)
    export = export_submission(submission)
    submission_mark_fetched(submission=submission, token=token)
    base = request.build_absolute_uri(f"/api/v1/submissions/{submission.reference}/attachments/")
    return {
        "reference": submission.reference,
        "metadata": export.metadata,
        "data": json.loads(export.data),
        "attachments": [
            {
                "attachmentId": f.attachment_id,
                "filename": f.filename,
                "mimeType": f.mime_type,
                "purpose": f.purpose,
                "url": base + f.attachment_id,
            }
            for f in export.files
        ],
    }


@router.get(
    "/submissions/{reference}/attachments/{attachment_id}",
    auth=OfficeToken(),
    tags=["hand-over"],
    response={200: None},
    openapi_extra={"responses": {"200": {"description": "the file", "content": {"*/*": {}}}}},
)
def get_office_attachment(request: HttpRequest, reference: str, attachment_id: str) -> HttpResponse:
    token = token_with_scope(request, "submissions:read")
    submission = submission_for_office(office_id=token.office_id, reference=reference)
    if attachment_id not in file_ids(submission):
        raise Http404
    file = exported_file(submission, attachment_id)
    response = HttpResponse(file.content, content_type=file.mime_type)
    response["Content-Disposition"] = f'attachment; filename="{file.attachment_id}"'
    return response


class Acknowledged(Schema):
    reference: str
    acknowledged_at: str


@router.post(
    "/submissions/{reference}/acknowledge",
    response=Acknowledged,
    auth=OfficeToken(),
    tags=["hand-over"],
)
def acknowledge_office_submission(request: HttpRequest, reference: str) -> dict[str, Any]:
    """The office's system has the submission: it no longer shows under `status=new`.
    Acknowledging twice is harmless."""
    token = token_with_scope(request, "submissions:acknowledge")
    submission = submission_for_office(office_id=token.office_id, reference=reference)
    submission_acknowledge(submission=submission, token=token)
    submission.refresh_from_db(fields=["acknowledged_at"])
    assert submission.acknowledged_at is not None  # noqa: S101 - set just now or before
    return {"reference": reference, "acknowledged_at": submission.acknowledged_at.isoformat()}
