"""The deadline calendar and its iCalendar feed: the coming deadlines of calls still taking
applications, soonest first and by month, as the funder stated them (time zone) and in
Berlin time; the feed carries the same instants with stable UIDs and a reminder a week
before; the level and theme filters apply to both."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import CallStatus, Level
from rathaus.funding.selectors import calendar as calendar_selectors
from rathaus.funding.selectors.calendar import CalendarFilters, add_months, deadline_list
from rathaus.funding.tests.test_matching import field_error, make_call, make_programme, text_of

pytestmark = pytest.mark.django_db

PAGE = "/foerderung/fristen/"
FEED = "/foerderung/fristen.ics"
BERLIN = ZoneInfo("Europe/Berlin")
BRUSSELS = ZoneInfo("Europe/Brussels")
NEW_YORK = ZoneInfo("America/New_York")


def at(now: datetime, days: int, zone: ZoneInfo, hour: int = 17) -> datetime:
    """``days`` from now, at ``hour``:00 wall-clock time in ``zone``."""
    return (
        (now + timedelta(days=days))
        .astimezone(zone)
        .replace(hour=hour, minute=0, second=0, microsecond=0)
    )


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def events(text: str) -> list[dict[str, str]]:
    """The VEVENTs of a calendar as {property: value} (the VALARM's as ALARM-<property>)."""
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    in_alarm = False
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif line == "BEGIN:VALARM":
            in_alarm = True
        elif line == "END:VALARM":
            in_alarm = False
        elif current is not None:
            name, _sep, value = line.partition(":")
            current[("ALARM-" if in_alarm else "") + name] = value
    return found


@pytest.fixture
def calendar_data(funding: dict[str, Any]) -> dict[str, Any]:
    """Beside the fixture's EU call (17:00 Brussels in 28 days): a federal energy call due
    at 12:00 Berlin in 3 days, a two-stage foundation call (one stage in 60 days at 17:00
    New York, one in 400 days) and a forthcoming state call in 100 days."""
    now = funding["now"]
    energy = make_programme(
        "KLIMA", level=Level.FEDERAL, themes_mask=mask_of([Theme.ENERGY], Theme)
    )
    foundation = make_programme(
        "STIFTUNG", level=Level.FOUNDATION, themes_mask=mask_of([Theme.DATA], Theme)
    )
    state = make_programme("SAB", level=Level.STATE, themes_mask=mask_of([Theme.URBAN], Theme))
    return {
        **funding,
        "energy": make_call(energy, "KLIMA-1", at(now, 3, BERLIN, 12), title="Klimaschutz"),
        "foundation": make_call(
            foundation,
            "STIFTUNG-1",
            at(now, 60, NEW_YORK),
            at(now, 400, NEW_YORK),
            zone="America/New_York",
            labels=("Skizze", "Vollantrag"),
            title="Daten für alle",
        ),
        "state": make_call(
            state, "SAB-1", at(now, 100, BERLIN), status=CallStatus.FORTHCOMING, title="Quartiere"
        ),
    }


# ---- the query -------------------------------------------------------------------------------


def test_the_coming_deadlines_of_live_calls_soonest_first_for_12_months(
    calendar_data: dict[str, Any],
) -> None:
    rows = list(deadline_list(filters=CalendarFilters(), now=calendar_data["now"]))
    assert [(d.call.identifier, d.label) for d in rows] == [
        ("KLIMA-1", ""),
        ("DIGITAL-2026-AI-01", ""),
        ("STIFTUNG-1", "Skizze"),
        ("SAB-1", ""),
    ]  # not the closed call's, not the stage 400 days ahead
    longer = deadline_list(filters=CalendarFilters(months=24), now=calendar_data["now"])
    assert [d.label for d in longer][-1] == "Vollantrag"


def test_a_closed_calls_future_deadline_is_not_listed(calendar_data: dict[str, Any]) -> None:
    energy = calendar_data["energy"]
    energy.status = CallStatus.CLOSED
    energy.save()
    rows = deadline_list(filters=CalendarFilters(), now=calendar_data["now"])
    assert "KLIMA-1" not in [d.call.identifier for d in rows]


def test_months_are_added_by_the_calendar() -> None:
    start = datetime(2026, 1, 31, 17, 0, tzinfo=BERLIN)
    assert add_months(start, 1) == datetime(2026, 2, 28, 17, 0, tzinfo=BERLIN)
    assert add_months(start, 12) == datetime(2027, 1, 31, 17, 0, tzinfo=BERLIN)
    assert add_months(start, 13) == datetime(2027, 2, 28, 17, 0, tzinfo=BERLIN)


# ---- the page --------------------------------------------------------------------------------


def test_the_page_groups_deadlines_by_month_in_order(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    html = client.get(PAGE).content.decode()
    order = [html.index(identifier) for identifier in ("KLIMA-1", "DIGITAL-2026", "STIFTUNG-1")]
    assert order == sorted(order)
    assert "SAB-1" in html and "DIGITAL-2024-AI-01" not in html
    months = re.findall(r'<h2 class="kern-heading-medium" id="monat-(\d{4}-\d{2})">', html)
    assert months == sorted(set(months)) and len(months) >= 3
    assert "4 Fristen" in text_of(html)
    assert f'href="/foerderung/aufrufe/{calendar_data["energy"].pk}/"' in html


def test_a_brussels_deadline_is_shown_at_17_00_brussels_time_and_in_berlin(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    due = calendar_data["call"].deadlines.get().due_at.astimezone(BRUSSELS)
    text = text_of(client.get(PAGE).content.decode())
    offset = "UTC+01:00" if due.utcoffset() == timedelta(hours=1) else "UTC+02:00"
    assert f"{due.day}. " in text
    assert f"17:00 (Europe/Brussels, {offset}); in Berlin: " in text
    assert "noch 28 Tage" in text


def test_a_new_york_deadline_shows_its_own_time_and_the_berlin_time(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    stage = calendar_data["foundation"].deadlines.get(label="Skizze")
    berlin = stage.due_at.astimezone(BERLIN)
    text = text_of(client.get(PAGE).content.decode())
    match = re.search(
        r"17:00 \(America/New_York, UTC-0[45]:00\); in Berlin: [^,]+, (\d\d:\d\d)", text
    )
    assert match and match.group(1) == f"{berlin:%H:%M}"
    assert berlin.hour in (22, 23)


def test_a_berlin_deadline_is_shown_once_with_the_days_left(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    text = text_of(client.get(PAGE).content.decode())
    assert re.search(r"12:00 \(Europe/Berlin, UTC\+0[12]:00\) noch 3 Tage", text)


def test_filters_by_level_and_theme_apply_to_the_page_and_its_feed_link(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    html = client.get(PAGE, {"ebene": "foundation"}).content.decode()
    assert "STIFTUNG-1" in html and "KLIMA-1" not in html and "DIGITAL-2026" not in html
    assert 'href="/foerderung/fristen.ics?ebene=foundation"' in html
    themed = client.get(PAGE, {"thema": "data"}).content.decode()
    assert "STIFTUNG-1" in themed and "DIGITAL-2026-AI-01" in themed
    assert "KLIMA-1" not in themed and "SAB-1" not in themed
    assert 'href="/foerderung/fristen.ics?thema=data"' in themed
    both = client.get(PAGE, {"ebene": "eu", "thema": "energy"}).content.decode()
    assert "In diesem Zeitraum stehen keine Fristen an" in both


def test_a_period_beyond_12_months_is_shown_but_the_feed_stays_at_12(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    html = client.get(PAGE, {"monate": "24"}).content.decode()
    assert "Vollantrag" in html
    assert 'href="/foerderung/fristen.ics"' in html
    assert "Der Kalender enthält die nächsten 12 Monate." in html
    feed = client.get(FEED, {"monate": "24"}).content.decode()
    assert "Vollantrag" not in feed


def test_an_unknown_filter_gets_a_message_at_its_field_and_the_feed_refuses_it(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    response = client.get(PAGE, {"ebene": "mars", "thema": "data"})
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "ebene") == "„mars“ ist keine bekannte Ebene."
    assert "STIFTUNG-1" not in html
    assert field_error(client.get(PAGE, {"monate": "7"}).content.decode(), "monate")
    assert client.get(FEED, {"thema": "astrologie"}).status_code == 400


def test_the_page_is_paged_and_needs_few_queries(
    client: Client, calendar_data: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    now = calendar_data["now"]
    programme = calendar_data["programme"]
    # after KLIMA-1 (day 3) and before the EU call (day 28) at any time of day. Regression:
    # at now + 1 day + i hours the last of them passed KLIMA-1 when run after midnight
    # Berlin time, which moved KLIMA-1 to the second page.
    for i in range(60):
        make_call(programme, f"VIELE-{i:02d}", now + timedelta(days=10, hours=i))
    with django_assert_max_num_queries(4):
        html = client.get(PAGE).content.decode()
    assert "Seite 1 von 2" in html and "64 Fristen" in text_of(html)
    assert html.count('<tr class="kern-table__row">\n      <td') == 50
    assert 'href="?seite=2"' in html
    second = client.get(PAGE, {"seite": "2"}).content.decode()
    assert "KLIMA-1" not in second and "SAB-1" in second


# ---- the feed --------------------------------------------------------------------------------


def test_the_feed_is_an_icalendar_file_with_one_event_per_deadline(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    response = client.get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(physical.encode()) <= 75 for physical in text.split("\r\n"))
    assert "X-WR-CALNAME:Förderfristen Leipzig" in unfold(text)
    found = events(text)
    assert len(found) == 4
    assert all(
        {"UID", "DTSTAMP", "DTSTART", "SUMMARY", "DESCRIPTION", "URL"} <= set(event)
        for event in found
    )
    assert all(event["ALARM-TRIGGER"] == "-P7D" for event in found)
    assert all(event["ALARM-ACTION"] == "DISPLAY" for event in found)


def test_the_feed_carries_the_right_instants_and_links(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    found = {e["SUMMARY"]: e for e in events(client.get(FEED).content.decode())}
    call = calendar_data["call"]
    eu = found["Frist: DIGITAL-2026-AI-01 – Local digital twins"]
    due = call.deadlines.get().due_at
    assert eu["DTSTART"] == due.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert due.astimezone(BRUSSELS).hour == 17
    assert eu["URL"] == f"http://127.0.0.1:8000/foerderung/aufrufe/{call.pk}/"
    assert "Programm: Digital Europe Programme (DIGITAL)" in eu["DESCRIPTION"]
    assert "17:00 (Europe/Brussels" in eu["DESCRIPTION"]
    assert eu["DESCRIPTION"].endswith(f"/foerderung/aufrufe/{call.pk}/")
    stage = found["Frist: STIFTUNG-1 – Daten für alle (Skizze)"]
    sketch = calendar_data["foundation"].deadlines.get(label="Skizze")
    assert stage["DTSTART"] == sketch.due_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert "17:00 (America/New_York" in stage["DESCRIPTION"]


def test_the_uids_are_stable_between_requests(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    first = [e["UID"] for e in events(client.get(FEED).content.decode())]
    second = [e["UID"] for e in events(client.get(FEED).content.decode())]
    assert first == second and len(set(first)) == len(first)
    deadline = calendar_data["energy"].deadlines.get()
    assert f"UID:funding-deadline-{deadline.pk}@127.0.0.1" in client.get(FEED).content.decode()


def test_the_feed_applies_the_level_and_theme_filters(
    client: Client, calendar_data: dict[str, Any]
) -> None:
    level = events(client.get(FEED, {"ebene": "federal"}).content.decode())
    assert [e["SUMMARY"] for e in level] == ["Frist: KLIMA-1 – Klimaschutz"]
    themed = events(client.get(FEED, {"thema": "data"}).content.decode())
    assert [e["SUMMARY"] for e in themed] == [
        "Frist: DIGITAL-2026-AI-01 – Local digital twins",
        "Frist: STIFTUNG-1 – Daten für alle (Skizze)",
    ]
    named = unfold(client.get(FEED, {"thema": "data"}).content.decode())
    assert "X-WR-CALNAME:Förderfristen Leipzig (Daten und KI)" in named


def test_the_feed_holds_at_most_its_maximum_of_events(
    client: Client, calendar_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_selectors, "FEED_MAX_EVENTS", 2)
    found = events(client.get(FEED).content.decode())
    assert [e["SUMMARY"].split(" – ")[0] for e in found] == [
        "Frist: KLIMA-1",
        "Frist: DIGITAL-2026-AI-01",
    ]
