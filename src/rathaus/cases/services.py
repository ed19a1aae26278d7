"""Everything that changes a case. Views, the API and outbox handlers call these; nothing
else writes ``Case`` or ``CaseEvent`` (except ``seeding``, which bulk-creates synthetic cases
for load tests)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office, OfficeMembership, User
from rathaus.cases.constants import CaseStatus, Decision, Priority
from rathaus.cases.deadlines import due_date
from rathaus.cases.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CaseNameToken,
    CaseNote,
    LetterTemplate,
    Tag,
)
from rathaus.cases.workflow import allowed_after
from rathaus.core import blind_index
from rathaus.core.crypto import DecryptionError, decrypt_json, encrypt_json
from rathaus.core.rotation import RotationReport
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.forms.rendering import applicant_name
from rathaus.forms.selectors import definition_of
from rathaus.forms.uploads import UploadRejected, check_and_store, upload_delete
from rathaus.submissions.models import (
    ApiToken,
    Attachment,
    ReleasedDocument,
    StatusEvent,
    Submission,
)
from rathaus.submissions.selectors import submission_data
from rathaus.submissions.services import document_file_remove, document_release


class CaseRefused(Exception):
    """The change is not allowed; ``message`` says why, in the language active when it is
    read (German first)."""

    def __init__(self, template: Any, **params: Any) -> None:
        super().__init__(template)
        self.template, self.params = template, params

    @property
    def message(self) -> str:
        text = str(self.template)
        return text % {k: str(v) for k, v in self.params.items()} if self.params else text


class CaseConflict(Exception):
    """Someone else changed the case meanwhile: nothing was written."""

    message = _(
        "Der Vorgang wurde inzwischen von jemand anderem geändert. Bitte laden Sie ihn neu."
    )


def case_open(*, submission: Submission) -> Case | None:
    """The case of ``submission`` in the inbox of its office, with its due date (the
    service's processing time in working days, Saxony's holidays excepted); the existing case
    when it was opened before; None when no office is responsible."""
    if submission.office_id is None:
        return None
    existing = Case.objects.filter(submission=submission).first()
    if existing is not None:
        return existing
    service = submission.service
    applicant = applicant_name(definition_of(submission.version), submission_data(submission))
    try:
        with transaction.atomic():
            case = Case.objects.create(
                submission=submission,
                reference=submission.reference,
                service=service,
                office_id=submission.office_id,
                received_at=submission.submitted_at,
                due_on=due_date(
                    submission.submitted_at, service.processing_days if service else None
                ),
                applicant_encrypted=encrypt_json(applicant) if applicant else "",
            )
            CaseNameToken.objects.bulk_create(name_tokens(case_id=case.pk, name=applicant))
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.OPENED,
                at=submission.submitted_at,
                to_status=CaseStatus.RECEIVED,
            )
            _audit(
                case=case,
                actor=None,
                action="case.open",
                after={"reference": case.reference, "office": case.office_id},
            )
    except IntegrityError:  # opened by a delivery of the same message running alongside
        opened = Case.objects.filter(submission=submission).first()
        if opened is None:
            raise
        return opened
    return case


def name_tokens(*, case_id: int, name: str) -> list[CaseNameToken]:
    """The blind index rows of an applicant's name, under the newest key (unsaved)."""
    key_id = blind_index.current_key_id()
    return [
        CaseNameToken(case_id=case_id, digest=blind_index.digest(token), key_id=key_id)
        for token in blind_index.tokens(name)
    ]


def case_personal_data_forget(*, case: Case) -> None:
    """Retention anonymised the submission: the case keeps no name, no index of it, no
    messages (their files went with the submission's attachments) and no internal notes."""
    with transaction.atomic():
        CaseNameToken.objects.filter(case=case).delete()
        CaseMessage.objects.filter(case=case).delete()
        CaseNote.objects.filter(case=case).delete()
        Case.objects.filter(pk=case.pk).update(applicant_encrypted="")


def case_applicant_index(*, case: Case) -> str:
    """Take the applicant's name from the submission into the case and its blind index, for
    cases opened before names were indexed (``rathaus index-case-names``): "indexed", or why
    not ("anonymised", "no name in the answers", "unreadable")."""
    submission = case.submission
    if submission.anonymised_at is not None:
        return "anonymised"
    try:
        name = applicant_name(definition_of(submission.version), submission_data(submission))
    except DecryptionError:
        return "unreadable (no configured key opens the answers)"
    if not name:
        return "no name in the answers"
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(applicant_encrypted=encrypt_json(name))
        CaseNameToken.objects.filter(case=case).delete()
        CaseNameToken.objects.bulk_create(name_tokens(case_id=case.pk, name=name))
    return "indexed"


def case_name_tokens_rotate(report: RotationReport) -> None:
    """``rathaus rotate-keys``: recompute the blind index of every case whose digests were
    made under an older key (a search finds them meanwhile under every configured key)."""
    key_id = blind_index.current_key_id()
    while True:
        stale = list(
            Case.objects.filter(
                pk__in=CaseNameToken.objects.exclude(key_id=key_id).values("case_id")[:500]
            ).only("pk", "applicant_encrypted")
        )
        if not stale:
            return
        for case in stale:
            try:
                name = (
                    str(decrypt_json(case.applicant_encrypted)) if case.applicant_encrypted else ""
                )
            except DecryptionError:
                report.failed.append((f"cases.Case {case.pk} name index", "no key opens it"))
                name = ""  # unreadable: an index nobody can recompute is dropped
            with transaction.atomic():
                CaseNameToken.objects.filter(case=case).delete()
                CaseNameToken.objects.bulk_create(name_tokens(case_id=case.pk, name=name))
            report.rotated += 1


def case_transition(
    *,
    case: Case,
    to: str,
    actor: User | None,
    version: int,
    citizen_text: str = "",
    decision: str = "",
    office: Office | None = None,
    token: ApiToken | None = None,
) -> Case:
    """Move ``case`` to status ``to`` if the workflow allows it from its status and nobody
    changed it since ``version``. Writes the history, the audit entry and the citizen's
    timeline entry (with ``citizen_text``, what the citizen reads). ``decision`` is needed
    for "entschieden", ``office`` (another one) for "weitergeleitet". ``token``: the office's
    API token the change came through (named in the audit entry)."""
    if to not in allowed_after(case.status):
        raise CaseRefused(
            _("Ein Vorgang im Status „%(current)s“ kann nicht „%(next)s“ werden."),
            current=CaseStatus(case.status).label,
            next=CaseStatus(to).label if to in CaseStatus.values else to,
        )
    if to == CaseStatus.DECIDED and decision not in Decision.values:
        raise CaseRefused(_("Bitte wählen Sie eine Entscheidung."))
    if to == CaseStatus.FORWARDED and (office is None or office.pk == case.office_id):
        raise CaseRefused(_("Bitte wählen Sie eine andere Stelle, an die weitergeleitet wird."))
    if to != CaseStatus.FORWARDED:
        office = None  # an office chosen but not forwarded to: nothing moves, nothing recorded
    now = timezone.now()
    changes: dict[str, Any] = {"status": to, "version": F("version") + 1, "updated_at": now}
    if to == CaseStatus.DECIDED:
        changes["decision"] = decision
    if to in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
        changes["closed_at"] = now
    if to == CaseStatus.FORWARDED and office is not None:  # checked above: another office
        changes.update(office=office, assignee=None)
    before = {"status": case.status, "office": case.office_id, "version": version}
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk, version=version, status=case.status).update(
            **changes
        )
        if not changed:
            raise CaseConflict
        details: dict[str, Any] = {"decision": decision} if to == CaseStatus.DECIDED else {}
        if office is not None:
            details["office"] = office.pk
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.TRANSITION,
            at=now,
            actor=actor,
            from_status=case.status,
            to_status=to,
            details=details,
        )
        StatusEvent.objects.create(
            submission_id=case.submission_id,
            status=to,
            at=now,
            message_encrypted=encrypt_json(citizen_text) if citizen_text else "",
        )
        if to == CaseStatus.FORWARDED:
            case.tags.clear()  # the tags were the old office's
        moved: dict[str, Any] = {"status": to}
        if to == CaseStatus.FORWARDED and office is not None:
            # the submission goes with it: the pull API and webhooks of the new office, none
            # of the old one's, and new to the office it went to
            moved.update(office=office, fetched_at=None, acknowledged_at=None)
        Submission.objects.filter(pk=case.submission_id).update(**moved)
        _audit(
            case=case,
            actor=actor,
            action="case.transition",
            before=before,
            after={"status": to, "office": office.pk if office else case.office_id, **details},
            token=token,
        )
    case.refresh_from_db()
    return case


NOTE_MAX_CHARS = 10_000


def _audit(
    *,
    case: Case,
    actor: User | None,
    action: str,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
    token: ApiToken | None = None,
) -> None:
    """The audit entry of a change to (or a reading of) ``case``; ``token``: the office's API
    token it came through, named by its prefix."""
    audit_entry_create(
        actor=actor,
        action=action,
        object_type="cases.case",
        object_id=case.pk,
        before=before,
        after={**after, **({"token": token.prefix} if token is not None else {})},
    )


def case_note_add(
    *, case: Case, author: User | None, text: str, token: ApiToken | None = None
) -> CaseNote:
    """An internal note on ``case``, stored encrypted. The audit log records that a note was
    written, not its text."""
    text = text.strip()
    if not text:
        raise CaseRefused(_("Bitte schreiben Sie eine Notiz."))
    if len(text) > NOTE_MAX_CHARS:
        raise CaseRefused(
            _("Eine Notiz darf höchstens %(max)s Zeichen lang sein."), max=NOTE_MAX_CHARS
        )
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=author, text_encrypted=encrypt_json(text))
        _audit(
            case=case,
            actor=author,
            action="case.note",
            after={"note": note.pk},
            token=token,
        )
    return note


def case_assign(*, case: Case, assignee: User | None, actor: User | None, version: int) -> Case:
    """Give ``case`` to ``assignee`` (a member of the case's office), or to nobody; not once
    it is closed or withdrawn."""
    if case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
        raise CaseRefused(_("Ein abgeschlossener Vorgang wird niemandem mehr zugewiesen."))
    if (
        assignee is not None
        and not OfficeMembership.objects.filter(user=assignee, office_id=case.office_id).exists()
    ):
        raise CaseRefused(_("Diese Person gehört nicht zur zuständigen Stelle."))
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk, version=version).update(
            assignee=assignee, version=F("version") + 1, updated_at=timezone.now()
        )
        if not changed:
            raise CaseConflict
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ASSIGNMENT,
            actor=actor,
            details={"assignee": assignee.pk if assignee else None},
        )
        _audit(
            case=case,
            actor=actor,
            action="case.assign",
            before={"assignee": case.assignee_id},
            after={"assignee": assignee.pk if assignee else None},
        )
    case.refresh_from_db()
    return case


MAX_TAGS = 10


def case_classify(
    *, case: Case, actor: User | None, version: int, priority: int, tags: list[str]
) -> Case:
    """Set the priority and the tags of ``case``; a tag the office does not have yet is
    created for it (each at most 60 characters, at most MAX_TAGS per case)."""
    names = sorted({" ".join(t.split())[:60] for t in tags if t.strip()}, key=str.casefold)
    if len(names) > MAX_TAGS:
        raise CaseRefused(_("Ein Vorgang hat höchstens %(max)s Schlagwörter."), max=MAX_TAGS)
    if priority not in Priority.values:
        raise CaseRefused(_("Diese Priorität gibt es nicht."))
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk, version=version).update(
            priority=priority, version=F("version") + 1, updated_at=timezone.now()
        )
        if not changed:
            raise CaseConflict
        chosen = []
        for name in names:
            tag, _created = Tag.objects.get_or_create(office_id=case.office_id, name=name)
            chosen.append(tag)
        before = {"priority": case.priority, "tags": sorted(t.name for t in case.tags.all())}
        case.tags.set(chosen)
        after = {"priority": priority, "tags": names}
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.CLASSIFICATION, actor=actor, details=after
        )
        _audit(
            case=case,
            actor=actor,
            action="case.classify",
            before=before,
            after=after,
        )
    case.refresh_from_db()
    return case


def case_accessed(
    *, case: Case, actor: User | None, what: str, token: ApiToken | None = None
) -> None:
    """Reading an application is recorded too (who, or which API token, opened which
    case's page, file, notes or messages)."""
    _audit(
        case=case,
        actor=actor,
        action="case.access",
        after={"what": what},
        token=token,
    )


MESSAGE_MAX_CHARS = 5000
MAX_DOCUMENTS = 10  # documents asked for in one question
MAX_ANSWER_FILES = 10


def _message_text(text: str) -> str:
    text = text.strip()
    if len(text) > MESSAGE_MAX_CHARS:
        raise CaseRefused(
            _("Eine Nachricht darf höchstens %(max)s Zeichen lang sein."), max=MESSAGE_MAX_CHARS
        )
    return text


def case_query_ask(
    *,
    case: Case,
    actor: User | None,
    version: int,
    text: str,
    documents: list[str],
    token: ApiToken | None = None,
) -> CaseMessage:
    """Ask the citizen (Rückfrage): the case waits for the answer ("Rückfrage"), the question
    goes to the case's mailbox, and an e-mail (through the outbox) tells the citizen that
    there is a question, with the reference number and the link, nothing else."""
    text = _message_text(text)
    if not text:
        raise CaseRefused(_("Bitte schreiben Sie Ihre Frage."))
    wanted = [d.strip()[:200] for d in documents if d.strip()]
    if len(wanted) > MAX_DOCUMENTS:
        raise CaseRefused(
            _("Bitte fordern Sie höchstens %(max)s Unterlagen auf einmal an."), max=MAX_DOCUMENTS
        )
    with translation.override(case.submission.language or "de"):
        notice = str(
            _("Die zuständige Stelle hat eine Rückfrage. Bitte antworten Sie unter „Nachrichten“.")
        )
    with transaction.atomic():
        case_transition(
            case=case,
            to=CaseStatus.QUERY,
            actor=actor,
            version=version,
            citizen_text=notice,
            token=token,
        )
        message = CaseMessage.objects.create(
            case=case,
            direction=CaseMessage.Direction.TO_CITIZEN,
            author=actor,
            text_encrypted=encrypt_json(text),
            requested_documents=wanted,
        )
        outbox_message_create(
            topic="cases.query_email",
            payload={"reference": case.reference},
            idempotency_key=f"cases.query_email:{message.pk}",
        )
        _audit(
            case=case,
            actor=actor,
            action="case.message",
            after={"message": message.pk, "direction": message.direction},
            token=token,
        )
    return message


def answer_field(message: CaseMessage) -> str:
    """The field id under which the files of an answer are attachments of the submission."""
    return f"antwort:{message.pk}"


def _why(rejected: UploadRejected) -> Callable[[], str]:
    return lambda: str(rejected)  # worded in the language active when it is read


def case_answer(*, case: Case, text: str, files: list[UploadedFile]) -> CaseMessage:
    """The citizen answers an open question, with files checked like form uploads: the
    answer goes to the mailbox (on top), the case back to "in Bearbeitung". Nothing is kept
    when one file is refused (``UploadRejected`` names it)."""
    text = _message_text(text)
    if case.status != CaseStatus.QUERY:
        raise CaseRefused(_("Zu diesem Antrag gibt es gerade keine offene Rückfrage."))
    if not text and not files:
        raise CaseRefused(_("Bitte schreiben Sie eine Antwort oder fügen Sie eine Datei bei."))
    if len(files) > MAX_ANSWER_FILES:
        raise CaseRefused(
            _("Bitte senden Sie höchstens %(max)s Dateien auf einmal."), max=MAX_ANSWER_FILES
        )
    stored: list[tuple[str, dict[str, Any]]] = []

    def remove_files() -> None:
        for token, _meta in stored:
            upload_delete(token)

    try:
        for file in files:
            try:
                stored.append(check_and_store(file))
            except UploadRejected as rejected:
                raise UploadRejected(
                    _("%(file)s: %(reason)s"), file=str(file.name or ""), reason=_why(rejected)
                ) from None
        with translation.override(case.submission.language or "de"):
            notice = str(_("Ihre Antwort ist eingegangen."))
        with transaction.atomic():
            message = CaseMessage.objects.create(
                case=case,
                direction=CaseMessage.Direction.FROM_CITIZEN,
                text_encrypted=encrypt_json(text),
            )
            Attachment.objects.bulk_create(
                Attachment(
                    submission_id=case.submission_id,
                    field_id=answer_field(message),
                    token=token,
                    filename=str(meta["filename"]),
                    content_type=str(meta["content_type"]),
                    size=int(meta["size"]),
                    sha256=str(meta["sha256"]),
                )
                for token, meta in stored
            )
            fresh = Case.objects.get(pk=case.pk)  # the case as it is now, whoever changed it
            if fresh.status != CaseStatus.QUERY:
                raise CaseRefused(_("Zu diesem Antrag gibt es gerade keine offene Rückfrage."))
            case_transition(
                case=fresh,
                to=CaseStatus.IN_PROGRESS,
                actor=None,
                version=fresh.version,
                citizen_text=notice,
            )
            _audit(
                case=case,
                actor=None,
                action="case.message",
                after={"message": message.pk, "direction": message.direction},
            )
    except BaseException:
        remove_files()
        raise
    case.refresh_from_db()
    return message


def case_decide(
    *,
    case: Case,
    actor: User | None,
    version: int,
    decision: str,
    text: str,
    template: LetterTemplate,
    fee: Decimal | None = None,
    token: ApiToken | None = None,
) -> ReleasedDocument:
    """Decide: the letter (``letters.letter_pdf``, PDF/A) is released to the citizen's status
    page, the case becomes "entschieden" with its decision (through ``case_transition``), the
    citizen is told by e-mail that the decision is there (reference and link only)."""
    from rathaus.cases.letters import letter_pdf, letter_templates

    if not letter_templates(case=case).filter(pk=template.pk).exists():
        raise CaseRefused(_("Diese Vorlage gehört nicht zu dieser Stelle und Leistung."))
    if CaseStatus.DECIDED not in allowed_after(case.status):
        raise CaseRefused(
            _("Ein Vorgang im Status „%(current)s“ kann nicht „%(next)s“ werden."),
            current=CaseStatus(case.status).label,
            next=CaseStatus.DECIDED.label,
        )
    pdf = letter_pdf(case=case, template=template, decision=decision, text=text, fee=fee)
    with translation.override(case.submission.language or "de"):
        notice = str(_("Ihr Bescheid liegt bereit. Sie finden ihn unter „Dokumente“."))
        title = str(_("Bescheid"))
    document: ReleasedDocument | None = None
    try:
        with transaction.atomic():
            document = document_release(
                submission=case.submission,
                title=title,
                filename=f"bescheid-{case.reference}.pdf",
                content=pdf,
                content_type="application/pdf",
            )
            case_transition(
                case=case,
                to=CaseStatus.DECIDED,
                actor=actor,
                version=version,
                citizen_text=notice,
                decision=decision,
                token=token,
            )
            Case.objects.filter(pk=case.pk).update(letter_issued_at=document.released_at)
            outbox_message_create(
                topic="cases.decision_email",
                payload={"reference": case.reference},
                idempotency_key=f"cases.decision_email:{document.pk}",
            )
            _audit(
                case=case,
                actor=actor,
                action="case.decision",
                after={
                    "document": document.pk,
                    "template": template.pk,
                    "fee": str(fee) if fee is not None else None,
                },
                token=token,
            )
    except BaseException:
        if document is not None:
            document_file_remove(document=document)
        raise
    return document


def letter_template_create(
    *,
    office: Office,
    name: str,
    body: str,
    service: Any = None,
    actor: User | None = None,
) -> LetterTemplate:
    """A decision letter template of ``office`` (for ``service``, or for all its services);
    refused (ValidationError) when it has an unknown placeholder."""
    from rathaus.cases.letters import placeholders_check

    placeholders_check(body)
    with transaction.atomic():
        template = LetterTemplate.objects.create(
            office=office, service=service, name=name, body=body
        )
        audit_entry_create(
            actor=actor,
            action="case.letter_template.create",
            object_type="cases.lettertemplate",
            object_id=template.pk,
            after={"office": office.pk, "name": name},
        )
    return template
