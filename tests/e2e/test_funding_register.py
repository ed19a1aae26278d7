"""A company looking for funding in Chromium: the register, a call with its deadline in the
funder's time zone and Leipzig time, matching calls with a wrong amount first (the error at
the field, what was chosen kept), and the deadline calendar with its iCal feed. By labels and
the keyboard; axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_company_finds_a_call_and_its_deadline(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    from rathaus.funding import demo
    from rathaus.strategy import demo as strategy_demo

    strategy_demo.load()
    demo.load(staff=None)

    page.goto(live_server.url + "/foerderung/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Förderprogramme")
    axe.check()
    page.get_by_role("textbox", name="Suche").fill("Digitales Europa")
    page.get_by_role("textbox", name="Suche").press("Enter")
    programme = page.get_by_role(
        "link", name="Programm Digitales Europa (Digital Europe Programme)"
    )
    expect(programme).to_be_visible()
    expect(page.get_by_role("link", name="Modellprojekte Smart Cities")).to_have_count(0)
    programme.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Programm Digitales Europa")
    axe.check()
    page.get_by_role("link", name="DEMO-DIGITAL-").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lokale digitale Zwillinge")
    expect(page.get_by_text("Europe/Brussels").first).to_be_visible()
    expect(page.get_by_text("17:00 Uhr in Leipzig").first).to_be_visible()
    axe.check()

    page.goto(live_server.url + "/foerderung/passende-aufrufe/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Passende Förderaufrufe finden")
    axe.check()
    page.get_by_label("Daten und KI").check()
    page.get_by_label("Wer beantragt?").select_option(label="KMU")
    page.get_by_label("Benötigte Förderung in Euro").fill("viel Geld")
    page.get_by_role("button", name="Aufrufe suchen").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Benötigte Förderung in Euro")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_label("Daten und KI")).to_be_checked()  # kept
    axe.check()
    page.get_by_label("Benötigte Förderung in Euro").fill("1.000.000 €")
    page.get_by_role("button", name="Aufrufe suchen").click()
    expect(page.locator("#results-heading")).to_contain_text("passende")
    expect(page.get_by_text("DEMO-MFUND").first).to_be_visible()
    axe.check()

    page.goto(live_server.url + "/foerderung/fristen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fristen der Förderaufrufe")
    expect(page.get_by_text("Stufe 1: Projektskizze").first).to_be_visible()
    axe.check()
    feed = page.request.get(live_server.url + "/foerderung/fristen.ics")
    assert feed.ok
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in feed.text()
    assert [e for e in console_errors if "status of 4" not in e] == []
