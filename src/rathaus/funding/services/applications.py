"""Writes of the city's funding applications (department staff only): the application itself,
the internal go/no-go decision, its status (through the one table ``TRANSITIONS``), its
consortium and its documents. Every change is audited with what was before and after.

Rules the services enforce (``ApplicationError`` with a message for staff and the form field
it belongs to):

- A new application, or one moved to another call, needs a call that is still open: not
  closed, and its final deadline not passed. Once submitted, an application keeps its call.
- The requested funding cannot exceed the total cost. A funding rate above the programme's
  maximum, or an amount outside its range, is no refusal but a warning
  (``selectors.applications.application_warnings``).
- Submission needs a "go"; a grant needs the granted amount; a running project its grant
  agreement number and project period. Two staff changing the status at once: the row is
  locked and the form's expected status compared, so the second is told it changed.
- The consortium's budget shares add up to the total cost, with exactly one coordinator and
  the city in it once, in the role the application gives it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import department_staff_required, user_is_staff_member
from rathaus.core.money import MAX_AMOUNT
from rathaus.core.services import audit_entry_create
from rathaus.economy.selectors.directory import organisation_names
from rathaus.forms.uploads import UploadRejected, check_and_store, read_upload, upload_delete
from rathaus.funding.constants import (
    ApplicationStatus,
    CallStatus,
    DocumentKind,
    GoDecision,
    Role,
)
from rathaus.funding.models import (
    Application,
    ApplicationDocument,
    ApplicationMeasure,
    Call,
    ConsortiumMember,
)
from rathaus.funding.services import audit_value
from rathaus.strategy.selectors import measures_by_id

S = ApplicationStatus

# Which status may follow which. The only place that says so: the service enforces it, the
# pages offer exactly these steps.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.IDEA: (S.PREPARATION, S.WITHDRAWN),
    S.PREPARATION: (S.SUBMITTED, S.WITHDRAWN, S.IDEA),
    S.SUBMITTED: (S.RESERVE, S.REJECTED, S.GRANTED, S.WITHDRAWN),
    S.RESERVE: (S.GRANTED, S.REJECTED),
    S.GRANTED: (S.RUNNING, S.WITHDRAWN),
    S.RUNNING: (S.CLOSED,),
    S.REJECTED: (),
    S.CLOSED: (),
    S.WITHDRAWN: (),
}

# before submission an application may still move to another call and be decided on
NOT_YET_SUBMITTED = (S.IDEA, S.PREPARATION)

OBJECT_TYPE = "funding.application"


class ApplicationError(Exception):
    """A change the rules do not allow; ``message`` is shown to staff (German, English
    through gettext), ``field`` names the form field it belongs to, ``row`` the consortium
    member (index into the list given) it is about."""

    def __init__(
        self,
        message: Any,
        *,
        code: str = "invalid",
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field
        self.row = row


def euros(value: Decimal) -> str:
    """2000000 -> "2.000.000,00 €" (in the active language's notation)."""
    return f"{formats.number_format(value, 2, use_l10n=True, force_grouping=True)} €"


def percent(value: Decimal) -> str:
    """60 -> "60,00 %"."""
    return f"{formats.number_format(value, 2, use_l10n=True, force_grouping=True)} %"


def _changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only what changed: (before, after)."""
    changed = [name for name in after if before.get(name) != after[name]]
    return {n: before.get(n) for n in changed}, {n: after[n] for n in changed}


def _locked(application: Application) -> Application:
    """The application's row, locked until the transaction ends: a second writer waits and
    then sees what the first one wrote."""
    found = (
        Application.objects.select_for_update()
        .select_related("call__programme")
        .filter(pk=application.pk)
        .first()
    )
    if found is None:
        raise ApplicationError(_("Diesen Antrag gibt es nicht mehr."), code="unknown")
    return found


def status_label(status: str) -> str:
    return str(ApplicationStatus(status).label) if status in ApplicationStatus.values else status


def allowed_transitions(status: str) -> tuple[str, ...]:
    """The statuses that may follow ``status`` (empty for the final ones)."""
    return TRANSITIONS.get(status, ())


# ---- the application -----------------------------------------------------------------------


@dataclass
class ApplicationData:
    call_id: int
    title: str
    acronym: str = ""
    summary: str = ""
    role: str = Role.COORDINATOR
    office_id: int | None = None
    responsible_id: int | None = None
    measure_ids: list[int] = field(default_factory=list)
    total_cost: Decimal = Decimal(0)
    requested_funding: Decimal = Decimal(0)
    # None: the part of the total cost not funded (total cost minus requested funding)
    own_share: Decimal | None = None
    own_share_budget_line: str = ""
    project_start: date | None = None
    project_end: date | None = None
    grant_agreement_number: str = ""
    result_score: str = ""
    result_note: str = ""
    granted_amount: Decimal | None = None


APPLICATION_FIELDS = (
    "call_id",
    "title",
    "acronym",
    "summary",
    "role",
    "office_id",
    "responsible_id",
    "total_cost",
    "requested_funding",
    "own_share",
    "own_share_budget_line",
    "project_start",
    "project_end",
    "grant_agreement_number",
    "result_score",
    "result_note",
    "granted_amount",
)


def call_open_problem(call: Call, *, now: datetime | None = None) -> str | None:
    """Why no application may be linked to ``call`` any more (None: it may)."""
    now = now or timezone.now()
    if call.status == CallStatus.CLOSED:
        return str(
            _(
                "Der Aufruf „%(call)s“ ist geschlossen. Einem geschlossenen Aufruf kann kein "
                "Antrag zugeordnet werden."
            )
            % {"call": call.identifier}
        )
    if call.final_deadline is not None and call.final_deadline <= now:
        return str(
            _(
                "Die letzte Frist des Aufrufs „%(call)s“ ist am %(date)s abgelaufen. Einem "
                "abgelaufenen Aufruf kann kein Antrag zugeordnet werden."
            )
            % {
                "call": call.identifier,
                "date": formats.date_format(
                    timezone.localtime(call.final_deadline), "SHORT_DATE_FORMAT"
                ),
            }
        )
    return None


def _amount(value: Decimal | None, name: str) -> None:
    if value is None:
        return
    if value < 0:
        raise ApplicationError(_("Der Betrag kann nicht negativ sein."), field=name)
    if value > MAX_AMOUNT:
        raise ApplicationError(_("Der Betrag ist zu groß."), field=name)


def _check_application(data: ApplicationData) -> list[int]:
    """Checks that need no locked row; returns the measure ids (known, without duplicates)."""
    if not data.title.strip():
        raise ApplicationError(_("Bitte einen Projekttitel angeben."), field="title")
    if data.role not in Role.values:
        raise ApplicationError(_("Bitte eine Rolle aus der Liste wählen."), field="role")
    for name in ("total_cost", "requested_funding", "own_share", "granted_amount"):
        _amount(getattr(data, name), name)
    if data.requested_funding > data.total_cost:
        raise ApplicationError(
            _(
                "Die beantragte Förderung (%(requested)s) kann nicht höher sein als die "
                "Gesamtkosten (%(total)s)."
            )
            % {"requested": euros(data.requested_funding), "total": euros(data.total_cost)},
            field="requested_funding",
        )
    if data.own_share is not None and data.own_share > data.total_cost:
        raise ApplicationError(
            _("Der Eigenanteil (%(own)s) kann nicht höher sein als die Gesamtkosten (%(total)s).")
            % {"own": euros(data.own_share), "total": euros(data.total_cost)},
            field="own_share",
        )
    if data.project_start and data.project_end and data.project_start > data.project_end:
        raise ApplicationError(
            _("Das Projektende liegt vor dem Projektbeginn."), field="project_end"
        )
    if data.office_id is not None and not Office.objects.filter(pk=data.office_id).exists():
        raise ApplicationError(_("Diese Stelle gibt es nicht."), field="office")
    if data.responsible_id is not None:
        person = User.objects.filter(pk=data.responsible_id, is_active=True).first()
        if person is None or not user_is_staff_member(user=person):
            raise ApplicationError(
                _("Verantwortlich kann nur ein Konto der Verwaltung sein."), field="responsible"
            )
    ids = sorted({int(i) for i in data.measure_ids})
    known = measures_by_id(measure_ids=ids)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ApplicationError(
            _("Diese Maßnahme gibt es in der Strategie nicht: %(ids)s.")
            % {"ids": ", ".join(str(i) for i in unknown)},
            field="measures",
        )
    return ids


def _call_for(data: ApplicationData, *, current: Application | None) -> Call:
    """The call the application is to belong to: it must be open unless it is already the
    application's call; a submitted application keeps its call."""
    call = Call.objects.select_related("programme").filter(pk=data.call_id).first()
    if call is None:
        raise ApplicationError(_("Diesen Aufruf gibt es nicht."), field="call")
    if current is not None and current.call_id == call.pk:
        return call
    if current is not None and current.status not in NOT_YET_SUBMITTED:
        raise ApplicationError(
            _(
                "Der Antrag ist schon eingereicht (Status: %(status)s) und bleibt beim Aufruf "
                "„%(call)s“."
            )
            % {"status": status_label(current.status), "call": current.call.identifier},
            code="call_fixed",
            field="call",
        )
    problem = call_open_problem(call)
    if problem is not None:
        raise ApplicationError(problem, code="call_closed", field="call")
    return call


def _apply(application: Application, data: ApplicationData, call: Call) -> None:
    application.call = call
    for name in APPLICATION_FIELDS:
        if name in ("call_id", "own_share"):
            continue
        value = getattr(data, name)
        setattr(application, name, value.strip() if isinstance(value, str) else value)
    application.own_share = (
        data.own_share
        if data.own_share is not None
        else max(data.total_cost - data.requested_funding, Decimal(0))
    )


def _state(application: Application, measure_ids: Iterable[int]) -> dict[str, Any]:
    state = {name: audit_value(getattr(application, name)) for name in APPLICATION_FIELDS}
    state["measure_ids"] = sorted(measure_ids)
    return state


def _measure_ids(application: Application) -> list[int]:
    return sorted(
        ApplicationMeasure.objects.filter(application=application).values_list(
            "measure_id", flat=True
        )
    )


def _set_measures(application: Application, ids: list[int]) -> None:
    current = set(_measure_ids(application))
    wanted = set(ids)
    ApplicationMeasure.objects.filter(
        application=application, measure_id__in=current - wanted
    ).delete()
    ApplicationMeasure.objects.bulk_create(
        ApplicationMeasure(application=application, measure_id=i) for i in sorted(wanted - current)
    )


def application_create(*, actor: User, data: ApplicationData) -> Application:
    """A new application (status "idea") to an open call."""
    department_staff_required(user=actor)
    ids = _check_application(data)
    with transaction.atomic():
        call = _call_for(data, current=None)
        application = Application(created_by=actor, status=S.IDEA)
        _apply(application, data, call)
        application.save()
        _set_measures(application, ids)
        audit_entry_create(
            actor=actor,
            action="funding.application.create",
            object_type=OBJECT_TYPE,
            object_id=application.pk,
            after={**_state(application, ids), "status": application.status},
        )
    return application


def application_update(
    *, actor: User, application: Application, data: ApplicationData
) -> Application:
    """Change an application's fields (not its status: ``application_transition``)."""
    department_staff_required(user=actor)
    ids = _check_application(data)
    with transaction.atomic():
        locked = _locked(application)
        call = _call_for(data, current=locked)
        before = _state(locked, _measure_ids(locked))
        _apply(locked, data, call)
        locked.save()
        _set_measures(locked, ids)
        changed_before, changed_after = _changes(before, _state(locked, ids))
        if changed_after:
            audit_entry_create(
                actor=actor,
                action="funding.application.update",
                object_type=OBJECT_TYPE,
                object_id=locked.pk,
                before=changed_before,
                after=changed_after,
            )
    return locked


# ---- the internal decision -----------------------------------------------------------------

DECISION_FIELDS = ("decision", "decision_on", "decided_by_id", "decision_note")


def application_decide(
    *,
    actor: User,
    application: Application,
    decision: str,
    note: str,
    decided_on: date | None = None,
) -> Application:
    """Record the city's go/no-go on applying (by ``actor``, with a reason). It moves nothing
    by itself; a no-go blocks the submission. It can be revised until the application is
    submitted."""
    department_staff_required(user=actor)
    if decision not in (GoDecision.GO, GoDecision.NO_GO):
        raise ApplicationError(_("Bitte Go oder No-Go wählen."), field="decision")
    note = note.strip()
    if not note:
        raise ApplicationError(_("Bitte begründen Sie die Entscheidung."), field="note")
    today = timezone.localdate()
    decided_on = decided_on or today
    if decided_on > today:
        raise ApplicationError(
            _("Das Datum der Entscheidung liegt in der Zukunft."), field="decided_on"
        )
    with transaction.atomic():
        locked = _locked(application)
        if locked.status not in NOT_YET_SUBMITTED:
            raise ApplicationError(
                _(
                    "Über den Antrag wird vor der Einreichung entschieden; sein Status ist "
                    "schon „%(status)s“."
                )
                % {"status": status_label(locked.status)},
                code="too_late",
            )
        before = {name: audit_value(getattr(locked, name)) for name in DECISION_FIELDS}
        locked.decision = decision
        locked.decision_on = decided_on
        locked.decided_by = actor
        locked.decision_note = note[:5000]
        locked.save(
            update_fields=["decision", "decision_on", "decided_by", "decision_note", "updated_at"]
        )
        audit_entry_create(
            actor=actor,
            action="funding.application.decide",
            object_type=OBJECT_TYPE,
            object_id=locked.pk,
            before=before,
            after={name: audit_value(getattr(locked, name)) for name in DECISION_FIELDS},
        )
    return locked


# ---- the status ----------------------------------------------------------------------------


def application_transition(
    *,
    actor: User,
    application: Application,
    to_status: str,
    expected_status: str,
    submitted_on: date | None = None,
    granted_amount: Decimal | None = None,
    grant_agreement_number: str | None = None,
    project_start: date | None = None,
    project_end: date | None = None,
    note: str = "",
) -> Application:
    """Move the application to ``to_status`` if ``TRANSITIONS`` allows it from its current
    status, which must still be ``expected_status`` (what the person saw when they chose the
    step). The values a step needs may come with it (the submission date, the granted
    amount, the grant agreement's number and the project period); they are saved with it."""
    department_staff_required(user=actor)
    with transaction.atomic():
        locked = _locked(application)
        if locked.status != expected_status:
            raise ApplicationError(
                _(
                    "Der Status des Antrags wurde inzwischen geändert (jetzt: „%(status)s“). "
                    "Bitte prüfen Sie den Antrag und wählen Sie den nächsten Schritt neu."
                )
                % {"status": status_label(locked.status)},
                code="stale",
            )
        if to_status not in allowed_transitions(locked.status):
            raise ApplicationError(
                _("Von „%(from)s“ führt kein Schritt zu „%(to)s“.")
                % {"from": status_label(locked.status), "to": status_label(to_status)},
                code="not_allowed",
            )
        names = (
            "status",
            "submitted_on",
            "granted_amount",
            "grant_agreement_number",
            "project_start",
            "project_end",
        )
        before = {name: audit_value(getattr(locked, name)) for name in names}
        if to_status == S.SUBMITTED:
            _submit(locked, submitted_on)
        elif to_status == S.GRANTED:
            _grant(locked, granted_amount)
        elif to_status == S.RUNNING:
            _start(locked, grant_agreement_number, project_start, project_end)
        locked.status = to_status
        locked.save()
        changed_before, changed_after = _changes(
            before, {name: audit_value(getattr(locked, name)) for name in names}
        )
        changed_before["status"] = before["status"]  # the history reads from and to
        note = note.strip()[:2000]
        audit_entry_create(
            actor=actor,
            action="funding.application.transition",
            object_type=OBJECT_TYPE,
            object_id=locked.pk,
            before=changed_before,
            after={**changed_after, **({"note": note} if note else {})},
        )
    return locked


def _submit(application: Application, submitted_on: date | None) -> None:
    if application.decision == GoDecision.NO_GO:
        raise ApplicationError(
            _(
                "Die interne Entscheidung ist No-Go: Der Antrag kann nicht eingereicht werden. "
                "Erst eine neue Entscheidung für Go macht die Einreichung möglich."
            ),
            code="no_go",
        )
    if application.decision != GoDecision.GO:
        raise ApplicationError(
            _(
                "Eingereicht werden kann erst nach der internen Entscheidung für Go. Bitte "
                "tragen Sie zuerst die Entscheidung ein."
            ),
            code="no_decision",
        )
    today = timezone.localdate()
    submitted_on = submitted_on or today
    if submitted_on > today:
        raise ApplicationError(
            _("Das Datum der Einreichung liegt in der Zukunft."), field="submitted_on"
        )
    application.submitted_on = submitted_on


def _grant(application: Application, granted_amount: Decimal | None) -> None:
    if granted_amount is not None:
        _amount(granted_amount, "granted_amount")
        application.granted_amount = granted_amount
    if not application.granted_amount:
        raise ApplicationError(
            _("Bitte die bewilligte Förderung angeben."), code="needs", field="granted_amount"
        )


def _start(
    application: Application,
    number: str | None,
    start: date | None,
    end: date | None,
) -> None:
    if number is not None and number.strip():
        application.grant_agreement_number = number.strip()[:120]
    application.project_start = start or application.project_start
    application.project_end = end or application.project_end
    if not application.grant_agreement_number:
        raise ApplicationError(
            _(
                "Ein Projekt läuft erst mit der Nummer der Finanzhilfevereinbarung oder des "
                "Bescheids. Bitte tragen Sie sie ein."
            ),
            code="needs",
            field="grant_agreement_number",
        )
    if application.project_start is None:
        raise ApplicationError(
            _("Bitte den Projektbeginn angeben."), code="needs", field="project_start"
        )
    if application.project_end is None:
        raise ApplicationError(
            _("Bitte das Projektende angeben."), code="needs", field="project_end"
        )
    if application.project_start > application.project_end:
        raise ApplicationError(
            _("Das Projektende liegt vor dem Projektbeginn."), field="project_end"
        )


# ---- the consortium ------------------------------------------------------------------------


@dataclass
class MemberData:
    """A member of the consortium: the city (``is_city``), an organisation of the directory
    (``organisation_id``), or a partner named by hand (``name``)."""

    role: str
    budget_share: Decimal
    is_city: bool = False
    organisation_id: int | None = None
    name: str = ""


MEMBER_FIELDS = ("is_city", "organisation_id", "name", "role", "budget_share")


def _member_state(members: Iterable[Any]) -> list[dict[str, Any]]:
    return [{name: audit_value(getattr(m, name)) for name in MEMBER_FIELDS} for m in members]


def _check_members(
    application: Application, members: list[MemberData], known_ids: set[int]
) -> None:
    """``known_ids``: organisations already in the consortium (they stay choosable even when
    no longer published in the directory)."""
    new_ids = {m.organisation_id for m in members if m.organisation_id is not None}
    published = organisation_names(organisation_ids=new_ids - known_ids)
    names: dict[str, int] = {}
    organisations: dict[int, int] = {}
    for row, member in enumerate(members):
        kinds = sum([member.is_city, member.organisation_id is not None, bool(member.name)])
        if kinds != 1:
            raise ApplicationError(
                _("Bitte entweder eine Organisation wählen oder einen Namen eintragen."),
                field="member",
                row=row,
            )
        if member.role not in Role.values:
            raise ApplicationError(
                _("Bitte eine Rolle aus der Liste wählen."), field="role", row=row
            )
        if member.budget_share < 0:
            raise ApplicationError(
                _("Der Budgetanteil kann nicht negativ sein."), field="budget_share", row=row
            )
        if member.budget_share > MAX_AMOUNT:
            raise ApplicationError(_("Der Betrag ist zu groß."), field="budget_share", row=row)
        if member.organisation_id is not None:
            if member.organisation_id not in known_ids | set(published):
                raise ApplicationError(
                    _("Diese Organisation gibt es im Verzeichnis nicht."), field="member", row=row
                )
            if member.organisation_id in organisations:
                raise ApplicationError(
                    _("Diese Organisation steht schon in Zeile %(row)d.")
                    % {"row": organisations[member.organisation_id] + 1},
                    field="member",
                    row=row,
                )
            organisations[member.organisation_id] = row
        if member.name:
            key = member.name.casefold()
            if key in names:
                raise ApplicationError(
                    _("Dieser Partner steht schon in Zeile %(row)d.") % {"row": names[key] + 1},
                    field="name",
                    row=row,
                )
            names[key] = row
    city_rows = [row for row, m in enumerate(members) if m.is_city]
    if not city_rows:
        raise ApplicationError(_("Die Stadt muss im Konsortium stehen."), code="city")
    if len(city_rows) > 1:
        raise ApplicationError(
            _("Die Stadt steht mehr als einmal im Konsortium."),
            code="city",
            field="member",
            row=city_rows[1],
        )
    city = members[city_rows[0]]
    if city.role != application.role:
        raise ApplicationError(
            _(
                "Die Stadt ist in diesem Antrag %(role)s; im Konsortium muss sie dieselbe "
                "Rolle haben."
            )
            % {"role": Role(application.role).label},
            code="city_role",
            field="role",
            row=city_rows[0],
        )
    coordinators = [m for m in members if m.role == Role.COORDINATOR]
    if len(coordinators) != 1:
        raise ApplicationError(
            _("Das Konsortium braucht genau einen Koordinator; angegeben sind %(count)d.")
            % {"count": len(coordinators)},
            code="coordinator",
        )
    total = sum((m.budget_share for m in members), start=Decimal(0))
    if total != application.total_cost:
        raise ApplicationError(
            _("Die Budgetanteile ergeben %(sum)s, die Gesamtkosten betragen %(total)s.")
            % {"sum": euros(total), "total": euros(application.total_cost)},
            code="sum",
        )


def consortium_set(
    *, actor: User, application: Application, members: list[MemberData]
) -> list[ConsortiumMember]:
    """Replace the consortium by ``members`` (in this order), all at once or not at all."""
    department_staff_required(user=actor)
    members = [
        MemberData(
            role=m.role,
            budget_share=m.budget_share,
            is_city=m.is_city,
            organisation_id=m.organisation_id,
            name=m.name.strip()[:250],
        )
        for m in members
    ]
    with transaction.atomic():
        locked = _locked(application)
        current = list(ConsortiumMember.objects.filter(application=locked).order_by("position"))
        known = {m.organisation_id for m in current if m.organisation_id is not None}
        _check_members(locked, members, known)
        ConsortiumMember.objects.filter(application=locked).delete()
        created = ConsortiumMember.objects.bulk_create(
            ConsortiumMember(
                application=locked,
                position=index + 1,
                is_city=m.is_city,
                organisation_id=m.organisation_id,
                name=m.name,
                role=m.role,
                budget_share=m.budget_share,
            )
            for index, m in enumerate(members)
        )
        before, after = _member_state(current), _member_state(created)
        if before != after:
            audit_entry_create(
                actor=actor,
                action="funding.consortium.set",
                object_type=OBJECT_TYPE,
                object_id=locked.pk,
                before={"members": before},
                after={"members": after},
            )
    return created


# ---- documents -----------------------------------------------------------------------------


def application_document_upload(
    *,
    actor: User,
    application: Application,
    kind: str,
    title: str,
    file: UploadedFile,
) -> ApplicationDocument:
    """Check a file like a form upload (by its content: PDF, PNG or JPEG; size; virus scan)
    and keep it encrypted. Without a title the file's name is its title."""
    department_staff_required(user=actor)
    if kind not in DocumentKind.values:
        raise ApplicationError(_("Bitte eine Art aus der Liste wählen."), field="kind")
    try:
        token, meta = check_and_store(file)
    except UploadRejected as rejected:
        raise ApplicationError(str(rejected), code="upload", field="file") from None
    file_name = str(meta["filename"])
    try:
        with transaction.atomic():
            locked = _locked(application)
            document = ApplicationDocument.objects.create(
                application=locked,
                kind=kind,
                title=(title.strip() or file_name)[:250],
                file_name=file_name,
                content_type=str(meta["content_type"]),
                size=int(str(meta["size"])),
                storage_path=token,
                uploaded_by=actor,
            )
            audit_entry_create(
                actor=actor,
                action="funding.document.upload",
                object_type=OBJECT_TYPE,
                object_id=locked.pk,
                after={
                    "document_id": document.pk,
                    "kind": kind,
                    "title": document.title,
                    "file_name": file_name,
                    "size": document.size,
                    "sha256": meta["sha256"],
                },
            )
    except BaseException:
        upload_delete(token)  # nothing refers to it
        raise
    return document


def application_document_read(*, actor: User, document: ApplicationDocument) -> bytes:
    """The content of a document (decrypted) for ``actor``, who reads it: audited.
    ``FileNotFoundError`` if the stored file is gone."""
    department_staff_required(user=actor)
    content = read_upload(document.storage_path)
    audit_entry_create(
        actor=actor,
        action="funding.document.download",
        object_type=OBJECT_TYPE,
        object_id=document.application_id,
        after={"document_id": document.pk, "file_name": document.file_name},
    )
    return content
