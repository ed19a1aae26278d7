"""The hub's rooms: managing rooms (audited), booking without double bookings, cancelling,
the gates and the selectors other parts use."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from rathaus.accounts.constants import Role
from rathaus.accounts.models import User
from rathaus.accounts.services import role_assign
from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import AuditEntry
from rathaus.economy.constants import BookingStatus, EventFormat, MemberRole, OrganisationKind
from rathaus.economy.models import Event, Membership, Organisation, Room, RoomBooking
from rathaus.economy.selectors import rooms as selectors
from rathaus.economy.services import rooms as services
from rathaus.economy.services.rooms import BookingError

pytestmark = pytest.mark.django_db


# ---- helpers shared by the rooms tests -------------------------------------------------------


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A local (Europe/Berlin) time ``days`` after the Monday two weeks from now."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=14 + days)
    return datetime.combine(monday, time(hour, minute), tzinfo=timezone.get_default_timezone())


def staff_user() -> User:
    user = UserFactory()
    role_assign(actor=None, user=user, role=Role.DEPARTMENT_STAFF)
    return user


def organisation(name: str = "Spinlab GmbH") -> Organisation:
    return Organisation.objects.create(
        name=name,
        name_key=name.lower(),
        slug=name.lower().replace(" ", "-"),
        kind=OrganisationKind.STARTUP,
    )


def member_of(org: Organisation, role: str = MemberRole.MEMBER) -> User:
    user = UserFactory()
    Membership.objects.create(organisation=org, user=user, role=role)
    return user


def room(name: str = "Seminarraum 1", capacity: int = 20, active: bool = True) -> Room:
    return Room.objects.create(
        name=name,
        capacity=capacity,
        equipment=["Beamer", "Whiteboard"],
        accessibility="Aufzug im Hof",
        wheelchair_accessible=True,
        active=active,
    )


def book(user: User, r: Room, start: datetime, end: datetime, **kwargs: object) -> RoomBooking:
    if "organisation_id" not in kwargs:
        first = Membership.objects.filter(user=user).first()
        kwargs["organisation_id"] = first.organisation_id if first else None
    return services.room_booking_create(
        actor=user, room_id=r.pk, starts_at=start, ends_at=end, title="Workshop", **kwargs
    )


# ---- rooms, managed by staff ---------------------------------------------------------------


def test_staff_create_edit_and_deactivate_a_room_and_each_change_is_audited() -> None:
    staff = staff_user()
    created = services.room_create(
        actor=staff, name=" Werkstatt ", capacity=12, equipment=["Beamer", " ", "Beamer", "Löten"]
    )
    assert created.name == "Werkstatt"
    assert created.equipment == ["Beamer", "Löten"]
    services.room_update(
        actor=staff,
        room_id=created.pk,
        name="Werkstatt",
        capacity=15,
        equipment=["Beamer"],
        accessibility="Rampe am Eingang",
        wheelchair_accessible=True,
        active=True,
    )
    services.room_deactivate(actor=staff, room_id=created.pk)
    created.refresh_from_db()
    assert (created.capacity, created.active) == (15, False)
    actions = list(
        AuditEntry.objects.filter(object_type="economy.room", object_id=str(created.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["economy.room.create", "economy.room.update", "economy.room.deactivate"]
    update = AuditEntry.objects.get(action="economy.room.update", object_id=str(created.pk))
    assert update.before["capacity"] == 12 and update.after["capacity"] == 15


def test_a_member_cannot_manage_rooms() -> None:
    user = member_of(organisation())
    with pytest.raises(PermissionDenied):
        services.room_create(actor=user, name="Keller", capacity=5, equipment=[])
    r = room()
    with pytest.raises(PermissionDenied):
        services.room_deactivate(actor=user, room_id=r.pk)
    assert Room.objects.get(pk=r.pk).active


def test_two_rooms_cannot_have_the_same_name() -> None:
    staff = staff_user()
    room("Seminarraum 1")
    with pytest.raises(BookingError) as error:
        services.room_create(actor=staff, name="seminarraum 1", capacity=5, equipment=[])
    assert error.value.field == "name"


def test_deactivated_room_is_hidden_from_others_but_not_from_staff() -> None:
    hidden = room("Lager", active=False)
    member = member_of(organisation())
    assert hidden not in selectors.room_list_for_user(user=member)
    with pytest.raises(Http404):
        selectors.room_get_for_user(user=member, room_id=hidden.pk)
    staff = staff_user()
    assert hidden in selectors.room_list_for_user(user=staff)
    assert selectors.room_get_for_user(user=staff, room_id=hidden.pk) == hidden


# ---- booking ----------------------------------------------------------------------------------


def test_member_books_on_behalf_of_their_organisation_and_it_is_audited() -> None:
    org = organisation()
    user = member_of(org)
    r = room()
    booking = book(user, r, at(0, 10), at(0, 12))
    assert booking.status == BookingStatus.BOOKED
    assert (booking.organisation_id, booking.booked_by_id) == (org.pk, user.pk)
    assert AuditEntry.objects.filter(
        action="economy.room_booking.create", object_id=str(booking.pk)
    ).exists()


def test_member_cannot_book_for_an_organisation_they_do_not_belong_to() -> None:
    user = member_of(organisation("Eins"))
    other = organisation("Zwei")
    with pytest.raises(PermissionDenied):
        book(user, room(), at(0, 10), at(0, 12), organisation_id=other.pk)


def test_someone_without_organisation_cannot_book() -> None:
    with pytest.raises(PermissionDenied):
        book(UserFactory(), room(), at(0, 10), at(0, 12))
    assert not RoomBooking.objects.exists()


def test_only_staff_book_for_an_event() -> None:
    staff = staff_user()
    event = Event.objects.create(
        title="Meetup KI",
        slug="meetup-ki",
        format=EventFormat.ON_SITE,
        starts_at=at(1, 18),
        ends_at=at(1, 21),
        capacity=30,
    )
    r = room()
    booking = book(staff, r, at(1, 17), at(1, 22), event_id=event.pk)
    assert booking.event == event and booking.organisation is None
    event.refresh_from_db()
    assert event.room == r  # the event without a venue now takes place in the booked room
    member = member_of(organisation())
    with pytest.raises(PermissionDenied):
        book(member, r, at(2, 17), at(2, 22), event_id=event.pk)


def test_overlapping_booking_is_refused_naming_the_conflicting_time_but_not_the_title() -> None:
    r = room()
    first = member_of(organisation("Eins"))
    book(first, r, at(0, 10), at(0, 12))
    second = member_of(organisation("Zwei"))
    with pytest.raises(BookingError) as error:
        services.room_booking_create(
            actor=second,
            room_id=r.pk,
            starts_at=at(0, 11),
            ends_at=at(0, 13),
            title="Andere Sache",
            organisation_id=Membership.objects.get(user=second).organisation_id,
        )
    message = error.value.messages[0]
    assert "schon belegt" in message
    assert "10:00" in message and "12:00" in message
    assert "Workshop" not in message and "Eins" not in message
    assert RoomBooking.objects.count() == 1


def test_staff_see_the_title_of_the_conflicting_booking() -> None:
    r = room()
    book(member_of(organisation()), r, at(0, 10), at(0, 12))
    with pytest.raises(BookingError) as error:
        book(staff_user(), r, at(0, 9), at(0, 10, 30))
    assert "Workshop" in error.value.messages[0]


def test_bookings_that_touch_do_not_overlap() -> None:
    r = room()
    user = member_of(organisation())
    book(user, r, at(0, 10), at(0, 12))
    book(user, r, at(0, 12), at(0, 14))
    book(user, r, at(0, 8), at(0, 10))
    assert RoomBooking.objects.filter(room=r, status=BookingStatus.BOOKED).count() == 3


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ((0, 10), (0, 12)),  # the same
        ((0, 9), (0, 11)),  # overlapping the start
        ((0, 11), (0, 13)),  # overlapping the end
        ((0, 10, 30), (0, 11)),  # inside
        ((0, 8), (0, 14)),  # around
    ],
)
def test_every_kind_of_overlap_is_refused(start: tuple[int, ...], end: tuple[int, ...]) -> None:
    r = room()
    user = member_of(organisation())
    book(user, r, at(0, 10), at(0, 12))
    with pytest.raises(BookingError):
        book(user, r, at(*start), at(*end))


def test_a_cancelled_booking_frees_the_room() -> None:
    r = room()
    user = member_of(organisation())
    booking = book(user, r, at(0, 10), at(0, 12))
    services.room_booking_cancel(actor=user, booking_id=booking.pk)
    again = book(user, r, at(0, 10), at(0, 12))
    assert again.pk != booking.pk


def test_the_same_time_in_another_room_is_fine() -> None:
    user = member_of(organisation())
    book(user, room("A"), at(0, 10), at(0, 12))
    book(user, room("B"), at(0, 10), at(0, 12))
    assert RoomBooking.objects.count() == 2


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ((0, 12), (0, 10), "order"),
        ((0, 12), (0, 12), "order"),
        ((-30, 10), (-30, 12), "past"),
        ((0, 10), (15, 10), "too_long"),
    ],
)
def test_bad_times_are_refused_with_a_clear_reason(
    start: tuple[int, int], end: tuple[int, int], code: str
) -> None:
    user = member_of(organisation())
    with pytest.raises(BookingError) as error:
        book(user, room(), at(*start), at(*end))
    assert error.value.code == code
    assert not RoomBooking.objects.exists()


def test_exactly_fourteen_days_is_allowed() -> None:
    user = member_of(organisation())
    booking = book(user, room(), at(0, 10), at(14, 10))
    assert booking.ends_at - booking.starts_at == timedelta(days=14)


def test_an_inactive_room_cannot_be_booked() -> None:
    user = member_of(organisation())
    with pytest.raises(BookingError) as error:
        book(user, room(active=False), at(0, 10), at(0, 12))
    assert error.value.code == "inactive"


def test_more_people_than_seats_is_refused() -> None:
    user = member_of(organisation())
    r = room(capacity=8)
    with pytest.raises(BookingError) as error:
        book(user, r, at(0, 10), at(0, 12), attendees=9)
    assert "8 Plätze" in error.value.messages[0]
    assert book(user, r, at(0, 10), at(0, 12), attendees=8).pk


# ---- cancelling ------------------------------------------------------------------------------


def test_booker_org_admin_and_staff_may_cancel_but_another_member_may_not() -> None:
    org = organisation()
    booker = member_of(org)
    admin = member_of(org, MemberRole.ADMIN)
    colleague = member_of(org)
    r = room()
    outsider = member_of(organisation("Andere"))
    for canceller, day in [(booker, 0), (admin, 1), (staff_user(), 2)]:
        booking = book(booker, r, at(day, 10), at(day, 12))
        for refused in (colleague, outsider):
            with pytest.raises(PermissionDenied):
                services.room_booking_cancel(actor=refused, booking_id=booking.pk)
        cancelled = services.room_booking_cancel(actor=canceller, booking_id=booking.pk)
        assert cancelled.status == BookingStatus.CANCELLED
    assert AuditEntry.objects.filter(action="economy.room_booking.cancel").count() == 3


def test_a_past_booking_cannot_be_cancelled() -> None:
    user = member_of(organisation())
    booking = book(user, room(), at(0, 10), at(0, 12))
    RoomBooking.objects.filter(pk=booking.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    with pytest.raises(BookingError) as error:
        services.room_booking_cancel(actor=user, booking_id=booking.pk)
    assert error.value.code == "past"


# ---- the gate and the selectors --------------------------------------------------------------


def test_booking_gate_lets_booker_colleagues_and_staff_in_and_keeps_others_out() -> None:
    org = organisation()
    booker = member_of(org)
    booking = book(booker, room(), at(0, 10), at(0, 12))
    for allowed in (booker, member_of(org), staff_user()):
        assert selectors.booking_get_for_user(user=allowed, booking_id=booking.pk) == booking
    with pytest.raises(PermissionDenied):
        selectors.booking_get_for_user(user=member_of(organisation("X")), booking_id=booking.pk)
    with pytest.raises(Http404):
        selectors.booking_get_for_user(user=booker, booking_id=booking.pk + 1000)


def test_room_is_free_and_rooms_available() -> None:
    small, big = room("Klein", capacity=4), room("Groß", capacity=40)
    room("Zu", capacity=100, active=False)
    user = member_of(organisation())
    book(user, big, at(0, 10), at(0, 12))
    assert not selectors.room_is_free(room_id=big.pk, starts_at=at(0, 11), ends_at=at(0, 13))
    assert selectors.room_is_free(room_id=big.pk, starts_at=at(0, 12), ends_at=at(0, 13))
    assert list(selectors.rooms_available(starts_at=at(0, 11), ends_at=at(0, 13))) == [small]
    assert list(selectors.rooms_available(starts_at=at(0, 12), ends_at=at(0, 13))) == [small, big]
    assert list(
        selectors.rooms_available(starts_at=at(0, 12), ends_at=at(0, 13), min_capacity=10)
    ) == [big]


def test_week_shows_titles_only_to_staff_and_own_organisation_and_lists_free_times() -> None:
    r = room()
    org = organisation()
    booker = member_of(org)
    book(booker, r, at(0, 10), at(0, 12))
    book(booker, r, at(1, 20), at(2, 9))  # over midnight
    monday = at(0, 0).date()
    other_view = selectors.room_week(user=member_of(organisation("X")), room=r, monday=monday)
    assert [s.label for s in other_view[0].taken] == [""]
    assert [(s.starts, s.ends) for s in other_view[0].free] == [
        (time(8), time(10)),
        (time(12), time(22)),
    ]
    assert [(s.starts, s.ends) for s in other_view[1].taken] == [(time(20), None)]
    assert [(s.starts, s.ends) for s in other_view[2].taken] == [(time(0), time(9))]
    assert [(s.starts, s.ends) for s in other_view[2].free] == [(time(9), time(22))]
    own_view = selectors.room_week(user=member_of(org), room=r, monday=monday)
    assert own_view[0].taken[0].label == "Workshop"
    staff_view = selectors.room_week(user=staff_user(), room=r, monday=monday)
    assert staff_view[0].taken[0].label == "Workshop"
