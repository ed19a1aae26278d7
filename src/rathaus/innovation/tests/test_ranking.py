"""The ranking of a phase with its tie-break rules, the staff's progress figures, the reminder
e-mails for overdue evaluations, and publishing the results."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from rathaus.core.models import AuditEntry
from rathaus.core.outbox import process_batch
from rathaus.innovation.constants import (
    AssignmentState,
    CallStatus,
    Eligibility,
    EntryStatus,
    PhaseResult,
    TieBreak,
)
from rathaus.innovation.models import (
    Assignment,
    ConsensusScore,
    Entry,
    EntryPhase,
    Phase,
    Score,
)
from rathaus.innovation.selectors.ranking import phase_progress, phase_ranking
from rathaus.innovation.services import results as services
from rathaus.innovation.services.calls import CallError

pytestmark = pytest.mark.django_db


def entry(setup: dict[str, Any], title: str, minutes_ago: int = 0, **values: Any) -> EntryPhase:
    made = Entry.objects.create(
        call=setup["call"],
        organisation_id=Entry.objects.count() + 1,
        title=title,
        created_by=setup["author"],
        status=values.pop("status", EntryStatus.SUBMITTED),
        eligibility=values.pop("eligibility", Eligibility.ELIGIBLE),
        current_phase=setup["phase"],
        submitted_at=setup["now"] - timedelta(days=12, minutes=minutes_ago),
    )
    return EntryPhase.objects.create(entry=made, phase=setup["phase"], **values)


def evaluate(setup: dict[str, Any], entry_phase: EntryPhase, juror: int, *values: str) -> None:
    impact, feasible = setup["criteria"]
    assignment = Assignment.objects.create(
        entry_phase=entry_phase,
        evaluator=setup["jury"][juror],
        state=AssignmentState.SUBMITTED,
        submitted_at=setup["now"],
        weighted_total=Decimal(values[0]) / 5 * 60 + Decimal(values[1]) / 5 * 40,
    )
    Score.objects.create(assignment=assignment, criterion=impact, value=Decimal(values[0]))
    Score.objects.create(assignment=assignment, criterion=feasible, value=Decimal(values[1]))


def test_the_consensus_counts_before_the_mean_and_ties_follow_the_criteria(
    setup: dict[str, Any],
) -> None:
    strong, twin_a, twin_b, agreed = (
        entry(setup, "Stark"),
        entry(setup, "Zwilling A"),
        entry(setup, "Zwilling B"),
        entry(setup, "Einigung", consensus_total=Decimal("95")),
    )
    evaluate(setup, strong, 0, "5", "4")  # 92
    evaluate(setup, strong, 1, "4", "5")  # 88 -> mean 90
    # A and B: both 70 in total; A has more impact (the first criterion) -> A first
    evaluate(setup, twin_a, 0, "4", "2.5")  # 48 + 20 = 68
    evaluate(setup, twin_a, 1, "4", "3")  # 48 + 24 = 72 -> 70
    evaluate(setup, twin_b, 0, "3.5", "3.5")  # 42 + 28 = 70
    evaluate(setup, twin_b, 1, "3.5", "3.5")
    evaluate(setup, agreed, 0, "1", "1")  # 20, but the jury agreed on 95
    ineligible = entry(setup, "Nicht berechtigt", eligibility=Eligibility.INELIGIBLE)
    evaluate(setup, ineligible, 0, "5", "5")
    entry(setup, "Zurückgezogen", status=EntryStatus.WITHDRAWN)
    waiting = entry(setup, "Noch nicht bewertet")

    ranked = phase_ranking(phase=setup["phase"])
    assert [(r.title, r.place, r.score) for r in ranked] == [
        ("Einigung", 1, Decimal("95.00")),
        ("Stark", 2, Decimal("90.00")),
        ("Zwilling A", 3, Decimal("70.00")),
        ("Zwilling B", 4, Decimal("70.00")),
        ("Noch nicht bewertet", None, None),
    ]
    assert ranked[0].consensus and not ranked[1].consensus
    assert ranked[1].evaluations == 2 and not any(r.tie for r in ranked)
    assert ranked[2].criteria == [Decimal("4.00"), Decimal("2.75")]
    assert waiting.pk == ranked[-1].entry_phase_id
    # an agreed value of a criterion counts for the tie-break too
    ConsensusScore.objects.create(
        entry_phase=twin_b, criterion=setup["criteria"][0], value=Decimal(5), reason="Pitch"
    )
    assert [r.title for r in phase_ranking(phase=setup["phase"])][2:4] == [
        "Zwilling B",
        "Zwilling A",
    ]


def test_other_tie_break_rules(setup: dict[str, Any]) -> None:
    first = entry(setup, "Früh", minutes_ago=30)
    later = entry(setup, "Spät", minutes_ago=5)
    for target in (later, first):
        evaluate(setup, target, 0, "4", "4")
    call = setup["call"]
    call.tie_break = TieBreak.EARLIER_ENTRY
    call.save()
    ranked = phase_ranking(phase=setup["phase"])
    assert [(r.title, r.place, r.tie) for r in ranked] == [("Früh", 1, False), ("Spät", 2, False)]
    call.tie_break = TieBreak.JURY_DECISION
    call.save()
    ranked = phase_ranking(phase=setup["phase"])
    assert [(r.place, r.tie) for r in ranked] == [(1, True), (1, True)]  # staff decide


def test_progress_counts_entries_evaluations_and_overdue_ones(setup: dict[str, Any]) -> None:
    done, open_ = entry(setup, "Fertig"), entry(setup, "Offen", disagreement=True)
    entry(setup, "Entwurf", status=EntryStatus.DRAFT)
    entry(setup, "Nein", eligibility=Eligibility.INELIGIBLE)
    evaluate(setup, done, 0, "3", "3")
    Assignment.objects.create(entry_phase=open_, evaluator=setup["jury"][0])
    Assignment.objects.create(
        entry_phase=open_, evaluator=setup["jury"][1], state=AssignmentState.BLOCKED
    )
    Assignment.objects.create(
        entry_phase=done, evaluator=setup["jury"][2], state=AssignmentState.RECUSED
    )
    progress = phase_progress(phase=setup["phase"])
    assert progress.entries_by_state == {
        "submitted": 3,
        "eligible": 2,
        "ineligible": 1,
        "draft": 1,
    }
    figures = {e.name: (e.done, e.assigned, e.overdue, e.blocked) for e in progress.evaluators}
    assert figures == {
        "Juror 0": (1, 2, 1, 0),  # "1/2", one overdue
        "Juror 1": (0, 1, 1, 1),
        "Juror 2": (0, 0, 0, 0),  # recused: nothing to do
    }
    assert progress.overdue_total == 2 and progress.disagreements == 1
    # before the due date nothing is overdue
    later = phase_progress(phase=setup["phase"], now=setup["now"] - timedelta(days=2))
    assert later.overdue_total == 0


def test_overdue_evaluators_get_one_reminder_and_not_again_the_next_day(
    setup: dict[str, Any],
) -> None:
    first, second = entry(setup, "Eins"), entry(setup, "Zwei")
    for target in (first, second):
        Assignment.objects.create(
            entry_phase=target, evaluator=setup["jury"][0], state=AssignmentState.CLEARED
        )
    Assignment.objects.create(entry_phase=first, evaluator=setup["jury"][1])
    evaluate(setup, second, 2, "3", "3")  # done: no reminder
    assert services.reminders_send() == 2
    process_batch(worker_id="test", limit=10)
    to = {tuple(m.to): m for m in mail.outbox}
    assert set(to) == {("jury0@example.org",), ("jury1@example.org",)}
    reminder = to[("jury0@example.org",)]
    assert reminder.subject == "Bewertungen überfällig: Smart City Challenge"
    assert "sind 2 Ihrer Bewertungen überfällig" in reminder.body
    assert "/wettbewerbe/jury/" in reminder.body
    assert services.reminders_send(now=timezone.now() + timedelta(hours=24)) == 0
    assert services.reminders_send(now=timezone.now() + timedelta(hours=49)) == 2


def test_places_are_recorded_and_results_need_winners(
    setup: dict[str, Any], personas: dict[str, Any]
) -> None:
    staff = personas["department"]
    a, b = entry(setup, "A"), entry(setup, "B")
    evaluate(setup, a, 0, "5", "5")
    evaluate(setup, b, 0, "1", "1")
    with pytest.raises(PermissionDenied):
        services.phase_places_record(actor=personas["citizen"], phase_id=setup["phase"].pk)
    assert services.phase_places_record(actor=staff, phase_id=setup["phase"].pk) == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.rank, b.rank) == (1, 2)
    with pytest.raises(CallError, match="noch keine Gewinner"):
        services.results_publish(actor=staff, call_id=setup["call"].pk)
    EntryPhase.objects.filter(pk=a.pk).update(result=PhaseResult.WINNER)
    Phase.objects.filter(pk=setup["phase"].pk).update(decided_at=timezone.now())
    call = services.results_publish(actor=staff, call_id=setup["call"].pk)
    assert call.status == CallStatus.RESULTS and call.results_published_at is not None
    assert AuditEntry.objects.filter(action="innovation.call.results").exists()
    with pytest.raises(CallError, match="schon veröffentlicht"):
        services.results_publish(actor=staff, call_id=setup["call"].pk)


def test_the_ranking_and_the_decision_see_the_same_scores_and_knock_outs(
    setup: dict[str, Any],
) -> None:
    from rathaus.innovation.selectors.entries import phase_standings

    impact, _feasible = setup["criteria"]
    impact.threshold = Decimal(3)
    impact.save()
    good, weak = entry(setup, "Gut"), entry(setup, "Schwach bei der Wirkung")
    evaluate(setup, good, 0, "4", "4")
    evaluate(setup, weak, 0, "2.5", "5")  # 30 + 40 = 70, but below 3 on impact
    ranked = {r.title: r for r in phase_ranking(phase=setup["phase"])}
    standings = {s.entry.title: s for s in phase_standings(setup["phase"])}
    for title in ("Gut", "Schwach bei der Wirkung"):
        assert ranked[title].score == standings[title].total
        assert ranked[title].criteria == standings[title].criteria
        assert ranked[title].knocked_out == standings[title].knocked_out
    assert ranked["Schwach bei der Wirkung"].knocked_out and not ranked["Gut"].knocked_out
