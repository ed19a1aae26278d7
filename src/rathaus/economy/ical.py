"""iCalendar (RFC 5545) text for the hub's events: one event as the attachment of a
confirmation, all published events as a subscribable feed.

Written by hand (a few dozen lines, no dependency): text values escaped (section 3.3.11),
lines ended with CRLF and folded at 75 octets without splitting a UTF-8 character
(section 3.1), times in UTC."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rathaus.economy.constants import EventFormat, EventStatus
from rathaus.economy.models import Event

MAX_OCTETS = 75
PRODID = "-//Rathaus//Digitale Wirtschaft//DE"


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, every line break as ``\\n``."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line, folded: at most 75 octets per physical line, continuation lines
    start with a space; a multi-byte character is never cut."""
    out: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            out.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1  # the leading space counts
        current += char
        size += octets
    out.append(current)
    return "\r\n ".join(out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


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
        f"DTSTAMP:{_utc(stamp or timezone.now())}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.ends_at)}",
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
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for event in events:
        lines += vevent_lines(event, stamp=stamp, with_link=with_link)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
