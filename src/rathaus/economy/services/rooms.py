"""Writes of the hub's rooms and bookings: staff create, edit and deactivate rooms; staff and
members book them and cancel bookings.

No double bookings: ``room_booking_create`` locks the room's row (``SELECT ... FOR
UPDATE``; on SQLite the write transaction serialises anyway) and refuses a booking that
overlaps a non-cancelled one. On PostgreSQL an exclusion constraint (migration
``0002_rooms_no_overlap``) holds as well; its violation is reported with the same message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.services import audit_entry_create
from rathaus.economy.constants import BookingStatus, EventFormat, EventStatus
from rathaus.economy.models import Event, Membership, Room, RoomBooking
from rathaus.economy.selectors.rooms import (
    booking_conflicts,
    booking_is_canceller,
)

MAX_BOOKING = timedelta(days=14)
# a form filled in slowly may start "now": a few minutes of grace before it counts as the past
PAST_GRACE = timedelta(minutes=5)


class BookingError(ValidationError):
    """A booking that cannot be made, with a message for the person booking. ``field`` names
    the form field it belongs to (or None for the whole form)."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


def _room_state(room: Room) -> dict[str, Any]:
    return {
        "name": room.name,
        "capacity": room.capacity,
        "equipment": list(room.equipment or []),
        "accessibility": room.accessibility,
        "wheelchair_accessible": room.wheelchair_accessible,
        "active": room.active,
    }


def _clean_equipment(equipment: list[str]) -> list[str]:
    seen: list[str] = []
    for item in equipment:
        item = item.strip()
        if item and item not in seen:
            seen.append(item[:100])
    return seen


def room_create(
    *,
    actor: User,
    name: str,
    capacity: int,
    equipment: list[str],
    accessibility: str = "",
    wheelchair_accessible: bool = False,
    active: bool = True,
) -> Room:
    department_staff_required(user=actor)
    name = name.strip()
    if Room.objects.filter(name__iexact=name).exists():
        raise BookingError(
            _("Es gibt schon einen Raum mit diesem Namen."), code="duplicate", field="name"
        )
    with transaction.atomic():
        room = Room.objects.create(
            name=name,
            capacity=capacity,
            equipment=_clean_equipment(equipment),
            accessibility=accessibility.strip(),
            wheelchair_accessible=wheelchair_accessible,
            active=active,
        )
        audit_entry_create(
            actor=actor,
            action="economy.room.create",
            object_type="economy.room",
            object_id=room.pk,
            after=_room_state(room),
        )
    return room


def room_update(
    *,
    actor: User,
    room_id: int,
    name: str,
    capacity: int,
    equipment: list[str],
    accessibility: str,
    wheelchair_accessible: bool,
    active: bool,
) -> Room:
    department_staff_required(user=actor)
    name = name.strip()
    if Room.objects.filter(name__iexact=name).exclude(pk=room_id).exists():
        raise BookingError(
            _("Es gibt schon einen Raum mit diesem Namen."), code="duplicate", field="name"
        )
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room_id)
        before = _room_state(room)
        room.name = name
        room.capacity = capacity
        room.equipment = _clean_equipment(equipment)
        room.accessibility = accessibility.strip()
        room.wheelchair_accessible = wheelchair_accessible
        room.active = active
        room.save()
        after = _room_state(room)
        if after != before:
            audit_entry_create(
                actor=actor,
                action="economy.room.update",
                object_type="economy.room",
                object_id=room.pk,
                before=before,
                after=after,
            )
    return room


def room_deactivate(*, actor: User, room_id: int) -> Room:
    """The room can no longer be booked; its existing bookings stay (staff cancel them)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room_id)
        if room.active:
            room.active = False
            room.save(update_fields=["active", "updated_at"])
            audit_entry_create(
                actor=actor,
                action="economy.room.deactivate",
                object_type="economy.room",
                object_id=room.pk,
                before={"active": True},
                after={"active": False},
            )
    return room


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _conflict_error(conflict: RoomBooking | None, *, staff: bool) -> BookingError:
    if conflict is None:
        return BookingError(
            _("Der Raum ist in dieser Zeit schon belegt. Bitte wählen Sie eine andere Zeit."),
            code="conflict",
        )
    span = {"von": _when(conflict.starts_at), "bis": _when(conflict.ends_at)}
    if staff:
        span["titel"] = conflict.title
        message = (
            _(
                "Der Raum ist in dieser Zeit schon belegt: von %(von)s bis %(bis)s "
                "(„%(titel)s“). Bitte wählen Sie eine andere Zeit."
            )
            % span
        )
    else:
        message = (
            _(
                "Der Raum ist in dieser Zeit schon belegt: von %(von)s bis %(bis)s. "
                "Bitte wählen Sie eine andere Zeit."
            )
            % span
        )
    return BookingError(message, code="conflict")


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise BookingError(
            _("Das Ende muss nach dem Beginn liegen."), code="order", field="ends_at"
        )
    if starts_at < timezone.now() - PAST_GRACE:
        raise BookingError(
            _("Der Beginn liegt in der Vergangenheit. Bitte wählen Sie eine spätere Zeit."),
            code="past",
            field="starts_at",
        )
    if ends_at - starts_at > MAX_BOOKING:
        raise BookingError(
            _("Eine Buchung darf höchstens 14 Tage dauern."), code="too_long", field="ends_at"
        )


def room_booking_create(
    *,
    actor: User,
    room_id: int,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    organisation_id: int | None = None,
    event_id: int | None = None,
    attendees: int | None = None,
) -> RoomBooking:
    """Book a room for [starts_at, ends_at). A member books on behalf of one of their
    organisations; staff book for an event, an organisation or the department. ``attendees``
    (optional) is checked against the room's capacity."""
    staff = user_is_department_staff(user=actor)
    title = title.strip()
    if not title:
        raise BookingError(_("Bitte geben Sie einen Anlass an."), code="title", field="title")
    if organisation_id is not None:
        if (
            not staff
            and not Membership.objects.filter(user=actor, organisation_id=organisation_id).exists()
        ):
            raise PermissionDenied
    elif not staff:
        if not Membership.objects.filter(user=actor).exists():
            raise PermissionDenied
        raise BookingError(
            _("Bitte wählen Sie die Organisation, für die Sie buchen."),
            code="organisation",
            field="organisation",
        )
    if event_id is not None:
        if not staff:
            raise PermissionDenied
        if not Event.objects.filter(pk=event_id).exclude(status=EventStatus.CANCELLED).exists():
            raise BookingError(
                _("Diese Veranstaltung gibt es nicht oder sie ist abgesagt."),
                code="event",
                field="event",
            )
    _check_times(starts_at, ends_at)

    with transaction.atomic():
        room = Room.objects.select_for_update().filter(pk=room_id).first()
        if room is None or not room.active:
            raise BookingError(_("Dieser Raum kann derzeit nicht gebucht werden."), code="inactive")
        if attendees is not None and attendees > room.capacity:
            raise BookingError(
                _(
                    "Der Raum hat nur %(plaetze)d Plätze. Bitte wählen Sie einen größeren Raum "
                    "oder weniger Personen."
                )
                % {"plaetze": room.capacity},
                code="capacity",
                field="attendees",
            )
        conflict = booking_conflicts(room_id=room.pk, starts_at=starts_at, ends_at=ends_at).first()
        if conflict is not None:
            raise _conflict_error(conflict, staff=staff)
        booking = RoomBooking(
            room=room,
            starts_at=starts_at,
            ends_at=ends_at,
            title=title,
            organisation_id=organisation_id,
            event_id=event_id,
            booked_by=actor,
            status=BookingStatus.BOOKED,
        )
        try:
            # the exclusion constraint (PostgreSQL) as the last line of defence
            with transaction.atomic():
                booking.save(force_insert=True)
        except IntegrityError as error:
            raise _conflict_error(None, staff=staff) from error
        if event_id is not None:
            # an event without a venue of its own takes place in the room booked for it: its
            # page then shows the room's accessibility and equipment
            Event.objects.filter(pk=event_id, room__isnull=True, venue_name="").exclude(
                format=EventFormat.ONLINE
            ).update(room=room, updated_at=timezone.now())
        audit_entry_create(
            actor=actor,
            action="economy.room_booking.create",
            object_type="economy.roombooking",
            object_id=booking.pk,
            after={
                "room": room.pk,
                "starts_at": booking.starts_at.isoformat(),
                "ends_at": booking.ends_at.isoformat(),
                "title": title,
                "organisation": organisation_id,
                "event": event_id,
            },
        )
    return booking


def room_booking_cancel(*, actor: User, booking_id: int) -> RoomBooking:
    """Cancel a booking: its booker, an admin of its organisation, or staff. Cancelling a
    cancelled booking changes nothing."""
    with transaction.atomic():
        booking = RoomBooking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None:
            raise BookingError(_("Diese Buchung gibt es nicht."), code="missing")
        if booking.status == BookingStatus.CANCELLED:
            return booking
        if not booking_is_canceller(user=actor, booking=booking):
            raise PermissionDenied
        if booking.ends_at <= timezone.now():
            raise BookingError(
                _("Eine vergangene Buchung kann nicht mehr storniert werden."), code="past"
            )
        booking.status = BookingStatus.CANCELLED
        booking.save(update_fields=["status", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="economy.room_booking.cancel",
            object_type="economy.roombooking",
            object_id=booking.pk,
            before={"status": BookingStatus.BOOKED.value},
            after={"status": BookingStatus.CANCELLED.value},
        )
    return booking
