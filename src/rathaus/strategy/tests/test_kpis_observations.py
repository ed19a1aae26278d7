"""Recording KPI observations: period normalisation, units and ranges, corrections with
their history, audit entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rathaus.core.models import AuditEntry
from rathaus.strategy.constants import Frequency, ObservationSource
from rathaus.strategy.models import Indicator, IndicatorObservation, ObservationCorrection
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.kpis import observation_record, period_end, period_start

pytestmark = pytest.mark.django_db


def _indicator(plan: dict[str, Any], **kwargs: Any) -> Indicator:
    values: dict[str, Any] = {
        "strategy": plan["digital"],
        "code": "K-T",
        "name": "Testkennzahl",
        "definition": "Zum Testen",
        "unit": "Tage",
        "frequency": Frequency.MONTHLY,
    }
    values.update(kwargs)
    return Indicator.objects.create(**values)


@pytest.mark.parametrize(
    ("frequency", "day", "expected"),
    [
        (Frequency.MONTHLY, date(2025, 5, 17), date(2025, 5, 1)),
        (Frequency.QUARTERLY, date(2025, 5, 17), date(2025, 4, 1)),
        (Frequency.QUARTERLY, date(2025, 12, 31), date(2025, 10, 1)),
        (Frequency.QUARTERLY, date(2025, 1, 1), date(2025, 1, 1)),
        (Frequency.YEARLY, date(2025, 11, 3), date(2025, 1, 1)),
    ],
)
def test_period_is_the_first_day_of_its_period(frequency: str, day: date, expected: date) -> None:
    assert period_start(frequency=frequency, day=day) == expected


def test_period_end_is_the_first_day_of_the_next_period() -> None:
    assert period_end(frequency=Frequency.MONTHLY, start=date(2025, 12, 1)) == date(2026, 1, 1)
    assert period_end(frequency=Frequency.QUARTERLY, start=date(2025, 10, 1)) == date(2026, 1, 1)
    assert period_end(frequency=Frequency.YEARLY, start=date(2025, 1, 1)) == date(2026, 1, 1)


def test_record_normalises_the_period_and_writes_an_audit_entry(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    quarterly = _indicator(plan, frequency=Frequency.QUARTERLY)
    observation, outcome = observation_record(
        actor=personas["department"],
        indicator_id=quarterly.pk,
        period=date(2025, 8, 14),
        value=Decimal("12.5"),
        unit="Tage",
    )
    assert outcome == "created"
    observation.refresh_from_db()
    assert observation.period == date(2025, 7, 1)
    assert observation.value == Decimal("12.5")
    assert observation.source == ObservationSource.MANUAL
    entry = AuditEntry.objects.get(action="strategy.observation.create")
    assert entry.object_id == str(observation.pk)
    assert entry.after["value"] == "12.5"
    assert entry.after["period"] == "2025-07-01"


def test_a_second_day_of_the_same_month_is_the_same_observation(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    monthly = _indicator(plan)
    observation_record(
        actor=None,
        indicator_id=monthly.pk,
        period=date(2025, 3, 3),
        value=Decimal(5),
        provisional=True,
    )
    obs, outcome = observation_record(
        actor=personas["department"],
        indicator_id=monthly.pk,
        period=date(2025, 3, 28),
        value=Decimal(6),
    )
    assert outcome == "corrected"
    assert IndicatorObservation.objects.filter(indicator=monthly).count() == 1
    assert obs.period == date(2025, 3, 1)


def test_wrong_unit_is_refused_with_a_clear_message(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    with pytest.raises(StrategyError) as error:
        observation_record(
            actor=personas["department"],
            indicator_id=plan["kpi"].pk,
            period=date(2026, 1, 1),
            value=Decimal(3),
            unit="Tage",
        )
    assert str(error.value.message) == (
        "Falsche Einheit: die Kennzahl wird in % gemessen, nicht in Tagen."
    )
    assert error.value.field == "unit"
    assert not IndicatorObservation.objects.filter(period=date(2026, 1, 1)).exists()


def test_same_unit_in_another_spelling_is_accepted(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    _, outcome = observation_record(
        actor=personas["department"],
        indicator_id=plan["kpi"].pk,
        period=date(2026, 1, 1),
        value=Decimal(50),
        unit="Prozent",
    )
    assert outcome == "created"


@pytest.mark.parametrize("value", ["120", "-1", "100.0001"])
def test_percent_outside_0_to_100_is_refused(
    plan: dict[str, Any], personas: dict[str, Any], value: str
) -> None:
    with pytest.raises(StrategyError) as error:
        observation_record(
            actor=personas["department"],
            indicator_id=plan["kpi"].pk,
            period=date(2026, 1, 1),
            value=Decimal(value),
        )
    assert "zwischen 0 und 100" in str(error.value.message)
    assert error.value.field == "value"
    assert not IndicatorObservation.objects.filter(period=date(2026, 1, 1)).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("1.23456"), "Nachkommastellen"),
        (Decimal("123456789012345"), "zu groß"),
        (Decimal("NaN"), "Zahl"),
        (Decimal("Infinity"), "Zahl"),
    ],
)
def test_value_must_fit_the_column(
    plan: dict[str, Any], personas: dict[str, Any], value: Decimal, message: str
) -> None:
    indicator = _indicator(plan)
    with pytest.raises(StrategyError) as error:
        observation_record(
            actor=personas["department"],
            indicator_id=indicator.pk,
            period=date(2025, 1, 1),
            value=value,
        )
    assert message in str(error.value.message)
    assert not IndicatorObservation.objects.filter(indicator=indicator).exists()


def test_correction_keeps_the_old_value_with_who_when_why(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    kpi = plan["kpi"]
    observation, outcome = observation_record(
        actor=personas["caseworker"],
        indicator_id=kpi.pk,
        period=date(2024, 6, 1),
        value=Decimal("33"),
        note="nachgezählt",
        reason="Zwei Leistungen doppelt gezählt",
    )
    assert outcome == "corrected"
    observation.refresh_from_db()
    assert observation.period == date(2024, 1, 1)
    assert observation.value == Decimal("33")
    correction = ObservationCorrection.objects.get(observation=observation)
    assert correction.value_before == Decimal("31")
    assert correction.provisional_before is False
    assert correction.value_after == Decimal("33")
    assert correction.reason == "Zwei Leistungen doppelt gezählt"
    assert correction.changed_by == personas["caseworker"]
    assert correction.changed_at is not None
    entry = AuditEntry.objects.get(action="strategy.observation.correct")
    assert entry.before["value"] == "31"
    assert entry.after["value"] == "33"
    assert entry.after["reason"] == "Zwei Leistungen doppelt gezählt"


def test_correcting_a_final_value_needs_a_reason(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    with pytest.raises(StrategyError) as error:
        observation_record(
            actor=personas["caseworker"],
            indicator_id=plan["kpi"].pk,
            period=date(2024, 1, 1),
            value=Decimal("32"),
        )
    assert error.value.field == "reason"
    assert (
        IndicatorObservation.objects.get(indicator=plan["kpi"], period=date(2024, 1, 1)).value == 31
    )
    assert not ObservationCorrection.objects.exists()


def test_correcting_a_provisional_value_needs_no_reason(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    observation, outcome = observation_record(
        actor=personas["caseworker"],
        indicator_id=plan["kpi"].pk,
        period=date(2025, 1, 1),
        value=Decimal("45"),
    )
    assert outcome == "corrected"
    assert observation.provisional is False
    correction = observation.corrections.get()
    assert correction.value_before == Decimal("44.5")
    assert correction.provisional_before is True


def test_unchanged_value_writes_nothing(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    audit_before = AuditEntry.objects.count()
    observation, outcome = observation_record(
        actor=personas["caseworker"],
        indicator_id=plan["kpi"].pk,
        period=date(2024, 3, 1),
        value=Decimal("31.0000"),
        provisional=False,
        reason="egal",
    )
    assert outcome == "unchanged"
    assert AuditEntry.objects.count() == audit_before
    assert not ObservationCorrection.objects.exists()


def test_unknown_indicator_is_a_clear_error(personas: dict[str, Any]) -> None:
    with pytest.raises(StrategyError):
        observation_record(
            actor=personas["department"],
            indicator_id=999999,
            period=date(2025, 1, 1),
            value=Decimal(1),
        )
