"""Preparing, publishing and amending a call: the rules are complete before publication,
and after it every change is a public amendment with a reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import AuditEntry
from rathaus.innovation.constants import AdvanceRule, CallStatus, Scale
from rathaus.innovation.models import Amendment, Criterion
from rathaus.innovation.services import calls as services

pytestmark = pytest.mark.django_db


def call_data(**overrides: Any) -> services.CallData:
    values: dict[str, Any] = {
        "title": "Smart City Challenge 2027",
        "challenge": "Wie finden Menschen freie Ladesäulen?",
        "evaluators_per_entry": 2,
    }
    values.update(overrides)
    return services.CallData(**values)


def phase_data(days: int = 10, **overrides: Any) -> services.PhaseData:
    start = timezone.now() + timedelta(days=days)
    values: dict[str, Any] = {
        "name": "Konzept",
        "opens_at": start,
        "closes_at": start + timedelta(days=30),
        "evaluation_due_at": start + timedelta(days=44),
        "advance_rule": AdvanceRule.TOP_N,
        "advance_count": 10,
    }
    values.update(overrides)
    return services.PhaseData(**values)


def criterion(weight: str, **overrides: Any) -> services.CriterionData:
    values: dict[str, Any] = {
        "name": "Wirkung für die Stadt",
        "scale": Scale.HALF_POINTS,
        "weight": Decimal(weight),
    }
    values.update(overrides)
    return services.CriterionData(**values)


@pytest.fixture
def staff(personas: dict[str, Any]) -> Any:
    return personas["department"]


@pytest.fixture
def ready(staff: Any) -> dict[str, Any]:
    """A complete draft: one phase with criteria of 60 + 40 and a jury of two."""
    call = services.call_create(actor=staff, data=call_data())
    phase = services.phase_save(actor=staff, call_id=call.pk, data=phase_data())
    impact = services.criterion_save(actor=staff, phase_id=phase.pk, data=criterion("60"))
    services.criterion_save(
        actor=staff,
        phase_id=phase.pk,
        data=criterion("40", name="Machbarkeit", scale=Scale.POINTS, max_points=10),
    )
    for name in ("Prof. Dr. Anna Schmidt", "Ben Ott"):
        services.jury_member_save(
            actor=staff,
            call_id=call.pk,
            data=services.JuryData(user=UserFactory(), public_name=name),
        )
    return {"call": call, "phase": phase, "impact": impact}


def test_only_department_staff_prepare_calls(personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.call_create(actor=personas["citizen"], data=call_data())


def test_an_incomplete_call_is_not_published_and_says_what_is_missing(staff: Any) -> None:
    call = services.call_create(actor=staff, data=call_data(evaluators_per_entry=3))
    phase = services.phase_save(actor=staff, call_id=call.pk, data=phase_data())
    services.criterion_save(actor=staff, phase_id=phase.pk, data=criterion("70"))
    services.phase_save(
        actor=staff, call_id=call.pk, data=phase_data(days=20, name="Pitch", advance_count=3)
    )
    with pytest.raises(services.CallError) as refused:
        services.call_publish(actor=staff, call_id=call.pk)
    message = str(refused.value.message)
    assert "ergeben 70 statt 100 Prozent" in message
    assert "Phase „Pitch“ hat noch keine Kriterien." in message
    assert "Phase „Pitch“ beginnt, bevor die vorige Phase endet." in message
    assert "Die Jury hat 0 Mitglieder; jeder Beitrag braucht aber 3 Bewertungen." in message
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT


def test_drafts_change_freely_published_rules_only_by_a_public_amendment(
    staff: Any, ready: dict[str, Any]
) -> None:
    call, phase, impact = ready["call"], ready["phase"], ready["impact"]
    # a draft: changed without a reason, no amendment (the audit log has it)
    services.criterion_save(
        actor=staff, phase_id=phase.pk, criterion_id=impact.pk, data=criterion("60", name="Nutzen")
    )
    assert not Amendment.objects.exists()
    services.call_publish(actor=staff, call_id=call.pk)
    call.refresh_from_db()
    assert call.status == CallStatus.PUBLISHED and call.published_at is not None
    publish = AuditEntry.objects.get(action="innovation.call.publish")
    assert publish.after["rules"]["phases"][0]["criteria"][0]["name"] == "Nutzen"

    # published: no change without a reason, and nothing is changed by the refusal
    with pytest.raises(services.CallError) as refused:
        services.criterion_save(
            actor=staff, phase_id=phase.pk, criterion_id=impact.pk, data=criterion("50")
        )
    assert refused.value.code == "reason_needed"
    impact.refresh_from_db()
    assert impact.weight == Decimal(60)
    services.criterion_save(
        actor=staff,
        phase_id=phase.pk,
        criterion_id=impact.pk,
        data=criterion("60", name="Nutzen", threshold=Decimal("2.5")),
        reason="Mindestwert ergänzt, wie in der Jurysitzung beschlossen",
    )
    amendment = Amendment.objects.get()
    assert amendment.what == "criterion" and amendment.object_id == impact.pk
    assert amendment.before["threshold"] is None and amendment.after["threshold"] == "2.5"
    assert amendment.reason.startswith("Mindestwert ergänzt")
    assert AuditEntry.objects.filter(action="innovation.criterion.amend").count() == 1
    # the jury and the call's own rules alike
    services.jury_member_save(
        actor=staff,
        call_id=call.pk,
        data=services.JuryData(user=UserFactory(), public_name="Cem Yilmaz"),
        reason="Zusätzliches Mitglied für die Pitch-Phase",
    )
    services.call_update(
        actor=staff,
        call_id=call.pk,
        data=call_data(evaluators_per_entry=3),
        reason="Drei Bewertungen je Beitrag",
    )
    assert [a.what for a in Amendment.objects.order_by("pk")] == ["criterion", "jury", "call"]
    assert Amendment.objects.last().after == {"evaluators_per_entry": 3}  # type: ignore[union-attr]
    # saving without a change needs no reason and records nothing
    services.call_update(actor=staff, call_id=call.pk, data=call_data(evaluators_per_entry=3))
    assert Amendment.objects.count() == 3


def test_scales_weights_and_thresholds_are_checked(staff: Any, ready: dict[str, Any]) -> None:
    phase = ready["phase"]
    bad = [
        (criterion("0"), "weight"),
        (criterion("101"), "weight"),
        (criterion("10", threshold=Decimal("5.5")), "threshold"),  # 0-5 scale
        (criterion("10", scale=Scale.YES_NO, threshold=Decimal(2)), "threshold"),
        (criterion("10", scale=Scale.POINTS, max_points=0), "max_points"),
        (criterion("10", scale="stars"), "scale"),
        (criterion("10", name=" "), "name"),
    ]
    for data, field in bad:
        with pytest.raises(services.CallError) as refused:
            services.criterion_save(actor=staff, phase_id=phase.pk, data=data)
        assert refused.value.field == field
    assert phase.criteria.count() == 2
    yes_no = services.criterion_save(
        actor=staff, phase_id=phase.pk, data=criterion("5", scale=Scale.YES_NO, max_points=10)
    )
    assert yes_no.max_points == 1  # the scale decides


def test_phase_dates_and_rules_are_checked(staff: Any, ready: dict[str, Any]) -> None:
    call = ready["call"]
    start = timezone.now() + timedelta(days=50)
    cases = [
        (phase_data(opens_at=start, closes_at=start), "closes_at"),
        (
            phase_data(
                opens_at=start,
                closes_at=start + timedelta(days=1),
                evaluation_due_at=start,
            ),
            "evaluation_due_at",
        ),
        (phase_data(advance_count=None), "advance_count"),
        (
            phase_data(advance_rule=AdvanceRule.THRESHOLD, advance_threshold=Decimal(120)),
            "advance_threshold",
        ),
    ]
    for data, field in cases:
        with pytest.raises(services.CallError) as refused:
            services.phase_save(actor=staff, call_id=call.pk, data=data)
        assert refused.value.field == field
    assert call.phases.count() == 1


def test_a_scored_criterion_keeps_its_scale_and_is_not_deleted(
    staff: Any, ready: dict[str, Any]
) -> None:
    from rathaus.innovation.models import Assignment, Entry, EntryPhase, Score

    call, phase, impact = ready["call"], ready["phase"], ready["impact"]
    entry = Entry.objects.create(
        call=call, organisation_id=1, title="Ladesäulen-App", created_by=staff, current_phase=phase
    )
    assignment = Assignment.objects.create(
        entry_phase=EntryPhase.objects.create(entry=entry, phase=phase),
        evaluator=call.jury.first(),
    )
    Score.objects.create(assignment=assignment, criterion=impact, value=Decimal(4))
    with pytest.raises(services.CallError, match="Skala"):
        services.criterion_save(
            actor=staff,
            phase_id=phase.pk,
            criterion_id=impact.pk,
            data=criterion("60", scale=Scale.POINTS),
        )
    with pytest.raises(services.CallError, match="schon Bewertungen"):
        services.criterion_delete(actor=staff, criterion_id=impact.pk)
    assert Criterion.objects.filter(pk=impact.pk, scale=Scale.HALF_POINTS).exists()


def test_a_jury_member_who_leaves_stays_recorded(staff: Any, ready: dict[str, Any]) -> None:
    call = ready["call"]
    member = call.jury.first()
    services.call_publish(actor=staff, call_id=call.pk)
    with pytest.raises(services.CallError):
        services.jury_member_remove(actor=staff, member_id=member.pk)
    services.jury_member_remove(actor=staff, member_id=member.pk, reason="Krankheit")
    member.refresh_from_db()
    assert member.active is False
    assert Amendment.objects.get().after["active"] is False
