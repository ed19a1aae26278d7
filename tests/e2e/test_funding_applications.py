"""Department staff work a funding application in Chromium: the list, the application's page,
a consortium whose shares do not add up (the error names sum and total and leads to the
field), the submission, the budget page and the overview with its chart and table. By labels
and the keyboard; axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_fix_a_consortium_submit_an_application_and_see_the_overview(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import PASSWORD, UserFactory, with_role
    from rathaus.funding import demo
    from rathaus.strategy import demo as strategy_demo

    staff = with_role(UserFactory(email="foerderung@example.org"), Role.DEPARTMENT_STAFF)
    strategy_demo.load()
    demo.load(staff=staff)

    page.goto(live_server.url + "/foerderung/verwaltung/antraege/")
    page.get_by_label("E-Mail-Adresse").fill("foerderung@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Förderanträge der Stadt")
    axe.check()

    page.get_by_role("link", name="TWIN-WEST: Digitaler Zwilling Leipziger Westen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "TWIN-WEST: Digitaler Zwilling Leipziger Westen"
    )
    expect(page.locator("#status")).to_have_text("In Vorbereitung")
    expect(page.get_by_text("LD-3", exact=True)).to_be_visible()  # the linked measure
    axe.check()
    page.get_by_role("link", name="passende Förderaufrufe für LD-3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passende Förderaufrufe finden")
    expect(page.get_by_label("Daten und KI")).to_be_checked()  # the measure's themes
    expect(page.get_by_text("DEMO-DIGITAL-").first).to_be_visible()
    axe.check()
    page.go_back()

    page.get_by_role("link", name="Konsortium", exact=True).click()
    city = page.get_by_role("group", name="Mitglied 1")
    city.get_by_label("Budgetanteil (€)").fill("1.900.000,00")
    page.get_by_role("button", name="Konsortium speichern").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("1.900.000,00")
    expect(alert).to_contain_text("2.000.000,00")
    expect(city.get_by_label("Budgetanteil (€)")).to_have_value("1.900.000,00")  # kept
    axe.check()
    city.get_by_label("Budgetanteil (€)").fill("1.500.000,00")
    second = page.get_by_role("group", name="Mitglied 2")
    second.get_by_label("oder Name (nicht im Verzeichnis)").fill("Hochschule Beispielstadt")
    second.get_by_label("Rolle").select_option(label="Partner")
    second.get_by_label("Budgetanteil (€)").fill("500.000")
    second.get_by_label("Budgetanteil (€)").press("Enter")
    expect(page.get_by_role("status").first).to_be_visible()
    expect(page.get_by_text("Hochschule Beispielstadt")).to_be_visible()
    axe.check()

    page.get_by_role("link", name="Status", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Status")
    axe.check()
    page.get_by_role("button", name="Als eingereicht eintragen").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Eingereicht")
    axe.check()

    page.get_by_role("link", name="Haushalt und Pflichten").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Haushalt und Pflichten")
    axe.check()

    page.goto(live_server.url + "/foerderung/verwaltung/uebersicht/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Förderanträge: Übersicht")
    expect(page.locator("svg").first).to_be_visible()
    expect(page.get_by_role("table").first).to_be_visible()
    expect(page.get_by_role("heading", name="Eingereicht")).to_be_visible()
    axe.check()
    # the refused consortium answers 422 (the browser logs that); nothing else may fail
    assert [e for e in console_errors if "status of 422" not in e] == []
