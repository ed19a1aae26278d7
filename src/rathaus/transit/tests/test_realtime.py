"""GTFS-Realtime: reading feeds built with the official bindings and applying them."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from rathaus.transit.realtime import (
    Alert,
    ExpectedStop,
    RealtimeError,
    ScheduledStop,
    Snapshot,
    StopUpdate,
    TripRealtime,
    alerts_for,
    expected_times,
    is_stale,
    realtime_fetch,
    realtime_parse,
    trip_key,
)

BERLIN = ZoneInfo("Europe/Berlin")
SERVICE_DAY = date(2025, 3, 10)
# GTFS time is measured from noon minus 12 h of the service day.
MIDNIGHT = int((datetime(2025, 3, 10, 12, tzinfo=BERLIN) - timedelta(hours=12)).timestamp())
NOW = MIDNIGHT + 8 * 3600
STU = pb.TripUpdate.StopTimeUpdate


# ---- building feeds --------------------------------------------------------------------------


def stu(
    seq: int | None = None,
    stop_id: str | None = None,
    *,
    arr: int | None = None,
    dep: int | None = None,
    arr_time: int | None = None,
    dep_time: int | None = None,
    rel: int | None = None,
) -> Any:
    update = STU()
    if seq is not None:
        update.stop_sequence = seq
    if stop_id is not None:
        update.stop_id = stop_id
    if arr is not None:
        update.arrival.delay = arr
    if arr_time is not None:
        update.arrival.time = arr_time
    if dep is not None:
        update.departure.delay = dep
    if dep_time is not None:
        update.departure.time = dep_time
    if rel is not None:
        update.schedule_relationship = rel
    return update


def trip_entity(
    entity_id: str,
    trip_id: str | None = "T1",
    *,
    start_date: str | None = None,
    route_id: str | None = None,
    relationship: int | None = None,
    delay: int | None = None,
    stops: tuple[Any, ...] = (),
) -> Any:
    entity = pb.FeedEntity(id=entity_id)
    tu = entity.trip_update
    if trip_id is not None:
        tu.trip.trip_id = trip_id
    if route_id is not None:
        tu.trip.route_id = route_id
    if start_date is not None:
        tu.trip.start_date = start_date
    if relationship is not None:
        tu.trip.schedule_relationship = relationship
    if delay is not None:
        tu.delay = delay
    tu.stop_time_update.extend(stops)
    return entity


def feed(
    *entities: Any,
    timestamp: int | None = NOW,
    incrementality: int = pb.FeedHeader.FULL_DATASET,
) -> bytes:
    message = pb.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = incrementality
    if timestamp is not None:
        message.header.timestamp = timestamp
    message.entity.extend(entities)
    # Partial: malformed entities (a TripUpdate without trip) must be expressible.
    return bytes(message.SerializePartialToString())


def scheduled() -> list[ScheduledStop]:
    """Five stops A..E, 08:00, 08:10, ... with one minute dwell each."""
    return [
        ScheduledStop(
            stop_sequence=seq,
            stop_id="ABCDE"[seq - 1],
            arrival=8 * 3600 + (seq - 1) * 600,
            departure=8 * 3600 + (seq - 1) * 600 + 60,
        )
        for seq in range(1, 6)
    ]


def apply(
    *stops: Any, delay: int | None = None, relationship: int | None = None
) -> list[ExpectedStop]:
    snapshot = realtime_parse(
        feed(trip_entity("e1", delay=delay, relationship=relationship, stops=stops))
    )
    return expected_times(
        stop_times=scheduled(),
        realtime=snapshot.trip_for("T1", SERVICE_DAY),
        service_midnight=MIDNIGHT,
    )


def delays(result: list[ExpectedStop]) -> list[tuple[int | None, int | None]]:
    return [(e.arrival_delay, e.departure_delay) for e in result]


# ---- applying trip updates -------------------------------------------------------------------


def test_delay_propagates_downstream_until_next_update_and_not_upstream() -> None:
    result = apply(stu(2, arr=120), stu(4, arr=240, dep=300))

    assert delays(result) == [
        (None, None),  # before the first update, no trip delay: schedule only
        (120, 120),
        (120, 120),  # propagated
        (240, 300),
        (300, 300),  # the departure delay of stop 4 propagates
    ]
    assert [e.realtime for e in result] == [False, True, True, True, True]
    assert result[2].arrival == 8 * 3600 + 1200 + 120
    assert result[2].departure == 8 * 3600 + 1260 + 120


def test_absolute_time_wins_over_delay_for_that_event() -> None:
    stops = scheduled()
    arrival_at = MIDNIGHT + stops[1].arrival + 600
    result = apply(stu(2, arr=60, arr_time=arrival_at, dep=700))

    assert result[1].arrival == stops[1].arrival + 600  # the time, not the 60 s delay
    assert result[1].departure == stops[1].departure + 700
    assert result[2].arrival_delay == 700  # and its departure delay propagates


def test_absolute_time_only_propagates_the_delay_it_implies() -> None:
    stops = scheduled()
    result = apply(stu(2, dep_time=MIDNIGHT + stops[1].departure + 90))

    assert result[1].departure_delay == 90
    assert result[1].arrival_delay == 90  # no upstream information: its own delay
    assert delays(result)[2:] == [(90, 90)] * 3


def test_arrival_only_update_implies_departure_delay() -> None:
    result = apply(stu(3, arr=180))

    assert (result[2].arrival_delay, result[2].departure_delay) == (180, 180)
    assert result[2].departure == 8 * 3600 + 1260 + 180
    assert result[3].departure_delay == 180


def test_departure_is_never_before_arrival() -> None:
    # 5 min late in, "on time" out, with one minute of scheduled dwell: it leaves on arrival.
    result = apply(stu(3, arr=300, dep=0))

    assert result[2].arrival == 8 * 3600 + 1200 + 300
    assert result[2].departure == result[2].arrival
    assert result[3].arrival_delay == 240  # what actually propagates is the corrected 240 s


def test_departure_only_update_takes_upstream_arrival_but_not_after_departure() -> None:
    result = apply(stu(2, arr=300), stu(3, dep=120))

    assert result[2].departure_delay == 120
    # Upstream says +300, but it cannot arrive after it leaves (08:21 + 120 s).
    assert result[2].arrival == result[2].departure == 8 * 3600 + 1260 + 120
    assert result[3].arrival_delay == 120


def test_skipped_stop_is_marked_without_prediction_and_delay_continues() -> None:
    result = apply(stu(2, arr=120), stu(3, rel=STU.SKIPPED))

    assert result[2].skipped is True
    assert (result[2].arrival, result[2].departure, result[2].realtime) == (None, None, False)
    assert [e.skipped for e in result] == [False, False, True, False, False]
    assert delays(result)[3:] == [(120, 120), (120, 120)]


def test_no_data_stop_has_no_prediction_and_stops_propagation() -> None:
    result = apply(stu(2, arr=120), stu(3, rel=STU.NO_DATA), stu(5, arr=30))

    assert delays(result) == [(None, None), (120, 120), (None, None), (None, None), (30, 30)]
    assert [e.realtime for e in result] == [False, True, False, False, True]
    assert not any(e.skipped for e in result)


def test_no_data_falls_back_to_trip_delay_after_it_but_not_at_it() -> None:
    result = apply(stu(2, arr=120), stu(3, rel=STU.NO_DATA), delay=45)

    assert delays(result) == [(45, 45), (120, 120), (None, None), (45, 45), (45, 45)]


def test_cancelled_trip_cancels_every_stop_without_predictions() -> None:
    result = apply(stu(2, arr=120), delay=60, relationship=pb.TripDescriptor.CANCELED)

    assert len(result) == 5
    assert all(e.cancelled for e in result)
    assert all(e.arrival is None and e.departure is None and not e.realtime for e in result)


def test_trip_level_delay_applies_before_first_update_and_where_no_update_applies() -> None:
    result = apply(stu(3, arr=200), delay=90)
    assert delays(result) == [(90, 90), (90, 90), (200, 200), (200, 200), (200, 200)]

    only_trip_delay = apply(delay=-30)
    assert delays(only_trip_delay) == [(-30, -30)] * 5
    assert only_trip_delay[0].arrival == 8 * 3600 - 30


def test_no_realtime_means_no_predictions() -> None:
    result = expected_times(stop_times=scheduled(), realtime=None, service_midnight=MIDNIGHT)

    assert [(e.stop_sequence, e.stop_id) for e in result] == [
        (1, "A"),
        (2, "B"),
        (3, "C"),
        (4, "D"),
        (5, "E"),
    ]
    assert not any(e.realtime or e.cancelled or e.skipped for e in result)
    assert result[0].scheduled_departure == 8 * 3600 + 60


def test_matching_by_stop_id_when_stop_sequence_missing() -> None:
    result = apply(stu(stop_id="C", arr=60))
    assert delays(result)[1:3] == [(None, None), (60, 60)]

    # A loop A, B, A: the second update for A belongs to the second visit.
    loop = [
        ScheduledStop(1, "A", 3600, 3600),
        ScheduledStop(2, "B", 4200, 4200),
        ScheduledStop(3, "A", 4800, 4800),
    ]
    realtime = TripRealtime(
        cancelled=False,
        stops=[
            StopUpdate(None, "A", arrival_delay=10),
            StopUpdate(None, "B", arrival_delay=20),
            StopUpdate(None, "A", arrival_delay=30),
        ],
    )
    looped = expected_times(stop_times=loop, realtime=realtime, service_midnight=MIDNIGHT)
    assert [e.arrival_delay for e in looped] == [10, 20, 30]

    only_second_visit = TripRealtime(
        cancelled=False,
        stops=[StopUpdate(2, "B", arrival_delay=20), StopUpdate(None, "A", arrival_delay=30)],
    )
    looped = expected_times(stop_times=loop, realtime=only_second_visit, service_midnight=0)
    assert [e.arrival_delay for e in looped] == [None, 20, 30]


def test_stop_sequence_wins_over_stop_id_and_unknown_stops_are_ignored() -> None:
    result = apply(stu(4, "B", arr=60), stu(9, "Z", arr=999))

    assert delays(result) == [(None, None)] * 3 + [(60, 60)] * 2


def test_results_keep_the_order_of_the_given_stop_times() -> None:
    stops = list(reversed(scheduled()))
    snapshot = realtime_parse(feed(trip_entity("e1", stops=(stu(2, arr=120),))))
    result = expected_times(
        stop_times=stops, realtime=snapshot.trip_for("T1", None), service_midnight=MIDNIGHT
    )

    assert [e.stop_sequence for e in result] == [5, 4, 3, 2, 1]
    assert [e.arrival_delay for e in result] == [120, 120, 120, 120, None]


# ---- reading feeds ---------------------------------------------------------------------------


def test_parse_reads_header_trips_and_stop_updates() -> None:
    snapshot = realtime_parse(
        feed(
            trip_entity(
                "e1",
                start_date="20250310",
                delay=30,
                stops=(stu(1, "A", arr=10, dep_time=NOW), stu(2, rel=STU.SKIPPED)),
            )
        )
    )

    assert snapshot.timestamp == NOW
    assert list(snapshot.trips) == ["T1|20250310"]
    trip = snapshot.trips["T1|20250310"]
    assert (trip.cancelled, trip.delay, trip.schedule_relationship) == (False, 30, "SCHEDULED")
    assert trip.stops == [
        StopUpdate(1, "A", arrival_delay=10, departure_time=NOW),
        StopUpdate(2, None, skipped=True),
    ]
    assert (snapshot.skipped, snapshot.problems) == (0, [])


def test_service_date_keys_with_fallback_to_dateless_key() -> None:
    assert trip_key("T1", date(2025, 3, 10)) == "T1|20250310"
    assert trip_key("T1", None) == "T1|"

    snapshot = realtime_parse(
        feed(
            trip_entity("e1", "T1", start_date="20250310", delay=60),
            trip_entity("e2", "T1", delay=120),
            trip_entity("e3", "T2", start_date="20250310", delay=180),
        )
    )

    assert set(snapshot.trips) == {"T1|20250310", "T1|", "T2|20250310"}
    assert snapshot.trip_for("T1", date(2025, 3, 10)).delay == 60
    assert snapshot.trip_for("T1", date(2025, 3, 11)).delay == 120
    assert snapshot.trip_for("T1", None).delay == 120
    assert snapshot.trip_for("T2", date(2025, 3, 11)) is None
    assert snapshot.trip_for("T2", None) is None
    assert snapshot.trip_for("T3", date(2025, 3, 10)) is None


def test_staleness() -> None:
    snapshot = realtime_parse(feed(timestamp=NOW))

    assert is_stale(snapshot, now=NOW + 60, max_age=60) is False
    assert is_stale(snapshot, now=NOW + 61, max_age=60) is True
    assert is_stale(snapshot, now=NOW - 5, max_age=60) is False  # clock skew is not age
    assert realtime_parse(feed(timestamp=None)).timestamp is None
    assert is_stale(realtime_parse(feed(timestamp=None)), now=NOW, max_age=10**9) is True


def alert_entity(
    entity_id: str,
    *,
    header: dict[str, str],
    description: dict[str, str] | None = None,
    periods: tuple[tuple[int | None, int | None], ...] = (),
    routes: tuple[str, ...] = (),
    stops: tuple[str, ...] = (),
    trips: tuple[str, ...] = (),
    agency: str | None = None,
) -> Any:
    entity = pb.FeedEntity(id=entity_id)
    alert = entity.alert
    for language, text in header.items():
        alert.header_text.translation.add(text=text, language=language)
    for language, text in (description or {}).items():
        alert.description_text.translation.add(text=text, language=language)
    for start, end in periods:
        period = alert.active_period.add()
        if start is not None:
            period.start = start
        if end is not None:
            period.end = end
    for route in routes:
        alert.informed_entity.add(route_id=route)
    for stop in stops:
        alert.informed_entity.add(stop_id=stop)
    for trip in trips:
        alert.informed_entity.add().trip.trip_id = trip
    if agency is not None:
        alert.informed_entity.add(agency_id=agency)
    return entity


def test_alert_translations_prefer_german_and_keep_english() -> None:
    entity = alert_entity(
        "a1",
        header={"en": "Tram 10 diverted", "de-DE": "Straßenbahn 10 umgeleitet"},
        description={"de": "Wegen Bauarbeiten.", "en": "Due to construction."},
        routes=("10",),
    )
    entity.alert.effect = pb.Alert.DETOUR
    entity.alert.cause = pb.Alert.CONSTRUCTION
    entity.alert.url.translation.add(text="https://example.org/10", language="de")
    only_french = alert_entity("a2", header={"fr": "Travaux", "it": "Lavori"}, stops=("S1",))

    alerts = realtime_parse(feed(entity, only_french)).alerts

    assert alerts[0] == Alert(
        id="a1",
        header="Straßenbahn 10 umgeleitet",
        description="Wegen Bauarbeiten.",
        header_en="Tram 10 diverted",
        description_en="Due to construction.",
        active_periods=[],
        route_ids=["10"],
        stop_ids=[],
        trip_ids=[],
        effect="DETOUR",
        cause="CONSTRUCTION",
        url="https://example.org/10",
    )
    assert (alerts[1].header, alerts[1].header_en, alerts[1].description) == ("Travaux", "", "")
    assert (alerts[1].effect, alerts[1].cause) == ("UNKNOWN_EFFECT", "UNKNOWN_CAUSE")


def test_alerts_for_filters_by_active_period_and_informed_entities() -> None:
    snapshot = realtime_parse(
        feed(
            alert_entity(
                "now", header={"de": "jetzt"}, periods=((NOW - 60, NOW + 60),), stops=("S1",)
            ),
            alert_entity(
                "later", header={"de": "später"}, periods=((NOW + 3600, None),), stops=("S1",)
            ),
            alert_entity("over", header={"de": "vorbei"}, periods=((None, NOW),), stops=("S1",)),
            alert_entity(
                "second_period",
                header={"de": "zweite"},
                periods=((NOW - 7200, NOW - 3600), (NOW - 10, None)),
                routes=("10",),
            ),
            alert_entity("always", header={"de": "immer"}, trips=("T1",)),
            alert_entity("network", header={"de": "Netz"}, agency="LVB"),
        )
    )

    def ids(**kwargs: Any) -> list[str]:
        return [a.id for a in alerts_for(snapshot, now=NOW, **kwargs)]

    assert ids(stop_ids=["S1"]) == ["now"]
    assert ids(stop_ids=["S1"], route_ids={"10"}, trip_ids=("T1",)) == [
        "now",
        "second_period",
        "always",
    ]
    assert ids(route_ids=["11"], stop_ids=["S2"]) == []
    assert ids() == []  # the network-wide alert informs no stop, route or trip
    assert snapshot.alerts[-1].agency_ids == ["LVB"]
    later = alerts_for(snapshot, now=NOW + 3600, stop_ids=["S1"])
    assert [a.id for a in later] == ["later"]


def test_vehicle_positions_are_ignored() -> None:
    vehicle = pb.FeedEntity(id="v1")
    vehicle.vehicle.trip.trip_id = "T1"
    vehicle.vehicle.position.latitude = 51.34
    vehicle.vehicle.position.longitude = 12.37

    snapshot = realtime_parse(feed(vehicle, trip_entity("e1", "T2", delay=5)))

    assert list(snapshot.trips) == ["T2|"]
    assert (snapshot.skipped, snapshot.alerts) == (0, [])


def test_malformed_entities_are_counted_not_raised() -> None:
    snapshot = realtime_parse(
        feed(
            trip_entity("no_trip_id", trip_id=None, route_id="10", delay=60),
            trip_entity("bad_stop", "T2", stops=(stu(arr=60),)),
            trip_entity("bad_date", "T3", start_date="2025-03-10"),
            trip_entity("copy", "T4", relationship=pb.TripDescriptor.DUPLICATED),
            trip_entity("good", "T5", delay=30),
            trip_entity("twice", "T5", delay=99),
            alert_entity("silent", header={}, stops=("S1",)),
            alert_entity("nobody", header={"de": "Betrifft niemanden"}),
        )
    )

    assert snapshot.skipped == 7
    assert list(snapshot.trips) == ["T5|"]
    assert snapshot.trips["T5|"].delay == 30  # the first update for a trip stands
    assert snapshot.alerts == []
    assert [p.split(":")[0] for p in snapshot.problems] == [
        "no_trip_id",
        "bad_stop",
        "bad_date",
        "copy",
        "twice",
        "silent",
        "nobody",
    ]
    assert "trip_id" in snapshot.problems[0]
    assert all(" / " in p for p in snapshot.problems)  # German / English


def test_problem_examples_are_capped() -> None:
    entities = [trip_entity(f"e{i}", trip_id=None) for i in range(50)]

    snapshot = realtime_parse(feed(*entities))

    assert snapshot.skipped == 50
    assert 0 < len(snapshot.problems) <= 10


def test_json_round_trip() -> None:
    alert = alert_entity(
        "a1",
        header={"de": "Umleitung", "en": "Detour"},
        periods=((NOW, None), (None, NOW + 5)),
        routes=("10",),
        stops=("S1",),
        trips=("T1",),
    )
    snapshot = realtime_parse(
        feed(
            trip_entity(
                "e1",
                start_date="20250310",
                delay=-20,
                stops=(stu(1, "A", arr=5, dep_time=NOW), stu(2, rel=STU.NO_DATA)),
            ),
            trip_entity("e2", "T2", relationship=pb.TripDescriptor.CANCELED),
            trip_entity("e3", trip_id=None),
            alert,
        )
    )

    stored = json.loads(json.dumps(snapshot.to_json()))
    restored = Snapshot.from_json(stored)

    assert restored == snapshot
    assert restored.alerts[0].active_periods == [(NOW, None), (None, NOW + 5)]
    assert restored.trips["T2|"].cancelled is True
    assert restored.skipped == 1


def test_from_json_refuses_unknown_format() -> None:
    with pytest.raises(RealtimeError) as info:
        Snapshot.from_json({"format": 999, "timestamp": 1})
    assert info.value.code == "stored"
    with pytest.raises(RealtimeError):
        Snapshot.from_json({"format": 1})


# ---- refusing unusable input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty", "leer"),
        (b"<!DOCTYPE html><html><body>Wartung</body></html>", "html", "HTML"),
        (b"\n\n  <html><head></head></html>", "html", "HTML"),
        (b'{"entity": []}', "not_protobuf", "JSON"),
        (b"Service Unavailable", "not_protobuf", "text"),
        (bytes(range(256)), "not_protobuf", "protobuf"),
        (b"\x1f\x8b\x08\x00garbage", "not_protobuf", "gzip"),
    ],
)
def test_parse_refuses_what_is_not_a_feed(data: bytes, code: str, words: str) -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_parse(data)

    assert info.value.code == code
    assert words.lower() in str(info.value).lower()
    assert " / " in str(info.value)


def test_parse_refuses_protobuf_without_feed_header() -> None:
    # Valid protobuf, but another message: its field 1 is a float, not a FeedHeader.
    other = pb.Position(latitude=51.34, longitude=12.37).SerializeToString()
    headless = pb.FeedMessage(entity=[pb.FeedEntity(id="e1")]).SerializePartialToString()

    for data in (other, headless):
        with pytest.raises(RealtimeError) as info:
            realtime_parse(data)
        assert info.value.code == "not_feed"


def test_parse_refuses_differential_feeds() -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_parse(feed(trip_entity("e1"), incrementality=pb.FeedHeader.DIFFERENTIAL))

    assert info.value.code == "differential"
    assert "DIFFERENTIAL" in str(info.value)


def test_parse_limits_size_also_after_gunzip() -> None:
    data = feed(*[trip_entity(f"e{i}", f"T{i}", delay=i) for i in range(200)])

    with pytest.raises(RealtimeError) as info:
        realtime_parse(data, max_bytes=len(data) - 1)
    assert info.value.code == "too_big"

    compressed = gzip.compress(data)
    assert len(realtime_parse(compressed).trips) == 200
    with pytest.raises(RealtimeError) as info:
        realtime_parse(compressed, max_bytes=len(data) - 1)
    assert info.value.code == "too_big"


def test_binary_feed_starting_with_whitespace_like_bytes_is_not_mistaken_for_text() -> None:
    # A header of 60 bytes makes the second byte 0x3c ("<"); it must still be read as protobuf.
    message = pb.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = NOW
    message.header.feed_version = "x" * (60 - len(message.header.SerializeToString()) - 2)
    data = message.SerializeToString()
    assert data[:2] == b"\n<"

    assert realtime_parse(data).timestamp == NOW


# ---- fetching --------------------------------------------------------------------------------

FEED = feed(trip_entity("e1", delay=42))


class _Handler(BaseHTTPRequestHandler):
    release = threading.Event()

    def do_GET(self) -> None:
        routes: dict[str, tuple[int, bytes, dict[str, str]]] = {
            "/feed": (200, FEED, {"Content-Type": "application/x-protobuf"}),
            "/html": (200, b"<!DOCTYPE html><title>Login</title>", {"Content-Type": "text/html"}),
            "/empty": (200, b"", {}),
            "/big": (200, b"\x00" * 5000, {}),
            "/missing": (404, b"not found", {}),
            "/nocontent": (204, b"", {}),
            "/to-file": (302, b"", {"Location": "file:///etc/passwd"}),
            "/to-feed": (302, b"", {"Location": "/feed"}),
        }
        if self.path == "/slow":
            self.release.wait(5)
            routes["/slow"] = (200, FEED, {})
        if self.path == "/big-unannounced":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"\x00" * 5000)
            return
        status, body, headers = routes.get(self.path, (404, b"", {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    _Handler.release.clear()
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Handler.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_fetch_url_and_parse(server: str) -> None:
    data = realtime_fetch(f"{server}/feed")

    assert data == FEED
    assert realtime_parse(data).trips["T1|"].delay == 42
    assert realtime_fetch(f"{server}/to-feed") == FEED  # http redirects are followed


def test_fetch_html_answer_is_refused_when_parsed(server: str) -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_parse(realtime_fetch(f"{server}/html"))

    assert info.value.code == "html"


def test_fetch_times_out(server: str) -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_fetch(f"{server}/slow", timeout=0.3)

    assert info.value.code == "timeout"
    assert "0.3 s" in str(info.value)


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/missing", "http_status", "HTTP 404"),
        ("/nocontent", "http_status", "HTTP 204"),
        ("/empty", "empty", "leer"),
        ("/big", "too_big", "1000"),
        ("/big-unannounced", "too_big", "1000"),
        ("/to-file", "scheme", "file:///etc/passwd"),
    ],
)
def test_fetch_refuses_bad_answers(server: str, path: str, code: str, words: str) -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_fetch(f"{server}{path}", max_bytes=1000)

    assert info.value.code == code
    assert words.lower() in str(info.value).lower()
    assert " / " in str(info.value)


def test_fetch_unreachable_host() -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_fetch("http://127.0.0.1:9/feed", timeout=2)  # the discard port: nobody listens

    assert info.value.code in {"unreachable", "timeout"}


def test_fetch_local_file_and_limits(tmp_path: Path) -> None:
    path = tmp_path / "feed.pb"
    path.write_bytes(FEED)

    assert realtime_fetch(str(path)) == FEED

    with pytest.raises(RealtimeError) as info:
        realtime_fetch(str(path), max_bytes=len(FEED) - 1)
    assert info.value.code == "too_big"

    with pytest.raises(RealtimeError) as info:
        realtime_fetch(str(tmp_path / "missing.pb"))
    assert info.value.code == "not_found"

    (tmp_path / "empty.pb").write_bytes(b"")
    with pytest.raises(RealtimeError) as info:
        realtime_fetch(str(tmp_path / "empty.pb"))
    assert info.value.code == "empty"


@pytest.mark.parametrize("source", ["file:///etc/passwd", "ftp://example.org/feed.pb"])
def test_fetch_refuses_other_url_schemes(source: str) -> None:
    with pytest.raises(RealtimeError) as info:
        realtime_fetch(source)

    assert info.value.code == "scheme"
