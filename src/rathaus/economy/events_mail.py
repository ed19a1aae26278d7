"""E-mails of event registrations, sent by the outbox worker: the confirmation (with the
event as an iCal file, the check-in QR code and the cancel link; for the waiting list without
the seat's parts), the notice to someone moved up from the waiting list, the confirmation of
a cancellation, the notice that an event was called off, and the note that an address which
someone registered again is registered already.

Tokens reach the handler only encrypted in the message's payload; the database keeps their
hashes."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from rathaus.core.crypto import decrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.economy import ical
from rathaus.economy.constants import RegistrationStatus
from rathaus.economy.models import Event, Registration
from rathaus.economy.selectors.events import registration_get, registration_person


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def checkin_url(code: str) -> str:
    return site_url(reverse("economy:event_checkin_code", args=[code]))


def cancel_url(token: str) -> str:
    return site_url(reverse("economy:event_cancel", args=[token]))


def code_display(code: str) -> str:
    """ABCDEFGHJKLM -> ABCD-EFGH-JKLM: easier to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def qr_png(data: str) -> bytes:
    buffer = BytesIO()
    qrcode.make(data, box_size=8, border=2).save(buffer)  # PNG (Pillow)
    return buffer.getvalue()


def qr_data_uri(data: str) -> str:
    """An SVG QR code for the confirmation page (img-src allows data: URIs)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def event_when(event: Event) -> str:
    starts, ends = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    text = formats.date_format(starts, "DATETIME_FORMAT")
    if starts.date() == ends.date():
        return f"{text} – {formats.time_format(ends, 'TIME_FORMAT')}"
    return f"{text} – {formats.date_format(ends, 'DATETIME_FORMAT')}"


def _context(registration: Registration, person: dict[str, Any]) -> dict[str, Any]:
    event = registration.event
    seated = registration.status == RegistrationStatus.CONFIRMED
    return {
        "name": person.get("name", ""),
        "event": event,
        "title": event.title_en
        if translation.get_language() == "en" and event.title_en
        else event.title,
        "when": event_when(event),
        "where": ical._location(event, with_link=seated),
        "event_url": ical.event_url(event),
        "city": settings.CITY_NAME,
    }


def _send(
    registration: Registration,
    template: str,
    extra: dict[str, Any],
    *,
    with_seat: str = "",
) -> None:
    """One e-mail to the registrant; ``with_seat`` (the check-in code) adds the iCal file
    and the QR code."""
    person = registration_person(registration)
    email = str(person.get("email", ""))
    if not email:
        return
    with translation.override(registration.language or "de"):
        context = {**_context(registration, person), **extra}
        if with_seat:
            context["checkin_code"] = code_display(with_seat)
            context["checkin_url"] = checkin_url(with_seat)
        subject = " ".join(
            render_to_string(f"economy/mail/{template}_subject.txt", context).split()
        )
        body = render_to_string(f"economy/mail/{template}.txt", context)
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    if with_seat:
        message.attach(
            "veranstaltung.ics",
            ical.calendar([registration.event], with_link=True),
            "text/calendar; charset=utf-8; method=PUBLISH",
        )
        message.attach("einlass-qr-code.png", qr_png(checkin_url(with_seat)), "image/png")
    message.send()


@outbox_handler("economy.registration_confirmation")
def send_confirmation(message: OutboxMessage) -> None:
    registration = registration_get(registration_id=message.payload["registration"])
    if registration is None:
        return
    secret = decrypt_json(message.payload["secret"])
    # the status as it was when registering (someone moved up since gets that e-mail too)
    waiting = message.payload.get("status") == RegistrationStatus.WAITING
    _send(
        registration,
        "event_confirmation",
        {"waiting": waiting, "cancel_url": cancel_url(secret["cancel"])},
        with_seat="" if waiting else secret["checkin"],
    )


@outbox_handler("economy.registration_moved_up")
def send_moved_up(message: OutboxMessage) -> None:
    registration = registration_get(registration_id=message.payload["registration"])
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        return
    secret = decrypt_json(message.payload["secret"])
    _send(registration, "event_moved_up", {}, with_seat=secret["checkin"])


@outbox_handler("economy.registration_cancelled")
def send_cancelled(message: OutboxMessage) -> None:
    registration = registration_get(registration_id=message.payload["registration"])
    if registration is not None:
        _send(registration, "event_cancellation", {})


@outbox_handler("economy.event_cancelled")
def send_event_called_off(message: OutboxMessage) -> None:
    registration = registration_get(registration_id=message.payload["registration"])
    if registration is not None:
        _send(registration, "event_called_off", {})


@outbox_handler("economy.registration_again")
def send_registered_already(message: OutboxMessage) -> None:
    registration = registration_get(registration_id=message.payload["registration"])
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        _send(
            registration,
            "event_again",
            {"waiting": registration.status == RegistrationStatus.WAITING},
        )
