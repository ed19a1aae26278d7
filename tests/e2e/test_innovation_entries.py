"""An entry in Chromium: a member of an organisation starts its entry to a call, answers the
phase's questions (a missing answer linked to its field), and submits. axe-core on every
page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def entrant() -> Any:
    from rathaus.accounts.tests.factories import UserFactory
    from rathaus.economy.tests.factories_directory import OrganisationFactory, membership
    from rathaus.innovation.tests.test_entries_services import make_call, publish_form

    publish_form()
    make_call()
    user = UserFactory(email="ines@example.org")
    membership(user, OrganisationFactory(name="Datenwerk"))
    return user


def login(page: Any, live_server: Any, email: str) -> None:
    from rathaus.accounts.tests.factories import PASSWORD

    page.goto(live_server.url + "/konto/anmelden/")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/konto/**")


def test_a_member_starts_an_entry_fills_in_the_form_and_submits(
    page: Any, live_server: Any, axe: Any, entrant: Any, console_errors: list[str]
) -> None:
    login(page, live_server, entrant.email)
    page.goto(live_server.url + "/wettbewerbe/smart-city-challenge/teilnehmen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Am Wettbewerb teilnehmen")
    axe.check()
    page.get_by_label("Titel des Beitrags").fill("Ladesäulen-Radar")
    page.get_by_label("Team").fill("Ines Vogel | Entwicklung\nTom Berg | Design")
    page.get_by_role("button", name="Beitrag anlegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ladesäulen-Radar")
    axe.check()

    page.get_by_label("Benötigtes Budget in Euro").fill("12000")
    page.get_by_role("button", name="Einreichen").click()
    expect(page.get_by_role("alert")).to_contain_text("Ihre Idee in einem Satz")
    expect(page.get_by_label("Benötigtes Budget in Euro")).to_have_value("12000")
    axe.check()

    page.get_by_label("Ihre Idee in einem Satz").fill("Freie Ladesäulen auf einer Karte")
    page.get_by_role("button", name="Einreichen").click()
    expect(page.get_by_text("Der Beitrag ist eingereicht.")).to_be_visible()
    expect(page.get_by_text("Freie Ladesäulen auf einer Karte")).to_be_visible()
    axe.check()

    page.get_by_role("link", name="Ihre Beiträge").first.click()
    expect(page.get_by_role("link", name="Ladesäulen-Radar")).to_be_visible()
    axe.check()
    # the page with the missing answer comes with 422; anything else (a refused inline
    # script or style) would be an error
    assert [e for e in console_errors if "status of 422" not in e] == [], console_errors
