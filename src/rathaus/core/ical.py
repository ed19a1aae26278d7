"""iCalendar (RFC 5545) text, the one writer of the project's calendar files and feeds (the
hub's events in ``economy.ical``, the funding deadlines in ``funding.selectors.calendar``).

Written by hand (a few dozen lines, no dependency): text values escaped (section 3.3.11),
lines ended with CRLF and folded at 75 octets without splitting a UTF-8 character
(section 3.1), times in UTC. The apps build the lines of their components (VEVENT, ...);
``calendar_text`` wraps them in a VCALENDAR."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

MAX_OCTETS = 75
UTC_FORMAT = "%Y%m%dT%H%M%SZ"


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, every line break as ``\\n``."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line, folded: at most 75 octets per physical line, continuation lines
    start with a space; a multi-byte character is never cut."""
    data = line.encode()
    parts: list[str] = []
    start, limit = 0, MAX_OCTETS
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
            cut -= 1
        parts.append(data[start:cut].decode())
        start, limit = cut, MAX_OCTETS - 1  # the leading space counts
    parts.append(data[start:].decode())
    return "\r\n ".join(parts)


def utc_text(moment: datetime) -> str:
    """A DATE-TIME value in UTC ("20260305T160000Z")."""
    return moment.astimezone(UTC).strftime(UTC_FORMAT)


def calendar_text(components: Iterable[list[str]], *, prodid: str, name: str = "") -> str:
    """A VCALENDAR (METHOD:PUBLISH) around the content lines of ``components`` (each one
    component, e.g. a VEVENT from BEGIN to END), as the text of a ``text/calendar`` file:
    every line folded and ended with CRLF. ``name`` becomes the calendar's display name."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{prodid}", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for component in components:
        lines += component
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
