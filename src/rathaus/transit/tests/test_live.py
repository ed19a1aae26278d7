"""Live data on boards and in journeys: delays, cancellations, skipped stops and alerts from
GTFS-Realtime feeds built here; stale data is ignored ("Fahrplandaten")."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from google.transit import gtfs_realtime_pb2 as pb

from rathaus.transit import selectors
from rathaus.transit.models import Feed, RealtimeState
from rathaus.transit.services import realtime_poll_all, realtime_refresh

pytestmark = pytest.mark.django_db


def _at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def feed_message(
    *,
    delays: dict[str, int] | None = None,
    cancelled: tuple[str, ...] = (),
    skipped: dict[str, int] | None = None,
    alert_stop: str = "",
    age: int = 0,
    start_date: str = "20260302",
) -> bytes:
    message = pb.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = pb.FeedHeader.FULL_DATASET
    message.header.timestamp = int(time.time()) - age
    for trip_id, delay in (delays or {}).items():
        entity = message.entity.add(id=f"d-{trip_id}")
        entity.trip_update.trip.trip_id = trip_id
        entity.trip_update.trip.start_date = start_date
        update = entity.trip_update.stop_time_update.add(stop_sequence=1)
        update.departure.delay = delay
    for trip_id in cancelled:
        entity = message.entity.add(id=f"c-{trip_id}")
        entity.trip_update.trip.trip_id = trip_id
        entity.trip_update.trip.start_date = start_date
        entity.trip_update.trip.schedule_relationship = pb.TripDescriptor.CANCELED
    for trip_id, sequence in (skipped or {}).items():
        entity = message.entity.add(id=f"s-{trip_id}")
        entity.trip_update.trip.trip_id = trip_id
        entity.trip_update.trip.start_date = start_date
        update = entity.trip_update.stop_time_update.add(stop_sequence=sequence)
        update.schedule_relationship = pb.TripUpdate.StopTimeUpdate.SKIPPED
    if alert_stop:
        entity = message.entity.add(id="alert-1")
        entity.alert.informed_entity.add(stop_id=alert_stop)
        entity.alert.header_text.translation.add(text="Bauarbeiten am Bahnhof", language="de")
        entity.alert.header_text.translation.add(text="Works at the station", language="en")
    return message.SerializeToString()


@pytest.fixture
def live(mini: Any, tmp_path: Path) -> Any:
    """Load a real-time feed from a file into the mini feed; returns a loader."""

    def load(**kwargs: Any) -> RealtimeState:
        path = tmp_path / "rt.pb"
        path.write_bytes(feed_message(**kwargs))
        return realtime_refresh(feed=Feed.objects.get(slug="mini"), source=str(path))

    return load


def test_a_delay_shows_the_expected_time_on_the_board(live: Any) -> None:
    live(delays={"T1-0800": 300}, alert_stop="B1")

    board = selectors.departures(selectors.stop_get("A"), at=_at("2026-03-02T07:55"))

    assert board.realtime is True
    first = board.departures[0]
    assert first.scheduled.strftime("%H:%M") == "08:00"
    assert first.expected is not None and first.expected.strftime("%H:%M") == "08:05"
    assert first.delay_minutes == 5
    station = selectors.departures(selectors.stop_get("B"), at=_at("2026-03-02T07:55"))
    assert [a.header for a in station.alerts] == ["Bauarbeiten am Bahnhof"]


def test_a_cancelled_trip_is_marked_and_a_skipped_stop_too(live: Any, client: Client) -> None:
    live(cancelled=("T1-0800",))
    board = selectors.departures(selectors.stop_get("A"), at=_at("2026-03-02T07:55"))
    assert board.departures[0].cancelled is True

    live(skipped={"T1-0800": 2})
    response = client.get("/api/v1/transit/stops/B/departures", {"at": "2026-03-02T08:00:00+01:00"})
    body = response.json()
    assert body["realtime"] is True
    assert body["departures"][0]["trip_id"] == "T1-0800"
    assert body["departures"][0]["cancelled"] is True


def test_stale_live_data_is_ignored_and_the_board_says_timetable(live: Any, client: Client) -> None:
    live(delays={"T1-0800": 300}, age=3600)

    board = selectors.departures(selectors.stop_get("A"), at=_at("2026-03-02T07:55"))
    assert board.realtime is False
    assert board.departures[0].expected is None
    page = client.get("/mobilitaet/tafel/", {"halt": "A"}).content.decode()
    assert "Fahrplandaten" in page and "Echtzeitdaten" not in page


def test_journeys_use_the_live_times(live: Any, client: Client) -> None:
    params = {"from": "A", "to": "D", "depart": "2026-03-02T07:50:00+01:00"}
    live(delays={"T1-0800": 300})
    [journey] = client.get("/api/v1/transit/journeys", params).json()["journeys"]
    assert journey["departure"] == "2026-03-02T08:05:00+01:00"
    assert journey["arrival"] == "2026-03-02T08:20:00+01:00"

    live(cancelled=("T1-0800",))
    assert client.get("/api/v1/transit/journeys", params).json()["journeys"] == []


def test_the_worker_polls_every_feed_with_a_source_and_keeps_the_last_good_data(
    live: Any, tmp_path: Path
) -> None:
    path = tmp_path / "poll.pb"
    path.write_bytes(feed_message(delays={"T1-0800": 120}))
    Feed.objects.filter(slug="mini").update(realtime_url=str(path))

    assert realtime_poll_all() == 1
    state = RealtimeState.objects.get(feed__slug="mini")
    assert state.snapshot["trips"]["T1-0800|20260302"]["delay"] is None
    assert state.error == ""

    path.write_bytes(b"<html>Wartung</html>")
    assert realtime_poll_all() == 0
    state.refresh_from_db()
    assert "HTML" in state.error
    assert "T1-0800|20260302" in state.snapshot["trips"]  # the last good data stays


def test_the_command_loads_a_file_and_reports_bad_sources(
    mini: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rt.pb"
    path.write_bytes(feed_message(delays={"T1-0800": 60}, alert_stop="A"))

    call_command("import-gtfs-rt", str(path), "--feed", "mini", "--save-url")

    assert "1 trip updates, 1 alerts" in capsys.readouterr().out
    assert Feed.objects.get(slug="mini").realtime_url == str(path)
    with pytest.raises(CommandError, match="no feed"):
        call_command("import-gtfs-rt", str(path), "--feed", "nope")
    path.write_bytes(b"not protobuf at all")
    with pytest.raises(CommandError):
        call_command("import-gtfs-rt", "--feed", "mini")


def test_a_busy_board_stays_full_with_live_data(db: None, tmp_path: Path) -> None:
    from rathaus.transit.services import feed_import
    from rathaus.transit.tests.conftest import gtfs_zip
    from rathaus.transit.tests.test_pages import DENSE

    feed_import(source="dense.zip", slug="dense", data=gtfs_zip(DENSE))
    path = tmp_path / "empty.pb"
    path.write_bytes(feed_message())  # fresh, but says nothing about any trip
    realtime_refresh(feed=Feed.objects.get(slug="dense"), source=str(path))

    board = selectors.departures(selectors.stop_get("A"), at=_at("2026-03-02T12:00"), limit=5)

    assert board.realtime is True
    assert [d.scheduled.strftime("%H:%M") for d in board.departures] == [
        "12:00",
        "12:05",
        "12:10",
        "12:15",
        "12:20",
    ]


def test_the_board_before_midnight_shows_the_first_trips_of_the_next_day(db: None) -> None:
    from rathaus.transit.services import feed_import
    from rathaus.transit.tests.conftest import MINI, gtfs_zip

    files = dict(MINI)
    files["trips.txt"] += "T1,WK,T1-0005,Dorfplatz,1\n"
    files["stop_times.txt"] += "T1-0005,00:05:00,00:05:00,A,1\nT1-0005,00:20:00,00:20:00,D,2\n"
    feed_import(source="mini.zip", slug="mini", data=gtfs_zip(files))

    board = selectors.departures(selectors.stop_get("A"), at=_at("2026-03-02T23:55"))

    assert [d.scheduled.isoformat() for d in board.departures] == ["2026-03-03T00:05:00+01:00"]


def test_far_away_times_are_refused_or_ignored(mini: Any, client: Client) -> None:
    response = client.get("/api/v1/transit/stops/A/departures", {"at": "0001-01-01T00:00:00"})
    assert response.status_code == 422 and response.json()["error"] == "bad_time"
    assert (
        client.get("/mobilitaet/haltestellen/A/", {"zeit": "0001-01-01T00:00"}).status_code == 200
    )
