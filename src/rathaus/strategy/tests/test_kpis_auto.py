"""KPIs that take their values automatically from platform data: each source computes the
right value from real rows, the refresh records it provisionally for the current period and
makes past periods final, never overwrites a value entered by hand; the daily job's summary."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rathaus.cases.constants import CaseStatus
from rathaus.cases.models import Case
from rathaus.cases.seeding import seed_cases
from rathaus.cases.selectors import case_median_processing_days
from rathaus.catalog.models import Service
from rathaus.catalog.selectors import service_online_share_percent
from rathaus.citydata.models import Datastream, ObservedProperty, Sensor, Thing
from rathaus.citydata.selectors import datastream_published_count
from rathaus.core.outbox import PERIODIC
from rathaus.economy.constants import EntryStatus
from rathaus.economy.selectors.directory import organisation_public_count
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.strategy import kpi_jobs
from rathaus.strategy.constants import AutoSource, Frequency, ObservationSource
from rathaus.strategy.models import Indicator, IndicatorObservation, ObservationCorrection
from rathaus.strategy.services.kpis import (
    IndicatorData,
    indicator_create,
    indicator_refresh_auto,
    indicators_refresh_auto,
    observation_record,
)
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def _services(online: int, offline: int) -> None:
    """A catalogue of exactly these services (the test session may hold the whole LeiKa
    catalogue, imported once by the catalogue's tests; the test's transaction restores it)."""
    Service.objects.all().delete()
    for n in range(online + offline):
        Service.objects.create(
            leika_key=f"9910201300{n:04d}",
            name=f"Leistung {n}",
            online_form=True,
            online_submission=n < online,
        )


def _auto(plan: dict[str, Any], personas: dict[str, Any], source: str, **kwargs: Any) -> Indicator:
    data = IndicatorData(
        code=kwargs.pop("code", "A-1"),
        name="Automatisch",
        definition="Aus Plattformdaten",
        auto_source=source,
        frequency=kwargs.pop("frequency", Frequency.MONTHLY),
        **kwargs,
    )
    return indicator_create(actor=personas["department"], strategy_id=plan["digital"].pk, data=data)


def test_catalogue_share_online_counts_maturity_3_and_above(db: None) -> None:
    _services(online=0, offline=0)
    assert service_online_share_percent() is None  # an empty catalogue measures nothing
    _services(online=3, offline=1)
    assert Service.objects.filter(ozg_maturity__gte=3).count() == 3
    assert service_online_share_percent() == Decimal("75.0")


def test_directory_counts_published_organisations_only(db: None) -> None:
    OrganisationFactory.create_batch(3, status=EntryStatus.PUBLISHED)
    OrganisationFactory(status=EntryStatus.PENDING)
    assert organisation_public_count() == 3


def test_sensor_datastreams_are_counted(db: None) -> None:
    thing = Thing.objects.create(name="Station")
    sensor = Sensor.objects.create(name="Sensor")
    prop = ObservedProperty.objects.create(name="Temperatur", definition="https://example.org/t")
    for name in ("a", "b"):
        Datastream.objects.create(name=name, thing=thing, sensor=sensor, observed_property=prop)
    assert datastream_published_count() == 2


@pytest.fixture
def closed_cases(demo_forms: None, offices: dict[str, Any]) -> list[Case]:  # noqa: F811
    """Three cases closed in March 2025 after 2, 4 and 10 days; every other case closed in
    2020 or still open."""
    service = Service.objects.get(leika_key="99102013000000")
    service.offices.add(offices["ordnungsamt"])
    seed_cases(count=8)
    Case.objects.filter(closed_at__isnull=False).update(
        closed_at=datetime(2020, 1, 10, tzinfo=BERLIN),
        received_at=datetime(2020, 1, 1, tzinfo=BERLIN),
    )
    chosen = list(Case.objects.order_by("pk")[:3])
    for case, days in zip(chosen, (2, 4, 10), strict=True):
        received = datetime(2025, 3, 1, 9, tzinfo=BERLIN)
        Case.objects.filter(pk=case.pk).update(
            status=CaseStatus.CLOSED,
            received_at=received,
            closed_at=received + timedelta(days=days),
        )
    return chosen


def test_median_processing_time_of_cases_closed_in_the_period(closed_cases: list[Case]) -> None:
    assert case_median_processing_days(
        closed_from=date(2025, 3, 1), closed_before=date(2025, 4, 1)
    ) == Decimal("4.0")
    assert (
        case_median_processing_days(closed_from=date(2025, 4, 1), closed_before=date(2025, 5, 1))
        is None
    )


def test_refresh_records_the_median_for_the_current_month(
    plan: dict[str, Any], personas: dict[str, Any], closed_cases: list[Case]
) -> None:
    indicator = _auto(plan, personas, AutoSource.CASE_MEDIAN_DAYS)
    assert indicator.unit == "Tage"
    outcome = indicator_refresh_auto(indicator_id=indicator.pk, today=date(2025, 3, 20))
    assert (outcome.status, outcome.outcome) == ("done", "created")
    observation = IndicatorObservation.objects.get(indicator=indicator)
    assert observation.period == date(2025, 3, 1)
    assert observation.value == Decimal("4")
    assert observation.provisional is True
    assert observation.source == ObservationSource.AUTOMATIC


def test_auto_source_fixes_the_unit(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    indicator = _auto(plan, personas, AutoSource.CATALOG_ONLINE_SHARE, unit="Stück")
    assert indicator.unit == "%"


def test_refresh_then_finalise_when_the_period_is_over(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    _services(online=3, offline=1)
    indicator = _auto(plan, personas, AutoSource.CATALOG_ONLINE_SHARE)
    first = indicator_refresh_auto(indicator_id=indicator.pk, today=date(2025, 5, 3))
    assert (first.status, first.outcome, first.value) == ("done", "created", Decimal("75"))
    # the same day again: same value, nothing written
    again = indicator_refresh_auto(indicator_id=indicator.pk, today=date(2025, 5, 4))
    assert again.outcome == "unchanged"
    # a fourth service goes online during May: the provisional value follows
    Service.objects.filter(online_submission=False).update(online_submission=True)
    later = indicator_refresh_auto(indicator_id=indicator.pk, today=date(2025, 5, 28))
    assert (later.outcome, later.value) == ("corrected", Decimal("100"))
    may = IndicatorObservation.objects.get(indicator=indicator, period=date(2025, 5, 1))
    assert may.provisional is True and may.value == 100
    # June: May's value becomes final, June gets its own provisional value
    june = indicator_refresh_auto(indicator_id=indicator.pk, today=date(2025, 6, 1))
    assert (june.status, june.outcome, june.finalised) == ("done", "created", 1)
    may.refresh_from_db()
    assert may.provisional is False and may.value == 100
    assert may.corrections.count() == 2  # 75 -> 100, then provisional -> final
    assert IndicatorObservation.objects.get(period=date(2025, 6, 1)).provisional is True


def test_refresh_never_overwrites_a_value_entered_by_hand(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    _services(online=1, offline=1)
    indicator = _auto(plan, personas, AutoSource.CATALOG_ONLINE_SHARE)
    observation_record(
        actor=personas["department"],
        indicator_id=indicator.pk,
        period=date(2025, 5, 1),
        value=Decimal(42),
    )
    outcome = indicator_refresh_auto(indicator_id=indicator.pk, today=date(2025, 5, 10))
    assert outcome.status == "skipped"
    assert "eingetragenen Wert" in outcome.reason
    assert IndicatorObservation.objects.get(indicator=indicator).value == 42
    assert not ObservationCorrection.objects.exists()


def test_daily_job_summarises_done_skipped_and_rejected(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    assert (24 * 3600, kpi_jobs.refresh_automatic_indicators) in PERIODIC
    _services(online=3, offline=1)
    done = _auto(plan, personas, AutoSource.CATALOG_ONLINE_SHARE, code="A-1")
    # no case closed this month: nothing to measure yet
    empty = _auto(plan, personas, AutoSource.CASE_MEDIAN_DAYS, code="A-2")
    # an indicator whose source was removed from the code: rejected, the others go on
    broken = _auto(plan, personas, AutoSource.DIRECTORY_ORGANISATIONS, code="A-3")
    Indicator.objects.filter(pk=broken.pk).update(auto_source="gone")
    summary = kpi_jobs.refresh_automatic_indicators()
    assert (summary.done, summary.skipped, summary.rejected) == (1, 1, 1)
    assert "noch keinen Wert" in summary.reasons[empty.pk]
    assert summary.reasons[broken.pk]
    assert IndicatorObservation.objects.get(indicator=done).value == 75
    # the fixture's manual KPI is not touched
    assert summary.outcomes and all(o.indicator_id != plan["kpi"].pk for o in summary.outcomes)
    assert indicators_refresh_auto().done == 1
