"""The rooms pages: the list, a room's week as a table, booking with clear messages for bad
input, "my bookings", cancelling, and the staff's room editing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rathaus.accounts.tests.factories import UserFactory
from rathaus.economy.constants import BookingStatus, MemberRole
from rathaus.economy.models import Room, RoomBooking
from rathaus.economy.tests.test_rooms import at, book, member_of, organisation, room, staff_user

pytestmark = pytest.mark.django_db


def local(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anyone_sees_the_rooms_with_capacity_equipment_and_accessibility(client: Client) -> None:
    room("Seminarraum 1", capacity=20)
    room("Lager", active=False)
    page = client.get(reverse("economy:room_list")).content.decode()
    assert "Seminarraum 1" in page and ">20<" in page
    assert "Beamer, Whiteboard" in page and "rollstuhlgerecht. Aufzug im Hof" in page
    assert "Lager" not in page
    assert "Zum Buchen melden Sie sich bitte an" in page


def test_room_week_shows_belegt_to_others_and_the_title_to_staff(client: Client) -> None:
    r = room()
    book(member_of(organisation("Geheim GmbH")), r, at(0, 10), at(0, 12))
    url = reverse("economy:room_detail", args=[r.pk]) + f"?woche={at(2, 0).date().isoformat()}"
    page = client.get(url).content.decode()
    assert "10:00–12:00 Uhr: belegt" in page
    assert "Workshop" not in page and "Geheim" not in page
    assert "08:00–10:00, 12:00–22:00 Uhr" in page  # free times as text
    staff_page = logged_in(staff_user()).get(url).content.decode()
    assert "10:00–12:00 Uhr: Workshop" in staff_page


def test_a_bad_week_date_gives_a_message_not_an_error(client: Client) -> None:
    r = room()
    response = client.get(reverse("economy:room_detail", args=[r.pk]) + "?woche=gestern")
    assert response.status_code == 200
    assert "Bitte geben Sie ein Datum an" in response.content.decode()


def test_member_books_a_room_and_finds_it_under_my_bookings() -> None:
    org = organisation()
    user = member_of(org)
    r = room()
    client = logged_in(user)
    form_page = client.get(reverse("economy:room_booking_create", args=[r.pk]))
    assert "csrfmiddlewaretoken" in form_page.content.decode()
    response = client.post(
        reverse("economy:room_booking_create", args=[r.pk]),
        {
            "title": "Hackathon-Vorbereitung",
            "starts_at": local(at(0, 10)),
            "ends_at": local(at(0, 12)),
            "organisation": org.pk,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "ist ab" in page and "für Sie gebucht" in page
    assert "Hackathon-Vorbereitung (Ihre Buchung)" in page
    booking = RoomBooking.objects.get()
    assert booking.starts_at == at(0, 10)  # entered in local time, stored as that instant
    mine = client.get(reverse("economy:room_booking_mine")).content.decode()
    assert "Hackathon-Vorbereitung" in mine and org.name in mine


def test_a_conflicting_booking_keeps_the_input_and_names_the_taken_time() -> None:
    r = room()
    book(member_of(organisation("Eins")), r, at(0, 10), at(0, 12))
    org = organisation("Zwei")
    client = logged_in(member_of(org))
    response = client.post(
        reverse("economy:room_booking_create", args=[r.pk]),
        {
            "title": "Mein Treffen",
            "starts_at": local(at(0, 11)),
            "ends_at": local(at(0, 13)),
            "organisation": org.pk,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "schon belegt" in page and "12:00" in page
    assert 'value="Mein Treffen"' in page
    assert RoomBooking.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ((0, 12), (0, 10), "Das Ende muss nach dem Beginn liegen."),
        ((-30, 10), (-30, 12), "Der Beginn liegt in der Vergangenheit."),
        ((0, 10), (15, 10), "höchstens 14 Tage"),
    ],
)
def test_bad_times_show_a_message_linked_to_the_field(
    start: tuple[int, int], end: tuple[int, int], message: str
) -> None:
    org = organisation()
    client = logged_in(member_of(org))
    response = client.post(
        reverse("economy:room_booking_create", args=[room().pk]),
        {
            "title": "Treffen",
            "starts_at": local(at(*start)),
            "ends_at": local(at(*end)),
            "organisation": org.pk,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page and "_error" in page
    assert not RoomBooking.objects.exists()


def test_garbage_times_and_too_many_people_get_messages() -> None:
    org = organisation()
    r = room(capacity=5)
    client = logged_in(member_of(org))
    response = client.post(
        reverse("economy:room_booking_create", args=[r.pk]),
        {"title": "", "starts_at": "morgen", "ends_at": "", "organisation": "999"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Bitte geben Sie Datum und Uhrzeit an" in page
    assert "Bitte wählen Sie eine Organisation aus der Liste." in page
    response = client.post(
        reverse("economy:room_booking_create", args=[r.pk]),
        {
            "title": "Groß",
            "starts_at": local(at(0, 10)),
            "ends_at": local(at(0, 12)),
            "organisation": org.pk,
            "attendees": "6",
        },
    )
    assert "Der Raum hat nur 5 Plätze" in response.content.decode()


def test_booking_pages_need_a_login_and_an_organisation(client: Client) -> None:
    r = room()
    url = reverse("economy:room_booking_create", args=[r.pk])
    assert client.get(url).status_code == 302
    assert logged_in(UserFactory()).get(url).status_code == 403
    inactive = room("Zu", active=False)
    member = logged_in(member_of(organisation()))
    assert member.get(reverse("economy:room_booking_create", args=[inactive.pk])).status_code == 404


def test_org_admin_cancels_a_colleagues_booking_but_a_plain_colleague_cannot() -> None:
    org = organisation()
    booking = book(member_of(org), room(), at(0, 10), at(0, 12))
    url = reverse("economy:room_booking_cancel", args=[booking.pk])
    assert logged_in(member_of(org)).post(url).status_code == 403
    assert logged_in(member_of(organisation("X"))).get(url).status_code == 403
    admin = logged_in(member_of(org, MemberRole.ADMIN))
    assert "Buchung stornieren" in admin.get(url).content.decode()
    response = admin.post(url, follow=True)
    assert "Die Buchung ist storniert." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_staff_create_edit_and_deactivate_rooms_through_the_pages() -> None:
    client = logged_in(staff_user())
    response = client.post(
        reverse("economy:room_create"),
        {
            "name": "Werkstatt",
            "capacity": "12",
            "equipment": "Beamer\nLötstation",
            "accessibility": "Rampe",
            "wheelchair_accessible": "on",
            "active": "on",
        },
        follow=True,
    )
    assert "Der Raum ist angelegt." in response.content.decode()
    created = Room.objects.get(name="Werkstatt")
    assert created.equipment == ["Beamer", "Lötstation"] and created.wheelchair_accessible
    bad = client.post(
        reverse("economy:room_edit", args=[created.pk]),
        {"name": "Werkstatt", "capacity": "viele"},
    )
    assert bad.status_code == 400
    assert "Bitte geben Sie eine ganze Zahl ein." in bad.content.decode()
    client.post(reverse("economy:room_deactivate", args=[created.pk]))
    created.refresh_from_db()
    assert not created.active


def test_members_cannot_reach_the_room_editing_pages() -> None:
    r = room()
    client = logged_in(member_of(organisation()))
    assert client.get(reverse("economy:room_create")).status_code == 403
    assert client.get(reverse("economy:room_edit", args=[r.pk])).status_code == 403
    assert client.post(reverse("economy:room_deactivate", args=[r.pk])).status_code == 403
    r.refresh_from_db()
    assert r.active


def test_my_bookings_needs_the_same_number_of_queries_for_many_bookings(
    django_assert_max_num_queries: Any,
) -> None:
    org = organisation()
    user = member_of(org, MemberRole.ADMIN)
    r = room()
    for day in range(12):
        book(member_of(org), r, at(day, 10), at(day, 12))
    client = logged_in(user)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("economy:room_booking_mine")).content.decode()
    assert page.count("Stornieren") == 12  # an admin of the organisation cancels any of them


def test_a_local_time_that_does_not_exist_on_the_clock_change_gets_a_message() -> None:
    org = organisation()
    client = logged_in(member_of(org))
    # 28 March 2027, 02:30 does not exist in Leipzig: the clocks jump from 02:00 to 03:00
    response = client.post(
        reverse("economy:room_booking_create", args=[room().pk]),
        {
            "title": "Nachtschicht",
            "starts_at": "2027-03-28T02:30",
            "ends_at": "2027-03-28T05:00",
            "organisation": org.pk,
        },
    )
    assert response.status_code == 400
    assert "Europe/Berlin" in response.content.decode()
    assert not RoomBooking.objects.exists()


def test_a_booking_over_the_clock_change_keeps_its_local_times() -> None:
    org = organisation()
    client = logged_in(member_of(org))
    client.post(
        reverse("economy:room_booking_create", args=[room().pk]),
        {
            "title": "Lange Nacht",
            "starts_at": "2027-03-27T20:00",
            "ends_at": "2027-03-28T10:00",
            "organisation": org.pk,
        },
    )
    booking = RoomBooking.objects.get()
    assert booking.ends_at - booking.starts_at == timedelta(hours=13)  # one hour lost
