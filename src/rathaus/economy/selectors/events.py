"""Reads of the hub's events. The gate: ``event_get_for_user`` (the public see published and
cancelled events; department staff and administrators every event) and ``event_get_for_staff``
(staff pages: registrations, the waiting list, check-in, outcome)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.economy.constants import EventStatus, RegistrationStatus
from rathaus.economy.models import Event, Organisation, Person, Registration
from rathaus.economy.services.events import (
    checkin_code_normalise,
    registration_window_error,
    token_hash,
)

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)
FEED_PAST_DAYS = 365
FEED_MAX_EVENTS = 500

AnyUser = User | AnonymousUser


def _public() -> QuerySet[Event]:
    return (
        Event.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("room")
        .prefetch_related(
            Prefetch("organisers", queryset=Organisation.objects.only("pk", "name", "slug")),
            Prefetch("speakers", queryset=Person.objects.only("pk", "name", "title")),
        )
    )


def event_public_list(*, upcoming: bool = True) -> QuerySet[Event]:
    """Published (and called-off) events: upcoming ones (not yet over) soonest first, or past
    ones latest first. For other apps too (the start page, an organisation's profile)."""
    now = timezone.now()
    if upcoming:
        return _public().filter(ends_at__gte=now).order_by("starts_at", "pk")
    return _public().filter(ends_at__lt=now).order_by("-starts_at", "-pk")


def events_of_organisation(*, organisation_id: int) -> QuerySet[Event]:
    """The public events an organisation (co-)organises, latest first."""
    return _public().filter(organisers__id=organisation_id).order_by("-starts_at", "-pk")


def event_feed_events() -> list[Event]:
    """The subscribable calendar: every public event of the last year and the future."""
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    return list(
        Event.objects.filter(status__in=PUBLIC_STATUSES, ends_at__gte=since)
        .select_related("room")
        .order_by("starts_at", "pk")[:FEED_MAX_EVENTS]
    )


def event_get_for_user(*, user: AnyUser, slug: str) -> Event:
    """An event's page: drafts only for staff, else 404."""
    queryset = _public() if not user_is_department_staff(user=user) else Event.objects.all()
    event = queryset.select_related("room").filter(slug=slug).first()
    if event is None:
        raise Http404
    return event


def event_get_for_staff(*, user: AnyUser, event_id: int) -> Event:
    department_staff_required(user=user)
    event = Event.objects.select_related("room").filter(pk=event_id).first()
    if event is None:
        raise Http404
    return event


def event_list_for_staff(*, user: AnyUser) -> QuerySet[Event]:
    department_staff_required(user=user)
    return Event.objects.annotate(
        waiting=Count("registrations", filter=Q(registrations__status=RegistrationStatus.WAITING)),
        checked_in=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
    ).order_by("-starts_at", "-pk")


@dataclass
class RegistrationState:
    """What the event page says about registering."""

    open: bool
    reason: str  # why not, when not open
    seats_left: int
    waiting_list_only: bool  # full, but there is a waiting list


def event_registration_state(event: Event, now: datetime | None = None) -> RegistrationState:
    refusal = registration_window_error(event, now)
    seats_left = max(event.capacity - event.confirmed_count, 0)
    if refusal is not None:
        return RegistrationState(False, str(refusal.message), seats_left, False)
    if seats_left == 0 and not event.waiting_list:
        return RegistrationState(False, str(_full_message()), seats_left, False)
    return RegistrationState(True, "", seats_left, seats_left == 0)


def _full_message() -> Any:
    from django.utils.translation import gettext_lazy as _

    return _("Die Veranstaltung ist ausgebucht.")


@dataclass
class RegistrationRow:
    pk: int
    status: str
    status_label: str
    name: str
    email: str
    answers: dict[str, Any]
    created_at: datetime
    checked_in_at: datetime | None
    moved_up_at: datetime | None
    position: int | None  # on the waiting list


def _person(registration: Registration) -> dict[str, Any]:
    try:
        person = decrypt_json(registration.person_encrypted)
    except DecryptionError:
        return {"name": "?", "email": "?", "answers": {}}
    return person if isinstance(person, dict) else {}


def registrations_for_staff(*, user: AnyUser, event_id: int) -> list[RegistrationRow]:
    """Every registration of an event with the names decrypted: confirmed and waiting in the
    order they came (the waiting list numbered), cancelled at the end."""
    event = event_get_for_staff(user=user, event_id=event_id)
    rows: list[RegistrationRow] = []
    position = 0
    order = {RegistrationStatus.CONFIRMED: 0, RegistrationStatus.WAITING: 1}
    registrations = sorted(
        Registration.objects.filter(event=event).order_by("created_at", "pk"),
        key=lambda r: order.get(RegistrationStatus(r.status), 2),
    )
    for registration in registrations:
        person = _person(registration)
        waiting = registration.status == RegistrationStatus.WAITING
        position += 1 if waiting else 0
        rows.append(
            RegistrationRow(
                pk=registration.pk,
                status=registration.status,
                status_label=str(registration.get_status_display()),
                name=str(person.get("name", "")),
                email=str(person.get("email", "")),
                answers=person.get("answers") or {},
                created_at=registration.created_at,
                checked_in_at=registration.checked_in_at,
                moved_up_at=registration.moved_up_at,
                position=position if waiting else None,
            )
        )
    return rows


def registration_person(registration: Registration) -> dict[str, Any]:
    """Name, e-mail and answers of a registration (for its e-mails and the door)."""
    return _person(registration)


def registration_by_cancel_token(*, token: str) -> Registration | None:
    return (
        Registration.objects.select_related("event")
        .filter(cancel_token_hash=token_hash(token))
        .first()
    )


def registration_by_checkin_code(*, user: AnyUser, code: str) -> Registration | None:
    department_staff_required(user=user)
    return (
        Registration.objects.select_related("event")
        .filter(checkin_token_hash=token_hash(checkin_code_normalise(code)))
        .first()
    )


def registration_get(*, registration_id: int) -> Registration | None:
    """For the outbox handlers (no user)."""
    return (
        Registration.objects.select_related("event", "event__room")
        .filter(pk=registration_id)
        .first()
    )


@dataclass
class Attendance:
    confirmed: int
    waiting: int
    cancelled: int
    checked_in: int


def event_attendance(*, user: AnyUser, event_id: int) -> Attendance:
    event = event_get_for_staff(user=user, event_id=event_id)
    counts = Registration.objects.filter(event=event).aggregate(
        confirmed=Count("pk", filter=Q(status=RegistrationStatus.CONFIRMED)),
        waiting=Count("pk", filter=Q(status=RegistrationStatus.WAITING)),
        cancelled=Count("pk", filter=Q(status=RegistrationStatus.CANCELLED)),
        checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)),
    )
    return Attendance(**counts)


def registration_form_choices() -> list[tuple[str, str]]:
    """Published forms of the form engine that a registration can use (no file fields)."""
    from rathaus.forms.selectors import form_list_published

    return [(form.slug, f"{form.title} ({form.slug})") for form in form_list_published()]


# ---- what other pillars read (the strategy links a measure to events) ----------------------


def event_refs(*, event_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{id: (title, page path)}`` of the public ones among ``event_ids``, in one query."""
    ids = [pk for pk in {int(i) for i in event_ids} if 0 < pk < 2**63]
    if not ids:
        return {}
    return {
        pk: (title, reverse("economy:event_detail", kwargs={"slug": slug}))
        for pk, title, slug in Event.objects.filter(
            pk__in=ids, status__in=PUBLIC_STATUSES
        ).values_list("pk", "title", "slug")
    }


def event_link_choices() -> list[tuple[int, str]]:
    """``(id, "date title")`` of every public event, latest first (for other apps' choice
    lists)."""
    return [
        (pk, f"{timezone.localtime(starts_at):%d.%m.%Y} {title}")
        for pk, title, starts_at in Event.objects.filter(status__in=PUBLIC_STATUSES)
        .order_by("-starts_at", "-pk")
        .values_list("pk", "title", "starts_at")
    ]
