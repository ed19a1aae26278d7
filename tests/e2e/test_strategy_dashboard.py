"""A citizen follows the strategy in Chromium: the list of published strategies, the
dashboard with progress by field of action, the measures filtered by status, a measure's page
with its slipped milestone, a KPI's page. axe-core on every page, no console errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _published_strategy() -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import OfficeFactory, UserFactory, with_role
    from rathaus.strategy.constants import MeasureStatus, StrategyStatus, TrafficLight
    from rathaus.strategy.models import (
        FieldOfAction,
        Indicator,
        IndicatorObservation,
        Measure,
        Milestone,
        Strategy,
    )
    from rathaus.strategy.selectors.public import state_clear_cache
    from rathaus.strategy.services.publication import strategy_publish

    office = OfficeFactory(name="Referat Digitale Stadt")
    strategy = Strategy.objects.create(
        name="Leipzig.digital",
        slug="leipzig-digital",
        version="2024",
        status=StrategyStatus.ADOPTED,
        council_decision_number="VII-DS-01234",
        council_decision_date=date(2024, 3, 20),
    )
    admin = FieldOfAction.objects.create(strategy=strategy, code="1", title="Digitale Verwaltung")
    data = FieldOfAction.objects.create(strategy=strategy, code="2", title="Daten")
    online = Measure.objects.create(
        code="LD-1",
        title="75 Verwaltungsleistungen online",
        office=office,
        status=MeasureStatus.RUNNING,
        progress=40,
        planned_start=date(2024, 1, 1),
        planned_end=date(2026, 12, 31),
    )
    online.strategies.add(strategy)
    online.fields_of_action.add(admin)
    twin = Measure.objects.create(
        code="LD-2",
        title="Digitaler Zwilling",
        status=MeasureStatus.DELAYED,
        traffic_light=TrafficLight.YELLOW,
        status_reason="Ausschreibung verzögert",
        progress=10,
        planned_start=date(2025, 1, 1),
        planned_end=date(2026, 6, 30),
    )
    twin.strategies.add(strategy)
    twin.fields_of_action.add(data)
    Milestone.objects.create(
        measure=twin,
        title="Vergabe",
        planned_date=date(2025, 9, 30),
        baseline_date=date(2025, 3, 31),
        slip_reason="Einspruch im Vergabeverfahren",
    )
    kpi = Indicator.objects.create(
        strategy=strategy,
        code="K-1",
        name="Leistungen online",
        definition="Anteil der Leistungen mit Reifegrad 3",
        unit="%",
        baseline_value=Decimal("12"),
        baseline_date=date(2023, 12, 31),
        target_value=Decimal("75"),
        target_date=date(2027, 12, 31),
    )
    kpi.measures.add(online)
    for year, value in ((2023, "12"), (2024, "31"), (2025, "44.5")):
        IndicatorObservation.objects.create(
            indicator=kpi, period=date(year, 1, 1), value=Decimal(value)
        )
    staff = with_role(UserFactory(email="staff-e2e@example.org"), Role.DEPARTMENT_STAFF)
    strategy_publish(actor=staff, strategy_id=strategy.pk, note="Erster Stand")
    state_clear_cache()


def test_a_citizen_follows_the_strategy(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    _published_strategy()

    page.goto(live_server.url + "/strategie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategien und Projekte")
    axe.check()
    page.get_by_role("link", name="Leipzig.digital 2024").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Leipzig.digital 2024")
    expect(page.get_by_text("Stand 1 vom").first).to_be_visible()
    expect(page.get_by_text("VII-DS-01234").first).to_be_visible()
    expect(page.get_by_role("heading", name="Fortschritt nach Handlungsfeldern")).to_be_visible()
    axe.check()

    page.get_by_label("Status", exact=True).select_option(label="verzögert")
    page.get_by_role("button", name="Filtern").click()
    expect(page.locator("#results-count")).to_contain_text("1 Maßnahme")
    expect(page.get_by_role("link", name="LD-1 75 Verwaltungsleistungen online")).to_have_count(0)
    axe.check()

    page.get_by_role("link", name="LD-2 Digitaler Zwilling").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LD-2 Digitaler Zwilling")
    expect(page.get_by_text("Einspruch im Vergabeverfahren").first).to_be_visible()
    expect(page.get_by_text("gefährdet").first).to_be_visible()
    axe.check()

    page.goto(live_server.url + "/strategie/leipzig-digital/kennzahlen/K-1/")
    expect(page.get_by_role("heading", level=1)).to_have_text("K-1 Leistungen online")
    axe.check()

    page.goto(live_server.url + "/strategie/leipzig-digital/staende/")
    expect(page.get_by_text("Erster Stand")).to_be_visible()
    axe.check()
    assert console_errors == []
