"""An evaluator in Chromium: their assignments, the declaration of no conflict before the
entry is shown, the scores per criterion, the submission; axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def assignment() -> Any:
    from rathaus.accounts.tests.factories import UserFactory
    from rathaus.innovation.models import Assignment
    from rathaus.innovation.tests.test_jury import (
        make_call,
        make_criteria,
        make_entry,
        make_member,
        make_phase,
    )

    call = make_call(title="Smart City Challenge")
    phase = make_phase(call)
    make_criteria(phase)
    member = make_member(
        call, public_name="Prof. Anna Schmidt", user=UserFactory(email="anna@example.org")
    )
    entry_phase = make_entry(
        phase, title="Freie Ladesäulen finden", answers={"idee": "Eine App für Ladesäulen"}
    )
    return Assignment.objects.create(entry_phase=entry_phase, evaluator=member)


def login(page: Any, live_server: Any, email: str) -> None:
    from rathaus.accounts.tests.factories import PASSWORD

    page.goto(live_server.url + "/konto/anmelden/")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/konto/**")


def test_evaluator_declares_no_conflict_scores_and_submits(
    page: Any, live_server: Any, axe: Any, assignment: Any, console_errors: list[str]
) -> None:
    login(page, live_server, "anna@example.org")
    page.goto(live_server.url + "/wettbewerbe/jury/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Bewertungen")
    axe.check()

    page.get_by_role("link", name="Freie Ladesäulen finden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Interessenkonflikt erklären")
    expect(page.get_by_text("Eine App für Ladesäulen")).to_have_count(0)
    axe.check()
    page.get_by_label("Ich habe keinen Interessenkonflikt bei diesem Beitrag.").check()
    page.get_by_role("button", name="Erklärung abgeben").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Freie Ladesäulen finden")
    expect(page.get_by_text("Eine App für Ladesäulen")).to_be_visible()
    axe.check()
    page.get_by_label("Wirkung", exact=True).fill("12")
    page.get_by_label("Machbarkeit", exact=True).fill("3.5")
    page.get_by_label("Datenschutz", exact=True).select_option("1")
    page.get_by_role("button", name="Bewertung abgeben").click()
    expect(page.get_by_text("Bitte ganze Punkte von 0 bis 10 angeben.").first).to_be_visible()
    axe.check()

    page.get_by_label("Wirkung", exact=True).fill("7")
    page.get_by_label("Kommentar zu „Wirkung“").fill("Überzeugende Idee.")
    page.get_by_role("button", name="Bewertung abgeben").click()
    expect(page.get_by_text("Ihre Bewertung ist abgegeben.")).to_be_visible()
    expect(page.get_by_text("Abgegeben: 76 von 100 Punkten (gewichtet).")).to_be_visible()
    axe.check()
    # the page with the value off the scale answers 422; anything else (a refused inline
    # script or style) is not expected
    assert [e for e in console_errors if "status of 422" not in e] == [], console_errors

    assignment.refresh_from_db()
    assert assignment.state == "submitted"
