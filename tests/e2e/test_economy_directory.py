"""The directory in Chromium: finding organisations by list, filters and map (with the
keyboard), a profile, registering with an error linked to its field, staff moderation;
axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def directory(settings: Any) -> dict[str, Any]:
    from rathaus.economy.constants import TermKind
    from rathaus.economy.tests.factories_directory import OrganisationFactory, TermFactory

    settings.TILE_URL = "/static/core/favicon.svg?{z}{x}{y}"  # no tiles from the internet
    ki = TermFactory(kind=TermKind.COMPETENCE, slug="ki", name="Künstliche Intelligenz")
    robots = OrganisationFactory(
        name="Robotik Werk",
        description="Wir bauen Lieferroboter.",
        hiring=True,
        lat=51.332,
        lon=12.332,
        street="Karl-Heine-Straße 1",
        postal_code="04229",
        terms=[ki],
    )
    OrganisationFactory(name="Bäckerei Digital", lat=51.334, lon=12.334)
    OrganisationFactory(name="Datenhaus", lat=51.36, lon=12.40)
    return {"robots": robots}


def login(page: Any, live_server: Any, email: str) -> None:
    from rathaus.accounts.tests.factories import PASSWORD

    page.goto(live_server.url + "/konto/anmelden/")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/konto/**")


def test_visitor_finds_an_organisation_by_filter_list_and_map(
    page: Any, live_server: Any, axe: Any, directory: dict[str, Any], console_errors: list[str]
) -> None:
    page.goto(live_server.url + "/wirtschaft/")
    axe.check()
    page.get_by_role("link", name="Verzeichnis", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Verzeichnis der digitalen Wirtschaft"
    )
    expect(page.get_by_text("3 Einträge gefunden.")).to_be_visible()
    expect(page.get_by_role("region", name="Karte der gefundenen Organisationen")).to_be_visible()
    # the two near each other are one marker, named with both
    expect(
        page.get_by_role("button", name="2 Organisationen an diesem Ort: Bäckerei Digital")
    ).to_be_visible()
    axe.check()

    page.get_by_label("stellt ein").check()
    page.get_by_label("Kompetenz").select_option(label="Künstliche Intelligenz")
    page.get_by_label("Suchbegriff").fill("Lieferroboter")
    page.get_by_label("Suchbegriff").press("Enter")
    expect(page.get_by_text("Ein Eintrag gefunden.")).to_be_visible()
    marker = page.get_by_role("button", name="1 Organisation: Robotik Werk")
    marker.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup").get_by_role("link", name="Robotik Werk")).to_be_visible()
    page.locator("#list-heading ~ ul").get_by_role("link", name="Robotik Werk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robotik Werk")
    expect(page.get_by_text("Karl-Heine-Straße 1")).to_be_visible()
    expect(page.get_by_role("region", name="Karte: Lage von Robotik Werk")).to_be_visible()
    axe.check()
    assert not console_errors


def test_person_registers_an_organisation_and_staff_publish_it(
    page: Any, live_server: Any, axe: Any, directory: dict[str, Any]
) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import UserFactory, with_role

    UserFactory(email="gruenderin@example.org")
    with_role(UserFactory(email="referat@example.org"), Role.DEPARTMENT_STAFF)
    login(page, live_server, "gruenderin@example.org")
    page.goto(live_server.url + "/wirtschaft/verzeichnis/eintragen/")
    axe.check()
    page.get_by_label("Name der Organisation").fill("Neues Start-up")
    page.get_by_label("Art", exact=True).select_option(label="Start-up")
    page.get_by_label("Postleitzahl").fill("041")
    page.get_by_role("button", name="Zur Prüfung eintragen").click()
    expect(page.get_by_role("alert")).to_contain_text("fünf Ziffern")
    expect(page.get_by_label("Postleitzahl")).to_have_attribute(
        "aria-describedby", "id_postal_code_error"
    )
    expect(page.get_by_label("Name der Organisation")).to_have_value("Neues Start-up")
    axe.check()
    page.get_by_label("Postleitzahl").fill("04109")
    page.get_by_role("button", name="Zur Prüfung eintragen").click()
    expect(page.get_by_text("wartet auf die Prüfung")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Start-up")
    axe.check()

    page.context.clear_cookies()
    login(page, live_server, "referat@example.org")
    page.goto(live_server.url + "/wirtschaft/verzeichnis/pruefung/")
    axe.check()
    section = page.get_by_role("region", name="Neues Start-up")
    section.get_by_label("Veröffentlichen").check()
    section.get_by_role("button", name="Entscheidung zu Neues Start-up speichern").click()
    expect(page.get_by_text("„Neues Start-up“ ist veröffentlicht.")).to_be_visible()
    axe.check()
    page.context.clear_cookies()
    page.goto(live_server.url + "/wirtschaft/verzeichnis/?q=Start-up")
    expect(page.get_by_role("link", name="Neues Start-up")).to_be_visible()


def test_admin_invites_a_colleague_who_accepts_after_logging_in(
    page: Any, live_server: Any, axe: Any, directory: dict[str, Any]
) -> None:
    import re

    from django.core import mail

    from rathaus.accounts.tests.factories import UserFactory
    from rathaus.core.outbox import process_batch
    from rathaus.economy.tests.factories_directory import membership

    robots = directory["robots"]
    membership(UserFactory(email="chefin@example.org"), robots)
    UserFactory(email="kollege@example.org")
    login(page, live_server, "chefin@example.org")
    page.goto(live_server.url + f"/wirtschaft/verzeichnis/{robots.slug}/mitglieder/")
    expect(page.get_by_role("heading", level=2, name="Person einladen")).to_be_visible()
    page.get_by_label("E-Mail-Adresse der Person").fill("kollege@example.org")
    page.get_by_role("button", name="Einladen").click()
    expect(page.get_by_text("Die Einladung an kollege@example.org ist unterwegs.")).to_be_visible()
    expect(
        page.get_by_role("button", name="Einladung an kollege@example.org zurückziehen")
    ).to_be_visible()
    axe.check()

    process_batch(worker_id="e2e", limit=10)
    invitation = next(m for m in mail.outbox if m.to == ["kollege@example.org"])
    link = re.search(r"/wirtschaft/einladung/[^/\s]+/", invitation.body)
    assert link
    page.context.clear_cookies()
    page.goto(live_server.url + link.group(0))
    expect(page.get_by_text("Sie sind eingeladen, „Robotik Werk“ mitzuverwalten")).to_be_visible()
    axe.check()
    login(page, live_server, "kollege@example.org")
    page.goto(live_server.url + link.group(0))
    page.get_by_role("button", name="Einladung annehmen").click()
    expect(page.get_by_text("Sie sind jetzt Mitglied von „Robotik Werk“.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robotik Werk")
    axe.check()
