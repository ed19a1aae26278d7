"""Every read of the transit app: stops, departure boards and journeys, over the active
version of each feed. Timetables are public, so there is no per-user gate; what is public
is exactly what the active versions hold."""

from __future__ import annotations

import re
import time as time_module
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz, process

from rathaus.core.errors import message_format
from rathaus.core.recent import Recent
from rathaus.core.search import fold
from rathaus.transit import quality, realtime, routing, timetable
from rathaus.transit.constants import Accessibility, LocationType
from rathaus.transit.models import (
    Feed,
    FeedVersion,
    ServiceDay,
    Stop,
    StopTime,
    Trip,
)
from rathaus.transit.realtime import Alert

MAX_DEPARTURES = 100
# reads boards make on every request whose answers change only with a new timetable version
# (a new version has new ids, so nothing here is ever stale)
_recent_platforms: Recent[list[Stop]] = Recent(60.0)
_recent_services: Recent[list[str]] = Recent(60.0)
_recent_ranges: Recent[tuple[date | None, date | None]] = Recent(60.0)
CACHED_STOPS = 512


class TransitError(Exception):
    """A query that cannot be answered; ``message`` is a translatable text, ``code`` stable."""

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


# ---- stops -------------------------------------------------------------------------------------


def _feed_slugs() -> dict[int, str]:
    """Active version id -> its feed's slug."""
    return {
        version: slug
        for version, slug in Feed.objects.filter(active_version__isnull=False).values_list(
            "active_version_id", "slug"
        )
    }


def stop_ref(stop: Stop, slugs: dict[int, str] | None = None) -> str:
    """How APIs and pages name a stop: the feed's own stop_id, prefixed with the feed's slug
    when several feeds are loaded."""
    slugs = _feed_slugs() if slugs is None else slugs
    if len(slugs) > 1:
        return f"{slugs.get(stop.version_id, '?')}:{stop.stop_id}"
    return stop.stop_id


def stop_get(ref: str) -> Stop:
    """The stop named ``<feed>:<stop_id>`` or by its bare stop_id where that is unambiguous."""
    versions = timetable.active_versions()
    candidates = list(
        Stop.objects.filter(version__in=versions, stop_id=ref).select_related("parent")[:2]
    )
    feed_slug, sep, stop_id = ref.partition(":")
    if sep and not candidates:
        candidates = list(
            Stop.objects.filter(
                version__in=versions, version__feed__slug=feed_slug, stop_id=stop_id
            ).select_related("parent")[:1]
        )
    if not candidates:
        raise TransitError(
            "unknown_stop",
            message_format(_("Die Haltestelle „%(ref)s“ gibt es nicht."), {"ref": ref[:100]}),
        )
    if len(candidates) > 1:
        raise TransitError(
            "ambiguous_stop",
            message_format(
                _(
                    "Die Haltestelle „%(ref)s“ gibt es in mehreren Fahrplänen; "
                    "bitte mit Fahrplan angeben, z. B. feed:%(ref)s."
                ),
                {"ref": ref[:100]},
            ),
        )
    return candidates[0]


def stop_platforms(stop: Stop) -> list[Stop]:
    """The stops where one boards: a station's platforms, or the stop itself."""
    if stop.location_type == LocationType.STATION:
        return _recent_platforms.get(
            stop.pk,
            lambda: list(stop.children.filter(location_type__in=(0, 4)).select_related("parent")),
        )
    return [stop]


def services_on(version_id: int, day: date) -> list[str]:
    """The service ids that run on ``day`` (kept a minute per process: boards ask often)."""
    return _recent_services.get(
        (version_id, day),
        lambda: list(
            ServiceDay.objects.filter(version_id=version_id, date=day).values_list(
                "service_id", flat=True
            )
        ),
    )


@dataclass(frozen=True)
class StopHit:
    stop_id: int  # our key
    ref: str
    name: str
    lat: float
    lon: float
    distance: float | None = None


@lru_cache(maxsize=4)
def _search_index(versions: tuple[int, ...]) -> tuple[list[str], list[StopHit]]:
    """Stations and stops without a station, by folded name: one entry per name and place
    (the platforms of a station are found through it)."""
    slugs = _feed_slugs()
    names: list[str] = []
    hits: list[StopHit] = []
    rows = (
        Stop.objects.filter(version__in=versions, parent__isnull=True, location_type__in=(0, 1))
        .exclude(name="")
        .order_by("name", "pk")
    )
    seen: set[tuple[str, int, int]] = set()
    for stop in rows:
        assert stop.lat is not None and stop.lon is not None  # noqa: S101 - import checks it
        key = (stop.name, round(stop.lat * 200), round(stop.lon * 200))  # ~500 m apart
        if key in seen:
            continue
        seen.add(key)
        names.append(" ".join(fold(word) for word in stop.name.split()))
        hits.append(StopHit(stop.pk, stop_ref(stop, slugs), stop.name, stop.lat, stop.lon))
    return names, hits


def stop_search(query: str, *, limit: int = 10) -> list[StopHit]:
    """Stops by name, forgiving typos and umlauts (``Hauptbanhof`` finds Hauptbahnhof)."""
    text = " ".join(fold(word) for word in query.split())
    if not text:
        return []
    names, hits = _search_index(timetable.active_versions())
    found = process.extract(text, names, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=70)
    starts = [i for i, name in enumerate(names) if name.startswith(text)]
    ranked = sorted(
        {i: score + (15 if i in starts else 0) for _name, score, i in found}.items(),
        key=lambda item: (-item[1], names[item[0]]),
    )
    return [hits[i] for i, _score in ranked[:limit]]


def stops_near(lat: float, lon: float, *, limit: int = 10, radius: float = 1000) -> list[StopHit]:
    names, hits = _search_index(timetable.active_versions())
    if not hits:
        return []
    import numpy as np

    lats = np.array([h.lat for h in hits])
    lons = np.array([h.lon for h in hits])
    meters = timetable.distances(lats, lons, lat, lon)
    order = [int(i) for i in np.argsort(meters, kind="stable")[:limit] if meters[i] <= radius]
    return [
        StopHit(
            hits[i].stop_id, hits[i].ref, hits[i].name, hits[i].lat, hits[i].lon, float(meters[i])
        )
        for i in order
    ]


def search_forget() -> None:
    _search_index.cache_clear()
    _stop_calls_read.cache_clear()


# ---- time --------------------------------------------------------------------------------------


service_midnight = timetable.service_midnight


def at_seconds(day: date, seconds: int) -> datetime:
    return timezone.localtime(service_midnight(day) + timedelta(seconds=seconds))


def seconds_of(moment: datetime) -> tuple[date, int]:
    local = timezone.localtime(moment)
    day = local.date()
    return day, int((local - service_midnight(day)).total_seconds())


def feed_range(versions: tuple[int, ...] | None = None) -> tuple[date | None, date | None]:
    """The first and last service date of the given (default: active) versions."""
    versions = timetable.active_versions() if versions is None else versions
    return _recent_ranges.get(versions, lambda: _feed_range(versions))


def _feed_range(versions: tuple[int, ...]) -> tuple[date | None, date | None]:
    dates = FeedVersion.objects.filter(pk__in=versions).values_list("first_date", "last_date")
    firsts = [a for a, _b in dates if a]
    lasts = [b for _a, b in dates if b]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def sensible_moment(moment: datetime) -> bool:
    """Timetables live in this era; far-away years are input errors, not questions."""
    return 1900 <= moment.year <= 2200


def _check_in_range(day: date) -> None:
    first, last = feed_range()
    if first is None or last is None:
        raise TransitError("no_timetable", _("Es ist kein Fahrplan geladen."))
    if not (first - timedelta(days=1) <= day <= last + timedelta(days=1)):
        raise TransitError(
            "out_of_range",
            message_format(
                _(
                    "Der Fahrplan gilt vom %(first)s bis %(last)s; für den %(day)s gibt es keine Fahrten."
                ),
                {
                    "first": first.strftime("%d.%m.%Y"),
                    "last": last.strftime("%d.%m.%Y"),
                    "day": day.strftime("%d.%m.%Y"),
                },
            ),
        )


# ---- departures -------------------------------------------------------------------------------


@dataclass
class Departure:
    scheduled: datetime
    expected: datetime | None  # from real-time data; None = only the timetable
    cancelled: bool
    line: str
    route_type: int
    color: str
    text_color: str
    headsign: str
    platform: str
    stop_name: str
    trip_id: str
    wheelchair: int
    service_date: date
    stop_sequence: int
    route_id: str = ""
    trip_pk: int = 0
    stop_id: str = ""

    @property
    def early_minutes(self) -> int:
        return -(self.delay_minutes or 0)

    @property
    def delay_minutes(self) -> int | None:
        if self.expected is None:
            return None
        return round((self.expected - self.scheduled).total_seconds() / 60)


@dataclass
class Board:
    stop: Stop
    departures: list[Departure]
    realtime: bool  # live data applied (fresh); False: "Fahrplandaten"
    at: datetime
    alerts: list[Alert] = field(default_factory=list)


def departures(
    stop: Stop, *, at: datetime | None = None, limit: int = 20, window: int = 3 * 3600
) -> Board:
    """The next departures from a stop (a station: from all its platforms), with live data
    applied where a fresh GTFS-Realtime snapshot of the stop's feed has any."""
    at = timezone.localtime(at or timezone.now())
    limit = max(1, min(limit, MAX_DEPARTURES))
    platforms = stop_platforms(stop)
    snapshot = timetable.fresh_snapshot(stop.version_id)
    # with live data, a late vehicle that was due a while ago still leaves from here
    lookback = LATE_LOOKBACK if snapshot is not None else 0
    found: list[tuple[int, date, Call]] = []
    first, last = feed_range((stop.version_id,))
    if first is not None and last is not None and first - ONE_DAY <= at.date() <= last + ONE_DAY:
        day, now = seconds_of(at)
        times, calls = stop_calls(stop, platforms)
        for offset in (-1, 0, 1):
            service_day = day + timedelta(days=offset)
            start = now - offset * timetable.DAY  # the moment in that day's GTFS time
            if not times or start - lookback > times[-1] or start + window <= 0:
                continue  # that day has nothing then (usually: yesterday, tomorrow)
            services = set(services_on(stop.version_id, service_day))
            late = picked = 0
            for i in range(bisect_left(times, start - lookback), len(times)):
                call = calls[i]
                if call.departure >= start + window or picked >= limit:
                    break
                if call.service_id not in services:
                    continue
                if call.departure < start:  # due a while ago: still here if it runs late
                    if late >= limit:
                        continue
                    late += 1
                else:
                    picked += 1
                found.append((call.departure - start, service_day, call))
    found.sort(key=lambda item: item[0])
    board = Board(stop=stop, departures=[], realtime=snapshot is not None, at=at)
    for _moment, service_day, call in found:
        board.departures.append(
            Departure(
                scheduled=at_seconds(service_day, call.departure),
                expected=None,
                cancelled=False,
                line=call.line,
                route_type=call.route_type,
                color=call.color,
                text_color=call.text_color,
                headsign=call.headsign,
                platform=call.platform,
                stop_name=call.stop_name,
                trip_id=call.trip_id,
                route_id=call.route_id,
                wheelchair=call.wheelchair,
                service_date=service_day,
                stop_sequence=call.stop_sequence,
                trip_pk=call.trip_pk,
                stop_id=call.stop_id,
            )
        )
    if snapshot is not None:
        _apply_realtime(board, snapshot)
        now_posix = int(at.timestamp())
        board.alerts = realtime.alerts_for(
            snapshot,
            now=now_posix,
            stop_ids={p.stop_id for p in platforms} | {stop.stop_id},
            route_ids={d.route_id for d in board.departures},
            trip_ids={d.trip_id for d in board.departures},
        )
    board.departures = [d for d in board.departures if (d.expected or d.scheduled) >= at]
    board.departures.sort(key=lambda d: (d.expected or d.scheduled, d.scheduled))
    board.departures = board.departures[:limit]
    return board


LATE_LOOKBACK = 30 * 60
ONE_DAY = timedelta(days=1)
QUICK_WINDOW = 30 * 60


def _apply_realtime(board: Board, snapshot: realtime.Snapshot) -> None:
    updates = {
        d.trip_pk: update
        for d in board.departures
        if (update := snapshot.trip_for(d.trip_id, d.service_date)) is not None
    }
    if not updates:
        return
    schedules: dict[int, list[realtime.ScheduledStop]] = {}
    for trip, sequence, stop_id, arrives, leaves in (
        StopTime.objects.filter(trip_id__in=updates)
        .order_by("trip_id", "stop_sequence")
        .values_list("trip_id", "stop_sequence", "stop__stop_id", "arrival", "departure")
    ):
        schedules.setdefault(trip, []).append(
            realtime.ScheduledStop(sequence, stop_id, arrives, leaves)
        )
    for departure in board.departures:
        update = updates.get(departure.trip_pk)
        if update is None:
            continue
        midnight = int(service_midnight(departure.service_date).timestamp())
        expected = realtime.expected_times(
            stop_times=schedules[departure.trip_pk], realtime=update, service_midnight=midnight
        )
        for stop in expected:
            if stop.stop_sequence != departure.stop_sequence:
                continue
            if stop.cancelled or stop.skipped:
                departure.cancelled = True
            elif stop.realtime and stop.departure is not None:
                departure.expected = at_seconds(departure.service_date, stop.departure)
            break


@dataclass(frozen=True, slots=True)
class Call:
    """A trip's departure from one platform, with what a board shows of it."""

    departure: int
    service_id: str
    trip_pk: int
    trip_id: str
    headsign: str
    line: str
    route_id: str
    route_type: int
    color: str
    text_color: str
    wheelchair: int
    stop_id: str
    stop_name: str
    platform: str
    stop_sequence: int


def stop_calls(stop: Stop, platforms: list[Stop]) -> tuple[list[int], list[Call]]:
    """Every departure of the stop's timetable, sorted, read once and kept ten minutes per
    process: a board is then a binary search and a walk over the next few. (One query per
    board read the same rows from an index, but three of them near midnight and with live
    data cost more than this.)"""
    return _stop_calls_read(stop.pk, int(time_module.monotonic() // 600), tuple(platforms))


@lru_cache(maxsize=CACHED_STOPS)
def _stop_calls_read(
    stop_pk: int, period: int, platforms: tuple[Stop, ...]
) -> tuple[list[int], list[Call]]:
    """Bounded: a crawler walking every stop of a regional feed keeps only the last
    CACHED_STOPS stops in memory (a busy station holds a few thousand departures)."""
    by_pk = {platform.pk: platform for platform in platforms}
    rows = (
        StopTime.objects.filter(stop__in=platforms, last=False)
        .exclude(pickup_type=1)
        .order_by("departure", "pk")
        .values_list(
            "departure",
            "trip__service_id",
            "trip_id",
            "trip__trip_id",
            "headsign",
            "trip__headsign",
            "trip__route__short_name",
            "trip__route__long_name",
            "trip__route__route_id",
            "trip__route__route_type",
            "trip__route__color",
            "trip__route__text_color",
            "trip__wheelchair_accessible",
            "stop_id",
            "stop_sequence",
        )
    )
    calls = []
    for row in rows:
        platform = by_pk[row[13]]
        calls.append(
            Call(
                departure=row[0],
                service_id=row[1],
                trip_pk=row[2],
                trip_id=row[3],
                headsign=row[4] or row[5],
                line=row[6] or row[7],
                route_id=row[8],
                route_type=row[9],
                color=row[10],
                text_color=row[11],
                wheelchair=_wheelchair(row[12], platform),
                stop_id=platform.stop_id,
                stop_name=platform.name,
                platform=platform.platform_code
                or (platform.code if platform.code != platform.name else ""),
                stop_sequence=row[14],
            )
        )
    return [call.departure for call in calls], calls


def _wheelchair(trip_value: int, stop: Stop) -> int:
    """Accessible only when both the vehicle and the stop are; unknown when either is."""
    stop_value = stop.wheelchair_boarding or (stop.parent.wheelchair_boarding if stop.parent else 0)
    if Accessibility.NO in (trip_value, stop_value):
        return Accessibility.NO
    if trip_value == stop_value == Accessibility.YES:
        return Accessibility.YES
    return Accessibility.UNKNOWN


# ---- journeys ----------------------------------------------------------------------------------

_POINT = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass
class Place:
    label: str
    lat: float
    lon: float
    stop: Stop | None
    access: dict[int, int]  # stop index -> walking seconds


def place_resolve(spec: str, net: timetable.Network) -> Place:
    """``lat,lon`` or a stop (see ``stop_get``), with the stops one can walk to from it."""
    match = _POINT.match(spec)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise TransitError("bad_point", _("Die Koordinaten liegen außerhalb der Erde."))
        access = {
            i: timetable.walk_seconds(m)
            for i, m in net.nearest(lat, lon, settings.TRANSIT_ACCESS_METERS)
        }
        if not access:
            raise TransitError(
                "no_stop_near",
                message_format(
                    _("In %(m)s m Umkreis von %(point)s gibt es keine Haltestelle."),
                    {"m": settings.TRANSIT_ACCESS_METERS, "point": f"{lat:.5f},{lon:.5f}"},
                ),
            )
        return Place(f"{lat:.5f}, {lon:.5f}", lat, lon, None, access)
    stop = stop_get(spec)
    access = {}
    for platform in stop_platforms(stop):
        i = net.index.get(platform.pk)
        if i is None:
            continue
        access[i] = 0
    for i in list(access):
        for j, seconds in net.footpaths[i]:
            if j not in access or seconds < access[j]:
                access[j] = min(seconds, access.get(j, seconds))
    if not access:
        raise TransitError("unknown_stop", _("An dieser Haltestelle hält kein Fahrzeug."))
    assert stop.lat is not None and stop.lon is not None  # noqa: S101 - import checks it
    return Place(stop.name, stop.lat, stop.lon, stop, access)


@dataclass
class PlannedLeg:
    kind: str  # ride / walk
    origin: str
    destination: str
    departure: datetime
    arrival: datetime
    line: str = ""
    route_type: int = -1
    headsign: str = ""
    trip_id: str = ""
    stops: list[tuple[str, datetime | None, datetime | None]] = field(default_factory=list)
    points: list[list[float]] = field(default_factory=list)  # [[lat, lon], ...] for the map
    minutes: int = 0


@dataclass
class PlannedJourney:
    departure: datetime
    arrival: datetime
    transfers: int
    legs: list[PlannedLeg]

    @property
    def minutes(self) -> int:
        return round((self.arrival - self.departure).total_seconds() / 60)


@dataclass
class Plan:
    origin: Place
    destination: Place
    journeys: list[PlannedJourney]
    arrive_by: bool
    at: datetime


def journeys_plan(
    *,
    origin: str,
    destination: str,
    depart: datetime | None = None,
    arrive: datetime | None = None,
    wheelchair: bool = False,
    origin_label: str | None = None,
    destination_label: str | None = None,
) -> Plan:
    """Pareto-optimal journeys (arrival time, transfers) from ``origin`` to ``destination``,
    departing at ``depart`` or arriving by ``arrive`` (default: now)."""
    if depart is not None and arrive is not None:
        raise TransitError(
            "depart_and_arrive", _("Bitte entweder Abfahrt oder Ankunft angeben, nicht beides.")
        )
    requested = arrive or depart or timezone.now()
    _check_in_range(requested.date())  # before any arithmetic on a far-away date
    moment = timezone.localtime(requested)
    day, seconds = seconds_of(moment)
    _check_in_range(day)
    net = timetable.network()
    start = place_resolve(origin, net)
    end = place_resolve(destination, net)
    start.label = origin_label or start.label  # e.g. the address a coordinate came from
    end.label = destination_label or end.label
    boards_at = {i for i, seconds in start.access.items() if seconds == 0}
    alights_at = {i for i, seconds in end.access.items() if seconds == 0}
    if (start.stop is not None and end.stop is not None and boards_at & alights_at) or (
        start.stop is None and end.stop is None and (start.lat, start.lon) == (end.lat, end.lon)
    ):
        raise TransitError(
            "same_place", _("Start und Ziel sind gleich; bitte ein anderes Ziel wählen.")
        )
    service = timetable.live_day(day)
    run_ok, stop_ok = _accessible(net, service, arrive is not None) if wheelchair else (None, None)
    backward = arrive is not None
    # arrive-by: the same scan from the destination over the mirrored timetable
    query = routing.Query(
        sources=end.access if backward else start.access,
        targets=start.access if backward else end.access,
        time=-seconds if backward else seconds,
        max_rides=settings.TRANSIT_MAX_RIDES,
        change=settings.TRANSIT_CHANGE_SECONDS,
        slack=settings.TRANSIT_PARETO_SLACK_SECONDS,
        horizon=settings.TRANSIT_MAX_JOURNEY_SECONDS,
        run_ok=run_ok,
        stop_ok=stop_ok,
    )
    conns = service.backward if backward else service.forward
    found = routing.pareto(conns, net.footpaths_back if backward else net.footpaths, query)
    if backward:
        found = [routing.mirror(journey) for journey in found]
    planned = [_planned(j, net, conns, day, start, end) for j in found]
    return Plan(start, end, planned, arrive is not None, moment)


def _accessible(
    net: timetable.Network, service: timetable.Day, backward: bool
) -> tuple[list[bool], list[bool]]:
    conns = service.backward if backward else service.forward
    runs = [net.trips[pk][3] == Accessibility.YES for pk in conns.trip_pk]
    stops = [value == Accessibility.YES for value in net.wheelchair]
    return runs, stops


def _planned(
    journey: routing.Journey,
    net: timetable.Network,
    conns: timetable.Connections,
    day: date,
    start: Place,
    end: Place,
) -> PlannedJourney:
    def name(stop: int) -> str:
        if stop == routing.ORIGIN:
            return start.label
        if stop == routing.DESTINATION:
            return end.label
        return net.names[stop]

    def point(stop: int) -> list[float]:
        if stop == routing.ORIGIN:
            return [start.lat, start.lon]
        if stop == routing.DESTINATION:
            return [end.lat, end.lon]
        return [float(net.lat[stop]), float(net.lon[stop])]

    legs: list[PlannedLeg] = []
    shapes_wanted: dict[int, str] = {}
    for leg in journey.legs:
        planned = PlannedLeg(
            kind=leg.kind,
            origin=name(leg.from_stop),
            destination=name(leg.to_stop),
            departure=at_seconds(day, leg.departure),
            arrival=at_seconds(day, leg.arrival),
            minutes=max(1, round((leg.arrival - leg.departure) / 60)) if leg.kind == "walk" else 0,
        )
        if leg.kind == "ride":
            trip_pk = conns.trip_pk[leg.run]
            route_pk, headsign, shape_id, _wheel, trip_id = net.trips[trip_pk]
            label, route_type, _color = net.routes[route_pk]
            planned.line, planned.route_type, planned.headsign = label, route_type, headsign
            planned.trip_id = trip_id
            planned.stops = [
                (
                    net.names[stop],
                    None if arr is None else at_seconds(day, arr),
                    None if dep is None else at_seconds(day, dep),
                )
                for stop, arr, dep in leg.stops
            ]
            planned.points = [point(stop) for stop, _a, _d in leg.stops]
            if shape_id:
                shapes_wanted[len(legs)] = shape_id
        else:
            planned.points = [point(leg.from_stop), point(leg.to_stop)]
        legs.append(planned)
    if shapes_wanted:
        shapes = timetable.shape_points(set(shapes_wanted.values()), net.versions)
        for position, shape_id in shapes_wanted.items():
            if shape_id in shapes:
                legs[position].points = _clip(shapes[shape_id], legs[position].points)
    return PlannedJourney(
        departure=at_seconds(day, journey.departure),
        arrival=at_seconds(day, journey.arrival),
        transfers=journey.transfers,
        legs=legs,
    )


def _clip(shape: list[list[float]], stops: list[list[float]]) -> list[list[float]]:
    """The part of a trip's shape between its first and last stop of the leg."""
    if len(shape) < 2 or len(stops) < 2:
        return stops

    def closest(target: list[float], after: int) -> int:
        best, best_d = after, float("inf")
        for i in range(after, len(shape)):
            d = (shape[i][0] - target[0]) ** 2 + (shape[i][1] - target[1]) ** 2
            if d < best_d:
                best, best_d = i, d
        return best

    first = closest(stops[0], 0)
    last = closest(stops[-1], first)
    return shape[first : last + 1] if last > first else stops


# ---- service quality --------------------------------------------------------------------------


def busiest_weekday(versions: tuple[int, ...] | None = None) -> date | None:
    """The weekday (Monday to Friday) of the timetable with the most trips: the day the
    planners' figures describe unless they name another."""
    versions = timetable.active_versions() if versions is None else versions
    trips_per_service: dict[tuple[int, str], int] = {}
    for version, service, count in (
        Trip.objects.filter(version__in=versions)
        .values_list("version_id", "service_id")
        .annotate(n=Count("pk"))
    ):
        trips_per_service[(version, service)] = count
    per_day: dict[date, int] = {}
    for version, service, day in ServiceDay.objects.filter(version__in=versions).values_list(
        "version_id", "service_id", "date"
    ):
        if day.weekday() < 5:
            per_day[day] = per_day.get(day, 0) + trips_per_service.get((version, service), 0)
    if not per_day:
        return None
    return max(per_day, key=lambda day: (per_day[day], -day.toordinal()))


@dataclass
class QualityReport:
    day: date
    start: int
    end: int
    ratings: list[quality.StopRating]
    lines: dict[str, list[str]]  # stop ref -> line labels
    cell_m: float
    cells: list[quality.ClassifiedCell]
    areas: list[quality.AreaRow] | None
    population: dict[str, tuple[float, float]] | None
    population_rejected: list[tuple[int, str]]

    @property
    def window_minutes(self) -> float:
        return (self.end - self.start) / 60

    def class_counts(self) -> list[tuple[str, int]]:
        counts = {key: 0 for key in quality.CLASSES}
        for cell in self.cells:
            if cell.quality_class:
                counts[cell.quality_class] += 1
        return list(counts.items())


def quality_report(
    *,
    day: date | None = None,
    start: int = 6 * 3600,
    end: int = 20 * 3600,
    cell_m: float = 100.0,
    areas_text: str | None = None,
    population_text: str | None = None,
) -> QualityReport:
    """ÖV-Güteklassen of the whole network on one weekday (see docs/transit.md): departures
    per station in [start, end), both directions and all platforms summed, the station's
    group from the routes serving it, its category, and the class on a grid of ``cell_m``."""
    versions = timetable.active_versions()
    day = day or busiest_weekday(versions)
    if day is None:
        raise TransitError("no_timetable", _("Es ist kein Fahrplan geladen."))
    stations = _stations_served(versions, day, start, end)
    slugs = _feed_slugs()
    stops: list[quality.QualityStop] = []
    lines: dict[str, list[str]] = {}
    for station, (count, routes) in stations.items():
        if station.lat is None or station.lon is None:
            continue
        ref = stop_ref(station, slugs)
        stops.append(
            quality.QualityStop(
                id=ref,
                name=station.name,
                lat=station.lat,
                lon=station.lon,
                group=quality.stop_group_for_routes((r[0], r[1]) for r in routes),
                departures=count,
            )
        )
        lines[ref] = sorted({r[2] for r in routes}, key=_natural)
    ratings = quality.rate_stops(stops, window_minutes=(end - start) / 60)
    ratings.sort(key=lambda r: (r.category is None, _category_rank(r.category), r.stop.name))
    rated = [r for r in ratings if r.category]
    cells = quality.quality_grid(rated, cell_m) if rated else []
    areas = None
    if areas_text is not None:
        areas = quality.area_quality_table(quality.read_areas_geojson(areas_text), rated, cell_m)
    population = None
    rejected: list[tuple[int, str]] = []
    if population_text is not None:
        rows, rejected = quality.read_population_csv(population_text)
        population = quality.population_shares(rows, rated)
    return QualityReport(
        day, start, end, ratings, lines, cell_m, cells, areas, population, rejected
    )


def _category_rank(category: str | None) -> int:
    return quality.CATEGORIES.index(category) if category in quality.CATEGORIES else 99


def _natural(label: str) -> tuple[int, str]:
    digits = "".join(ch for ch in label if ch.isdigit())
    return (int(digits) if digits and label.isdigit() else 10_000, label)


def _stations_served(
    versions: tuple[int, ...], day: date, start: int, end: int
) -> dict[Stop, tuple[int, list[tuple[str, int, str]]]]:
    """Per station (a platform's parent, else the stop): departures in the window and the
    routes ((route id, route_type, label)) that leave from it."""
    counts: dict[int, int] = {}
    routes: dict[int, set[tuple[str, int, str]]] = {}
    for version in versions:
        services = ServiceDay.objects.filter(version_id=version, date=day).values("service_id")
        rows = (
            StopTime.objects.filter(
                version_id=version,
                trip__service_id__in=services,
                departure__gte=start,
                departure__lt=end,
                last=False,
            )
            .exclude(pickup_type=1)
            .annotate(station=Coalesce("stop__parent_id", "stop_id"))
            .values_list(
                "station",
                "trip__route__route_id",
                "trip__route__route_type",
                "trip__route__short_name",
                "trip__route__long_name",
            )
            .annotate(n=Count("pk"))
        )
        for station, route_id, route_type, short, long, n in rows:
            counts[station] = counts.get(station, 0) + n
            routes.setdefault(station, set()).add(
                (f"{version}:{route_id}", route_type, short or long)
            )
    stations = Stop.objects.in_bulk(list(counts))
    return {
        stations[pk]: (count, sorted(routes[pk])) for pk, count in counts.items() if pk in stations
    }


@dataclass
class Headway:
    line: str
    headsign: str
    departures: int
    per_hour: float
    mean_minutes: float | None
    longest_gap_minutes: int | None


def headways(
    stop: Stop, *, day: date | None = None, start: int = 6 * 3600, end: int = 20 * 3600
) -> tuple[date | None, list[Headway]]:
    """Departures per hour and headways per line and direction at a stop (a station: all its
    platforms) on a weekday between ``start`` and ``end``."""
    day = day or busiest_weekday((stop.version_id,))
    if day is None:
        return None, []
    services = ServiceDay.objects.filter(version_id=stop.version_id, date=day).values("service_id")
    times: dict[tuple[str, str], list[int]] = {}
    for departure, short, long, trip_sign, own_sign in (
        StopTime.objects.filter(
            stop__in=stop_platforms(stop),
            trip__service_id__in=services,
            departure__gte=start,
            departure__lt=end,
            last=False,
        )
        .exclude(pickup_type=1)
        .order_by("departure")
        .values_list(
            "departure",
            "trip__route__short_name",
            "trip__route__long_name",
            "trip__headsign",
            "headsign",
        )
    ):
        times.setdefault((short or long, own_sign or trip_sign), []).append(departure)
    hours = (end - start) / 3600
    result = []
    for (line, headsign), moments in times.items():
        gaps = [b - a for a, b in zip([start, *moments], [*moments, end], strict=True)]
        result.append(
            Headway(
                line=line,
                headsign=headsign,
                departures=len(moments),
                per_hour=round(len(moments) / hours, 1),
                mean_minutes=quality.mean_interval_minutes(len(moments), hours * 60),
                longest_gap_minutes=round(max(gaps) / 60) if gaps else None,
            )
        )
    result.sort(key=lambda h: (_natural(h.line), h.headsign))
    return day, result
