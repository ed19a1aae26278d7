"""The hub's events: the public list and page, registering (seats, waiting list, window,
the same address twice, robots, rate limit), the e-mails (iCal file, QR code, cancel link),
cancelling with move-up, check-in at the door, the staff's pages and the outcome."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.economy import views
from rathaus.economy.constants import EventFormat, EventStatus, RegistrationStatus
from rathaus.economy.models import Event, Organisation, Person, Registration, Room

pytestmark = pytest.mark.django_db


def make_event(**values: Any) -> Event:
    start = timezone.now() + timedelta(days=7)
    defaults: dict[str, Any] = {
        "title": "KI im Mittelstand",
        "slug": "ki-im-mittelstand",
        "status": EventStatus.PUBLISHED,
        "format": EventFormat.ON_SITE,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "venue_name": "Basislager Coworking",
        "venue_address": "Peterssteinweg 14, 04107 Leipzig",
        "capacity": 2,
    }
    defaults.update(values)
    return Event.objects.create(**defaults)


def register(client: Client, event: Event, name: str, email: str, **extra: str) -> Any:
    return client.post(
        f"/wirtschaft/veranstaltungen/{event.slug}/anmelden/",
        {"anmeldung-name": name, "anmeldung-email": email, **extra},
    )


def deliver() -> None:
    process_batch(worker_id="test", limit=50)


def mail_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def cancel_link(message: Any) -> str:
    found = re.search(r"/wirtschaft/veranstaltungen/abmelden/([A-Z0-9]+)/", message.body)
    assert found, message.body
    return found.group(0)


def checkin_code(message: Any) -> str:
    found = re.search(r"Einlass-Code: ([A-Z0-9-]+)", message.body)
    assert found, message.body
    return found.group(1)


# ---- the public pages -----------------------------------------------------------------------


def test_list_shows_upcoming_published_events_and_past_ones_on_their_own_tab(
    client: Client,
) -> None:
    make_event(title="Hackathon Open Data", slug="hackathon")
    make_event(title="Geheimer Entwurf", slug="entwurf", status=EventStatus.DRAFT)
    past = timezone.now() - timedelta(days=30)
    make_event(title="Rückblick Smart City", slug="rueckblick", starts_at=past, ends_at=past)

    page = client.get("/wirtschaft/veranstaltungen/").content.decode()
    assert "Hackathon Open Data" in page
    assert "Geheimer Entwurf" not in page and "Rückblick Smart City" not in page
    past_page = client.get("/wirtschaft/veranstaltungen/?zeit=vergangen").content.decode()
    assert "Rückblick Smart City" in past_page and "Hackathon Open Data" not in past_page
    assert client.get("/wirtschaft/veranstaltungen/entwurf/").status_code == 404


def test_event_page_shows_venue_accessibility_organisers_speakers_agenda_and_seats(
    client: Client,
) -> None:
    room = Room.objects.create(name="Forum", capacity=80, wheelchair_accessible=True)
    event = make_event(
        room=room,
        accessibility="Stufenloser Zugang über den Hof, Aufzug, barrierefreies WC",
        agenda=[{"time": "18:00", "title": "Begrüßung", "speaker": "Anna Schmidt"}],
        capacity=30,
    )
    event.organisers.add(
        Organisation.objects.create(name="Spinlab", slug="spinlab", kind="accelerator")
    )
    event.speakers.add(Person.objects.create(name="Anna Schmidt", title="CTO"))

    page = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/").content.decode()
    for text in (
        "Forum",
        "Stufenloser Zugang über den Hof",
        "Spinlab",
        "Anna Schmidt, CTO",
        "Begrüßung",
        "30 von 30 Plätzen frei",
        "Jetzt anmelden",
    ):
        assert text in page


def test_selectors_for_other_apps_list_public_events_of_an_organisation() -> None:
    from rathaus.economy.selectors.events import event_public_list, events_of_organisation

    spinlab = Organisation.objects.create(name="Spinlab", slug="spinlab", kind="accelerator")
    mine = make_event(slug="mine")
    mine.organisers.add(spinlab)
    draft = make_event(slug="draft", status=EventStatus.DRAFT)
    draft.organisers.add(spinlab)
    make_event(slug="other")

    assert [e.slug for e in events_of_organisation(organisation_id=spinlab.pk)] == ["mine"]
    assert {e.slug for e in event_public_list(upcoming=True)} == {"mine", "other"}
    assert list(event_public_list(upcoming=False)) == []


# ---- registering ------------------------------------------------------------------------------


def test_seats_are_confirmed_until_full_then_people_go_on_the_waiting_list(
    client: Client,
) -> None:
    event = make_event(capacity=2)
    for number in range(3):
        response = register(client, event, f"Person {number}", f"p{number}@example.org")
        assert response.status_code == 302
    statuses = list(Registration.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["confirmed", "confirmed", "waiting"]
    event.refresh_from_db()
    assert event.confirmed_count == 2

    # a visitor is pointed to the e-mail (the page does not tell a seat from the list)
    page = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/angemeldet/").content.decode()
    assert "Danke für Ihre Anmeldung" in page and "Einlass-Code" in page
    assert "data:image/svg+xml" not in page
    detail = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/").content.decode()
    assert "Auf die Warteliste" in detail

    deliver()
    confirmed = mail_to("p0@example.org")[0]
    assert confirmed.subject == "Anmeldung bestätigt: KI im Mittelstand"
    assert "/wirtschaft/veranstaltungen/abmelden/" in confirmed.body
    names = [attachment[0] for attachment in confirmed.attachments]
    assert names == ["veranstaltung.ics", "einlass-qr-code.png"]
    ics = confirmed.attachments[0][1]
    assert f"URL:http://127.0.0.1:8000/wirtschaft/veranstaltungen/{event.slug}/" in ics
    assert confirmed.attachments[1][1].startswith(b"\x89PNG")
    waiting = mail_to("p2@example.org")[0]
    assert waiting.subject == "Warteliste: KI im Mittelstand"
    assert waiting.attachments == [] and "Ihr Einlass-Code:" not in waiting.body


def logged_in_as(email: str) -> Client:
    client = Client()
    client.force_login(UserFactory(email=email))
    return client


def test_confirmation_page_shows_the_check_in_qr_code_to_the_address_owner(
    client: Client,
) -> None:
    event = make_event(capacity=1)
    jana = logged_in_as("jana@example.org")
    register(jana, event, "Jana Berger", "Jana@example.org")
    page = jana.get(f"/wirtschaft/veranstaltungen/{event.slug}/angemeldet/").content.decode()
    assert "Sie sind angemeldet" in page
    assert 'src="data:image/svg+xml;base64,' in page
    deliver()
    assert checkin_code(mail_to("Jana@example.org")[0]) in page
    tom = logged_in_as("tom@example.org")
    register(tom, event, "Tom Richter", "tom@example.org")
    page = tom.get(f"/wirtschaft/veranstaltungen/{event.slug}/angemeldet/").content.decode()
    assert "Sie stehen auf der Warteliste" in page and "data:image/svg+xml" not in page


def test_the_page_tells_nobody_whether_an_address_is_registered_the_address_is_told(
    client: Client,
) -> None:
    event = make_event(capacity=5)
    register(client, event, "Jana Berger", "jana@example.org")
    first = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/angemeldet/").content.decode()
    # someone else (a visitor, or logged in with another address) tries the same address
    for other in (Client(), logged_in_as("neugierig@example.org")):
        response = register(other, event, "Wer auch immer", " JANA@example.org ")
        assert response.status_code == 302
        again = other.get(f"/wirtschaft/veranstaltungen/{event.slug}/angemeldet/")
        assert again.content.decode().split("<main", 1)[1] == first.split("<main", 1)[1]
    assert Registration.objects.count() == 1
    deliver()
    notes = [m for m in mail_to("jana@example.org") if m.subject.startswith("Sie sind schon")]
    assert len(notes) == 1  # one note a day, however often it is tried
    assert "Jana Berger" in notes[0].body and "noch einmal eine Anmeldung" in notes[0].body
    assert "Wer auch immer" not in notes[0].body


def test_full_event_without_waiting_list_says_so_and_stores_nothing(client: Client) -> None:
    event = make_event(capacity=1, waiting_list=False)
    register(client, event, "Erste Person", "first@example.org")
    response = register(client, event, "Zweite Person", "second@example.org")
    assert response.status_code == 409
    assert "Die Veranstaltung ist ausgebucht." in response.content.decode()
    assert Registration.objects.count() == 1
    event.refresh_from_db()
    assert event.confirmed_count == 1


def test_registration_before_and_after_the_window_is_refused_with_the_reason(
    client: Client,
) -> None:
    later = make_event(
        slug="later", registration_opens_at=timezone.now() + timedelta(days=1), capacity=5
    )
    closed = make_event(
        slug="closed", registration_closes_at=timezone.now() - timedelta(minutes=1), capacity=5
    )
    response = register(client, later, "Zu Früh", "early@example.org")
    assert response.status_code == 409
    assert "Die Anmeldung beginnt erst am" in response.content.decode()
    response = register(client, closed, "Zu Spät", "late@example.org")
    assert "Die Anmeldung ist geschlossen." in response.content.decode()
    assert Registration.objects.count() == 0


def test_the_owner_registering_twice_gets_a_clear_message_and_the_typed_values_back(
    client: Client,
) -> None:
    event = make_event(capacity=5)
    client = logged_in_as("jana@example.org")
    register(client, event, "Jana Berger", "jana@example.org")
    response = register(client, event, "Jana B.", "  JANA@example.org ")
    assert response.status_code == 422
    page = response.content.decode()
    assert "Mit dieser E-Mail-Adresse ist schon jemand angemeldet." in page
    assert 'value="Jana B."' in page
    assert 'aria-describedby="id_anmeldung-email_helptext id_anmeldung-email_error"' in page
    assert Registration.objects.count() == 1


def test_after_cancelling_the_same_address_can_register_again(client: Client) -> None:
    event = make_event(capacity=5)
    register(client, event, "Jana Berger", "jana@example.org")
    deliver()
    client.post(cancel_link(mail_to("jana@example.org")[0]))
    assert register(client, event, "Jana Berger", "jana@example.org").status_code == 302
    assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 1


def test_missing_name_and_bad_email_are_explained_per_field(client: Client) -> None:
    event = make_event()
    response = register(client, event, "", "not-an-address")
    assert response.status_code == 422
    page = response.content.decode()
    assert "Bitte geben Sie Ihren Namen an." in page
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein" in page
    assert 'href="#id_anmeldung-name"' in page
    assert 'value="not-an-address"' in page
    assert Registration.objects.count() == 0


def test_a_robot_filling_the_hidden_field_is_not_registered(client: Client) -> None:
    event = make_event()
    response = register(
        client, event, "Bot", "bot@example.org", **{"anmeldung-website": "http://spam"}
    )
    assert response.status_code == 302
    assert Registration.objects.count() == 0


def test_too_many_registrations_from_one_address_are_slowed_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views.events, "REGISTER_RATE", "2/h")
    event = make_event(capacity=10)
    assert register(client, event, "A", "a@example.org").status_code == 302
    assert register(client, event, "B", "b@example.org").status_code == 302
    assert register(client, event, "C", "c@example.org").status_code == 429
    assert Registration.objects.count() == 2


def test_names_and_addresses_are_stored_encrypted(client: Client) -> None:
    event = make_event()
    register(client, event, "Jana Berger", "jana@example.org")
    registration = Registration.objects.get()
    assert "Jana" not in registration.person_encrypted
    assert "jana@example.org" not in registration.email_hash


# ---- cancelling and moving up -------------------------------------------------------------------


def test_cancelling_moves_the_first_waiting_person_up_and_tells_them(client: Client) -> None:
    event = make_event(capacity=1)
    register(client, event, "Erste Person", "first@example.org")
    register(client, event, "Zweite Person", "second@example.org")
    register(client, event, "Dritte Person", "third@example.org")
    deliver()
    link = cancel_link(mail_to("first@example.org")[0])

    asked = client.get(link)  # a mail scanner opening the link cancels nothing
    assert "Möchten Sie Ihren Platz freigeben?" in asked.content.decode()
    assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 1
    done = client.post(link)
    assert "Sie sind abgemeldet." in done.content.decode()

    statuses = dict(Registration.objects.values_list("status", "pk").order_by("pk"))
    first, second, third = Registration.objects.order_by("pk")
    assert (first.status, second.status, third.status) == ("cancelled", "confirmed", "waiting")
    assert second.moved_up_at is not None
    event.refresh_from_db()
    assert event.confirmed_count == 1 and statuses

    deliver()
    moved = mail_to("second@example.org")[-1]
    assert moved.subject == "Sie haben einen Platz: KI im Mittelstand"
    assert [a[0] for a in moved.attachments] == ["veranstaltung.ics", "einlass-qr-code.png"]
    assert mail_to("first@example.org")[-1].subject == "Abmeldung bestätigt: KI im Mittelstand"
    assert len(mail_to("third@example.org")) == 1  # still waiting: only the first e-mail

    again = client.post(link)  # the link used a second time
    assert again.status_code == 410
    assert "Sie haben sich bereits abgemeldet." in again.content.decode()


def test_cancelling_with_nobody_waiting_frees_the_seat(client: Client) -> None:
    event = make_event(capacity=1)
    register(client, event, "Erste Person", "first@example.org")
    deliver()
    client.post(cancel_link(mail_to("first@example.org")[0]))
    event.refresh_from_db()
    assert event.confirmed_count == 0
    assert register(client, event, "Neue Person", "new@example.org").status_code == 302
    assert Registration.objects.get(email_hash__isnull=False, status="confirmed")


def test_a_wrong_cancel_link_says_so(client: Client) -> None:
    response = client.post("/wirtschaft/veranstaltungen/abmelden/FALSCH123/")
    assert response.status_code == 404
    assert "Dieser Link zum Abmelden ist ungültig." in response.content.decode()


# ---- check-in ---------------------------------------------------------------------------------


@pytest.fixture
def staff_client(personas: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(personas["department"])
    return client


def test_staff_check_people_in_by_qr_code_and_a_second_scan_says_already(
    client: Client, staff_client: Client
) -> None:
    event = make_event()
    register(client, event, "Jana Berger", "jana@example.org")
    deliver()
    code = checkin_code(mail_to("jana@example.org")[0])
    qr_url = f"/wirtschaft/veranstaltungen/einlass/{code.replace('-', '')}/"

    shown = staff_client.get(qr_url).content.decode()
    assert "Jana Berger" in shown and "Einlass bestätigen" in shown
    first = staff_client.post(qr_url).content.decode()
    assert "Eingecheckt: Jana Berger" in first
    second = staff_client.post(qr_url).content.decode()
    assert "Bereits eingecheckt: Jana Berger" in second
    assert Registration.objects.get().checked_in_at is not None
    assert AuditEntry.objects.filter(action="economy.registration.check_in").count() == 1


def test_a_code_of_a_called_off_event_does_not_open_the_door(
    client: Client, staff_client: Client
) -> None:
    """Review finding: any event's code was accepted, a called-off event's too."""
    event = make_event()
    register(client, event, "Jana Berger", "jana@example.org")
    deliver()
    code = checkin_code(mail_to("jana@example.org")[0])
    Event.objects.filter(pk=event.pk).update(status=EventStatus.CANCELLED)

    answer = staff_client.post(f"/wirtschaft/veranstaltungen/einlass/{code.replace('-', '')}/")

    assert "abgesagt" in answer.content.decode()
    assert Registration.objects.get().checked_in_at is None


def test_staff_type_the_code_in_any_case_with_or_without_dashes(
    client: Client, staff_client: Client
) -> None:
    event = make_event()
    register(client, event, "Jana Berger", "jana@example.org")
    deliver()
    code = checkin_code(mail_to("jana@example.org")[0])
    response = staff_client.post("/wirtschaft/veranstaltungen/einlass/", {"code": code.lower()})
    assert "Eingecheckt: Jana Berger" in response.content.decode()
    wrong = staff_client.post("/wirtschaft/veranstaltungen/einlass/", {"code": "ABCD-EFGH-JKLM"})
    assert wrong.status_code == 404
    assert "Diesen Einlass-Code kennen wir nicht." in wrong.content.decode()


def test_someone_on_the_waiting_list_is_not_let_in(client: Client, staff_client: Client) -> None:
    from rathaus.economy.services.events import registration_create

    event = make_event(capacity=1)
    register(client, event, "Erste Person", "first@example.org")
    result = registration_create(event_id=event.pk, name="Warte", email="wait@example.org")
    assert result.registration.status == RegistrationStatus.WAITING
    response = staff_client.post(
        "/wirtschaft/veranstaltungen/einlass/", {"code": result.checkin_code}
    )
    assert response.status_code == 409
    assert "steht auf der Warteliste" in response.content.decode()


def test_the_registrant_opening_their_own_qr_code_sees_a_ticket_not_the_door(
    client: Client, personas: dict[str, Any]
) -> None:
    event = make_event()
    register(client, event, "Jana Berger", "jana@example.org")
    deliver()
    code = checkin_code(mail_to("jana@example.org")[0]).replace("-", "")
    page = client.post(f"/wirtschaft/veranstaltungen/einlass/{code}/").content.decode()
    assert "Dieser QR-Code ist Ihre Eintrittskarte." in page
    assert Registration.objects.get().checked_in_at is None
    citizen = Client()
    citizen.force_login(personas["citizen"])
    assert citizen.get("/wirtschaft/veranstaltungen/einlass/").status_code == 403


# ---- staff ----------------------------------------------------------------------------------


def event_post(**values: Any) -> dict[str, Any]:
    start = timezone.localtime(timezone.now() + timedelta(days=14)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    data = {
        "title": "Datenfrühstück",
        "format": "hybrid",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "venue_name": "Hub",
        "online_url": "https://meet.example.org/daten",
        "capacity": "20",
        "waiting_list": "on",
        "agenda": "18:00 | Begrüßung | Anna Schmidt\nNetzwerken",
    }
    data.update(values)
    return data


def test_staff_create_publish_and_cancel_an_event_audited(
    client: Client, staff_client: Client
) -> None:
    response = staff_client.post("/wirtschaft/veranstaltungen/verwaltung/neu/", event_post())
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.status == EventStatus.DRAFT and event.slug == "datenfruhstuck"
    assert event.agenda == [
        {"time": "18:00", "title": "Begrüßung", "speaker": "Anna Schmidt"},
        {"time": "", "title": "Netzwerken", "speaker": ""},
    ]
    assert client.get(f"/wirtschaft/veranstaltungen/{event.slug}/").status_code == 404

    staff_client.post(
        f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/status/", {"action": "publish"}
    )
    assert client.get(f"/wirtschaft/veranstaltungen/{event.slug}/").status_code == 200
    register(client, event, "Jana Berger", "jana@example.org")
    staff_client.post(
        f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/status/", {"action": "cancel"}
    )
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert (
        "Diese Veranstaltung ist abgesagt."
        in client.get(f"/wirtschaft/veranstaltungen/{event.slug}/").content.decode()
    )
    deliver()
    assert mail_to("jana@example.org")[-1].subject == "Abgesagt: Datenfrühstück"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"economy.event.create", "economy.event.publish", "economy.event.cancel"} <= actions


def test_bad_event_input_gets_messages_and_keeps_what_was_typed(staff_client: Client) -> None:
    response = staff_client.post(
        "/wirtschaft/veranstaltungen/verwaltung/neu/",
        event_post(online_url="", capacity="0", title="Online ohne Link"),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="Online ohne Link"' in page
    assert Event.objects.count() == 0
    response = staff_client.post(
        "/wirtschaft/veranstaltungen/verwaltung/neu/", event_post(online_url="")
    )
    assert "Für eine Online- oder Hybrid-Veranstaltung fehlt der Link." in response.content.decode()


def test_only_department_staff_manage_events(client: Client, personas: dict[str, Any]) -> None:
    event = make_event()
    outsider = Client()
    outsider.force_login(personas["organisation"])
    for url in (
        "/wirtschaft/veranstaltungen/verwaltung/",
        "/wirtschaft/veranstaltungen/verwaltung/neu/",
        f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/anmeldungen/",
    ):
        assert outsider.get(url).status_code == 403
    assert client.get("/wirtschaft/veranstaltungen/verwaltung/").status_code == 302  # log in


def test_fewer_seats_than_confirmed_is_refused_and_more_seats_move_people_up(
    client: Client, staff_client: Client
) -> None:
    event = make_event(capacity=1)
    register(client, event, "Erste Person", "first@example.org")
    register(client, event, "Zweite Person", "second@example.org")
    base = event_post(title=event.title, format="on_site", online_url="")
    base["starts_at"] = timezone.localtime(event.starts_at).strftime("%Y-%m-%dT%H:%M")
    base["ends_at"] = timezone.localtime(event.ends_at).strftime("%Y-%m-%dT%H:%M")
    url = f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/"

    base["capacity"] = "2"
    assert staff_client.post(url, base).status_code == 302
    assert Registration.objects.filter(status="confirmed").count() == 2
    deliver()
    assert mail_to("second@example.org")[-1].subject.startswith("Sie haben einen Platz")

    base["capacity"] = "1"
    response = staff_client.post(url, base)
    assert response.status_code == 422
    assert "Es sind schon 2 Personen angemeldet" in response.content.decode()


def test_staff_see_registrations_with_names_and_the_numbered_waiting_list(
    client: Client, staff_client: Client
) -> None:
    event = make_event(capacity=1)
    register(client, event, "Erste Person", "first@example.org")
    register(client, event, "Zweite Person", "second@example.org")
    register(client, event, "Dritte Person", "third@example.org")
    page = staff_client.get(
        f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/anmeldungen/"
    ).content.decode()
    assert "1 von 1 Plätzen vergeben, 2 auf der Warteliste" in page
    confirmed, waiting = page.split('id="waiting-heading"')
    assert "Erste Person" in confirmed and "first@example.org" in confirmed
    assert re.search(r">1</td>\s*<th[^>]*>Zweite Person", waiting)
    assert re.search(r">2</td>\s*<th[^>]*>Dritte Person", waiting)


def test_after_the_event_staff_record_the_outcome_with_links(
    client: Client, staff_client: Client
) -> None:
    past = timezone.now() - timedelta(days=1)
    event = make_event(starts_at=past, ends_at=past + timedelta(hours=2))
    url = f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/ergebnis/"
    bad = staff_client.post(url, {"notes": "x", "links": "wettbewerb | 1 | Titel"})
    assert bad.status_code == 422
    assert "Unbekannte Art „wettbewerb“" in bad.content.decode()
    staff_client.post(
        url,
        {
            "notes": "Drei Kooperationen angebahnt.",
            "links": "competition | 12 | Smart City Challenge | https://example.org/c/12\n"
            "strategy_measure | M-4 | Offene Daten im Mittelstand |",
        },
    )
    event.refresh_from_db()
    assert event.outcome_links[0] == {
        "kind": "competition",
        "id": "12",
        "title": "Smart City Challenge",
        "url": "https://example.org/c/12",
    }
    page = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/").content.decode()
    assert "Drei Kooperationen angebahnt." in page
    assert 'href="https://example.org/c/12">Smart City Challenge' in page
    assert "Offene Daten im Mittelstand" in page
    assert AuditEntry.objects.filter(action="economy.event.outcome").exists()


def test_outbox_rows_are_written_with_the_registration(client: Client) -> None:
    event = make_event()
    register(client, event, "Jana Berger", "jana@example.org")
    message = OutboxMessage.objects.get(topic="economy.registration_confirmation")
    assert "jana" not in str(message.payload).lower()  # tokens and address never in clear


def test_staff_cancel_for_someone_who_asked_and_the_next_person_moves_up(
    client: Client, staff_client: Client, personas: dict[str, Any]
) -> None:
    from rathaus.core.models import AuditEntry

    event = make_event(capacity=1)
    other = make_event(slug="anderes", capacity=1)
    register(client, event, "Jana Berger", "jana@example.org")
    register(client, event, "Tom Richter", "tom@example.org")
    jana = Registration.objects.get(status=RegistrationStatus.CONFIRMED)
    base = f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/anmeldungen/"
    listing = staff_client.get(base).content.decode()
    assert "Jana Berger abmelden" in listing and "Tom Richter abmelden" in listing
    # not for anyone else, and not through another event's page
    citizen = Client()
    citizen.force_login(personas["citizen"])
    assert citizen.post(f"{base}{jana.pk}/abmelden/").status_code == 403
    staff_client.post(
        f"/wirtschaft/veranstaltungen/verwaltung/{other.pk}/anmeldungen/{jana.pk}/abmelden/"
    )
    jana.refresh_from_db()
    assert jana.status == RegistrationStatus.CONFIRMED
    page = staff_client.post(f"{base}{jana.pk}/abmelden/", follow=True).content.decode()
    assert "Die Anmeldung ist storniert" in page
    jana.refresh_from_db()
    assert jana.status == RegistrationStatus.CANCELLED
    tom = Registration.objects.exclude(pk=jana.pk).get()
    assert tom.status == RegistrationStatus.CONFIRMED  # moved up
    assert AuditEntry.objects.filter(action="economy.registration.cancel").count() == 1
    deliver()
    assert any("abgemeldet" in m.body.lower() for m in mail_to("jana@example.org"))
    assert mail_to("tom@example.org")[-1].subject == "Sie haben einen Platz: KI im Mittelstand"
