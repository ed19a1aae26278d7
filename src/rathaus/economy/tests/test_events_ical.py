"""The calendar files (RFC 5545): escaping, CRLF, folding at 75 octets without cutting a
character, the event's URL, and the subscribable feed of all public events."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.economy.constants import EventStatus
from rathaus.economy.ical import calendar, escape_text, fold
from rathaus.economy.tests.test_events import make_event

pytestmark = pytest.mark.django_db


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_text_values_are_escaped() -> None:
    assert escape_text("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    assert escape_text("x\r\ny") == "x\\ny"


def test_long_lines_are_folded_at_75_octets_without_cutting_umlauts() -> None:
    line = "SUMMARY:" + "Größenwahn und Übermut " * 10
    folded = fold(line)
    for physical in folded.split("\r\n"):
        assert len(physical.encode()) <= 75
    assert folded.replace("\r\n ", "") == line


def test_an_event_file_has_crlf_lines_the_url_and_utc_times() -> None:
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    event = make_event(
        title="Daten, Netze; Städte",
        description="Zeile eins\nZeile zwei " + "lang " * 30,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    text = calendar([event])
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = unfold(text)
    assert "SUMMARY:Daten\\, Netze\\; Städte" in lines
    assert f"URL:http://127.0.0.1:8000/wirtschaft/veranstaltungen/{event.slug}/" in lines
    assert f"DTSTART:{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}" in lines
    assert any(line.startswith("DESCRIPTION:Zeile eins\\nZeile zwei") for line in lines)
    assert all(len(physical.encode()) <= 75 for physical in text.split("\r\n"))


def test_the_feed_lists_public_events_and_marks_cancelled_ones(client: Client) -> None:
    make_event(title="Offen", slug="offen")
    make_event(title="Abgesagt", slug="abgesagt", status=EventStatus.CANCELLED)
    make_event(title="Entwurf", slug="entwurf", status=EventStatus.DRAFT)
    response = client.get("/wirtschaft/veranstaltungen/feed.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    lines = unfold(response.content.decode())
    assert "SUMMARY:Offen" in lines and "SUMMARY:Abgesagt" in lines
    assert "SUMMARY:Entwurf" not in lines
    assert lines.count("STATUS:CANCELLED") == 1
    assert lines.count("BEGIN:VEVENT") == 2


def test_an_events_own_calendar_file_is_offered_for_download(client: Client) -> None:
    event = make_event()
    response = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/kalender.ics")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "BEGIN:VEVENT" in response.content.decode()


def test_the_meeting_link_is_only_in_the_calendar_file_of_someone_with_a_seat(
    client: Client, mailoutbox: list
) -> None:
    """Review finding: the public calendar files gave away the link of online events."""
    from rathaus.economy.tests.test_events import deliver, register

    event = make_event(
        slug="online-runde",
        format="hybrid",
        online_url="https://meet.example.org/geheim",
        capacity=1,
    )
    public = client.get("/wirtschaft/veranstaltungen/feed.ics").content.decode()
    single = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/kalender.ics")
    assert "meet.example.org/geheim" not in public
    assert "meet.example.org/geheim" not in single.content.decode()
    assert register(Client(), event, "Ada", "ada@example.org").status_code == 302
    assert register(Client(), event, "Bo", "bo@example.org").status_code == 302  # waits
    deliver()
    seated = next(m for m in mailoutbox if "ada@example.org" in m.to)
    waiting = next(m for m in mailoutbox if "bo@example.org" in m.to)
    attachment = next(a for a in seated.attachments if a[0].endswith(".ics"))
    assert "meet.example.org/geheim" in attachment[1].replace("\r\n ", "")
    assert "meet.example.org/geheim" not in waiting.body
