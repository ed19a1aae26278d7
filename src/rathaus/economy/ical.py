"""iCalendar (RFC 5545) text for the hub's events: one event as the attachment of a
confirmation, all published events as a subscribable feed.

The generic writing (escaping, folding, UTC times, the VCALENDAR around the events) is
``core.ical``, shared with the funding deadlines' feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rathaus.core.ical import calendar_text, escape_text, fold, utc_text
from rathaus.economy.constants import EventFormat, EventStatus
from rathaus.economy.models import Event

PRODID = "-//Rathaus//Digitale Wirtschaft//DE"

__all__ = ["calendar", "escape_text", "event_url", "fold", "vevent_lines"]


def event_url(event: Event) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("economy:event_detail", args=[event.slug])


def _location(event: Event, *, with_link: bool = False) -> str:
    """Where: the venue, and for online and hybrid events the meeting link only for someone
    with a seat (``with_link``): the public calendars and the waiting list do not give it
    away."""
    place = ", ".join(part for part in (event.venue_name, event.venue_address) if part)
    if not place and event.room_id is not None and event.room is not None:
        place = event.room.name
    link = event.online_url if with_link else ""
    if event.format == EventFormat.ONLINE:
        return link or "Online"
    if event.format == EventFormat.HYBRID:
        online = link or "Online"
        return f"{place} / {online}" if place else online
    return place


def vevent_lines(
    event: Event, *, stamp: datetime | None = None, with_link: bool = False
) -> list[str]:
    url = event_url(event)
    host = urlsplit(settings.SITE_URL).hostname or "rathaus"
    description = "\n\n".join(part for part in (event.description.strip(), url) if part)
    lines = [
        "BEGIN:VEVENT",
        f"UID:economy-event-{event.pk}@{host}",
        f"DTSTAMP:{utc_text(stamp or timezone.now())}",
        f"DTSTART:{utc_text(event.starts_at)}",
        f"DTEND:{utc_text(event.ends_at)}",
        f"SEQUENCE:{int(event.updated_at.timestamp()) if event.updated_at else 0}",
        f"SUMMARY:{escape_text(event.title)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        "STATUS:" + ("CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED"),
    ]
    location = _location(event, with_link=with_link)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, name: str = "", with_link: bool = False) -> str:
    """A VCALENDAR with the events, as the text of a ``text/calendar`` file (``with_link``:
    with the online meeting link, for a confirmed registrant only)."""
    stamp = timezone.now()
    return calendar_text(
        (vevent_lines(event, stamp=stamp, with_link=with_link) for event in events),
        prodid=PRODID,
        name=name,
    )
