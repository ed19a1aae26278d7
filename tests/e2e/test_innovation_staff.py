"""Staff prepare an innovation competition in Chromium: log in, create a call, are told what
keeps it from publication, add a phase (with a mistake first) and a criterion, by labels and
the keyboard. axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_create_a_call_and_a_phase_and_see_what_is_missing(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import PASSWORD, UserFactory, with_role

    with_role(UserFactory(email="innovation@example.org"), Role.DEPARTMENT_STAFF)
    page.goto(live_server.url + "/wettbewerbe/verwaltung/")
    page.get_by_label("E-Mail-Adresse").fill("innovation@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wettbewerbe verwalten")
    axe.check()

    page.get_by_role("link", name="Neuer Wettbewerb").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neuer Wettbewerb")
    axe.check()
    page.get_by_label("Titel", exact=True).fill("Smart City Challenge 2027")
    page.get_by_label("Aufgabe", exact=True).fill("Wie finden Menschen freie Ladesäulen?")
    page.get_by_label("Bewertungen je Beitrag (mindestens)").fill("2")
    page.get_by_label("Abweichung für Konsensrunde (Punkte)").fill("12,5")
    page.get_by_label("Abweichung für Konsensrunde (Punkte)").press("Enter")  # submits

    expect(page.get_by_role("heading", level=1)).to_have_text("Smart City Challenge 2027")
    expect(page.get_by_role("status").first).to_contain_text("als Entwurf angelegt")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("Der Wettbewerb hat noch keine Phase.")
    expect(problems).to_contain_text("Die Jury hat 0 Mitglieder")
    expect(page.get_by_label("Abweichung für Konsensrunde (Punkte)")).to_have_value("12,5")
    axe.check()
    page.get_by_role("button", name="Veröffentlichen").click()
    expect(page.get_by_role("alert").first).to_contain_text("noch nicht veröffentlicht")
    axe.check()

    page.get_by_role("link", name="Phase hinzufügen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neue Phase")
    axe.check()
    page.get_by_label("Name", exact=True).fill("Konzept")
    page.get_by_label("Einreichung ab").fill("2027-04-01T09:00")
    page.get_by_label("Einreichung bis").fill("2027-03-01T18:00")  # before the start
    page.get_by_label("Bewertung bis").fill("2027-05-15T18:00")
    page.get_by_label("Weiter kommen").select_option(label="Die besten N")
    page.get_by_label("Anzahl (die besten N)").fill("10")
    page.get_by_role("button", name="Phase anlegen").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        "Die Einreichung muss nach ihrem Beginn enden"
    )
    expect(page.get_by_label("Einreichung bis")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Konzept")
    axe.check()
    page.get_by_role("link", name="Einreichung bis: Die Einreichung muss").click()
    expect(page.get_by_label("Einreichung bis")).to_be_focused()
    page.get_by_label("Einreichung bis").fill("2027-04-30T18:00")
    page.get_by_role("button", name="Phase anlegen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Phase „Konzept“")
    axe.check()
    page.get_by_role("link", name="Kriterium hinzufügen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Kriterium")
    axe.check()
    page.get_by_label("Kriterium", exact=True).fill("Wirkung für die Stadt")
    page.get_by_label("Skala").select_option(label="0 bis 5 in halben Punkten")
    page.get_by_label("Gewicht (Prozent)").fill("60")
    page.get_by_role("button", name="Kriterium anlegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phase „Konzept“")
    expect(page.get_by_text("Gewichte zusammen: 60 von 100 Prozent")).to_be_visible()
    axe.check()

    page.get_by_role("link", name="Smart City Challenge 2027").click()
    expect(page.locator("#problems")).to_contain_text(
        "Die Gewichte der Phase „Konzept“ ergeben 60 statt 100 Prozent."
    )
    page.get_by_role("link", name="Jury", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jury")
    page.get_by_label("E-Mail-Adresse des Kontos").fill("niemand@example.org")
    page.get_by_label("Name (öffentlich)").fill("Nora Niemand")
    page.get_by_role("button", name="In die Jury aufnehmen").click()
    expect(page.get_by_role("alert")).to_contain_text("Zu dieser E-Mail-Adresse gibt es kein Konto")
    axe.check()
    # the two refused forms answer 422; nothing refused by the CSP, no script error
    assert [e for e in console_errors if "status of 422" not in e] == []
