"""Writes of the jury's work: assigning evaluators to the entries of a phase (by hand or
balanced automatically), conflicts of interest (found in the directory's relations or
declared by the evaluator, decided by staff), the scores per criterion and their submission,
and the consensus per entry.

The assignment's states are a small machine (``TRANSITIONS``), enforced here only. The
platform finds a conflict itself when the evaluator acts for the entrant's organisation or
for one related to it in the directory as partner, spin-off or funder (either way round);
such an assignment starts blocked. An evaluator sees an entry only once they declared that
they have no conflict and the assignment is cleared (selectors.jury is the gate).

Scores: ``weighted_total`` = sum over the phase's criteria of value / scale maximum x weight
(weights add up to 100, so 0-100). Totals of one entry further apart than the call's
``disagreement_spread`` flag it for a consensus discussion; the consensus is recorded per
criterion beside the individual scores, which stay as they were."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.crypto import encrypt_json
from rathaus.core.services import audit_entry_create
from rathaus.economy.constants import RelationKind
from rathaus.economy.selectors.relations import relations_of
from rathaus.innovation.constants import (
    AssignmentState,
    CallStatus,
    ConflictSource,
    Eligibility,
    EntryStatus,
    Scale,
)
from rathaus.innovation.models import (
    Assignment,
    ConsensusScore,
    Criterion,
    EntryPhase,
    JuryMember,
    Phase,
    Score,
)
from rathaus.innovation.services.calls import number_text, scale_max

# relations of the directory that make an evaluator's organisation too close to an entrant's
CONFLICT_KINDS: tuple[str, ...] = (
    RelationKind.PARTNER_IN,
    RelationKind.SPIN_OFF_OF,
    RelationKind.FUNDED_BY,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    AssignmentState.ASSIGNED: frozenset(
        {AssignmentState.BLOCKED, AssignmentState.CLEARED, AssignmentState.RECUSED}
    ),
    AssignmentState.BLOCKED: frozenset({AssignmentState.CLEARED, AssignmentState.RECUSED}),
    # CLEARED -> BLOCKED: cleared by staff after a directory conflict, the evaluator still
    # declares and may name another conflict
    AssignmentState.CLEARED: frozenset(
        {AssignmentState.BLOCKED, AssignmentState.SUBMITTED, AssignmentState.RECUSED}
    ),
    AssignmentState.RECUSED: frozenset(),
    AssignmentState.SUBMITTED: frozenset(),
}

HUNDREDTH = Decimal("0.01")
TEXT_MAX = 4000


class JuryError(Exception):
    """A step the rules do not allow; ``message`` is shown (gettext), ``field`` names the form
    field it belongs to."""

    def __init__(self, message: Any, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


def _move(assignment: Assignment, to: str) -> None:
    if to not in TRANSITIONS[assignment.state]:
        raise JuryError(
            _("Diese Zuweisung ist schon weiter: %(state)s.")
            % {"state": assignment.get_state_display()},
            code="state",
        )
    assignment.state = to


def _running_call(phase: Phase) -> None:
    if phase.call.status != CallStatus.PUBLISHED:
        raise JuryError(
            _("Die Jury arbeitet nur in veröffentlichten, noch laufenden Wettbewerben."),
            code="call_status",
        )


def _money(value: Decimal) -> Decimal:
    return value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


# ---- conflicts of interest -------------------------------------------------------------------


@dataclass
class ConflictMap:
    """For one evaluator organisation: the related organisations and how they are related.
    ``related_notes(entrant_id)`` names the relations (empty: no conflict)."""

    organisation_id: int
    related: dict[int, list[str]] = field(default_factory=dict)

    def notes(self, entrant_id: int) -> list[str]:
        if entrant_id == self.organisation_id:
            return [
                gettext("Das Jurymitglied handelt für die Organisation, die den Beitrag einreicht.")
            ]
        return self.related.get(entrant_id, [])


def conflict_map(*, organisation_id: int) -> ConflictMap:
    """The confirmed relations of the kinds in ``CONFLICT_KINDS`` of ``organisation_id``, either
    way round, read through the economy app's selector (one look-up per organisation)."""
    found = ConflictMap(organisation_id=organisation_id)
    for relation in relations_of(organisation_id=organisation_id, kinds=CONFLICT_KINDS):
        if relation.target_id is None:
            continue
        other = relation.target_id if relation.source_id == organisation_id else relation.source_id
        note = gettext("Im Verzeichnis: „%(source)s“ %(relation)s „%(target)s“.") % {
            "source": relation.source.name,
            "relation": relation.get_kind_display(),
            "target": relation.target.name if relation.target is not None else "",
        }
        found.related.setdefault(other, []).append(note)
    return found


class _Conflicts:
    """Conflict maps of evaluator organisations, looked up once each."""

    def __init__(self) -> None:
        self._maps: dict[int, ConflictMap] = {}

    def notes(self, evaluator: JuryMember, entrant_id: int) -> list[str]:
        if evaluator.organisation_id is None:
            return []
        if evaluator.organisation_id not in self._maps:
            self._maps[evaluator.organisation_id] = conflict_map(
                organisation_id=evaluator.organisation_id
            )
        return self._maps[evaluator.organisation_id].notes(entrant_id)


def _stored_language() -> Any:
    """Notes written into the database are in the site's first language (German)."""
    return translation.override(settings.LANGUAGE_CODE)


# ---- assigning -------------------------------------------------------------------------------


def _eligible_entry_phases(phase: Phase) -> list[EntryPhase]:
    return list(
        EntryPhase.objects.filter(
            phase=phase,
            entry__status=EntryStatus.SUBMITTED,
        )
        .exclude(entry__eligibility=Eligibility.INELIGIBLE)
        .select_related("entry")
        .order_by("pk")
    )


def _locked_phase(phase_id: int) -> Phase:
    phase = (
        Phase.objects.select_for_update(of=("self",))
        .select_related("call")
        .filter(pk=phase_id)
        .first()
    )
    if phase is None:
        raise JuryError(_("Diese Phase gibt es nicht."), code="unknown")
    _running_call(phase)
    return phase


@dataclass
class AssignResult:
    created: int = 0
    blocked: int = 0
    existing: int = 0
    # entries that could not get enough evaluators without a conflict (automatic only)
    short: list[int] = field(default_factory=list)


def assignments_add(
    *, actor: User, entry_phase_id: int, evaluator_ids: Iterable[int]
) -> AssignResult:
    """Staff assign evaluators to one entry of a phase by hand. A conflict found in the
    directory does not stop it: the assignment is created blocked with a note naming the
    relation, and stays blocked until staff decide."""
    department_staff_required(user=actor)
    wanted = sorted(set(evaluator_ids))
    if not wanted:
        raise JuryError(_("Bitte mindestens ein Jurymitglied wählen."), field="evaluators")
    with transaction.atomic(), _stored_language():
        entry_phase = (
            EntryPhase.objects.select_related("entry", "phase").filter(pk=entry_phase_id).first()
        )
        if entry_phase is None:
            raise JuryError(_("Diesen Beitrag gibt es in dieser Phase nicht."), code="unknown")
        phase = _locked_phase(entry_phase.phase_id)
        entry = entry_phase.entry
        if entry.status != EntryStatus.SUBMITTED or entry.eligibility == Eligibility.INELIGIBLE:
            raise JuryError(
                _("Nur eingereichte, nicht ausgeschlossene Beiträge werden bewertet."),
                code="not_eligible",
            )
        members = list(JuryMember.objects.filter(call_id=phase.call_id, active=True, pk__in=wanted))
        if len(members) != len(wanted):
            raise JuryError(
                _("Bitte nur aktive Mitglieder der Jury dieses Wettbewerbs wählen."),
                field="evaluators",
            )
        taken = set(
            Assignment.objects.filter(entry_phase=entry_phase).values_list(
                "evaluator_id", flat=True
            )
        )
        conflicts = _Conflicts()
        result = AssignResult()
        created: list[dict[str, Any]] = []
        for member in members:
            if member.pk in taken:
                result.existing += 1
                continue
            notes = conflicts.notes(member, entry.organisation_id)
            assignment = Assignment(entry_phase=entry_phase, evaluator=member)
            if notes:
                assignment.state = AssignmentState.BLOCKED
                assignment.conflict_source = ConflictSource.DIRECTORY
                assignment.conflict_note = " ".join(notes)
                result.blocked += 1
            assignment.save()
            result.created += 1
            created.append(
                {"assignment": assignment.pk, "evaluator": member.pk, "state": assignment.state}
            )
        if created:
            audit_entry_create(
                actor=actor,
                action="innovation.assignment.create",
                object_type="innovation.entry_phase",
                object_id=entry_phase.pk,
                after={"assignments": created},
            )
    return result


def assignments_auto(*, actor: User, phase_id: int) -> AssignResult:
    """Give every eligible entry of the phase at least ``call.evaluators_per_entry``
    evaluators among the active jury, the loads (assignments in this phase, recusals not
    counted) as even as the conflicts allow: each needed seat goes to the least loaded
    evaluator without a conflict, the entries with the fewest possible evaluators first. No
    evaluator gets an entry with a conflict found in the directory. Existing assignments
    (in any state) are kept; blocked and recused ones do not count towards the minimum.

    Queries: the relations once per evaluator organisation, then one bulk insert."""
    department_staff_required(user=actor)
    with transaction.atomic():
        phase = _locked_phase(phase_id)
        needed = phase.call.evaluators_per_entry
        members = list(JuryMember.objects.filter(call_id=phase.call_id, active=True).order_by("pk"))
        entry_phases = _eligible_entry_phases(phase)
        existing = list(
            Assignment.objects.filter(entry_phase__phase=phase).values_list(
                "entry_phase_id", "evaluator_id", "state"
            )
        )
        taken: dict[int, set[int]] = defaultdict(set)
        covered: dict[int, int] = defaultdict(int)
        load: dict[int, int] = {member.pk: 0 for member in members}
        for entry_phase_id, evaluator_id, state in existing:
            taken[entry_phase_id].add(evaluator_id)
            if state != AssignmentState.RECUSED and evaluator_id in load:
                load[evaluator_id] += 1
            if state in (
                AssignmentState.ASSIGNED,
                AssignmentState.CLEARED,
                AssignmentState.SUBMITTED,
            ):
                covered[entry_phase_id] += 1

        maps = {
            organisation_id: conflict_map(organisation_id=organisation_id)
            for organisation_id in sorted(
                {m.organisation_id for m in members if m.organisation_id is not None}
            )
        }

        def free(member: JuryMember, entry_phase: EntryPhase) -> bool:
            if member.pk in taken[entry_phase.pk]:
                return False
            if member.organisation_id is None:
                return True
            return not maps[member.organisation_id].notes(entry_phase.entry.organisation_id)

        work = []
        for entry_phase in entry_phases:
            missing = needed - covered[entry_phase.pk]
            if missing <= 0:
                continue
            candidates = [member.pk for member in members if free(member, entry_phase)]
            work.append((len(candidates) - missing, entry_phase, missing, candidates))
        # the most constrained entries first: they have the fewest evaluators to choose from
        work.sort(key=lambda item: (item[0], item[1].pk))

        result = AssignResult(existing=len(existing))
        rows: list[Assignment] = []
        for _slack, entry_phase, missing, candidates in work:
            chosen = sorted(candidates, key=lambda pk: (load[pk], pk))[:missing]
            if len(chosen) < missing:
                result.short.append(entry_phase.pk)
            for evaluator_id in chosen:
                load[evaluator_id] += 1
                taken[entry_phase.pk].add(evaluator_id)
                rows.append(Assignment(entry_phase_id=entry_phase.pk, evaluator_id=evaluator_id))
        Assignment.objects.bulk_create(rows, batch_size=1000)
        result.created = len(rows)
        audit_entry_create(
            actor=actor,
            action="innovation.assignment.auto",
            object_type="innovation.phase",
            object_id=phase.pk,
            after={
                "created": result.created,
                "evaluators_per_entry": needed,
                "entries": len(entry_phases),
                "short": result.short,
                "pairs": [[row.entry_phase_id, row.evaluator_id] for row in rows],
            },
        )
    return result


# ---- declaring and deciding conflicts ---------------------------------------------------------


def _locked_assignment(assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("evaluator", "entry_phase__phase__call")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise JuryError(_("Diese Zuweisung gibt es nicht."), code="unknown")
    return assignment


def assignment_declare(
    *, actor: User, assignment_id: int, conflict: bool, note: str = ""
) -> Assignment:
    """The evaluator's declaration before they see the entry: no conflict (the assignment is
    cleared, unless a conflict from the directory still waits for staff) or a conflict with a
    note (blocked until staff decide)."""
    note = note.strip()[:TEXT_MAX]
    with transaction.atomic():
        assignment = _locked_assignment(assignment_id)
        if assignment.evaluator.user_id != actor.pk or not assignment.evaluator.active:
            raise PermissionDenied
        _running_call(assignment.entry_phase.phase)
        if assignment.declared_at is not None:
            raise JuryError(_("Sie haben Ihre Erklärung schon abgegeben."), code="declared")
        if assignment.state == AssignmentState.BLOCKED:
            raise JuryError(
                _("Ein möglicher Interessenkonflikt wartet auf die Entscheidung der Verwaltung."),
                code="blocked",
            )
        before = {"state": assignment.state}
        if conflict:
            if not note:
                raise JuryError(
                    _("Bitte beschreiben Sie kurz, worin der Interessenkonflikt besteht."),
                    field="note",
                )
            _move(assignment, AssignmentState.BLOCKED)
            assignment.conflict_source = ConflictSource.DECLARED
            assignment.conflict_note = note
        elif assignment.state != AssignmentState.CLEARED:
            _move(assignment, AssignmentState.CLEARED)
        assignment.declared_at = timezone.now()
        assignment.save()
        audit_entry_create(
            actor=actor,
            action="innovation.assignment.declare",
            object_type="innovation.assignment",
            object_id=assignment.pk,
            before=before,
            after={"state": assignment.state, "conflict": conflict, "note": note},
            personal_fields=("note",),
        )
    return assignment


DECISIONS = ("clear", "recuse")


def assignment_decide(*, actor: User, assignment_id: int, decision: str, reason: str) -> Assignment:
    """Staff decide a possible conflict: cleared (the evaluator may score; needs a reason) or
    recused (the evaluator leaves this entry; recorded with the reason). Staff may also recuse
    an evaluator from an assignment that is not blocked, as long as nothing was submitted."""
    department_staff_required(user=actor)
    reason = reason.strip()[:TEXT_MAX]
    if decision not in DECISIONS:
        raise JuryError(_("Bitte eine Entscheidung wählen."), field="decision")
    if not reason:
        raise JuryError(_("Bitte begründen Sie die Entscheidung."), field="reason")
    with transaction.atomic():
        assignment = _locked_assignment(assignment_id)
        _running_call(assignment.entry_phase.phase)
        if decision == "clear" and assignment.state != AssignmentState.BLOCKED:
            raise JuryError(
                _("Freigeben lässt sich nur eine Zuweisung mit offenem Interessenkonflikt."),
                code="state",
            )
        before = {"state": assignment.state}
        _move(
            assignment,
            AssignmentState.CLEARED if decision == "clear" else AssignmentState.RECUSED,
        )
        assignment.decided_by = actor
        assignment.decided_at = timezone.now()
        assignment.decision_reason = reason
        assignment.save()
        audit_entry_create(
            actor=actor,
            action=f"innovation.assignment.{decision}",
            object_type="innovation.assignment",
            object_id=assignment.pk,
            before=before,
            after={
                "state": assignment.state,
                "reason": reason,
                "conflict_source": assignment.conflict_source,
            },
        )
    return assignment


# ---- scoring ---------------------------------------------------------------------------------


def value_field(criterion_id: int) -> str:
    return f"value_{criterion_id}"


def comment_field(criterion_id: int) -> str:
    return f"comment_{criterion_id}"


def scale_problem(criterion: Criterion, value: Decimal) -> str | None:
    """Why ``value`` is not on the criterion's scale (None: it is)."""
    top = scale_max(criterion)
    if criterion.scale == Scale.YES_NO:
        if value not in (Decimal(0), Decimal(1)):
            return gettext("Bitte „Ja“ (1) oder „Nein“ (0) wählen.")
        return None
    if criterion.scale == Scale.HALF_POINTS:
        if not Decimal(0) <= value <= top or (value * 2) % 1 != 0:
            return gettext("Bitte einen Wert von 0 bis 5 in halben Punkten angeben (z. B. 3,5).")
        return None
    if not Decimal(0) <= value <= top or value % 1 != 0:
        return gettext("Bitte ganze Punkte von 0 bis %(max)s angeben.") % {"max": number_text(top)}
    return None


def weighted_total(criteria: Iterable[Criterion], values: Mapping[int, Decimal]) -> Decimal:
    """Sum of value / scale maximum x weight over the criteria (0-100, two decimals)."""
    total = Decimal(0)
    for criterion in criteria:
        total += values[criterion.pk] / scale_max(criterion) * criterion.weight
    return _money(total)


def _as_decimal(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).replace(",", "."))
    except InvalidOperation:
        return Decimal("NaN")
    return value


class ScoreErrors(Exception):
    """Several fields refused at once (``errors``: field name -> message); nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = errors


def assignment_score(
    *,
    actor: User,
    assignment_id: int,
    values: Mapping[int, Any],
    comments: Mapping[int, str] | None = None,
    submit: bool = False,
    now: datetime | None = None,
) -> Assignment:
    """Save the evaluator's values (and comments) per criterion of the phase; with
    ``submit``, every criterion needs a value and the assignment is submitted with its
    weighted total (then nothing changes any more). A value off a criterion's scale is
    refused at its field and nothing is saved (``ScoreErrors``). After a submission the
    entry is flagged for consensus when the totals differ by more than the call's spread."""
    comments = comments or {}
    with transaction.atomic():
        peek = Assignment.objects.filter(pk=assignment_id).values_list("entry_phase_id", flat=True)
        entry_phase_id = peek.first()
        if entry_phase_id is None:
            raise JuryError(_("Diese Zuweisung gibt es nicht."), code="unknown")
        # the entry's row first: submissions of one entry one after the other, so that the
        # disagreement check sees every total
        entry_phase = (
            EntryPhase.objects.select_for_update(of=("self",))
            .select_related("phase__call")
            .get(pk=entry_phase_id)
        )
        assignment = _locked_assignment(assignment_id)
        if assignment.evaluator.user_id != actor.pk or not assignment.evaluator.active:
            raise PermissionDenied
        phase = entry_phase.phase
        _running_call(phase)
        if assignment.state != AssignmentState.CLEARED or assignment.declared_at is None:
            raise JuryError(
                _("Diese Zuweisung ist nicht zur Bewertung frei: %(state)s.")
                % {"state": assignment.get_state_display()},
                code="state",
            )
        criteria = list(phase.criteria.order_by("position"))
        parsed: dict[int, Decimal] = {}
        errors: dict[str, str] = {}
        for criterion in criteria:
            value = _as_decimal(values.get(criterion.pk))
            if value is None:
                if submit:
                    errors[value_field(criterion.pk)] = gettext(
                        "Bitte bewerten Sie dieses Kriterium, bevor Sie die Bewertung abgeben."
                    )
                continue
            problem = (
                gettext("Bitte eine Zahl angeben.") if not value.is_finite() else None
            ) or scale_problem(criterion, value)
            if problem:
                errors[value_field(criterion.pk)] = problem
                continue
            parsed[criterion.pk] = value
        for criterion in criteria:
            if len((comments.get(criterion.pk) or "").strip()) > TEXT_MAX:
                errors[comment_field(criterion.pk)] = gettext(
                    "Der Kommentar ist zu lang (höchstens %(max)d Zeichen)."
                ) % {"max": TEXT_MAX}
        if errors:
            raise ScoreErrors(errors)

        existing = {score.criterion_id: score for score in assignment.scores.all()}
        for criterion in criteria:
            comment = (comments.get(criterion.pk) or "").strip()
            score = existing.get(criterion.pk)
            if criterion.pk not in parsed:
                if score is not None:
                    score.delete()
                continue
            if score is None:
                score = Score(assignment=assignment, criterion=criterion)
            score.value = parsed[criterion.pk]
            score.comment_encrypted = encrypt_json(comment) if comment else ""
            score.save()
        before = {"state": assignment.state}
        if submit:
            _move(assignment, AssignmentState.SUBMITTED)
            assignment.submitted_at = now or timezone.now()
            assignment.weighted_total = weighted_total(criteria, parsed)
        assignment.save()
        audit_entry_create(
            actor=actor,
            action="innovation.score.submit" if submit else "innovation.score.save",
            object_type="innovation.assignment",
            object_id=assignment.pk,
            before=before,
            after={
                "state": assignment.state,
                "values": {str(pk): number_text(value) for pk, value in parsed.items()},
                "weighted_total": (
                    number_text(assignment.weighted_total)
                    if assignment.weighted_total is not None
                    else None
                ),
            },
        )
        if submit:
            _flag_disagreement(actor=actor, entry_phase=entry_phase)
    return assignment


def _flag_disagreement(*, actor: User, entry_phase: EntryPhase) -> None:
    """Flag the entry (its row is locked) when its submitted totals are further apart than
    the call's spread. Submissions are final, so the spread only grows: the flag stays."""
    if entry_phase.disagreement:
        return
    totals = [
        total
        for total in Assignment.objects.filter(
            entry_phase=entry_phase, state=AssignmentState.SUBMITTED
        ).values_list("weighted_total", flat=True)
        if total is not None
    ]
    if len(totals) < 2:
        return
    spread = max(totals) - min(totals)
    if spread <= entry_phase.phase.call.disagreement_spread:
        return
    entry_phase.disagreement = True
    entry_phase.save(update_fields=["disagreement", "updated_at"])
    audit_entry_create(
        actor=actor,
        action="innovation.entry_phase.disagreement",
        object_type="innovation.entry_phase",
        object_id=entry_phase.pk,
        after={"spread": number_text(spread), "totals": [number_text(t) for t in totals]},
    )


# ---- consensus -------------------------------------------------------------------------------


def user_is_jury_chair(*, user: Any, call_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return JuryMember.objects.filter(call_id=call_id, user=user, active=True, chair=True).exists()


def may_record_consensus(*, user: Any, entry_phase: EntryPhase) -> bool:
    """Department staff, or the call's jury chair unless they have a conflict with the entry
    (an assignment of theirs to it blocked or recused)."""
    if user_is_department_staff(user=user):
        return True
    if not user_is_jury_chair(user=user, call_id=entry_phase.phase.call_id):
        return False
    return not Assignment.objects.filter(
        entry_phase=entry_phase,
        evaluator__user=user,
        state__in=(AssignmentState.BLOCKED, AssignmentState.RECUSED),
    ).exists()


def consensus_token(*, entry_phase_id: int) -> str:
    """What the consensus form saw: changes whenever a consensus is recorded (to refuse a
    second person overwriting one they have not seen)."""
    latest = ConsensusScore.objects.filter(entry_phase_id=entry_phase_id).aggregate(
        latest=Max("updated_at")
    )["latest"]
    return latest.isoformat() if latest is not None else ""


def criterion_means(*, entry_phase: EntryPhase) -> dict[int, Decimal]:
    """The mean of the submitted individual values per criterion (two decimals)."""
    values: dict[int, list[Decimal]] = defaultdict(list)
    for criterion_id, value in Score.objects.filter(
        assignment__entry_phase=entry_phase, assignment__state=AssignmentState.SUBMITTED
    ).values_list("criterion_id", "value"):
        values[criterion_id].append(value)
    return {pk: _money(sum(found, Decimal(0)) / len(found)) for pk, found in values.items()}


def _locked_entry_phase(entry_phase_id: int) -> EntryPhase:
    entry_phase = (
        EntryPhase.objects.select_for_update(of=("self",))
        .select_related("phase__call")
        .filter(pk=entry_phase_id)
        .first()
    )
    if entry_phase is None:
        raise JuryError(_("Diesen Beitrag gibt es in dieser Phase nicht."), code="unknown")
    return entry_phase


def consensus_record(
    *,
    actor: User,
    entry_phase_id: int,
    values: Mapping[int, Any],
    reasons: Mapping[int, str] | None = None,
    reason: str = "",
    expected: str | None = None,
) -> EntryPhase:
    """Record the consensus of an entry: per criterion the agreed value (0 to the scale's
    maximum, two decimals; a reason where it differs from the mean of the individual values),
    and the resulting ``consensus_total`` (weighted like the individual totals). The
    individual scores stay untouched. The entry's row is locked; with ``expected`` (the
    ``consensus_token`` the form showed), a consensus recorded meanwhile by someone else is
    not overwritten."""
    reasons = reasons or {}
    reason = reason.strip()[:TEXT_MAX]
    with transaction.atomic():
        entry_phase = _locked_entry_phase(entry_phase_id)
        if not may_record_consensus(user=actor, entry_phase=entry_phase):
            raise PermissionDenied
        _running_call(entry_phase.phase)
        if expected is not None and expected != consensus_token(entry_phase_id=entry_phase.pk):
            raise JuryError(
                _(
                    "Inzwischen hat jemand anderes einen Konsens für diesen Beitrag "
                    "festgehalten. Bitte prüfen Sie den aktuellen Stand."
                ),
                code="stale",
            )
        criteria = list(entry_phase.phase.criteria.order_by("position"))
        means = criterion_means(entry_phase=entry_phase)
        if not means:
            raise JuryError(
                _("Für diesen Beitrag ist noch keine Bewertung abgegeben."), code="no_scores"
            )
        parsed: dict[int, Decimal] = {}
        errors: dict[str, str] = {}
        for criterion in criteria:
            value = _as_decimal(values.get(criterion.pk))
            name = value_field(criterion.pk)
            if value is None:
                errors[name] = gettext("Bitte einen Wert angeben.")
                continue
            top = scale_max(criterion)
            if not value.is_finite() or not Decimal(0) <= value <= top or _money(value) != value:
                errors[name] = gettext(
                    "Bitte einen Wert von 0 bis %(max)s mit höchstens zwei Nachkommastellen "
                    "angeben."
                ) % {"max": number_text(top)}
                continue
            mean = means.get(criterion.pk)
            if (mean is None or value != mean) and not (reasons.get(criterion.pk) or "").strip():
                errors[f"reason_{criterion.pk}"] = gettext(
                    "Der Wert weicht vom Mittelwert der Einzelbewertungen ab: Bitte begründen."
                )
            parsed[criterion.pk] = value
        if errors:
            raise ScoreErrors(errors)
        before = {
            "consensus_total": (
                number_text(entry_phase.consensus_total)
                if entry_phase.consensus_total is not None
                else None
            ),
            "values": {
                str(pk): number_text(value)
                for pk, value in ConsensusScore.objects.filter(entry_phase=entry_phase).values_list(
                    "criterion_id", "value"
                )
            },
        }
        for criterion in criteria:
            ConsensusScore.objects.update_or_create(
                entry_phase=entry_phase,
                criterion=criterion,
                defaults={
                    "value": parsed[criterion.pk],
                    "reason": (reasons.get(criterion.pk) or "").strip()[:TEXT_MAX],
                    "agreed_by": actor,
                },
            )
        entry_phase.consensus_total = weighted_total(criteria, parsed)
        entry_phase.consensus_by = actor
        entry_phase.consensus_reason = reason
        entry_phase.save(
            update_fields=["consensus_total", "consensus_by", "consensus_reason", "updated_at"]
        )
        audit_entry_create(
            actor=actor,
            action="innovation.consensus.record",
            object_type="innovation.entry_phase",
            object_id=entry_phase.pk,
            before=before,
            after={
                "consensus_total": number_text(entry_phase.consensus_total),
                "values": {str(pk): number_text(value) for pk, value in parsed.items()},
                "means": {str(pk): number_text(value) for pk, value in means.items()},
                "reasons": {
                    str(pk): text.strip() for pk, text in reasons.items() if text and text.strip()
                },
                "reason": reason,
            },
        )
    return entry_phase


def consensus_take_mean(
    *, actor: User, entry_phase_id: int, expected: str | None = None
) -> EntryPhase:
    """For an entry without a disagreement: the consensus is the mean of the individual
    values per criterion."""
    with transaction.atomic():
        entry_phase = _locked_entry_phase(entry_phase_id)
        if entry_phase.disagreement:
            raise JuryError(
                _(
                    "Die Bewertungen dieses Beitrags liegen weit auseinander: Der Konsens "
                    "braucht eine Besprechung, nicht den Mittelwert."
                ),
                code="disagreement",
            )
        means = criterion_means(entry_phase=entry_phase)
        criteria_ids = list(entry_phase.phase.criteria.values_list("pk", flat=True))
        if not means or set(criteria_ids) - set(means):
            raise JuryError(
                _("Für diesen Beitrag ist noch keine vollständige Bewertung abgegeben."),
                code="no_scores",
            )
        with _stored_language():
            reason = gettext("Mittelwert der Einzelbewertungen")
        # nested atomic: the row lock is held by this transaction already
        return consensus_record(
            actor=actor,
            entry_phase_id=entry_phase.pk,
            values=means,
            reason=reason,
            expected=expected,
        )
