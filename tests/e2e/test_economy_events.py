"""The hub's events in Chromium: a visitor finds an event, registers (first with a mistake,
then correctly), sees the check-in QR code; the last seat goes, the next person lands on the
waiting list and moves up when the first cancels by the e-mail's link; staff let people in
at the door and see the registrations. axe-core on every page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def event() -> Any:
    from django.utils import timezone

    from rathaus.economy.constants import EventFormat, EventStatus
    from rathaus.economy.models import Event, Room

    room = Room.objects.create(name="Forum", capacity=40, wheelchair_accessible=True)
    start = timezone.now() + timedelta(days=5)
    return Event.objects.create(
        title="KI im Mittelstand",
        slug="ki-im-mittelstand",
        status=EventStatus.PUBLISHED,
        format=EventFormat.HYBRID,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        room=room,
        online_url="https://meet.example.org/ki",
        accessibility="Stufenloser Zugang, Aufzug",
        agenda=[{"time": "18:00", "title": "Begrüßung", "speaker": ""}],
        capacity=1,
    )


def test_visitor_registers_waits_and_moves_up_and_staff_check_in(
    page: Any, live_server: Any, axe: Any, event: Any, console_errors: list[str]
) -> None:
    from django.core import mail

    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import PASSWORD, UserFactory, with_role
    from rathaus.core.outbox import process_batch

    page.goto(live_server.url + "/wirtschaft/veranstaltungen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Veranstaltungen")
    axe.check()
    page.get_by_role("link", name="KI im Mittelstand").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("KI im Mittelstand")
    expect(page.get_by_text("Stufenloser Zugang, Aufzug")).to_be_visible()
    axe.check()

    page.get_by_role("link", name="Jetzt anmelden").click()
    page.get_by_label("Vor- und Nachname").fill("Jana Berger")
    page.get_by_label("E-Mail-Adresse").fill("jana@example")
    page.get_by_role("button", name="Verbindlich anmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("gültige E-Mail-Adresse")
    expect(page.get_by_label("Vor- und Nachname")).to_have_value("Jana Berger")
    axe.check()
    page.get_by_label("E-Mail-Adresse").fill("jana@example.org")
    page.get_by_role("button", name="Verbindlich anmelden").click()
    # a visitor is pointed to the e-mail: the page does not tell whether the address was new
    expect(page.get_by_role("heading", level=1)).to_have_text("Danke für Ihre Anmeldung")
    expect(page.get_by_role("status")).to_contain_text("Einlass-Code")
    axe.check()

    # the only seat is gone: the next person is offered the waiting list
    page.goto(live_server.url + "/wirtschaft/veranstaltungen/ki-im-mittelstand/")
    page.get_by_role("link", name="Auf die Warteliste").click()
    page.get_by_label("Vor- und Nachname").fill("Tom Richter")
    page.get_by_label("E-Mail-Adresse").fill("tom@example.org")
    page.get_by_role("button", name="Auf die Warteliste setzen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Danke für Ihre Anmeldung")
    axe.check()

    process_batch(worker_id="e2e", limit=20)
    jana = next(m for m in mail.outbox if "jana@example.org" in m.to)
    link = re.search(r"http://\S+/abmelden/\S+/", jana.body)
    code = re.search(r"Einlass-Code: (\S+)", jana.body)
    assert link and code
    page.goto(live_server.url + link.group(0).split("8000", 1)[-1])
    expect(page.get_by_text("Möchten Sie Ihren Platz freigeben?")).to_be_visible()
    axe.check()
    page.get_by_role("button", name="Ja, abmelden").click()
    expect(page.get_by_text("Sie sind abgemeldet.")).to_be_visible()
    axe.check()
    process_batch(worker_id="e2e", limit=20)
    tom = [m for m in mail.outbox if "tom@example.org" in m.to]
    assert tom[-1].subject == "Sie haben einen Platz: KI im Mittelstand"
    tom_code = re.search(r"Einlass-Code: (\S+)", tom[-1].body)
    assert tom_code

    # staff at the door: log in, type Tom's code, then a second time
    with_role(UserFactory(email="hub@example.org"), Role.DEPARTMENT_STAFF)
    page.goto(live_server.url + "/wirtschaft/veranstaltungen/einlass/")
    page.get_by_label("E-Mail-Adresse").fill("hub@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Einlass")
    axe.check()
    page.get_by_label("Einlass-Code").fill(tom_code.group(1))
    page.get_by_role("button", name="Einchecken").click()
    expect(page.get_by_role("status").first).to_contain_text("Eingecheckt: Tom Richter")
    axe.check()
    page.get_by_label("Einlass-Code").fill(tom_code.group(1).lower())
    page.get_by_role("button", name="Einchecken").click()
    expect(page.get_by_role("alert")).to_contain_text("Bereits eingecheckt: Tom Richter")

    page.goto(live_server.url + f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/anmeldungen/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Anmeldungen")
    expect(page.get_by_role("region", name=re.compile("^Angemeldet"))).to_contain_text(
        "Tom Richter"
    )
    expect(page.get_by_role("region", name=re.compile("^Abgemeldet"))).to_contain_text(
        "Jana Berger"
    )
    axe.check()
    page.goto(live_server.url + f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/")
    expect(page.get_by_label("Titel", exact=True)).to_have_value("KI im Mittelstand")
    axe.check()
    # the one 422 is the page with the mistake; anything else (a refused script) is not
    assert [e for e in console_errors if "status of 422" not in e] == [], console_errors
