"""Department staff keep a measure of Leipzig.digital up to date in Chromium: the start page,
the measure's page, its status set to delayed with a yellow light and a reason, a milestone
that slipped (refused without a reason, then saved with one) and listed as slipped. By labels
and the keyboard; axe-core on every page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_update_a_measure_and_record_a_slipped_milestone(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import PASSWORD, UserFactory, with_role
    from rathaus.strategy.constants import MeasureStatus, StrategyStatus
    from rathaus.strategy.models import Measure, Milestone, Strategy

    with_role(UserFactory(email="strategie@example.org"), Role.DEPARTMENT_STAFF)
    digital = Strategy.objects.create(
        name="Leipzig.digital",
        slug="leipzig-digital",
        version="2024",
        status=StrategyStatus.ADOPTED,
        council_decision_number="VII-DS-01234",
        council_decision_date=date(2024, 3, 20),
    )
    measure = Measure.objects.create(
        code="LD-1",
        title="75 kommunale Verwaltungsleistungen online",
        status=MeasureStatus.RUNNING,
        progress=40,
        planned_start=date(2024, 1, 1),
        planned_end=date(2026, 12, 31),
    )
    measure.strategies.add(digital)

    page.goto(live_server.url + "/strategie/verwaltung/")
    page.get_by_label("E-Mail-Adresse").fill("strategie@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategien und Maßnahmen")
    axe.check()

    page.get_by_role("link", name="Maßnahmen", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maßnahmen: Leipzig.digital 2024")
    axe.check()
    page.get_by_role("link", name="LD-1 75 kommunale Verwaltungsleistungen online").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("LD-1")
    axe.check()

    # the status, by keyboard: delayed, yellow light, and why
    page.get_by_label("Status", exact=True).select_option(label="verzögert")
    page.get_by_label("Ampel").select_option(label="gefährdet")
    page.get_by_label("Begründung").fill("Schnittstelle zum Fachverfahren fehlt")
    page.get_by_role("button", name="Änderungen speichern").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Die Maßnahme ist gespeichert.")).to_be_visible()
    expect(page.get_by_text("gefährdet: Schnittstelle zum Fachverfahren fehlt")).to_be_visible()
    axe.check()

    page.get_by_role("link", name="Meilenstein hinzufügen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neuer Meilenstein für LD-1")
    axe.check()
    page.get_by_label("Titel").fill("50 Leistungen online")
    page.get_by_label("Geplant am").fill("2025-12-31")
    page.get_by_role("button", name="Meilenstein speichern").click()
    expect(page.get_by_text("Der Meilenstein ist gespeichert.")).to_be_visible()

    page.get_by_role("link", name="50 Leistungen online").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("50 Leistungen online")
    page.get_by_label("Geplant am").fill("2026-03-31")
    page.get_by_role("button", name="Meilenstein speichern").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Grund der Verschiebung")
    axe.check()
    alert.get_by_role("link").first.click()  # the error leads to its field
    expect(page.get_by_label("Grund der Verschiebung")).to_be_focused()
    page.keyboard.type("Schnittstelle fehlt noch")
    page.get_by_role("button", name="Meilenstein speichern").click()
    expect(
        page.get_by_text("verschoben von 31.12.2025 auf 31.03.2026: Schnittstelle fehlt noch")
    ).to_be_visible()
    axe.check()

    measure.refresh_from_db()
    assert measure.status == MeasureStatus.DELAYED
    milestone = Milestone.objects.get(measure=measure)
    assert milestone.baseline_date == date(2025, 12, 31) and milestone.slipped
    # the refused form answers 422 on purpose; nothing else may fail
    assert [error for error in console_errors if "422" not in error] == []
