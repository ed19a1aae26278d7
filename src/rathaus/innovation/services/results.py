"""Writes around the results of a call: recording the places of a phase's ranking, publishing
the results (winners and the anonymised score breakdown), and the reminder e-mails for
overdue evaluations."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.innovation.constants import CallStatus, PhaseResult
from rathaus.innovation.models import Assignment, Call, EntryPhase, Phase
from rathaus.innovation.selectors.ranking import overdue_assignments, phase_ranking
from rathaus.innovation.services.calls import CallError


def phase_places_record(*, actor: User, phase_id: int) -> int:
    """Store the places of the phase's current ranking on its entries (``EntryPhase.rank``),
    as the basis of the decision. Returns how many entries got a place."""
    department_staff_required(user=actor)
    with transaction.atomic():
        phase = Phase.objects.select_for_update().select_related("call").get(pk=phase_id)
        ranked = phase_ranking(phase=phase)
        places = {entry.entry_phase_id: entry.place for entry in ranked}
        EntryPhase.objects.filter(phase=phase).update(rank=None)
        changed = [
            EntryPhase(pk=pk, rank=place) for pk, place in places.items() if place is not None
        ]
        EntryPhase.objects.bulk_update(changed, ["rank"], batch_size=500)
        audit_entry_create(
            actor=actor,
            action="innovation.phase.rank",
            object_type="innovation.phase",
            object_id=phase.pk,
            after={
                "ranked": len(changed),
                "ties": sorted(e.entry_phase_id for e in ranked if e.tie),
                "tie_break": phase.call.tie_break,
            },
        )
    return len(changed)


def results_publish(*, actor: User, call_id: int, now: datetime | None = None) -> Call:
    """Publish the winners of a call (the last phase must be decided, with at least one
    winner) and, with them, the anonymised score breakdown per criterion."""
    department_staff_required(user=actor)
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None:
            raise CallError(_("Diesen Wettbewerb gibt es nicht."), code="unknown")
        if call.status == CallStatus.RESULTS:
            raise CallError(_("Die Ergebnisse sind schon veröffentlicht."), code="published")
        if call.status == CallStatus.DRAFT:
            raise CallError(_("Der Wettbewerb ist noch nicht veröffentlicht."), code="draft")
        last = call.phases.order_by("-position").first()
        winners = (
            EntryPhase.objects.filter(phase=last, result=PhaseResult.WINNER).count()
            if last is not None
            else 0
        )
        if last is None or last.decided_at is None or not winners:
            raise CallError(
                _("Die letzte Phase ist noch nicht entschieden: Es gibt noch keine Gewinner."),
                code="undecided",
            )
        call.status = CallStatus.RESULTS
        call.results_published_at = now or timezone.now()
        call.save(update_fields=["status", "results_published_at", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="innovation.call.results",
            object_type="innovation.call",
            object_id=call.pk,
            after={"winners": winners},
        )
    return call


def reminders_send(*, now: datetime | None = None) -> int:
    """One e-mail per evaluator with overdue evaluations (at most every two days): how many,
    in which call, and the link to their list. Returns the number of e-mails queued."""
    now = now or timezone.now()
    ids = overdue_assignments(now=now)
    if not ids:
        return 0
    by_member: dict[int, list[int]] = defaultdict(list)
    for assignment_id, member_id in Assignment.objects.filter(pk__in=ids).values_list(
        "pk", "evaluator_id"
    ):
        by_member[member_id].append(assignment_id)
    with transaction.atomic():
        for member_id, assignment_ids in by_member.items():
            outbox_message_create(
                topic="innovation.evaluation_reminder",
                payload={"jury_member": member_id, "overdue": len(assignment_ids)},
                idempotency_key=f"innovation.evaluation_reminder:{member_id}:{now:%Y-%m-%d}",
            )
        Assignment.objects.filter(pk__in=ids).update(reminded_at=now)
    return len(by_member)
