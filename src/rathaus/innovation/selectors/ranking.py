"""The ranking of a phase and the staff's progress view, each computed with a fixed number of
queries whatever the number of entries and evaluators (bench/innovation.py measures both at
2,000 entries, 60 evaluators and 4 evaluations per entry).

An entry's score in a phase is its consensus total where the jury agreed one, else the mean
of its evaluators' submitted weighted totals. Equal scores are ordered by the call's
tie-break rule: the criteria in their order (the consensus value, else the mean, of the first
criterion, then the second ...), the earlier submission, or, for "jury decision", not at all:
such entries share a place and are marked as a tie for staff to decide."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Q
from django.utils import timezone

from rathaus.innovation.constants import (
    AssignmentState,
    Eligibility,
    EntryStatus,
    PhaseResult,
    TieBreak,
)
from rathaus.innovation.models import Assignment, ConsensusScore, EntryPhase, Phase, Score

TWO_PLACES = Decimal("0.01")


def rounded(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class RankedEntry:
    entry_phase_id: int
    entry_id: int
    organisation_id: int
    title: str
    score: Decimal | None  # None: not evaluated yet
    consensus: bool  # the score is the jury's consensus (else the mean of the evaluators)
    evaluations: int  # submitted
    disagreement: bool
    result: str
    place: int | None = None
    tie: bool = False  # shares its place with another entry: staff decide (jury decision)
    criteria: list[Decimal | None] = field(default_factory=list)  # per criterion, in order
    knocked_out: bool = False  # below a criterion's minimum value: cannot pass by rule
    submitted_at: datetime | None = None


@dataclass
class Scores:
    """What the jury's work says about one entry in a phase."""

    total: Decimal | None  # the consensus total, else the mean of the submitted totals
    consensus: bool
    evaluations: int  # submitted
    criteria: list[Decimal | None]  # per criterion in order: the agreed value, else the mean
    knocked_out: bool  # below a criterion's minimum value


def phase_scores(*, phase: Phase) -> dict[int, Scores]:
    """Per entry of ``phase`` (``EntryPhase`` id) its scores: the one computation the
    ranking, the decision on who passes and the results share. Four grouped queries joined
    by the phase (with discrete scales equal totals are common, so the per-criterion values
    are always needed for the tie-break)."""
    criteria = list(phase.criteria.order_by("position").values_list("pk", "threshold"))
    consensus_totals = dict(
        EntryPhase.objects.filter(phase=phase).values_list("pk", "consensus_total").order_by()
    )
    means = {
        row["entry_phase_id"]: (row["mean"], row["done"])
        for row in Assignment.objects.filter(
            state=AssignmentState.SUBMITTED, entry_phase__phase=phase
        )
        .values("entry_phase_id")
        .annotate(mean=Avg("weighted_total"), done=Count("pk"))
        .order_by()
    }
    values: dict[int, dict[int, Any]] = defaultdict(dict)
    for entry_phase_id, criterion_id, mean in (
        Score.objects.filter(
            assignment__state=AssignmentState.SUBMITTED, assignment__entry_phase__phase=phase
        )
        .values_list("assignment__entry_phase_id", "criterion_id")
        .annotate(mean=Avg("value"))
        .order_by()
    ):
        values[entry_phase_id][criterion_id] = mean
    for entry_phase_id, criterion_id, value in ConsensusScore.objects.filter(
        entry_phase__phase=phase
    ).values_list("entry_phase_id", "criterion_id", "value"):
        values[entry_phase_id][criterion_id] = value  # the agreed value counts
    scores: dict[int, Scores] = {}
    for entry_phase_id, consensus_total in consensus_totals.items():
        mean, done = means.get(entry_phase_id, (None, 0))
        mine = values.get(entry_phase_id, {})
        per_criterion = [rounded(mine.get(pk)) for pk, _threshold in criteria]
        scores[entry_phase_id] = Scores(
            total=rounded(consensus_total if consensus_total is not None else mean),
            consensus=consensus_total is not None,
            evaluations=done,
            criteria=per_criterion,
            knocked_out=any(
                threshold is not None and value is not None and value < threshold
                for (_pk, threshold), value in zip(criteria, per_criterion, strict=True)
            ),
        )
    return scores


def phase_ranking(*, phase: Phase) -> list[RankedEntry]:
    """The submitted, not ineligible entries of ``phase``, best first, with their places
    (the scores of ``phase_scores``; equal scores ordered by the call's tie-break rule)."""
    rows = list(
        EntryPhase.objects.filter(
            phase=phase,
            entry__status=EntryStatus.SUBMITTED,
        )
        .exclude(entry__eligibility=Eligibility.INELIGIBLE)
        .values(
            "pk",
            "entry_id",
            "entry__organisation_id",
            "entry__title",
            "entry__submitted_at",
            "disagreement",
            "result",
        )
        .order_by()  # the places decide the order below; no joins for the default ordering
    )
    scores = phase_scores(phase=phase)
    empty = Scores(None, False, 0, [], False)
    ranked: list[RankedEntry] = []
    for row in rows:
        mine = scores.get(row["pk"], empty)
        ranked.append(
            RankedEntry(
                entry_phase_id=row["pk"],
                entry_id=row["entry_id"],
                organisation_id=row["entry__organisation_id"],
                title=row["entry__title"],
                score=mine.total,
                consensus=mine.consensus,
                evaluations=mine.evaluations,
                disagreement=row["disagreement"],
                result=row["result"],
                criteria=mine.criteria,
                knocked_out=mine.knocked_out,
                submitted_at=row["entry__submitted_at"],
            )
        )
    return _place(ranked, phase.call.tie_break)


def _order_key(entry: RankedEntry, rule: str) -> tuple[Any, ...]:
    score = -(entry.score if entry.score is not None else Decimal(-1))
    if rule == TieBreak.CRITERIA_ORDER:
        return (
            score,
            *(-(v if v is not None else Decimal(-1)) for v in entry.criteria),
            entry.entry_id,
        )
    if rule == TieBreak.EARLIER_ENTRY:
        far = datetime.max.replace(tzinfo=timezone.get_current_timezone())
        return (score, entry.submitted_at or far, entry.entry_id)
    return (score, entry.entry_id)  # jury decision: the order of ties is only for display


def _tie_key(entry: RankedEntry, rule: str) -> tuple[Any, ...]:
    """What must be equal for two entries to share a place under ``rule``."""
    if rule == TieBreak.CRITERIA_ORDER:
        return (entry.score, *entry.criteria)
    if rule == TieBreak.EARLIER_ENTRY:
        return (entry.score, entry.submitted_at)
    return (entry.score,)


def _place(ranked: list[RankedEntry], rule: str) -> list[RankedEntry]:
    ranked.sort(key=lambda e: _order_key(e, rule))
    previous: RankedEntry | None = None
    for index, entry in enumerate(ranked, start=1):
        if entry.score is None:
            entry.place = None
            continue
        if previous is not None and _tie_key(previous, rule) == _tie_key(entry, rule):
            entry.place = previous.place
            entry.tie = previous.tie = True
        else:
            entry.place = index
        previous = entry
    return ranked


# ---- progress for staff ------------------------------------------------------------------------


@dataclass
class EvaluatorProgress:
    jury_member_id: int
    name: str
    done: int
    assigned: int  # not recused
    overdue: int
    blocked: int


@dataclass
class PhaseProgress:
    phase: Phase
    entries_by_state: dict[str, int]  # draft, submitted, withdrawn, eligible, ineligible, ...
    results: dict[str, int]
    evaluators: list[EvaluatorProgress]
    overdue_total: int
    disagreements: int


def phase_progress(*, phase: Phase, now: datetime | None = None) -> PhaseProgress:
    """Per phase: entries by state, each evaluator's "done/assigned" with overdue and blocked
    ones, the number of flagged disagreements. Four grouped queries."""
    now = now or timezone.now()
    states: dict[str, int] = defaultdict(int)
    for status, eligibility, count in (
        EntryPhase.objects.filter(phase=phase)
        .values_list("entry__status", "entry__eligibility")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        states[status] += count
        if status == EntryStatus.SUBMITTED:
            states[eligibility] += count
    results = dict(
        EntryPhase.objects.filter(phase=phase)
        .exclude(result=PhaseResult.OPEN)
        .values_list("result")
        .annotate(count=Count("pk"))
        .order_by()
    )
    overdue_now = phase.evaluation_due_at < now
    open_states = [AssignmentState.ASSIGNED, AssignmentState.CLEARED, AssignmentState.BLOCKED]
    rows = (
        Assignment.objects.filter(entry_phase__phase=phase)
        .values("evaluator_id", "evaluator__public_name")
        .annotate(
            done=Count("pk", filter=Q(state=AssignmentState.SUBMITTED)),
            assigned=Count("pk", filter=~Q(state=AssignmentState.RECUSED)),
            open=Count("pk", filter=Q(state__in=open_states)),
            blocked=Count("pk", filter=Q(state=AssignmentState.BLOCKED)),
        )
        .order_by("evaluator__public_name", "evaluator_id")
    )
    evaluators = [
        EvaluatorProgress(
            jury_member_id=row["evaluator_id"],
            name=row["evaluator__public_name"],
            done=row["done"],
            assigned=row["assigned"],
            overdue=row["open"] if overdue_now else 0,
            blocked=row["blocked"],
        )
        for row in rows
    ]
    return PhaseProgress(
        phase=phase,
        entries_by_state=dict(states),
        results=results,
        evaluators=evaluators,
        overdue_total=sum(e.overdue for e in evaluators),
        disagreements=EntryPhase.objects.filter(phase=phase, disagreement=True).count(),
    )


def overdue_assignments(*, now: datetime | None = None, remind_every_hours: int = 48) -> list[int]:
    """Ids of assignments whose phase's evaluation is due, not yet submitted (nor recused),
    and not reminded within ``remind_every_hours``: for the reminder e-mails."""
    now = now or timezone.now()
    return list(
        Assignment.objects.filter(
            entry_phase__phase__evaluation_due_at__lt=now,
            state__in=[AssignmentState.ASSIGNED, AssignmentState.CLEARED],
            evaluator__active=True,
        )
        .filter(
            Q(reminded_at__isnull=True)
            | Q(reminded_at__lt=now - timedelta(hours=remind_every_hours))
        )
        .values_list("pk", flat=True)
    )
