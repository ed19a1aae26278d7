"""Writes of the hub's events: staff create, edit, publish and cancel events and record
their outcome; anyone registers, cancels by link, and staff check people in at the door.

No overbooking, whatever runs at the same time: a seat is taken with one conditional UPDATE
of the event's row (``confirmed_count < capacity``), inside the registration's transaction.
Only one request can take the last seat; the database's CheckConstraint
(``economy_event_never_overbooked``) holds even if code elsewhere got it wrong. Whoever comes
second goes to the waiting list (or is told the event is full). Cancelling a confirmed seat
moves the first person of the waiting list up in the same transaction, or frees the seat."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core import blind_index
from rathaus.core.crypto import DecryptionError, decrypt_json, encrypt_json
from rathaus.core.rotation import RotationReport
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.economy.constants import EventFormat, EventStatus, RegistrationStatus
from rathaus.economy.models import Event, Organisation, Person, Registration, Room
from rathaus.economy.services import unique_slug

# paths under veranstaltungen/ that are not an event's slug
RESERVED_SLUGS = frozenset({"verwaltung", "einlass", "abmelden", "feed", "anmelden"})
CHECKIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the door
CHECKIN_LENGTH = 12  # 60 bits; only staff can use a code
OUTCOME_KINDS = ("strategy_measure", "competition", "link")


class EventError(Exception):
    """A request the rules refuse; ``message`` says why (German, translated), ``code`` what."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass
class EventData:
    """What staff enter for an event."""

    title: str
    format: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    room: Room | None = None
    venue_name: str = ""
    venue_address: str = ""
    accessibility: str = ""
    online_url: str = ""
    organisers: list[Organisation] = field(default_factory=list)
    speakers: list[Person] = field(default_factory=list)
    agenda: list[dict[str, str]] = field(default_factory=list)
    waiting_list: bool = True
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    registration_form: str = ""


@dataclass
class RegistrationResult:
    registration: Registration
    cancel_token: str
    checkin_code: str


@dataclass
class CheckInResult:
    registration: Registration
    already: bool  # checked in before: the time is on the registration


# ---- tokens -------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """The stored form of a cancel token or check-in code (both random, high entropy)."""
    return hashlib.sha256(token.strip().upper().encode()).hexdigest()


def _cancel_token() -> str:
    # upper-cased before hashing, so it is made of characters that survive that unchanged
    return secrets.token_hex(20).upper()


def checkin_code_new() -> str:
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_LENGTH))


def checkin_code_normalise(code: str) -> str:
    """What staff type: spaces and dashes dropped, lower case accepted."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def email_hash(email: str, data_key: str | None = None) -> str:
    """The address as a blind index (core.blind_index, the newest key by default): one
    registration per address and event."""
    return blind_index.digest(email.strip().lower(), data_key)


def _email_hashes(email: str) -> list[str]:
    """What the address may be stored as: under every configured key (until
    ``rathaus rotate-keys`` has made them all again)."""
    return [email_hash(email, key) for key in settings.DATA_KEYS]


def registration_email_hashes_rotate(report: RotationReport) -> None:
    """``rathaus rotate-keys``: the address hashes of open registrations made again under the
    newest key, so that the same address is still caught twice after a rotation (after the
    fields themselves were re-encrypted)."""
    open_ones = Registration.objects.exclude(status=RegistrationStatus.CANCELLED).only(
        "pk", "person_encrypted", "email_hash"
    )
    for registration in open_ones.iterator(chunk_size=500):
        try:
            address = str(decrypt_json(registration.person_encrypted).get("email", ""))
        except DecryptionError:
            report.failed.append((f"economy.Registration {registration.pk} email_hash", "no key"))
            continue
        digest = email_hash(address)
        if digest != registration.email_hash:
            Registration.objects.filter(pk=registration.pk).update(email_hash=digest)
            report.rotated += 1
        else:
            report.current += 1


# ---- events (staff) -----------------------------------------------------------------------


def _check(data: EventData) -> None:
    if data.ends_at < data.starts_at:
        raise EventError("ends_before_start", _("Das Ende liegt vor dem Beginn."))
    if data.capacity < 1:
        raise EventError("capacity", _("Eine Veranstaltung braucht mindestens einen Platz."))
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if opens and closes and closes <= opens:
        raise EventError("window", _("Das Ende der Anmeldung muss nach ihrem Beginn liegen."))
    if data.format in (EventFormat.ONLINE, EventFormat.HYBRID) and not data.online_url:
        raise EventError(
            "online_url", _("Für eine Online- oder Hybrid-Veranstaltung fehlt der Link.")
        )
    if data.format in (EventFormat.ON_SITE, EventFormat.HYBRID) and not (
        data.room or data.venue_name or data.venue_address
    ):
        raise EventError("venue", _("Bitte geben Sie einen Raum des Hubs oder einen Ort an."))


_PLAIN_FIELDS = (
    "title",
    "title_en",
    "format",
    "description",
    "description_en",
    "starts_at",
    "ends_at",
    "room",
    "venue_name",
    "venue_address",
    "accessibility",
    "online_url",
    "agenda",
    "capacity",
    "waiting_list",
    "registration_opens_at",
    "registration_closes_at",
    "registration_form",
)


def _snapshot(event: Event) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _PLAIN_FIELDS:
        value = getattr(event, "room_id" if name == "room" else name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    values["status"] = event.status
    if event.pk:
        values["organisers"] = sorted(event.organisers.values_list("pk", flat=True))
        values["speakers"] = sorted(event.speakers.values_list("pk", flat=True))
    return values


def event_create(*, actor: User, data: EventData) -> Event:
    _check(data)
    with transaction.atomic():
        event = Event(
            slug=unique_slug(Event, data.title, fallback="veranstaltung", reserved=RESERVED_SLUGS),
            created_by=actor,
        )
        for name in _PLAIN_FIELDS:
            setattr(event, name, getattr(data, name))
        event.save()
        event.organisers.set(data.organisers)
        event.speakers.set(data.speakers)
        audit_entry_create(
            actor=actor,
            action="economy.event.create",
            object_type="economy.event",
            object_id=event.pk,
            after=_snapshot(event),
        )
    return event


def event_update(*, actor: User, event_id: int, data: EventData) -> Event:
    """Change an event. Fewer seats than people already confirmed are refused; more seats
    move people up from the waiting list at once."""
    _check(data)
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        if data.capacity < event.confirmed_count:
            raise EventError(
                "capacity_below_confirmed",
                _(
                    "Es sind schon %(count)d Personen angemeldet: "
                    "Die Zahl der Plätze kann nicht kleiner sein."
                )
                % {"count": event.confirmed_count},
            )
        before = _snapshot(event)
        for name in _PLAIN_FIELDS:
            setattr(event, name, getattr(data, name))
        event.save()
        event.organisers.set(data.organisers)
        event.speakers.set(data.speakers)
        moved = _fill_free_seats(event) if event.status == EventStatus.PUBLISHED else []
        audit_entry_create(
            actor=actor,
            action="economy.event.update",
            object_type="economy.event",
            object_id=event.pk,
            before=before,
            after={**_snapshot(event), "moved_up": moved},
        )
    return event


def event_publish(*, actor: User, event_id: int) -> Event:
    return _event_set_status(
        actor=actor, event_id=event_id, status=EventStatus.PUBLISHED, allowed={EventStatus.DRAFT}
    )


def event_cancel(*, actor: User, event_id: int) -> Event:
    """Call an event off: everyone registered or waiting gets an e-mail."""
    event = _event_set_status(
        actor=actor,
        event_id=event_id,
        status=EventStatus.CANCELLED,
        allowed={EventStatus.DRAFT, EventStatus.PUBLISHED},
    )
    return event


def _event_set_status(
    *, actor: User, event_id: int, status: EventStatus, allowed: set[EventStatus]
) -> Event:
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        if event.status not in allowed:
            raise EventError(
                "status",
                _("Das geht nicht mehr: Die Veranstaltung ist %(status)s.")
                % {"status": event.get_status_display()},
            )
        before = event.status
        event.status = status
        event.save(update_fields=["status", "updated_at"])
        if status == EventStatus.CANCELLED:
            for registration_id in event.registrations.exclude(
                status=RegistrationStatus.CANCELLED
            ).values_list("pk", flat=True):
                outbox_message_create(
                    topic="economy.event_cancelled",
                    payload={"registration": registration_id},
                    idempotency_key=f"economy.event_cancelled:{registration_id}",
                )
        audit_entry_create(
            actor=actor,
            action=f"economy.event.{'publish' if status == EventStatus.PUBLISHED else 'cancel'}",
            object_type="economy.event",
            object_id=event.pk,
            before={"status": before},
            after={"status": status},
        )
    return event


def event_outcome_record(
    *, actor: User, event_id: int, notes: str, links: list[dict[str, str]]
) -> Event:
    """After the event: what came of it, and links to strategy measures, competitions or
    other pages (stored as references: kind, id, title, url)."""
    for link in links:
        if link.get("kind") not in OUTCOME_KINDS or not link.get("title"):
            raise EventError(
                "outcome_link", _("Jede Verknüpfung braucht eine Art und einen Titel.")
            )
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        if event.starts_at > timezone.now():
            raise EventError(
                "outcome_too_early", _("Ein Ergebnis kann erst nach Beginn erfasst werden.")
            )
        before = {"notes": event.outcome_notes, "links": event.outcome_links}
        event.outcome_notes = notes
        event.outcome_links = links
        event.outcome_recorded_at = timezone.now()
        event.save(
            update_fields=["outcome_notes", "outcome_links", "outcome_recorded_at", "updated_at"]
        )
        audit_entry_create(
            actor=actor,
            action="economy.event.outcome",
            object_type="economy.event",
            object_id=event.pk,
            before=before,
            after={"notes": notes, "links": links},
        )
    return event


# ---- registrations ------------------------------------------------------------------------


def registration_window_error(event: Event, now: datetime | None = None) -> EventError | None:
    """Why nobody can register now, or None."""
    now = now or timezone.now()
    if event.status == EventStatus.CANCELLED:
        return EventError("cancelled", _("Diese Veranstaltung ist abgesagt."))
    if event.status != EventStatus.PUBLISHED:
        return EventError("not_published", _("Für diese Veranstaltung gibt es keine Anmeldung."))
    if event.registration_opens_at and now < event.registration_opens_at:
        return EventError(
            "not_open_yet",
            _("Die Anmeldung beginnt erst am %(date)s.")
            % {"date": timezone.localtime(event.registration_opens_at).strftime("%d.%m.%Y, %H:%M")},
        )
    closes = event.registration_closes_at or event.starts_at
    if now >= closes:
        return EventError("closed", _("Die Anmeldung ist geschlossen."))
    return None


def _take_seat(event_id: int) -> bool:
    """One conditional UPDATE: True when this transaction got a seat."""
    return (
        Event.objects.filter(pk=event_id, confirmed_count__lt=F("capacity")).update(
            confirmed_count=F("confirmed_count") + 1
        )
        == 1
    )


def registration_create(
    *,
    event_id: int,
    name: str,
    email: str,
    answers: dict[str, Any] | None = None,
    user: User | None = None,
    organisation_id: int | None = None,
    language: str = "de",
) -> RegistrationResult:
    """Register someone: a seat if one is free, else the waiting list (if the event keeps
    one). Raises ``EventError`` (window, full, the same address twice); then nothing is
    written."""
    name, email = " ".join(name.split()), email.strip()
    address_hash = email_hash(email)
    cancel_token, checkin_code = _cancel_token(), checkin_code_new()
    # encrypted before the transaction: the seat's row lock is held from taking the seat to
    # the commit, and every other registration of the event waits for it
    person = encrypt_json({"name": name, "email": email, "answers": answers or {}})
    secret = encrypt_json({"cancel": cancel_token, "checkin": checkin_code})
    try:
        with transaction.atomic():
            event = Event.objects.get(pk=event_id)
            refusal = registration_window_error(event)
            if refusal is not None:
                raise refusal
            if event.confirmed_count >= event.capacity and not event.waiting_list:
                # before the address is looked at: a full event says so to everyone alike
                raise _full()
            if (
                Registration.objects.filter(event_id=event_id, email_hash__in=_email_hashes(email))
                .exclude(status=RegistrationStatus.CANCELLED)
                .exists()
            ):
                raise _duplicate()
            confirmed = _take_seat(event_id)
            if not confirmed:
                # Lock the event's row and try again: a cancellation that committed just now
                # (and found nobody waiting) freed a seat that this one should get, not leave
                # empty while this person waits.
                event = Event.objects.select_for_update().get(pk=event_id)
                confirmed = _take_seat(event_id)
            if not confirmed and not event.waiting_list:
                raise _full()
            registration = Registration.objects.create(
                event_id=event_id,
                user=user if user is not None and user.is_authenticated else None,
                organisation_id=organisation_id,
                status=RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITING,
                person_encrypted=person,
                email_hash=address_hash,
                language=language[:5] or "de",
                cancel_token_hash=token_hash(cancel_token),
                checkin_token_hash=token_hash(checkin_code),
            )
            outbox_message_create(
                topic="economy.registration_confirmation",
                payload={
                    "registration": registration.pk,
                    "status": registration.status,
                    "secret": secret,
                },
                idempotency_key=f"economy.registration_confirmation:{registration.pk}",
            )
    except IntegrityError as error:  # the same address at the same moment: the constraint
        if "economy_registration_once_per_person" in str(error) or "email_hash" in str(error):
            raise _duplicate() from None
        raise
    return RegistrationResult(
        registration=registration, cancel_token=cancel_token, checkin_code=checkin_code
    )


def _full() -> EventError:
    return EventError("full", _("Die Veranstaltung ist ausgebucht. Eine Warteliste gibt es nicht."))


def registration_repeat_notice(*, event_id: int, email: str) -> None:
    """Someone registered an address that is registered already, without being logged in
    as its owner: the page says the same as for a new registration ("see your e-mail"), and
    the address gets a note that its registration stands (at most one a day). Nobody learns
    from the page whether an address is registered."""
    existing = (
        Registration.objects.filter(event_id=event_id, email_hash__in=_email_hashes(email))
        .exclude(status=RegistrationStatus.CANCELLED)
        .first()
    )
    if existing is None:
        return
    outbox_message_create(
        topic="economy.registration_again",
        payload={"registration": existing.pk},
        idempotency_key=f"economy.registration_again:{existing.pk}:{timezone.localdate()}",
    )


def _duplicate() -> EventError:
    return EventError(
        "duplicate",
        _(
            "Mit dieser E-Mail-Adresse ist schon jemand angemeldet. Den Link zum Abmelden "
            "finden Sie in der Bestätigung, die wir an diese Adresse geschickt haben."
        ),
    )


def _fill_free_seats(event: Event) -> list[int]:
    """Move people up from the waiting list while seats are free (the event's row is locked
    by the caller). Each gets a new check-in code by e-mail."""
    moved: list[int] = []
    while True:
        waiting = (
            Registration.objects.select_for_update()
            .filter(event_id=event.pk, status=RegistrationStatus.WAITING)
            .order_by("created_at", "pk")
            .first()
        )
        if waiting is None or not _take_seat(event.pk):
            break
        _move_up(waiting)
        moved.append(waiting.pk)
    event.refresh_from_db(fields=["confirmed_count"])
    return moved


def _move_up(registration: Registration) -> None:
    checkin_code = checkin_code_new()
    registration.status = RegistrationStatus.CONFIRMED
    registration.moved_up_at = timezone.now()
    registration.checkin_token_hash = token_hash(checkin_code)
    registration.save(update_fields=["status", "moved_up_at", "checkin_token_hash", "updated_at"])
    outbox_message_create(
        topic="economy.registration_moved_up",
        payload={
            "registration": registration.pk,
            "secret": encrypt_json({"checkin": checkin_code}),
        },
        idempotency_key=f"economy.registration_moved_up:{registration.pk}",
    )


def registration_cancel(*, token: str) -> Registration:
    """Cancel by the link of the confirmation e-mail. A confirmed seat goes to the first
    person waiting (moved up, with an e-mail) or becomes free again."""
    hashed = token_hash(token)
    with transaction.atomic():
        found = (
            Registration.objects.filter(cancel_token_hash=hashed)
            .values_list("pk", "event_id")
            .first()
        )
        if found is None:
            raise EventError(
                "unknown_token",
                _(
                    "Dieser Link zum Abmelden ist ungültig. Bitte prüfen Sie, ob er vollständig ist."
                ),
            )
        return _cancel(registration_id=found[0], event_id=found[1])


def registration_cancel_by_staff(*, actor: User, event_id: int, registration_id: int) -> None:
    """Staff cancel for someone who asked them to (by phone, at the desk): the same as the
    person's own link, with an audit entry."""
    department_staff_required(user=actor)
    with transaction.atomic():
        if not Registration.objects.filter(pk=registration_id, event_id=event_id).exists():
            raise EventError("unknown", _("Diese Anmeldung gibt es nicht."))
        registration = _cancel(registration_id=registration_id, event_id=event_id)
        audit_entry_create(
            actor=actor,
            action="economy.registration.cancel",
            object_type="economy.registration",
            object_id=registration.pk,
            before={"status": "open"},
            after={"status": RegistrationStatus.CANCELLED, "event": event_id},
        )


def _cancel(*, registration_id: int, event_id: int) -> Registration:
    """In the caller's transaction: the event's row first, as registrations take it:
    cancellations and move-ups of one event happen one after the other."""
    event = Event.objects.select_for_update().get(pk=event_id)
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.status == RegistrationStatus.CANCELLED:
        raise EventError("already_cancelled", _("Sie haben sich bereits abgemeldet."))
    if event.ends_at < timezone.now():
        raise EventError("over", _("Die Veranstaltung ist vorbei."))
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.save(update_fields=["status", "cancelled_at", "updated_at"])
    if was_confirmed:
        Event.objects.filter(pk=event.pk).update(confirmed_count=F("confirmed_count") - 1)
        if event.status == EventStatus.PUBLISHED:
            _fill_free_seats(event)
    outbox_message_create(
        topic="economy.registration_cancelled",
        payload={"registration": registration.pk},
        idempotency_key=f"economy.registration_cancelled:{registration.pk}",
    )
    return registration


def registration_check_in(*, actor: User, code: str) -> CheckInResult:
    """Mark a registration as there (the QR code scanned or the code typed at the door). A
    second scan changes nothing and says when the first was."""
    hashed = token_hash(checkin_code_normalise(code))
    with transaction.atomic():
        registration = (
            Registration.objects.select_related("event").filter(checkin_token_hash=hashed).first()
        )
        if registration is None:
            raise EventError(
                "unknown_code",
                _("Diesen Einlass-Code kennen wir nicht. Bitte prüfen Sie die Eingabe."),
            )
        if registration.status == RegistrationStatus.CANCELLED:
            raise EventError("cancelled", _("Diese Anmeldung wurde abgemeldet."))
        if registration.status == RegistrationStatus.WAITING:
            raise EventError(
                "waiting", _("Diese Person steht auf der Warteliste und hat keinen Platz.")
            )
        now = timezone.now()
        event = registration.event
        if event.status == EventStatus.CANCELLED:
            raise EventError("event_cancelled", _("Diese Veranstaltung wurde abgesagt."))
        updated = Registration.objects.filter(
            pk=registration.pk, checked_in_at__isnull=True
        ).update(checked_in_at=now, updated_at=now)
        registration.refresh_from_db(fields=["checked_in_at"])
        if updated:
            audit_entry_create(
                actor=actor,
                action="economy.registration.check_in",
                object_type="economy.registration",
                object_id=registration.pk,
                after={"event": registration.event_id, "checked_in_at": now.isoformat()},
            )
    return CheckInResult(registration=registration, already=not updated)
