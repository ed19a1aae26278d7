"""The hub's rooms in Chromium: a member finds a room, reads its week as a table, books it
(a conflict first, with the message linked to the form), finds and cancels the booking under
"my bookings"; staff create a room; the pages without JavaScript. axe-core on every page."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _at(days: int, hour: int) -> datetime:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=14 + days)
    return datetime.combine(monday, time(hour), tzinfo=timezone.get_default_timezone())


def _log_in(page: Any, live_server: Any, email: str, next_path: str) -> None:
    from rathaus.accounts.tests.factories import PASSWORD

    page.goto(f"{live_server.url}/konto/anmelden/?next={next_path}")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"**{next_path}")


@pytest.fixture
def hub() -> dict[str, Any]:
    from rathaus.accounts.tests.factories import UserFactory
    from rathaus.economy.constants import MemberRole, OrganisationKind
    from rathaus.economy.models import Membership, Organisation, Room, RoomBooking

    room = Room.objects.create(
        name="Seminarraum Basis",
        capacity=20,
        equipment=["Beamer", "Whiteboard"],
        accessibility="Aufzug im Hof, barrierefreie Toilette im Erdgeschoss",
        wheelchair_accessible=True,
    )
    other = Organisation.objects.create(
        name="Andere GmbH", name_key="andere", slug="andere", kind=OrganisationKind.SME
    )
    RoomBooking.objects.create(
        room=room,
        title="Geheimes Strategietreffen",
        starts_at=_at(0, 10),
        ends_at=_at(0, 12),
        organisation=other,
    )
    org = Organisation.objects.create(
        name="Spinlab Start-up", name_key="spinlab", slug="spinlab", kind=OrganisationKind.STARTUP
    )
    user = UserFactory(email="gruenderin@example.org")
    Membership.objects.create(organisation=org, user=user, role=MemberRole.ADMIN)
    return {"room": room, "org": org}


def test_member_books_a_room_after_a_conflict_and_cancels_it(
    page: Any, live_server: Any, axe: Any, hub: dict[str, Any], console_errors: list[str]
) -> None:
    _log_in(page, live_server, "gruenderin@example.org", "/wirtschaft/raeume/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Räume im Hub")
    table = page.get_by_role("region", name="Alle Räume mit Plätzen, Ausstattung und")
    expect(table.get_by_role("cell", name="Beamer, Whiteboard")).to_be_visible()
    axe.check()

    page.get_by_role("link", name="Seminarraum Basis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seminarraum Basis")
    page.get_by_label("Woche mit dem Tag").fill(_at(0, 0).date().isoformat())
    page.get_by_role("button", name="Woche anzeigen").click()
    week = page.get_by_role("region", name="Belegung vom")
    expect(week.get_by_text("10:00–12:00 Uhr: belegt")).to_be_visible()
    expect(week.get_by_text("08:00–10:00, 12:00–22:00 Uhr")).to_be_visible()
    expect(page.get_by_text("Geheimes Strategietreffen")).to_have_count(0)
    axe.check()

    page.get_by_role("link", name="Diesen Raum buchen").click()
    page.get_by_label("Anlass").fill("Pitch-Training")
    page.get_by_label("Beginn", exact=True).fill(_at(0, 11).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ende", exact=True).fill(_at(0, 13).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Buchen für").select_option(label="Spinlab Start-up")
    page.get_by_role("button", name="Verbindlich buchen").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Der Raum ist in dieser Zeit schon belegt")
    expect(alert).to_contain_text("12:00")
    expect(alert).not_to_contain_text("Geheimes")
    expect(page.get_by_label("Anlass")).to_have_value("Pitch-Training")
    axe.check()

    page.get_by_label("Beginn", exact=True).fill(_at(0, 12).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ende", exact=True).fill(_at(0, 14).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ende", exact=True).press("Enter")  # the keyboard submits the form
    expect(page.get_by_text("für Sie gebucht")).to_be_visible()
    expect(page.get_by_text("12:00–14:00 Uhr: Pitch-Training (Ihre Buchung)")).to_be_visible()
    axe.check()

    page.goto(live_server.url + "/wirtschaft/raeume/buchungen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Raumbuchungen")
    axe.check()
    page.get_by_role("link", name=re.compile(r"^Stornieren\s?: Pitch-Training$")).click()
    axe.check()
    page.get_by_role("button", name="Buchung stornieren").click()
    expect(page.get_by_text("Die Buchung ist storniert.")).to_be_visible()
    # the cancelled booking stays listed, its status in words
    expect(
        page.get_by_role("row", name=re.compile("Pitch-Training")).get_by_role(
            "cell", name="Storniert"
        )
    ).to_be_visible()
    axe.check()
    # the refused booking answers 400 on purpose; anything else (a CSP refusal) is a fault
    unexpected = [e for e in console_errors if "status of 400" not in e]
    assert not unexpected, unexpected


def test_staff_create_a_room_and_see_the_titles(
    page: Any, live_server: Any, axe: Any, hub: dict[str, Any]
) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.services import role_assign
    from rathaus.accounts.tests.factories import UserFactory

    role_assign(
        actor=None, user=UserFactory(email="referat@example.org"), role=Role.DEPARTMENT_STAFF
    )
    _log_in(page, live_server, "referat@example.org", "/wirtschaft/raeume/neu/")
    axe.check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("alert")).to_contain_text("Name")
    axe.check()
    page.get_by_label("Name").fill("Werkstatt")
    page.get_by_label("Plätze").fill("8")
    page.get_by_label("Ausstattung").fill("Lötstation\n3D-Drucker")
    page.get_by_label("rollstuhlgerecht").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Der Raum ist angelegt.")).to_be_visible()
    expect(page.get_by_text("Lötstation, 3D-Drucker")).to_be_visible()
    axe.check()

    room = hub["room"]
    page.goto(f"{live_server.url}/wirtschaft/raeume/{room.pk}/?woche={_at(0, 0).date()}")
    expect(page.get_by_text("10:00–12:00 Uhr: Geheimes Strategietreffen")).to_be_visible()


def test_room_pages_work_without_javascript(
    browser: Any, live_server: Any, hub: dict[str, Any]
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.goto(f"{live_server.url}/wirtschaft/raeume/")
    page.get_by_role("link", name="Seminarraum Basis").click()
    page.get_by_role("link", name="Nächste Woche").click()
    page.get_by_role("link", name="Nächste Woche").click()
    expect(page.get_by_text("10:00–12:00 Uhr: belegt")).to_be_visible()
    context.close()
