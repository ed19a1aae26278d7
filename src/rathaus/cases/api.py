"""The cases API for an office's own software: its cases, their history, status changes and
internal notes, with the office's API token (``rathaus create-api-token``, scopes
``cases:read`` and ``cases:write``). Every case is looked up through
``selectors.case_get_for_office``: another office's case does not exist for the token."""

from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from rathaus.accounts.models import Office
from rathaus.cases import selectors
from rathaus.cases.constants import CaseStatus, Decision
from rathaus.cases.letters import MAX_TEXT, letter_templates
from rathaus.cases.models import Case, LetterTemplate
from rathaus.cases.services import (
    MAX_DOCUMENTS,
    MESSAGE_MAX_CHARS,
    NOTE_MAX_CHARS,
    CaseConflict,
    CaseRefused,
    case_accessed,
    case_decide,
    case_note_add,
    case_query_ask,
    case_transition,
)
from rathaus.core.errors import api_error_body
from rathaus.core.pagination import Pagination
from rathaus.submissions.api import OfficeToken, token_with_scope

router = Router(tags=["cases"])

# the choices as OpenAPI shows them; they mirror the model's (checked at import)
StatusValue = Literal[
    "received", "in_progress", "query", "decided", "closed", "forwarded", "withdrawn"
]
DecisionValue = Literal["", "granted", "partly_granted", "refused"]
if set(get_args(StatusValue)) != set(CaseStatus.values) or set(get_args(DecisionValue)) != {
    "",
    *Decision.values,
}:
    raise ImportError("cases.api: the API's choices differ from the model's")


class CaseBrief(Schema):
    reference: str
    status: str
    decision: str
    service: str  # LeiKa key
    received_at: str
    due_on: str | None
    overdue: bool
    assignee: str | None  # e-mail address of the caseworker
    priority: int
    version: int  # send it back with a change (optimistic locking)
    applicant: str

    @staticmethod
    def resolve_service(obj: Case) -> str:
        return obj.service.leika_key if obj.service else ""

    @staticmethod
    def resolve_received_at(obj: Case) -> str:
        return obj.received_at.isoformat()

    @staticmethod
    def resolve_due_on(obj: Case) -> str | None:
        return obj.due_on.isoformat() if obj.due_on else None

    @staticmethod
    def resolve_overdue(obj: Case) -> bool:
        return selectors.overdue_since(obj) > 0

    @staticmethod
    def resolve_assignee(obj: Case) -> str | None:
        return obj.assignee.email if obj.assignee else None

    @staticmethod
    def resolve_applicant(obj: Case) -> str:
        return selectors.case_applicant(case=obj)


class HistoryEntry(Schema):
    at: str
    kind: str  # opened, transition, assignment
    from_status: str
    to_status: str
    details: dict[str, Any]


class TimelineEntry(Schema):
    at: str
    status: str
    message: str  # what the citizen was told


class CaseOut(CaseBrief):
    history: list[HistoryEntry]
    citizen_timeline: list[TimelineEntry]


NO_NUL = r"^[^\x00]*$"  # a NUL is refused before any view sees it (core.middleware)


class Strict(Schema):
    """Request bodies: only the documented keys."""

    model_config = ConfigDict(extra="forbid")


class TransitionIn(Strict):
    to: StatusValue
    version: int = Field(..., ge=1)
    citizen_text: str = Field("", max_length=5000, pattern=NO_NUL)
    decision: DecisionValue = ""
    office_id: int | None = Field(None, ge=1)  # for "forwarded": the office it goes to


class NoteIn(Strict):
    text: str = Field(..., max_length=NOTE_MAX_CHARS, pattern=NO_NUL)


class NoteOut(Schema):
    at: str
    author: str | None
    text: str


def _detail(case: Case) -> Case:
    """The case with its history and the citizen's timeline, as CaseOut reads it."""
    case.history = [  # type: ignore[attr-defined]
        {
            "at": event.at.isoformat(),
            "kind": event.kind,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "details": event.details,
        }
        for event in selectors.case_history(case=case)
    ]
    case.citizen_timeline = [  # type: ignore[attr-defined]
        {"at": entry["at"].isoformat(), "status": entry["status"], "message": entry["message"]}
        for entry in selectors.case_citizen_timeline(case=case)
    ]
    return case


def _refusal(error: CaseRefused | CaseConflict) -> HttpResponse:
    if isinstance(error, CaseConflict):
        return JsonResponse(api_error_body("conflict", error.message), status=409)
    message = lazy(lambda: error.message, str)()
    return JsonResponse(api_error_body("not_allowed", message), status=422)


@router.get("/cases", response=list[CaseBrief], auth=OfficeToken())
@paginate(Pagination)
def list_cases(
    request: HttpRequest,
    status: Literal["open", "all"] | StatusValue = "open",
    overdue: bool = False,
    assignee: str = Query("", max_length=254, pattern=NO_NUL),  # type: ignore[type-arg]
    q: str = Query("", max_length=100, pattern=NO_NUL),  # type: ignore[type-arg]
    sort: Literal["due", "received", "-received", "priority"] = "due",
) -> QuerySet[Case]:
    """The office's cases, by due date by default; `status=open` (default): every status that
    still needs work; `assignee`: an e-mail address, or `none`; `q`: a reference number or
    whole words of the applicant's name."""
    token = token_with_scope(request, "cases:read")
    filters: dict[str, Any] = {
        "status": "" if status == "all" else status,
        "sort": sort,
        "search": q,
    }
    if overdue:
        filters["overdue"] = True
    if assignee == "none":
        filters["unassigned"] = True
    elif assignee:
        filters["assignee_id"] = (
            selectors.case_office_member_id(office_id=token.office_id, email=assignee) or -1
        )
    return selectors.case_list(office_id=token.office_id, **filters)


@router.get("/cases/{reference}", response=CaseOut, auth=OfficeToken())
def get_case(request: HttpRequest, reference: str) -> Case:
    """One case with its history and what the citizen was told."""
    token = token_with_scope(request, "cases:read")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    case_accessed(case=case, actor=None, what="api case", token=token)
    return _detail(case)


@router.post(
    "/cases/{reference}/transitions",
    response=CaseOut,
    auth=OfficeToken(),
)
def post_transition(request: HttpRequest, reference: str, payload: TransitionIn) -> Any:
    """Change the status as the workflow allows, with the `version` last read: a case changed
    meanwhile answers 409 and nothing is written; a change the workflow does not allow
    answers 422 with the reason."""
    token = token_with_scope(request, "cases:write")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    if payload.to == "query":
        message = _(
            "Eine Rückfrage wird mit ihrer Frage gestellt: POST /api/v1/cases/{reference}/messages."
        )
        return JsonResponse(api_error_body("use_messages", message), status=422)
    if payload.to == "decided":
        message = _("Entschieden wird mit dem Bescheid: POST /api/v1/cases/{reference}/decision.")
        return JsonResponse(api_error_body("use_decision", message), status=422)
    office = None
    if payload.office_id is not None:
        office = Office.objects.filter(pk=payload.office_id).first()
        if office is None:
            return JsonResponse(
                api_error_body("unknown_office", _("Diese Stelle gibt es nicht.")), status=422
            )
    try:
        case = case_transition(
            case=case,
            to=payload.to,
            actor=None,
            version=payload.version,
            citizen_text=payload.citizen_text,
            decision=payload.decision,
            office=office,
            token=token,
        )
    except (CaseRefused, CaseConflict) as error:
        return _refusal(error)
    return _detail(case)


@router.get("/cases/{reference}/notes", response=list[NoteOut], auth=OfficeToken())
def list_notes(request: HttpRequest, reference: str) -> list[dict[str, Any]]:
    """The internal notes, oldest first (never shown to the citizen)."""
    token = token_with_scope(request, "cases:read")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    case_accessed(case=case, actor=None, what="api notes", token=token)
    return [
        {
            "at": note["at"].isoformat(),
            "author": note["author"].email if note["author"] else None,
            "text": note["text"],
        }
        for note in selectors.case_notes(case=case)
    ]


@router.post(
    "/cases/{reference}/notes",
    response={201: NoteOut},
    auth=OfficeToken(),
)
def post_note(request: HttpRequest, reference: str, payload: NoteIn) -> Any:
    """An internal note, stored encrypted."""
    token = token_with_scope(request, "cases:write")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    try:
        note = case_note_add(case=case, author=None, text=payload.text, token=token)
    except CaseRefused as error:
        return _refusal(error)
    body = {"at": note.at.isoformat(), "author": None, "text": payload.text.strip()}
    return JsonResponse(body, status=201)


class MessageFile(Schema):
    filename: str
    content_type: str
    size: int
    sha256: str  # the file itself: an attachment of the submission in the pull API


class MessageOut(Schema):
    at: str
    direction: Literal["to_citizen", "from_citizen"]
    text: str
    requested_documents: list[str]
    files: list[MessageFile]


class MessageIn(Strict):
    text: str = Field(..., max_length=MESSAGE_MAX_CHARS, pattern=NO_NUL)
    documents: list[Annotated[str, Field(max_length=200, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=MAX_DOCUMENTS
    )
    version: int = Field(..., ge=1)


def _message(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": item["at"].isoformat(),
        "direction": item["direction"],
        "text": item["text"],
        "requested_documents": item["documents"],
        "files": [
            {
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in item["files"]
        ],
    }


@router.get("/cases/{reference}/messages", response=list[MessageOut], auth=OfficeToken())
def list_messages(request: HttpRequest, reference: str) -> list[dict[str, Any]]:
    """The mailbox with the citizen, newest first: the office's questions and the answers
    (the files sent with an answer are attachments of the submission in the pull API)."""
    token = token_with_scope(request, "cases:read")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    case_accessed(case=case, actor=None, what="api messages", token=token)
    return [_message(item) for item in selectors.case_messages(case=case)]


@router.post("/cases/{reference}/messages", response={201: MessageOut}, auth=OfficeToken())
def post_message(request: HttpRequest, reference: str, payload: MessageIn) -> Any:
    """Ask the citizen (Rückfrage): the case goes to "query" (with the `version` last read),
    the citizen is told by e-mail that there is a question (without its text)."""
    token = token_with_scope(request, "cases:write")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    try:
        message = case_query_ask(
            case=case,
            actor=None,
            version=payload.version,
            text=payload.text,
            documents=payload.documents,
            token=token,
        )
    except (CaseRefused, CaseConflict) as error:
        return _refusal(error)
    body = {
        "at": message.at.isoformat(),
        "direction": message.direction,
        "text": payload.text.strip(),
        "requested_documents": message.requested_documents,
        "files": [],
    }
    return JsonResponse(body, status=201)


class LetterTemplateOut(Schema):
    id: int
    name: str
    service: str | None  # LeiKa key; none: for every service of the office

    @staticmethod
    def resolve_service(obj: LetterTemplate) -> str | None:
        return obj.service.leika_key if obj.service else None


class DecisionIn(Strict):
    decision: Literal["granted", "partly_granted", "refused"]
    text: str = Field(..., max_length=MAX_TEXT, pattern=NO_NUL)
    template_id: int = Field(..., ge=1)
    fee: Decimal | None = Field(None, ge=0, max_digits=9, decimal_places=2)
    version: int = Field(..., ge=1)


@router.get(
    "/cases/{reference}/letter-templates", response=list[LetterTemplateOut], auth=OfficeToken()
)
def list_letter_templates(request: HttpRequest, reference: str) -> QuerySet[LetterTemplate]:
    """The decision letter templates this case may use."""
    token = token_with_scope(request, "cases:read")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    return letter_templates(case=case).select_related("service")


@router.post("/cases/{reference}/decision", response=CaseOut, auth=OfficeToken())
def post_decision(request: HttpRequest, reference: str, payload: DecisionIn) -> Any:
    """Decide with a letter: the PDF/A letter from the template is released to the citizen's
    status page and the case becomes "decided" (409 when it changed since `version`; 422
    with the reason for a template of another office or service, an unknown placeholder in
    it, a fee outside the service's range)."""
    token = token_with_scope(request, "cases:write")
    case = selectors.case_get_for_office(office_id=token.office_id, reference=reference)
    template = letter_templates(case=case).filter(pk=payload.template_id).first()
    if template is None:
        return JsonResponse(
            api_error_body(
                "unknown_template", _("Diese Vorlage gibt es für diesen Vorgang nicht.")
            ),
            status=422,
        )
    try:
        case_decide(
            case=case,
            actor=None,
            version=payload.version,
            decision=payload.decision,
            text=payload.text,
            template=template,
            fee=payload.fee,
            token=token,
        )
    except (CaseRefused, CaseConflict) as error:
        return _refusal(error)
    case.refresh_from_db()
    return _detail(case)
