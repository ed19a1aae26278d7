"""Journey planning: earliest arrivals equal a plain reference implementation on the real Ulm
feed; Pareto sets, arrive-by, midnight, exceptional days and the wheelchair filter on a small
feed; the API's answers and errors."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from rathaus.transit import routing, timetable
from rathaus.transit.models import ServiceDay, StopTime, Trip

pytestmark = pytest.mark.django_db
DAY = 86_400
HORIZON = 3 * 3600


class Reference:
    """Dijkstra on the time-expanded graph of one service date, built from the database by
    itself: events are "ready to board at a stop" and "on board trip r at its i-th stop".
    The same rules as routing: a change takes TRANSIT_CHANGE_SECONDS, after alighting one
    footpath may be walked, and no vehicle is taken from a stop later than the start plus
    HORIZON (one already on board alights at the stop it reaches next)."""

    def __init__(self, net: timetable.Network, service_date: date) -> None:
        self.net = net
        self.change = settings.TRANSIT_CHANGE_SECONDS
        self.runs: list[list[tuple[int, int, int, int, int]]] = []  # (stop, arr, dep, pick, drop)
        self.boardings: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for offset in (-1, 0, 1):
            services = ServiceDay.objects.filter(
                version__in=net.versions, date=service_date + timedelta(days=offset)
            ).values("service_id")
            trips = Trip.objects.filter(version__in=net.versions, service_id__in=services)
            rows: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
            for trip, stop, arr, dep, pick, drop in (
                StopTime.objects.filter(trip__in=trips)
                .order_by("trip_id", "stop_sequence")
                .values_list(
                    "trip_id", "stop_id", "arrival", "departure", "pickup_type", "drop_off_type"
                )
            ):
                if stop in net.index:
                    shift = offset * DAY
                    rows[trip].append((net.index[stop], arr + shift, dep + shift, pick, drop))
            for calls in rows.values():
                run = len(self.runs)
                self.runs.append(calls)
                for position, (stop, _arr, dep, pick, _drop) in enumerate(calls[:-1]):
                    if pick != 1:
                        self.boardings[stop].append((dep, run, position))
        for departures in self.boardings.values():
            departures.sort()

    def earliest_arrival(self, origin: int, target: int, start: int) -> int | None:
        limit = start + HORIZON
        queue: list[tuple[int, int, int, int]] = [(start, 0, origin, -1)]  # (time, kind, a, b)
        ready_done: set[int] = set()
        on_board: set[tuple[int, int]] = set()
        while queue:
            moment, kind, a, b = heapq.heappop(queue)
            if kind == 2:  # arrived at the target
                return moment
            if kind == 0:  # ready to board at stop a
                if a in ready_done:
                    continue
                ready_done.add(a)
                for dep, run, position in self.boardings.get(a, ()):
                    if moment <= dep <= limit and (run, position) not in on_board:
                        heapq.heappush(queue, (dep, 1, run, position))
                continue
            run, position = a, b  # on board, leaving the position-th stop at ``moment``
            if (run, position) in on_board:
                continue
            on_board.add((run, position))
            calls = self.runs[run]
            stop, arr, dep, _pick, drop = calls[position + 1]
            if position + 2 < len(calls) and dep <= limit:
                heapq.heappush(queue, (dep, 1, run, position + 1))
            if drop == 1:
                continue
            if stop == target:
                heapq.heappush(queue, (arr, 2, stop, -1))
            heapq.heappush(queue, (arr + self.change, 0, stop, -1))
            for other, seconds in self.net.footpaths[stop]:
                if other == target:
                    heapq.heappush(queue, (arr + seconds, 2, other, -1))
                heapq.heappush(queue, (arr + self.change + seconds, 0, other, -1))
        return None


def test_earliest_arrivals_equal_the_reference_on_500_random_queries(ulm: Any) -> None:
    service_date = date(2016, 10, 31)  # a Monday
    net = timetable.network()
    day = timetable.day(service_date)
    reference = Reference(net, service_date)
    boardable = sorted({s for s, departures in reference.boardings.items() if departures})
    rng = random.Random(20161031)  # noqa: S311 - reproducible queries
    compared = found = 0
    while compared < 500:
        origin, target = rng.choice(boardable), rng.randrange(len(net.stop_pk))
        if origin == target:
            continue
        start = rng.randrange(4 * 3600, 24 * 3600)
        query = routing.Query(
            sources={origin: 0},
            targets={target: 0},
            time=start,
            change=settings.TRANSIT_CHANGE_SECONDS,
            horizon=HORIZON,
            max_rides=20,
        )
        journeys = routing.pareto(day.forward, net.footpaths, query)
        ours = min((j.arrival for j in journeys), default=None)
        assert ours == reference.earliest_arrival(origin, target, start), (origin, target, start)
        compared += 1
        found += ours is not None
    assert found > 250  # most pairs are connected within three hours, also late at night


def test_each_journey_is_pareto_optimal_and_consistent(ulm: Any) -> None:
    net = timetable.network()
    day = timetable.day(date(2016, 10, 31))
    rng = random.Random(7)  # noqa: S311 - reproducible queries
    checked = 0
    while checked < 100:
        origin, target = rng.randrange(len(net.stop_pk)), rng.randrange(len(net.stop_pk))
        query = routing.Query(
            sources={origin: 0}, targets={target: 0}, time=rng.randrange(6 * 3600, 20 * 3600)
        )
        journeys = routing.pareto(day.forward, net.footpaths, query)
        if origin == target or not journeys:
            continue
        checked += 1
        # fewer transfers arrive later: nothing in the list is dominated
        for fewer, more in zip(journeys, journeys[1:], strict=False):
            assert fewer.rides < more.rides and fewer.arrival > more.arrival
        for journey in journeys:
            assert journey.departure >= query.time
            rides = [leg for leg in journey.legs if leg.kind == "ride"]
            assert len(rides) == journey.rides
            for leg, following in zip(journey.legs, journey.legs[1:], strict=False):
                assert leg.to_stop == following.from_stop
                assert following.departure >= leg.arrival
            assert journey.legs[0].from_stop == origin and journey.legs[-1].to_stop == target
            assert journey.legs[-1].arrival == journey.arrival


def _journeys(client: Client, **params: str) -> Any:
    response = client.get("/api/v1/transit/journeys", params)
    return response.status_code, response.json()


def test_a_journey_through_the_api_lists_its_legs(client: Client, mini: Any) -> None:
    status, body = _journeys(
        client, **{"from": "A", "to": "D", "depart": "2026-03-02T07:50:00+01:00"}
    )

    assert status == 200
    [journey] = body["journeys"]
    assert journey["departure"] == "2026-03-02T08:00:00+01:00"
    assert journey["arrival"] == "2026-03-02T08:15:00+01:00"
    assert journey["transfers"] == 0
    [leg] = journey["legs"]
    assert (leg["mode"], leg["line"], leg["headsign"]) == ("ride", "1", "Dorfplatz")
    assert [s["name"] for s in leg["stops"]] == ["Anger", "Bahnhof", "Christuskirche", "Dorfplatz"]
    assert len(leg["geometry"]) == 4  # no shapes in this feed: the stops' positions


def test_journeys_cross_midnight(client: Client, mini: Any) -> None:
    status, body = _journeys(
        client, **{"from": "A", "to": "D", "depart": "2026-03-02T23:45:00+01:00"}
    )

    assert status == 200
    assert body["journeys"][0]["arrival"] == "2026-03-03T00:10:00+01:00"
    # and from just after midnight, the same late tram (yesterday's service) is still found
    status, body = _journeys(
        client, **{"from": "C", "to": "D", "depart": "2026-03-03T00:00:00+01:00"}
    )
    assert body["journeys"][0]["departure"] == "2026-03-03T00:01:00+01:00"


def test_no_service_on_an_exceptional_day(client: Client, mini: Any) -> None:
    status, body = _journeys(
        client, **{"from": "A", "to": "D", "depart": "2026-12-25T07:50:00+01:00"}
    )
    assert status == 200 and body["journeys"] == []  # Christmas Day: removed by calendar_dates
    status, body = _journeys(
        client, **{"from": "A", "to": "D", "depart": "2026-12-24T07:50:00+01:00"}
    )
    assert len(body["journeys"]) == 1


def test_arrive_by_gives_the_latest_departure(client: Client, mini: Any) -> None:
    status, body = _journeys(
        client, **{"from": "A", "to": "E", "arrive": "2026-03-02T09:00:00+01:00"}
    )
    assert status == 200 and body["arrive_by"] is True
    assert body["journeys"] == []  # the bus to E runs only 06:00-07:00

    status, body = _journeys(
        client, **{"from": "B", "to": "E", "arrive": "2026-03-02T06:45:00+01:00"}
    )
    [journey] = body["journeys"]
    assert journey["departure"] == "2026-03-02T06:20:00+01:00"  # the 06:40 bus arrives 06:47
    assert journey["arrival"] == "2026-03-02T06:27:00+01:00"


def test_from_a_coordinate_the_journey_starts_and_ends_with_a_walk(
    client: Client, mini: Any
) -> None:
    status, body = _journeys(
        client,
        **{
            "from": "51.3003,12.3004",
            "to": "51.3398,12.3002",
            "depart": "2026-03-02T07:50:00+01:00",
        },
    )
    assert status == 200
    legs = body["journeys"][0]["legs"]
    assert [leg["mode"] for leg in legs] == ["walk", "ride", "walk"]
    assert legs[0]["arrival"] == legs[1]["departure"] == "2026-03-02T08:00:00+01:00"


def test_the_wheelchair_filter_avoids_inaccessible_trips_and_stops(
    client: Client, mini: Any
) -> None:
    # D is not accessible (wheelchair_boarding 2): no step-free journey ends there
    params = {"from": "A", "to": "D", "depart": "2026-03-02T07:50:00+01:00"}
    assert len(_journeys(client, **params)[1]["journeys"]) == 1
    assert _journeys(client, **params, wheelchair="true")[1]["journeys"] == []
    # the 08:00 tram is accessible, A and C are: the journey stays
    params = {"from": "A", "to": "C", "depart": "2026-03-02T07:50:00+01:00", "wheelchair": "true"}
    assert len(_journeys(client, **params)[1]["journeys"]) == 1
    # the late tram (wheelchair_accessible 2) is not offered
    params = {"from": "A", "to": "C", "depart": "2026-03-02T23:00:00+01:00", "wheelchair": "true"}
    assert _journeys(client, **params)[1]["journeys"] == []


@pytest.mark.parametrize(
    ("params", "status", "code", "english"),
    [
        ({"from": "A", "to": "nowhere"}, 404, "unknown_stop", "There is no stop"),
        ({"from": "A", "to": "A"}, 422, "same_place", "same"),
        (
            {"from": "A", "to": "D", "depart": "2031-01-01T08:00:00+01:00"},
            422,
            "out_of_range",
            "timetable",
        ),
        ({"from": "A", "to": "D", "depart": "morgen früh"}, 422, "bad_time", "ISO 8601"),
        (
            {"from": "0,0", "to": "D", "depart": "2026-03-02T08:00:00+01:00"},
            422,
            "no_stop_near",
            "no stop",
        ),
        (
            {
                "from": "A",
                "to": "D",
                "depart": "2026-03-02T08:00:00+01:00",
                "arrive": "2026-03-02T09:00:00+01:00",
            },
            422,
            "depart_and_arrive",
            "not both",
        ),
    ],
)
def test_journey_queries_that_cannot_be_answered_say_why(
    client: Client, mini: Any, params: dict[str, str], status: int, code: str, english: str
) -> None:
    got, body = _journeys(client, **params)

    assert got == status
    assert body["error"] == code
    assert english in body["messages"]["en"]
    assert body["messages"]["de"] != body["messages"]["en"]


def test_arriving_just_after_midnight_uses_the_last_trams_of_the_evening(
    client: Client, mini: Any
) -> None:
    status, body = _journeys(
        client, **{"from": "A", "to": "D", "arrive": "2026-03-03T00:15:00+01:00"}
    )

    assert status == 200
    [journey] = body["journeys"]
    assert journey["departure"] == "2026-03-02T23:50:00+01:00"
    assert journey["arrival"] == "2026-03-03T00:10:00+01:00"


def test_a_station_and_its_own_platform_are_the_same_place(client: Client, mini: Any) -> None:
    status, body = _journeys(
        client, **{"from": "B", "to": "B1", "depart": "2026-03-02T07:50:00+01:00"}
    )

    assert status == 422 and body["error"] == "same_place"


def test_times_count_from_noon_minus_twelve_hours_on_the_day_clocks_change() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from rathaus.transit import selectors

    berlin = ZoneInfo("Europe/Berlin")
    day = date(2026, 3, 29)  # clocks go forward at 02:00
    assert selectors.seconds_of(datetime(2026, 3, 29, 8, 0, tzinfo=berlin)) == (day, 8 * 3600)
    assert selectors.at_seconds(day, 8 * 3600).hour == 8
    # "noon minus twelve hours" is 23:00 of the evening before on that day
    assert selectors.service_midnight(day).astimezone(berlin).hour == 23


def test_journey_queries_are_limited_per_client(client: Client, mini: Any, settings: Any) -> None:
    settings.RATELIMIT_TRANSIT_JOURNEYS = "2/m"
    params = {"from": "A", "to": "D", "depart": "2026-03-02T07:50:00+01:00"}

    answers = [client.get("/api/v1/transit/journeys", params).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
