"""Writes of entries: a member of a published organisation of the directory enters a call
for it (title, team), answers the current phase's form (a form of the form engine, checked
by its own validation) and submits, or withdraws the entry; staff check eligibility and
decide which entries pass on to the next phase (after the last: who wins).

The way of an entry: ``draft`` → ``submitted`` (answers of the first phase complete) →
``withdrawn`` (by its members, until the phase it is in is decided). In a later phase the
entry stays ``submitted`` and answers that phase's form (``EntryPhase.submitted_at``).
Entries change only while their phase takes entries (``opens_at <= now < closes_at``) and
the call is published; after the deadline nothing is changed and nothing is lost.

Passing on: ``phase_decide`` (staff choose, with a reason) and ``phase_advance_by_rule``
(the phase's rule: the best N, or from a threshold; the rule "decision" leaves it to staff).
The phase row is locked while it is decided, so two staff deciding at once cannot both
succeed. Every entrant gets the result by e-mail (outbox), and everything is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core.crypto import encrypt_json
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.economy.selectors.directory import organisation_ids_of_user
from rathaus.forms.questions import Questions, questions_for
from rathaus.innovation.constants import (
    AdvanceRule,
    CallStatus,
    Eligibility,
    EntryStatus,
    PhaseResult,
    TieBreak,
)
from rathaus.innovation.models import Call, Entry, EntryPhase, Phase
from rathaus.innovation.selectors.entries import (
    Standing,
    entry_team,
    first_phase,
    next_phase,
    organisation_published,
    phase_is_open,
    phase_standings,
    user_may_act_for_entry,
)
from rathaus.innovation.services.calls import number_text

RESULT_TOPIC = "innovation.entry_result"
MAX_TEAM = 30


class EntryError(Exception):
    """A change the rules do not allow; ``message`` is shown (gettext), ``field`` names the
    form field it belongs to, ``errors`` are the form's answers' messages by input name."""

    def __init__(
        self,
        message: Any,
        *,
        code: str = "invalid",
        field: str | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field
        self.errors = errors or {}


@dataclass
class TeamMember:
    name: str
    role: str = ""


# ---- checks --------------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return str(formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT"))


def _check_open(call: Call, phase: Phase, now: datetime) -> None:
    if call.status != CallStatus.PUBLISHED:
        raise EntryError(_("Dieser Wettbewerb nimmt keine Beiträge an."), code="not_published")
    if now < phase.opens_at:
        raise EntryError(
            _("Die Einreichung beginnt am %(date)s.") % {"date": _when(phase.opens_at)},
            code="not_open",
        )
    if not phase_is_open(phase, now):
        raise EntryError(
            _("Die Einreichungsfrist ist am %(date)s abgelaufen.")
            % {"date": _when(phase.closes_at)},
            code="deadline",
        )


def _clean_details(title: str, team: list[TeamMember]) -> tuple[str, list[dict[str, str]]]:
    title = " ".join(title.split())
    if not title:
        raise EntryError(_("Bitte geben Sie dem Beitrag einen Titel."), field="title")
    if len(title) > 200:
        raise EntryError(_("Der Titel hat höchstens 200 Zeichen."), field="title")
    people = [
        {"name": " ".join(person.name.split())[:200], "role": " ".join(person.role.split())[:200]}
        for person in team
        if person.name.strip()
    ]
    if not people:
        raise EntryError(_("Bitte nennen Sie mindestens eine Person des Teams."), field="team")
    if len(people) > MAX_TEAM:
        raise EntryError(
            _("Ein Team hat höchstens %(count)d Personen.") % {"count": MAX_TEAM}, field="team"
        )
    return title, people


def _locked_entry(actor: User, entry_id: int) -> tuple[Entry, EntryPhase]:
    """The entry (locked) and its place in its current phase; PermissionDenied unless
    ``actor`` is a member of its organisation."""
    entry = (
        Entry.objects.select_for_update()
        .select_related("call", "current_phase")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise EntryError(_("Diesen Beitrag gibt es nicht."), code="unknown")
    if not user_may_act_for_entry(user=actor, entry=entry):
        raise PermissionDenied
    entry_phase, _created = EntryPhase.objects.get_or_create(entry=entry, phase=entry.current_phase)
    return entry, entry_phase


def _editable(entry: Entry, entry_phase: EntryPhase, now: datetime) -> None:
    if entry.status == EntryStatus.WITHDRAWN:
        raise EntryError(_("Der Beitrag ist zurückgezogen."), code="withdrawn")
    if entry_phase.result != PhaseResult.OPEN or entry.current_phase.decided_at is not None:
        raise EntryError(_("Diese Phase wurde schon entschieden."), code="decided")
    if entry_phase.submitted_at is not None:
        raise EntryError(_("Der Beitrag ist für diese Phase schon eingereicht."), code="submitted")
    _check_open(entry.call, entry.current_phase, now)


def _audit(actor: User, action: str, entry: Entry, **after: Any) -> None:
    audit_entry_create(
        actor=actor,
        action=f"innovation.entry.{action}",
        object_type="innovation.entry",
        object_id=entry.pk,
        after={"call": entry.call_id, "organisation": entry.organisation_id, **after},
    )


# ---- the entrants --------------------------------------------------------------------------


def entry_create(
    *,
    actor: User,
    call_id: int,
    organisation_id: int,
    title: str,
    team: list[TeamMember],
    now: datetime | None = None,
) -> Entry:
    """Start an entry (a draft) of ``organisation_id`` to a call in its first phase. Only a
    member of the organisation, a published one of the directory; one entry (not withdrawn)
    per organisation and call."""
    now = now or timezone.now()
    if organisation_id not in organisation_ids_of_user(user=actor):
        raise EntryError(
            _("Sie können nur für eine Organisation teilnehmen, deren Mitglied Sie sind."),
            code="not_member",
            field="organisation",
        )
    if not organisation_published(organisation_id):
        raise EntryError(
            _("Die Organisation muss im Verzeichnis veröffentlicht sein, um teilzunehmen."),
            code="not_published_organisation",
            field="organisation",
        )
    title, people = _clean_details(title, team)
    try:
        with transaction.atomic():
            call = Call.objects.select_for_update().filter(pk=call_id).first()
            if call is None:
                raise EntryError(_("Diesen Wettbewerb gibt es nicht."), code="unknown")
            phase = first_phase(call)
            if phase is None:
                raise EntryError(_("Dieser Wettbewerb nimmt keine Beiträge an."), code="no_phase")
            _check_open(call, phase, now)
            if (
                Entry.objects.filter(call=call, organisation_id=organisation_id)
                .exclude(status=EntryStatus.WITHDRAWN)
                .exists()
            ):
                raise _duplicate()
            entry = Entry.objects.create(
                call=call,
                organisation_id=organisation_id,
                title=title,
                team_encrypted=encrypt_json(people),
                created_by=actor,
                current_phase=phase,
            )
            EntryPhase.objects.create(entry=entry, phase=phase)
            _audit(actor, "create", entry, phase=phase.pk, team_size=len(people))
    except IntegrityError:  # the same organisation at the same moment (the constraint)
        raise _duplicate() from None
    return entry


def _duplicate() -> EntryError:
    return EntryError(
        _("Diese Organisation nimmt an diesem Wettbewerb schon mit einem Beitrag teil."),
        code="duplicate",
        field="organisation",
    )


def _store_answers(entry_phase: EntryPhase, questions: Questions | None, values: Any) -> None:
    entry_phase.answers_encrypted = encrypt_json(
        {"form_version": questions.version.pk if questions else None, "values": values}
    )


def entry_update(
    *,
    actor: User,
    entry_id: int,
    title: str,
    team: list[TeamMember],
    data: QueryDict | None = None,
    now: datetime | None = None,
) -> Entry:
    """Save a draft: the title, the team and the answers typed so far to the current phase's
    form (the answers that pass the form's checks; the others are asked again)."""
    now = now or timezone.now()
    title, people = _clean_details(title, team)
    with transaction.atomic():
        entry, entry_phase = _locked_entry(actor, entry_id)
        _editable(entry, entry_phase, now)
        entry.title = title
        entry.team_encrypted = encrypt_json(people)
        entry.save(update_fields=["title", "team_encrypted", "updated_at"])
        questions = questions_for(entry.current_phase.entry_form)
        if questions is not None and data is not None:
            result = questions.clean(data)
            valid = {k: v for k, v in result.values.items() if k not in result.errors}
            _store_answers(entry_phase, questions, valid)
            entry_phase.save(update_fields=["answers_encrypted", "updated_at"])
        _audit(actor, "update", entry, phase=entry_phase.phase_id, team_size=len(people))
    return entry


def entry_submit(
    *, actor: User, entry_id: int, data: QueryDict, now: datetime | None = None
) -> Entry:
    """Submit the entry in its current phase: the answers in ``data`` are checked by the form
    engine (EntryError with ``errors`` by input name when any is missing or malformed; the
    stored draft stays as it was) and stored encrypted with the form's version."""
    now = now or timezone.now()
    with transaction.atomic():
        entry, entry_phase = _locked_entry(actor, entry_id)
        _editable(entry, entry_phase, now)
        _clean_details(entry.title, [TeamMember(**person) for person in entry_team(entry)])
        phase = entry.current_phase
        questions = questions_for(phase.entry_form)
        if phase.entry_form and questions is None:
            raise EntryError(
                _(
                    "Das Formular dieser Phase ist gerade nicht verfügbar. Bitte versuchen Sie "
                    "es später noch einmal."
                ),
                code="no_form",
            )
        values: dict[str, Any] = {}
        if questions is not None:
            result = questions.clean(data)
            if result.errors:
                raise EntryError(
                    _("Bitte prüfen Sie Ihre Antworten."), code="answers", errors=result.errors
                )
            values = result.values
        _store_answers(entry_phase, questions, values)
        entry_phase.submitted_at = now
        entry_phase.save(update_fields=["answers_encrypted", "submitted_at", "updated_at"])
        before = entry.status
        entry.status = EntryStatus.SUBMITTED
        entry.submitted_at = entry.submitted_at or now
        entry.save(update_fields=["status", "submitted_at", "updated_at"])
        _audit(
            actor,
            "submit",
            entry,
            phase=phase.pk,
            status_before=before,
            form_version=questions.version.pk if questions else None,
        )
    return entry


def entry_withdraw(
    *, actor: User, entry_id: int, reason: str = "", now: datetime | None = None
) -> Entry:
    """Withdraw an entry (its members), any time until the phase it is in is decided."""
    now = now or timezone.now()
    with transaction.atomic():
        entry, entry_phase = _locked_entry(actor, entry_id)
        if entry.status == EntryStatus.WITHDRAWN:
            raise EntryError(_("Der Beitrag ist schon zurückgezogen."), code="withdrawn")
        if entry_phase.result != PhaseResult.OPEN or entry.current_phase.decided_at is not None:
            raise EntryError(
                _("Die Phase ist entschieden: Der Beitrag lässt sich nicht mehr zurückziehen."),
                code="decided",
            )
        before = entry.status
        entry.status = EntryStatus.WITHDRAWN
        entry.withdrawn_at = now
        entry.save(update_fields=["status", "withdrawn_at", "updated_at"])
        _audit(actor, "withdraw", entry, status_before=before, reason=reason.strip()[:2000])
    return entry


# ---- staff: eligibility --------------------------------------------------------------------


def entry_eligibility_set(*, actor: User, entry_id: int, eligible: bool, reason: str = "") -> Entry:
    """Staff decide whether a submitted entry may take part; "not eligible" needs a reason
    (the entrants are told it)."""
    department_staff_required(user=actor)
    reason = reason.strip()
    if not eligible and not reason:
        raise EntryError(
            _("Bitte begründen Sie, warum der Beitrag nicht teilnahmeberechtigt ist."),
            code="reason_needed",
            field="reason",
        )
    with transaction.atomic():
        entry = Entry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise EntryError(_("Diesen Beitrag gibt es nicht."), code="unknown")
        if entry.submitted_at is None:
            raise EntryError(
                _("Erst ein eingereichter Beitrag wird geprüft."), code="not_submitted"
            )
        if entry.status == EntryStatus.WITHDRAWN:
            raise EntryError(_("Der Beitrag ist zurückgezogen."), code="withdrawn")
        before = {"eligibility": entry.eligibility, "reason": entry.eligibility_reason}
        entry.eligibility = Eligibility.ELIGIBLE if eligible else Eligibility.INELIGIBLE
        entry.eligibility_reason = reason[:2000]
        entry.eligibility_by = actor
        entry.save(
            update_fields=["eligibility", "eligibility_reason", "eligibility_by", "updated_at"]
        )
        audit_entry_create(
            actor=actor,
            action="innovation.entry.eligibility",
            object_type="innovation.entry",
            object_id=entry.pk,
            before=before,
            after={"eligibility": entry.eligibility, "reason": entry.eligibility_reason},
        )
    return entry


# ---- staff: passing on ---------------------------------------------------------------------


def _locked_phase(phase_id: int, now: datetime) -> Phase:
    """The phase, locked for its decision: the second of two staff deciding at once waits
    here and then finds it decided."""
    phase = Phase.objects.select_for_update().select_related("call").filter(pk=phase_id).first()
    if phase is None:
        raise EntryError(_("Diese Phase gibt es nicht."), code="unknown")
    if phase.decided_at is not None:
        raise EntryError(_("Diese Phase wurde schon entschieden."), code="decided")
    if phase.call.status != CallStatus.PUBLISHED:
        raise EntryError(_("Der Wettbewerb ist nicht veröffentlicht."), code="not_published")
    if now < phase.closes_at:
        raise EntryError(
            _("Die Einreichung läuft noch bis %(date)s; danach wird entschieden.")
            % {"date": _when(phase.closes_at)},
            code="still_open",
        )
    return phase


def _decide(
    *,
    actor: User,
    phase: Phase,
    standings: list[Standing],
    advanced_ids: set[int],
    reason: str,
    rule: str,
    ranked: bool,
    now: datetime,
) -> list[EntryPhase]:
    """Record who passes: results, the next phase's places, current phases, the phase's
    decision, the audit entry and one e-mail per entrant."""
    following = next_phase(phase)
    passed = PhaseResult.ADVANCED if following is not None else PhaseResult.WINNER
    results: dict[str, str] = {}
    for position, standing in enumerate(standings, start=1):
        row, entry = standing.entry_phase, standing.entry
        row.result = passed if entry.pk in advanced_ids else PhaseResult.NOT_ADVANCED
        row.result_reason = reason[:2000]
        row.decided_by = actor
        row.decided_at = now
        if ranked and standing.can_pass:
            row.rank = position
        row.save(
            update_fields=[
                "result",
                "result_reason",
                "decided_by",
                "decided_at",
                "rank",
                "updated_at",
            ]
        )
        results[str(entry.pk)] = row.result
        if row.result == PhaseResult.ADVANCED and following is not None:
            EntryPhase.objects.get_or_create(entry=entry, phase=following)
            entry.current_phase = following
            entry.save(update_fields=["current_phase", "updated_at"])
        if row.submitted_at is not None and entry.status != EntryStatus.WITHDRAWN:
            outbox_message_create(
                topic=RESULT_TOPIC,
                payload={"entry_phase": row.pk},
                idempotency_key=f"innovation.entry_result:{entry.pk}:{phase.pk}",
            )
    phase.decided_at = now
    phase.save(update_fields=["decided_at", "updated_at"])
    audit_entry_create(
        actor=actor,
        action="innovation.phase.decide",
        object_type="innovation.phase",
        object_id=phase.pk,
        before={"decided_at": None},
        after={
            "rule": rule,
            "reason": reason,
            "advanced": sorted(advanced_ids),
            "results": results,
            "next_phase": following.pk if following is not None else None,
        },
    )
    return [standing.entry_phase for standing in standings]


def phase_decide(
    *,
    actor: User,
    phase_id: int,
    advanced_entry_ids: list[int],
    reason: str,
    now: datetime | None = None,
) -> list[EntryPhase]:
    """Staff decide which entries pass (after the last phase: win), with a reason. Entries
    not submitted in the phase, withdrawn or not eligible never pass."""
    department_staff_required(user=actor)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise EntryError(
            _("Bitte begründen Sie die Entscheidung."), code="reason_needed", field="reason"
        )
    with transaction.atomic():
        phase = _locked_phase(phase_id, now)
        standings = phase_standings(phase)
        allowed = {s.entry.pk for s in standings if s.can_pass}
        chosen = {int(pk) for pk in advanced_entry_ids}
        refused = sorted(chosen - allowed)
        if refused:
            titles = {s.entry.pk: s.entry.title for s in standings}
            raise EntryError(
                _(
                    "Diese Beiträge können nicht weiterkommen (nicht eingereicht, "
                    "zurückgezogen oder nicht teilnahmeberechtigt): %(titles)s"
                )
                % {"titles": ", ".join(titles.get(pk, f"#{pk}") for pk in refused)},
                code="cannot_pass",
                field="advanced",
            )
        return _decide(
            actor=actor,
            phase=phase,
            standings=standings,
            advanced_ids=chosen,
            reason=reason,
            rule=AdvanceRule.DECISION,
            ranked=False,
            now=now,
        )


def _tie_key(call: Call, standing: Standing) -> tuple[Any, ...]:
    """How an entry ranks, best first when sorted descending: its total, then the call's
    tie-break (the criteria in their order; or the earlier submission). The jury's own
    tie-break adds nothing: a tie at the cut is left to staff."""
    key: tuple[Any, ...] = (standing.total,)
    if call.tie_break == TieBreak.CRITERIA_ORDER:
        key += tuple(value if value is not None else Decimal(-1) for value in standing.criteria)
    elif call.tie_break == TieBreak.EARLIER_ENTRY:
        submitted = standing.entry_phase.submitted_at
        key += (-submitted.timestamp() if submitted is not None else float("-inf"),)
    return key


def phase_advance_by_rule(
    *, actor: User, phase_id: int, now: datetime | None = None
) -> list[EntryPhase]:
    """Pass entries on by the phase's rule: the best N by total (the jury's consensus, else
    the mean of the submitted evaluations) or every entry from the threshold on. Entries
    below a criterion's threshold (a knock-out), not eligible or withdrawn never pass. A tie
    at the cut the call's tie-break does not settle, and the rule "decision", are left to
    staff (EntryError)."""
    department_staff_required(user=actor)
    now = now or timezone.now()
    with transaction.atomic():
        phase = _locked_phase(phase_id, now)
        if phase.advance_rule == AdvanceRule.DECISION:
            raise EntryError(
                _(
                    "In dieser Phase wird nach Entscheidung weitergegeben: Bitte wählen Sie die "
                    "Beiträge aus und begründen Sie die Auswahl."
                ),
                code="decision_needed",
            )
        standings = phase_standings(phase)
        candidates = [s for s in standings if s.can_pass]
        unscored = [s.entry.title for s in candidates if s.total is None]
        if unscored:
            raise EntryError(
                _("Für diese Beiträge gibt es noch keine Bewertung: %(titles)s")
                % {"titles": ", ".join(unscored)},
                code="unscored",
            )
        contenders = [s for s in candidates if not s.knocked_out]
        if phase.advance_rule == AdvanceRule.THRESHOLD:
            threshold = phase.advance_threshold or Decimal(0)
            advanced = [s for s in contenders if s.total is not None and s.total >= threshold]
            reason = str(
                _("Nach der Regel der Phase: ab %(points)s von 100 Punkten.")
                % {"points": number_text(threshold)}
            )
        else:
            count = phase.advance_count or 0
            contenders.sort(key=lambda s: _tie_key(phase.call, s), reverse=True)
            if 0 < count < len(contenders) and _tie_key(
                phase.call, contenders[count - 1]
            ) == _tie_key(phase.call, contenders[count]):
                tied = [
                    s.entry.title
                    for s in contenders
                    if _tie_key(phase.call, s) == _tie_key(phase.call, contenders[count])
                ]
                raise EntryError(
                    _(
                        "Gleichstand an der Grenze, den die Regel bei Punktgleichheit nicht "
                        "entscheidet: %(titles)s. Bitte entscheiden Sie selbst."
                    )
                    % {"titles": ", ".join(tied)},
                    code="tie",
                )
            advanced = contenders[:count]
            reason = str(_("Nach der Regel der Phase: die besten %(count)d.") % {"count": count})
        # the order the result is ranked in: the contenders by their key, then the rest
        order = sorted(contenders, key=lambda s: _tie_key(phase.call, s), reverse=True)
        ranked_ids = {s.entry.pk for s in order}
        ordered = order + [s for s in standings if s.entry.pk not in ranked_ids]
        return _decide(
            actor=actor,
            phase=phase,
            standings=ordered,
            advanced_ids={s.entry.pk for s in advanced},
            reason=reason,
            rule=phase.advance_rule,
            ranked=True,
            now=now,
        )
