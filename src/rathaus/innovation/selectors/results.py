"""Reads of a call's results: the winners with the anonymised score breakdown per criterion
(public once the results are published: no evaluator's name, no single evaluator's score),
and the department's CSV export of a phase (every evaluation, with the evaluators' public
names: it does not leave the department)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Min
from django.http import Http404
from django.utils.translation import get_language

from rathaus.innovation.constants import AssignmentState, CallStatus, PhaseResult
from rathaus.innovation.models import (
    Assignment,
    Call,
    ConsensusScore,
    Criterion,
    Phase,
    Score,
)
from rathaus.innovation.selectors.ranking import phase_ranking, rounded
from rathaus.innovation.services.calls import scale_max


@dataclass
class CriterionBreakdown:
    name: str
    weight: Decimal
    scale_max: Decimal
    evaluations: int
    mean: Decimal | None
    low: Decimal | None
    high: Decimal | None
    consensus: Decimal | None  # the value the jury agreed on, if it did


@dataclass
class Winner:
    title: str
    organisation_id: int
    score: Decimal | None
    criteria: list[CriterionBreakdown] = field(default_factory=list)


def _criterion_name(criterion: Criterion) -> str:
    return criterion.name_en if get_language() == "en" and criterion.name_en else criterion.name


def call_results(*, call: Call) -> list[Winner]:
    """The winners of the last phase, best first, each with per criterion the number of
    evaluations, their mean, lowest and highest value, and the consensus value. Only for a
    call whose results are published (else 404)."""
    if call.status != CallStatus.RESULTS:
        raise Http404("no results yet")
    last = call.phases.order_by("-position").first()
    if last is None:
        return []
    winners = {
        row.entry_phase_id: row
        for row in phase_ranking(phase=last)
        if row.result == PhaseResult.WINNER
    }
    criteria = list(last.criteria.order_by("position"))
    stats: dict[tuple[int, int], dict[str, Any]] = {
        (row["assignment__entry_phase_id"], row["criterion_id"]): row
        for row in Score.objects.filter(
            assignment__state=AssignmentState.SUBMITTED,
            assignment__entry_phase_id__in=list(winners),
        )
        .values("assignment__entry_phase_id", "criterion_id")
        .annotate(n=Count("pk"), mean=Avg("value"), low=Min("value"), high=Max("value"))
        .order_by()
    }
    agreed = {
        (entry_phase_id, criterion_id): value
        for entry_phase_id, criterion_id, value in ConsensusScore.objects.filter(
            entry_phase_id__in=list(winners)
        ).values_list("entry_phase_id", "criterion_id", "value")
    }
    result = []
    for entry_phase_id, row in sorted(
        winners.items(), key=lambda item: (item[1].place or 10**9, item[1].entry_id)
    ):
        breakdown = []
        for criterion in criteria:
            figures = stats.get((entry_phase_id, criterion.pk), {})
            breakdown.append(
                CriterionBreakdown(
                    name=_criterion_name(criterion),
                    weight=criterion.weight,
                    scale_max=scale_max(criterion),
                    evaluations=figures.get("n", 0),
                    mean=rounded(figures.get("mean")),
                    low=figures.get("low"),
                    high=figures.get("high"),
                    consensus=agreed.get((entry_phase_id, criterion.pk)),
                )
            )
        result.append(
            Winner(
                title=row.title,
                organisation_id=row.organisation_id,
                score=row.score,
                criteria=breakdown,
            )
        )
    return result


def phase_export_rows(*, phase: Phase) -> tuple[list[str], list[list[Any]]]:
    """The CSV of a phase for the department: one row per submitted evaluation (place,
    entry, organisation id, score, consensus, evaluator's public name, weighted total, and
    the value of every criterion), entries in the order of the ranking."""
    criteria = list(phase.criteria.order_by("position"))
    header = [
        "platz",
        "beitrag_id",
        "titel",
        "organisation_id",
        "punkte",
        "konsens",
        "abweichung",
        "ergebnis",
        "jury",
        "gewichtete_summe",
        *[f"kriterium_{c.position}" for c in criteria],
    ]
    values: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for assignment_id, criterion_id, value in Score.objects.filter(
        assignment__entry_phase__phase=phase, assignment__state=AssignmentState.SUBMITTED
    ).values_list("assignment_id", "criterion_id", "value"):
        values[assignment_id][criterion_id] = value
    evaluations: dict[int, list[tuple[int, str, Decimal | None]]] = defaultdict(list)
    for assignment_id, entry_phase_id, name, total in (
        Assignment.objects.filter(entry_phase__phase=phase, state=AssignmentState.SUBMITTED)
        .order_by("evaluator__public_name", "pk")
        .values_list("pk", "entry_phase_id", "evaluator__public_name", "weighted_total")
    ):
        evaluations[entry_phase_id].append((assignment_id, name, total))
    rows: list[list[Any]] = []
    for ranked in phase_ranking(phase=phase):
        base = [
            ranked.place or "",
            ranked.entry_id,
            ranked.title,
            ranked.organisation_id,
            ranked.score if ranked.score is not None else "",
            "ja" if ranked.consensus else "nein",
            "ja" if ranked.disagreement else "nein",
            ranked.result,
        ]
        mine = evaluations.get(ranked.entry_phase_id) or [(0, "", None)]
        for assignment_id, name, total in mine:
            scores = values.get(assignment_id, {})
            rows.append(
                [
                    *base,
                    name,
                    total if total is not None else "",
                    *[scores.get(c.pk, "") for c in criteria],
                ]
            )
    return header, rows
