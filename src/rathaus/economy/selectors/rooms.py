"""Reads of the hub's rooms and their bookings (docs/economy.md, "Räume / Hub rooms").

Times are kept in UTC and shown in the hub's local time (Europe/Berlin, ``TIME_ZONE``).
Intervals are half-open: a booking ending at 10:00 and one starting at 10:00 do not overlap.

The gates: ``room_get_for_user`` (inactive rooms only for staff) and
``booking_get_for_user`` (a booking for its booker, the members of its organisation and
staff). ``room_is_free`` and ``rooms_available`` are for other parts (events) as well."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.economy.constants import BookingStatus, EventStatus, MemberRole
from rathaus.economy.models import Event, Membership, Organisation, Room, RoomBooking
from rathaus.economy.selectors.directory import organisation_ids_of_user

AnyUser = User | AnonymousUser

# The hub's opening hours, local time: the week view lists free times within them.
HUB_OPENS = time(8, 0)
HUB_CLOSES = time(22, 0)


def organisations_for_booking(*, user: AnyUser) -> QuerySet[Organisation]:
    """The organisations ``user`` may book for: those they are a member of."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user).order_by("name").distinct()


def user_may_book(*, user: AnyUser) -> bool:
    if not user.is_authenticated:
        return False
    return user_is_department_staff(user=user) or Membership.objects.filter(user=user).exists()


def room_list_for_user(*, user: AnyUser) -> QuerySet[Room]:
    """Bookable rooms for everyone; staff see the deactivated ones too."""
    rooms = Room.objects.order_by("name")
    if user_is_department_staff(user=user):
        return rooms
    return rooms.filter(active=True)


def room_get_for_user(*, user: AnyUser, room_id: int) -> Room:
    """The gate for rooms: a deactivated room is not found except by staff."""
    room = Room.objects.filter(pk=room_id).first()
    if room is None or (not room.active and not user_is_department_staff(user=user)):
        raise Http404
    return room


def room_get_for_staff(*, user: AnyUser, room_id: int) -> Room:
    """A room for editing: staff only."""
    department_staff_required(user=user)
    return room_get_for_user(user=user, room_id=room_id)


def _overlapping(starts_at: datetime, ends_at: datetime) -> Q:
    # half-open intervals [start, end): touching ends do not overlap
    return Q(status=BookingStatus.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at)


def booking_conflicts(
    *,
    room_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_booking_id: int | None = None,
) -> QuerySet[RoomBooking]:
    """The non-cancelled bookings of the room that overlap [starts_at, ends_at)."""
    bookings = RoomBooking.objects.filter(_overlapping(starts_at, ends_at), room_id=room_id)
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    return bookings.select_related("organisation").order_by("starts_at")


def room_is_free(*, room_id: int, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether no booking of the room overlaps [starts_at, ends_at). Says nothing about
    whether the room is active: see ``rooms_available``."""
    return not booking_conflicts(room_id=room_id, starts_at=starts_at, ends_at=ends_at).exists()


def rooms_available(
    *, starts_at: datetime, ends_at: datetime, min_capacity: int = 0
) -> QuerySet[Room]:
    """Active rooms with at least ``min_capacity`` seats that are free for the whole of
    [starts_at, ends_at), smallest fitting room first."""
    taken = RoomBooking.objects.filter(_overlapping(starts_at, ends_at), room=OuterRef("pk"))
    return (
        Room.objects.filter(active=True, capacity__gte=min_capacity)
        .filter(~Exists(taken))
        .order_by("capacity", "name")
    )


def events_for_booking() -> QuerySet[Event]:
    """Events staff may book a room for: not cancelled and not over."""
    return (
        Event.objects.exclude(status=EventStatus.CANCELLED)
        .filter(ends_at__gte=timezone.now())
        .order_by("starts_at")[:200]
    )


def booking_get_for_user(*, user: AnyUser, booking_id: int) -> RoomBooking:
    """The gate for bookings: its booker, the members of its organisation and staff see it;
    others get PermissionDenied, a booking that does not exist Http404."""
    booking = (
        RoomBooking.objects.select_related("room", "organisation", "event")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise Http404
    if not user.is_authenticated:
        raise PermissionDenied
    if (
        user_is_department_staff(user=user)
        or booking.booked_by_id == user.pk
        or (
            booking.organisation_id is not None
            and booking.organisation_id in organisation_ids_of_user(user=user)
        )
    ):
        return booking
    raise PermissionDenied


def booking_is_canceller(*, user: AnyUser, booking: RoomBooking) -> bool:
    """Who may cancel a booking: its booker, an admin of its organisation, or staff."""
    if not user.is_authenticated:
        return False
    return (
        user_is_department_staff(user=user)
        or booking.booked_by_id == user.pk
        or (
            booking.organisation_id is not None
            and booking.organisation_id
            in organisation_ids_of_user(user=user, role=MemberRole.ADMIN)
        )
    )


def booking_may_cancel(*, user: AnyUser, booking: RoomBooking) -> bool:
    """A canceller (``booking_is_canceller``), for a booking still booked and not over."""
    if booking.status != BookingStatus.BOOKED or booking.ends_at <= timezone.now():
        return False
    return booking_is_canceller(user=user, booking=booking)


def booking_list_for_user(*, user: AnyUser, include_past: bool = False) -> QuerySet[RoomBooking]:
    """ "My bookings": those the user made and those of their organisations, soonest first."""
    if not user.is_authenticated:
        return RoomBooking.objects.none()
    bookings = RoomBooking.objects.filter(
        Q(booked_by=user) | Q(organisation__memberships__user=user)
    ).distinct()
    if not include_past:
        bookings = bookings.filter(ends_at__gt=timezone.now())
    return bookings.select_related("room", "organisation", "event").order_by("starts_at", "pk")


def bookings_with_cancel_flags(
    *, user: AnyUser, bookings: list[RoomBooking]
) -> list[tuple[RoomBooking, bool]]:
    """Each booking with whether ``user`` may cancel it now (``booking_may_cancel``), in two
    queries whatever the number of bookings."""
    staff = user_is_department_staff(user=user)
    admin_of = organisation_ids_of_user(user=user, role=MemberRole.ADMIN)
    now = timezone.now()
    return [
        (
            booking,
            user.is_authenticated
            and booking.status == BookingStatus.BOOKED
            and booking.ends_at > now
            and (
                staff
                or booking.booked_by_id == user.pk
                or (booking.organisation_id is not None and booking.organisation_id in admin_of)
            ),
        )
        for booking in bookings
    ]


# ---- the week of a room ---------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A stretch of one day, local time; ``ends`` None means "until midnight"."""

    starts: time
    ends: time | None
    label: str = ""  # the title, or "" when the viewer may not see it
    booking_id: int | None = None
    own: bool = False


@dataclass
class Day:
    day: date
    taken: list[Slot] = field(default_factory=list)
    free: list[Slot] = field(default_factory=list)


def week_start(day: date) -> date:
    """The Monday of the week of ``day``."""
    return day - timedelta(days=day.weekday())


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=timezone.get_default_timezone())


def room_week(*, user: AnyUser, room: Room, monday: date) -> list[Day]:
    """The seven days from ``monday``: each day's bookings (clipped to the day, with the
    title only for staff and for the viewer's own or their organisation's bookings) and the
    free times within the opening hours."""
    first = _local(monday, time(0))
    last = _local(monday + timedelta(days=7), time(0))
    bookings = list(booking_conflicts(room_id=room.pk, starts_at=first, ends_at=last))
    staff = user_is_department_staff(user=user)
    mine = organisation_ids_of_user(user=user)
    tz = timezone.get_default_timezone()
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        day_start, day_end = _local(day, time(0)), _local(day + timedelta(days=1), time(0))
        entry = Day(day=day)
        for booking in bookings:
            if booking.ends_at <= day_start or booking.starts_at >= day_end:
                continue
            own = user.is_authenticated and (
                booking.booked_by_id == user.pk or booking.organisation_id in mine
            )
            starts = max(booking.starts_at, day_start).astimezone(tz).time()
            ends = None if booking.ends_at >= day_end else booking.ends_at.astimezone(tz).time()
            entry.taken.append(
                Slot(
                    starts=starts,
                    ends=ends,
                    label=booking.title if staff or own else "",
                    booking_id=booking.pk,
                    own=bool(own),
                )
            )
        entry.free = _free_times(day, [b for b in bookings if b.ends_at > day_start])
        days.append(entry)
    return days


def _free_times(day: date, bookings: list[RoomBooking]) -> list[Slot]:
    opens, closes = _local(day, HUB_OPENS), _local(day, HUB_CLOSES)
    tz = timezone.get_default_timezone()
    free, cursor = [], opens
    for booking in sorted(bookings, key=lambda b: b.starts_at):
        if booking.ends_at <= cursor:
            continue
        if booking.starts_at >= closes:
            break
        if booking.starts_at > cursor:
            free.append(
                Slot(
                    starts=cursor.astimezone(tz).time(),
                    ends=booking.starts_at.astimezone(tz).time(),
                )
            )
        cursor = max(cursor, booking.ends_at)
    if cursor < closes:
        free.append(Slot(starts=cursor.astimezone(tz).time(), ends=HUB_CLOSES))
    return free
