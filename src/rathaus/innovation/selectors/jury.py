"""Reads of the jury's work. The gates:

- ``assignment_get_for_evaluator``: an evaluator's own assignment (Http404 for anyone
  else's, so that an assignment's existence does not leak);
- ``entry_content_for_evaluator``: the entry's content (its answers) only once the evaluator
  declared no conflict and the assignment is cleared or submitted (PermissionDenied before);
- ``phase_get_for_staff`` / ``assignment_get_for_staff``: department staff only;
- ``entry_phase_get_for_consensus``: staff, or the call's jury chair without a conflict.

Blind scoring: while the call scores blind, an evaluator sees the others' scores of an
entry only after submitting their own (``others_scores_for_evaluator``); staff always."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from rathaus.accounts.selectors import department_staff_required
from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.forms.questions import answer_rows, questions_of_version
from rathaus.innovation.constants import AssignmentState, CallStatus, Eligibility, EntryStatus
from rathaus.innovation.models import (
    Assignment,
    ConsensusScore,
    Criterion,
    EntryPhase,
    JuryMember,
    Phase,
    Score,
)
from rathaus.innovation.selectors.entries import organisation_name
from rathaus.innovation.services.calls import scale_max
from rathaus.innovation.services.jury import (
    consensus_token,
    criterion_means,
    may_record_consensus,
)

SHOWS_ENTRY = (AssignmentState.CLEARED, AssignmentState.SUBMITTED)
MAX_ID = 2**63


def _valid_id(value: int) -> bool:
    return 0 < value < MAX_ID


# ---- the evaluator ---------------------------------------------------------------------------


def assignments_of_user(*, user: Any) -> list[Assignment]:
    """The user's assignments in every call they are an active jury member of, the open ones
    first, then by the phase's due date."""
    if not user.is_authenticated:
        return []
    rows = list(
        Assignment.objects.filter(evaluator__user=user, evaluator__active=True)
        .exclude(entry_phase__phase__call__status=CallStatus.DRAFT)
        .select_related("entry_phase__entry", "entry_phase__phase__call", "evaluator")
        .order_by("entry_phase__phase__evaluation_due_at", "entry_phase_id", "pk")
    )
    done = (AssignmentState.SUBMITTED, AssignmentState.RECUSED)
    rows.sort(key=lambda row: row.state in done)
    return rows


def assignment_get_for_evaluator(*, user: Any, assignment_id: int) -> Assignment:
    """The user's own assignment (as an active jury member); Http404 for every other."""
    if not user.is_authenticated or not _valid_id(assignment_id):
        raise Http404("no such assignment")
    assignment = (
        Assignment.objects.filter(pk=assignment_id, evaluator__user=user, evaluator__active=True)
        .exclude(entry_phase__phase__call__status=CallStatus.DRAFT)
        .select_related("entry_phase__entry", "entry_phase__phase__call", "evaluator")
        .first()
    )
    if assignment is None:
        raise Http404("no such assignment")
    return assignment


def assignment_shows_entry(assignment: Assignment) -> bool:
    """The evaluator declared no conflict and the assignment is free (or done)."""
    return assignment.declared_at is not None and assignment.state in SHOWS_ENTRY


def assignment_needs_declaration(assignment: Assignment) -> bool:
    return assignment.declared_at is None and assignment.state in (
        AssignmentState.ASSIGNED,
        AssignmentState.CLEARED,
    )


@dataclass(frozen=True)
class EntryParties:
    """What an evaluator needs to know to declare a conflict: the entry and who entered it.
    Not the entry's content."""

    title: str
    organisation: str
    call: str
    phase: str


def entry_parties(assignment: Assignment) -> EntryParties:
    entry = assignment.entry_phase.entry
    phase = assignment.entry_phase.phase
    return EntryParties(
        title=entry.title,
        organisation=organisation_name(entry.organisation_id),
        call=phase.call.title,
        phase=phase.name,
    )


@dataclass(frozen=True)
class EntryContent:
    parties: EntryParties
    rows: list[dict[str, Any]]  # label/value


def _answer_rows(answers_encrypted: str) -> list[dict[str, Any]]:
    """The stored answers as label/value rows, with the labels of the form version they were
    given in (forms.questions); raw keys and values when that version is gone."""
    if not answers_encrypted:
        return []
    try:
        stored = decrypt_json(answers_encrypted)
    except DecryptionError:
        return [{"label": _("Antworten"), "value": _("Die Antworten sind nicht lesbar.")}]
    if not isinstance(stored, dict) or not isinstance(stored.get("values"), dict):
        return []
    version = stored.get("form_version")
    questions = questions_of_version(version if isinstance(version, int) else None)
    return answer_rows(questions, stored["values"])


def entry_content_for_evaluator(*, user: Any, assignment_id: int) -> EntryContent:
    """The entry's content for its evaluator: Http404 if the assignment is not theirs,
    PermissionDenied while no declaration was made or the assignment is blocked or recused."""
    assignment = assignment_get_for_evaluator(user=user, assignment_id=assignment_id)
    if not assignment_shows_entry(assignment):
        raise PermissionDenied
    return EntryContent(
        parties=entry_parties(assignment),
        rows=_answer_rows(assignment.entry_phase.answers_encrypted),
    )


def _comment(encrypted: str) -> str:
    if not encrypted:
        return ""
    try:
        return str(decrypt_json(encrypted))
    except DecryptionError:
        return ""


def criteria_of(phase: Phase) -> list[Criterion]:
    return list(phase.criteria.order_by("position"))


def own_scores(assignment: Assignment) -> dict[int, tuple[Decimal, str]]:
    """criterion id -> (value, comment) of the assignment's saved scores."""
    return {
        score.criterion_id: (score.value, _comment(score.comment_encrypted))
        for score in assignment.scores.all()
    }


@dataclass
class EvaluatorScores:
    name: str
    total: Decimal | None
    values: list[tuple[Criterion, Decimal | None, str]]  # criterion, value, comment


def _submitted_scores(
    entry_phase: EntryPhase, criteria: list[Criterion], exclude: int | None = None
) -> list[EvaluatorScores]:
    found = Assignment.objects.filter(entry_phase=entry_phase, state=AssignmentState.SUBMITTED)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    assignments = (
        found.select_related("evaluator")
        .prefetch_related(Prefetch("scores", queryset=Score.objects.all()))
        .order_by("evaluator__public_name", "pk")
    )
    result = []
    for assignment in assignments:
        by_criterion = {score.criterion_id: score for score in assignment.scores.all()}
        values: list[tuple[Criterion, Decimal | None, str]] = []
        for criterion in criteria:
            score = by_criterion.get(criterion.pk)
            values.append(
                (
                    criterion,
                    score.value if score else None,
                    _comment(score.comment_encrypted) if score else "",
                )
            )
        result.append(
            EvaluatorScores(
                name=assignment.evaluator.public_name,
                total=assignment.weighted_total,
                values=values,
            )
        )
    return result


def others_scores_for_evaluator(
    *, assignment: Assignment, criteria: list[Criterion]
) -> list[EvaluatorScores] | None:
    """The other evaluators' submitted scores of the entry, or None while they are hidden
    (blind scoring and the evaluator's own not yet submitted)."""
    call = assignment.entry_phase.phase.call
    if call.blind_scoring and assignment.state != AssignmentState.SUBMITTED:
        return None
    if not assignment_shows_entry(assignment):
        return None
    return _submitted_scores(assignment.entry_phase, criteria, exclude=assignment.pk)


# ---- staff -------------------------------------------------------------------------------------


def phases_for_staff(*, user: Any) -> list[Phase]:
    """Phases of the published calls, with counts of entries to evaluate and blocked
    assignments."""
    department_staff_required(user=user)
    return list(
        Phase.objects.filter(call__status=CallStatus.PUBLISHED)
        .select_related("call")
        .annotate(
            blocked=Count(
                "entries__assignments",
                filter=Q(entries__assignments__state=AssignmentState.BLOCKED),
            )
        )
        .order_by("call__title", "call_id", "position")
    )


def phase_get_for_staff(*, user: Any, phase_id: int) -> Phase:
    department_staff_required(user=user)
    phase = (
        Phase.objects.select_related("call").filter(pk=phase_id).first()
        if _valid_id(phase_id)
        else None
    )
    if phase is None:
        raise Http404("no such phase")
    return phase


def entry_phases_to_evaluate(phase: Phase) -> Any:
    """The entries of the phase that are evaluated: submitted and not ineligible."""
    return (
        EntryPhase.objects.filter(phase=phase, entry__status=EntryStatus.SUBMITTED)
        .exclude(entry__eligibility=Eligibility.INELIGIBLE)
        .select_related("entry")
        .order_by("pk")
    )


@dataclass
class JuryLoad:
    member: JuryMember
    load: int  # assignments in the phase, recusals not counted
    submitted: int


@dataclass
class PhaseOverview:
    page: Page[Any]
    jury: list[JuryLoad]
    entries: int
    needed: int
    blocked: int
    short: int  # entries with fewer evaluators than needed (blocked/recused not counted)


def phase_overview(*, phase: Phase, page_number: Any = None, per_page: int = 50) -> PhaseOverview:
    """Staff's view of a phase: the active jury with their loads, the entries (paged) with
    their assignments, and how many entries still lack evaluators."""
    members = list(JuryMember.objects.filter(call_id=phase.call_id, active=True))
    loads: dict[int, int] = defaultdict(int)
    submitted: dict[int, int] = defaultdict(int)
    covered: dict[int, int] = defaultdict(int)
    blocked = 0
    for entry_phase_id, evaluator_id, state in Assignment.objects.filter(
        entry_phase__phase=phase
    ).values_list("entry_phase_id", "evaluator_id", "state"):
        if state != AssignmentState.RECUSED:
            loads[evaluator_id] += 1
        if state == AssignmentState.SUBMITTED:
            submitted[evaluator_id] += 1
        if state == AssignmentState.BLOCKED:
            blocked += 1
        if state in (
            AssignmentState.ASSIGNED,
            AssignmentState.CLEARED,
            AssignmentState.SUBMITTED,
        ):
            covered[entry_phase_id] += 1
    entry_ids = list(entry_phases_to_evaluate(phase).values_list("pk", flat=True))
    needed = phase.call.evaluators_per_entry
    entries = entry_phases_to_evaluate(phase).prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.select_related("evaluator").order_by(
                "evaluator__public_name", "pk"
            ),
        )
    )
    return PhaseOverview(
        page=Paginator(entries, per_page).get_page(page_number),
        jury=[
            JuryLoad(member=m, load=loads[m.pk], submitted=submitted[m.pk])
            for m in sorted(members, key=lambda m: m.public_name)
        ],
        entries=len(entry_ids),
        needed=needed,
        blocked=blocked,
        short=sum(1 for pk in entry_ids if covered[pk] < needed),
    )


def assignments_blocked(*, user: Any) -> list[Assignment]:
    """Every assignment with a conflict waiting for a decision, oldest first."""
    department_staff_required(user=user)
    return list(
        Assignment.objects.filter(state=AssignmentState.BLOCKED)
        .select_related("evaluator", "entry_phase__entry", "entry_phase__phase__call")
        .order_by("created_at", "pk")[:500]
    )


def assignment_get_for_staff(*, user: Any, assignment_id: int) -> Assignment:
    department_staff_required(user=user)
    assignment = (
        Assignment.objects.select_related(
            "evaluator", "entry_phase__entry", "entry_phase__phase__call", "decided_by"
        )
        .filter(pk=assignment_id)
        .first()
        if _valid_id(assignment_id)
        else None
    )
    if assignment is None:
        raise Http404("no such assignment")
    return assignment


# ---- consensus ---------------------------------------------------------------------------------


def entry_phase_get_for_consensus(*, user: Any, entry_phase_id: int) -> EntryPhase:
    """Staff, or the call's jury chair (without a conflict with this entry)."""
    if not user.is_authenticated or not _valid_id(entry_phase_id):
        raise Http404("no such entry")
    entry_phase = (
        EntryPhase.objects.select_related("entry", "phase__call", "consensus_by")
        .filter(pk=entry_phase_id)
        .first()
    )
    if entry_phase is None:
        raise Http404("no such entry")
    if not may_record_consensus(user=user, entry_phase=entry_phase):
        raise PermissionDenied
    return entry_phase


@dataclass
class ConsensusRow:
    criterion: Criterion
    scale_max: Decimal
    mean: Decimal | None
    values: list[Decimal | None]
    consensus: Decimal | None
    reason: str


@dataclass
class ConsensusSheet:
    entry_phase: EntryPhase
    organisation: str
    evaluators: list[EvaluatorScores]
    rows: list[ConsensusRow]
    token: str
    complete: bool  # every criterion has a mean
    totals_spread: Decimal | None = None
    open_assignments: int = 0


def consensus_sheet(*, entry_phase: EntryPhase) -> ConsensusSheet:
    """Individual scores side by side with their means and the consensus so far."""
    criteria = criteria_of(entry_phase.phase)
    evaluators = _submitted_scores(entry_phase, criteria)
    means = criterion_means(entry_phase=entry_phase)
    agreed = {
        row.criterion_id: row for row in ConsensusScore.objects.filter(entry_phase=entry_phase)
    }
    rows = []
    for index, criterion in enumerate(criteria):
        found = agreed.get(criterion.pk)
        rows.append(
            ConsensusRow(
                criterion=criterion,
                scale_max=scale_max(criterion),
                mean=means.get(criterion.pk),
                values=[evaluator.values[index][1] for evaluator in evaluators],
                consensus=found.value if found else None,
                reason=found.reason if found else "",
            )
        )
    totals = [e.total for e in evaluators if e.total is not None]
    open_assignments = Assignment.objects.filter(
        entry_phase=entry_phase,
        state__in=(AssignmentState.ASSIGNED, AssignmentState.CLEARED, AssignmentState.BLOCKED),
    ).count()
    return ConsensusSheet(
        entry_phase=entry_phase,
        organisation=organisation_name(entry_phase.entry.organisation_id),
        evaluators=evaluators,
        rows=rows,
        token=consensus_token(entry_phase_id=entry_phase.pk),
        complete=bool(criteria) and all(row.mean is not None for row in rows),
        totals_spread=max(totals) - min(totals) if len(totals) >= 2 else None,
        open_assignments=open_assignments,
    )


def consensus_list_for_user(*, user: Any) -> list[EntryPhase]:
    """Entries with submitted scores the user may record a consensus for as jury chair
    (staff reach them through the phase overview), flagged ones first."""
    if not user.is_authenticated:
        return []
    calls = JuryMember.objects.filter(user=user, active=True, chair=True).values("call_id")
    rows = (
        EntryPhase.objects.filter(
            phase__call_id__in=calls,
            phase__call__status=CallStatus.PUBLISHED,
            assignments__state=AssignmentState.SUBMITTED,
        )
        .exclude(
            pk__in=Assignment.objects.filter(
                evaluator__user=user,
                state__in=(AssignmentState.BLOCKED, AssignmentState.RECUSED),
            ).values("entry_phase_id")
        )
        .select_related("entry", "phase")
        .distinct()
        .order_by("-disagreement", "phase_id", "pk")[:500]
    )
    return list(rows)
