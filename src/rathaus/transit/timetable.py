"""The active timetables in memory, for journey planning.

Built per process from the database and kept: the stops and footpaths of the active feed
versions once per set of versions, the connections of a service date (one ride of one trip
from one stop to the next) once per date. A connection of the date D comes from trips that run
on D, on D-1 (their times past 24:00 reach into D) and on D+1 (journeys past midnight); all
times are seconds after midnight of D in the city's time zone.

The arrays are numpy while building (sorting, the footpath neighbourhood) and plain lists for
the scan, where Python reads a list element faster than a numpy scalar.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from rathaus.core.recent import Recent
from rathaus.transit import realtime
from rathaus.transit.models import (
    Feed,
    RealtimeState,
    Route,
    ServiceDay,
    Shape,
    Stop,
    StopTime,
    Transfer,
    Trip,
)

DAY = 86_400
EARTH_M = 6_371_000.0
_versions_recent: Recent[tuple[int, ...]] = Recent(2.0)
_snapshots_recent: Recent[tuple[object, realtime.Snapshot | None]] = Recent(2.0)
_lock = threading.Lock()


def active_versions() -> tuple[int, ...]:
    """The ids of the active feed versions (kept for two seconds per process)."""
    return _versions_recent.get(
        "active",
        lambda: tuple(
            sorted(
                Feed.objects.filter(active_version__isnull=False).values_list(
                    "active_version_id", flat=True
                )
            )
        ),
    )


def service_midnight(day: date) -> datetime:
    """The reference point of GTFS times: noon minus twelve hours (differs from midnight on
    the days clocks change)."""
    noon = timezone.make_aware(datetime.combine(day, time(12)))
    # in UTC: arithmetic on a local time would keep the wall clock and give local midnight
    return noon.astimezone(UTC) - timedelta(hours=12)


def walk_seconds(meters: float) -> int:
    return math.ceil(meters / settings.TRANSIT_WALK_SPEED)


@dataclass
class Network:
    """Stops (where one can board) and footpaths of a set of feed versions."""

    versions: tuple[int, ...]
    stop_pk: list[int]
    index: dict[int, int]  # stop pk -> index
    lat: np.ndarray
    lon: np.ndarray
    names: list[str]
    wheelchair: list[int]  # 0 unknown, 1 yes, 2 no (the parent station's value when unknown)
    footpaths: list[list[tuple[int, int]]]  # per stop: (other stop, seconds)
    footpaths_back: list[list[tuple[int, int]]]  # the same, reversed (transfers are one-way)
    trips: dict[int, tuple[int, str, str, int, str]] = field(default_factory=dict)
    # trip pk -> (route pk, headsign, shape id, wheelchair_accessible, gtfs trip_id)
    routes: dict[int, tuple[str, int, str]] = field(default_factory=dict)
    # route pk -> (label, route_type, color)
    trip_version: dict[int, int] = field(default_factory=dict)

    def nearest(self, lat: float, lon: float, radius: float) -> list[tuple[int, float]]:
        """(stop index, metres) of the stops within ``radius`` of a point, nearest first."""
        meters = distances(self.lat, self.lon, lat, lon)
        found = np.nonzero(meters <= radius)[0]
        order = found[np.argsort(meters[found], kind="stable")]
        return [(int(i), float(meters[i])) for i in order]


def distances(lats: np.ndarray, lons: np.ndarray, lat: float, lon: float) -> np.ndarray:
    """Metres from one point to many (equirectangular: within 0.1 % at city distances)."""
    x = np.radians(lons - lon) * math.cos(math.radians(lat))
    y = np.radians(lats - lat)
    result: np.ndarray = EARTH_M * np.sqrt(x * x + y * y)
    return result


# (trip pk, day offset, stop pk, stop_sequence, arrival, departure, pickup, drop_off)
Row = tuple[int, int, int, int, int, int, int, int]


@dataclass
class Day:
    """The connections of one service date, sorted by departure (forward) and, mirrored, by
    arrival from the latest (backward: the same scan answers "arrive by")."""

    date: date
    forward: Connections
    backward: Connections
    rows: list[Row] = field(default_factory=list, repr=False)
    live: tuple[object, ...] = ()  # the real-time data applied (when each was stored)


@dataclass
class Connections:
    dep_stop: list[int]
    arr_stop: list[int]
    dep: list[int]
    arr: list[int]
    trip: list[int]  # index into ``trip_pk``
    board: list[bool]  # may board at dep_stop (pickup_type != 1)
    alight: list[bool]  # may alight at arr_stop (drop_off_type != 1)
    seq: list[int]  # stop_sequence of the departure stop
    trip_pk: list[int]
    trip_day: list[int]  # per trip: offset in days of its service date (-1, 0, 1)


class _Store:
    def __init__(self) -> None:
        self.networks: OrderedDict[tuple[int, ...], Network] = OrderedDict()
        self.days: OrderedDict[tuple[tuple[int, ...], date], Day] = OrderedDict()
        self.live: OrderedDict[tuple[tuple[int, ...], date], Day] = OrderedDict()


_store = _Store()


def network(versions: tuple[int, ...] | None = None) -> Network:
    versions = active_versions() if versions is None else versions
    with _lock:
        found = _store.networks.get(versions)
        if found is None:
            found = _build_network(versions)
            _store.networks[versions] = found
            while len(_store.networks) > 2:
                _store.networks.popitem(last=False)
        return found


def day(service_date: date, versions: tuple[int, ...] | None = None) -> Day:
    versions = active_versions() if versions is None else versions
    net = network(versions)
    key = (versions, service_date)
    with _lock:
        found = _store.days.get(key)
        if found is None:
            found = _build_day(net, service_date)
            _store.days[key] = found
            while len(_store.days) > settings.TRANSIT_CACHED_DAYS:
                _store.days.popitem(last=False)
        return found


def forget_snapshots() -> None:
    _snapshots_recent.forget()


def forget() -> None:
    """Drop what this process keeps (after an import in the same process, and in tests)."""
    with _lock:
        _store.networks.clear()
        _store.days.clear()
        _store.live.clear()
    _versions_recent.forget()
    _snapshots_recent.forget()


def _build_network(versions: tuple[int, ...]) -> Network:
    rows = list(
        Stop.objects.filter(version__in=versions, location_type__in=(0, 4))
        .order_by("pk")
        .values_list(
            "pk",
            "lat",
            "lon",
            "name",
            "wheelchair_boarding",
            "parent__wheelchair_boarding",
            "version_id",
            "parent__name",
        )
    )
    stop_pk = [r[0] for r in rows]
    index = {pk: i for i, pk in enumerate(stop_pk)}
    lat = np.array([r[1] for r in rows], dtype=np.float64)
    lon = np.array([r[2] for r in rows], dtype=np.float64)
    names = [r[3] or r[7] or "" for r in rows]
    wheelchair = [r[4] or (r[5] or 0) for r in rows]
    footpaths: list[list[tuple[int, int]]] = [[] for _ in rows]
    radius = settings.TRANSIT_FOOTPATH_METERS
    if rows:
        cell = radius / 111_000.0
        cell_lon = cell / max(0.1, math.cos(math.radians(float(np.max(np.abs(lat))))))
        buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        keys = [(int(a // cell), int(b // cell_lon)) for a, b in zip(lat, lon, strict=True)]
        for i, key in enumerate(keys):
            buckets[key].append(i)
        for i, (kx, ky) in enumerate(keys):
            near = [
                j
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
                for j in buckets.get((kx + dx, ky + dy), ())
                if j != i
            ]
            if not near:
                continue
            meters = distances(lat[near], lon[near], float(lat[i]), float(lon[i]))
            footpaths[i] = [
                (j, walk_seconds(float(m)))
                for j, m in zip(near, meters, strict=True)
                if m <= radius
            ]
    for a, b, seconds in Transfer.objects.filter(version__in=versions).values_list(
        "from_stop_id", "to_stop_id", "min_transfer_time"
    ):
        if a in index and b in index and a != b and seconds is not None:
            i, j = index[a], index[b]
            footpaths[i] = [p for p in footpaths[i] if p[0] != j] + [(j, int(seconds))]
    net = Network(
        versions=versions,
        stop_pk=stop_pk,
        index=index,
        lat=lat,
        lon=lon,
        names=names,
        wheelchair=wheelchair,
        footpaths=footpaths,
        footpaths_back=_reversed(footpaths),
    )
    for pk, route, headsign, shape, wheelchair_ok, trip_id, version in Trip.objects.filter(
        version__in=versions
    ).values_list(
        "pk", "route_id", "headsign", "shape_id", "wheelchair_accessible", "trip_id", "version_id"
    ):
        net.trips[pk] = (route, headsign, shape, wheelchair_ok, trip_id)
        net.trip_version[pk] = version
    for pk, short, long, kind, color in Route.objects.filter(version__in=versions).values_list(
        "pk", "short_name", "long_name", "route_type", "color"
    ):
        net.routes[pk] = (short or long, kind, color)
    return net


def _reversed(footpaths: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    back: list[list[tuple[int, int]]] = [[] for _ in footpaths]
    for start, paths in enumerate(footpaths):
        for end, seconds in paths:
            back[end].append((start, seconds))
    return back


def _build_day(net: Network, service_date: date) -> Day:
    # (trip pk, day offset, stop pk, stop_sequence, arrival, departure, pickup, drop_off)
    rows: list[Row] = []
    for offset in (-1, 0, 1):
        services = ServiceDay.objects.filter(
            version__in=net.versions, date=service_date + timedelta(days=offset)
        ).values("service_id")
        shift = offset * DAY
        trips = Trip.objects.filter(version__in=net.versions, service_id__in=services)
        if offset == -1:
            # yesterday's trips matter where they run past midnight or, for journeys that
            # must arrive just after it, in yesterday's last hours
            trips = trips.filter(
                stop_times__departure__gte=DAY - settings.TRANSIT_MAX_JOURNEY_SECONDS
            )
        elif offset == 1:
            # tomorrow's only for journeys that start late today
            trips = trips.filter(stop_times__departure__lt=settings.TRANSIT_MAX_JOURNEY_SECONDS)
        stop_times = (
            StopTime.objects.filter(trip__in=trips.values("pk"))
            .order_by("trip_id", "stop_sequence")
            .values_list(
                "trip_id",
                "stop_id",
                "stop_sequence",
                "arrival",
                "departure",
                "pickup_type",
                "drop_off_type",
            )
        )
        for trip, stop, sequence, arrival, departure, pickup, drop_off in stop_times.iterator(
            chunk_size=20_000
        ):
            rows.append(
                (trip, offset, stop, sequence, arrival + shift, departure + shift, pickup, drop_off)
            )
    return Day(
        date=service_date,
        forward=_connections(net, rows, backward=False),
        backward=_connections(net, rows, backward=True),
        rows=rows,
    )


def _connections(
    net: Network,
    rows: list[Row],
    *,
    backward: bool,
) -> Connections:
    dep_stop: list[int] = []
    arr_stop: list[int] = []
    dep: list[int] = []
    arr: list[int] = []
    trip_ix: list[int] = []
    board: list[bool] = []
    alight: list[bool] = []
    seq: list[int] = []
    trip_pks: list[int] = []
    trip_days: list[int] = []
    runs: dict[tuple[int, int], int] = {}
    index = net.index
    for a, b in zip(rows, rows[1:], strict=False):
        if a[0] != b[0] or a[1] != b[1] or a[2] not in index or b[2] not in index:
            continue
        t = runs.get((a[0], a[1]))
        if t is None:
            t = runs[(a[0], a[1])] = len(trip_pks)
            trip_pks.append(a[0])
            trip_days.append(a[1])
        if backward:
            # the mirror image: time runs backwards, a ride starts at its arrival stop
            dep_stop.append(index[b[2]])
            arr_stop.append(index[a[2]])
            dep.append(-b[4])
            arr.append(-a[5])
            board.append(b[7] != 1)
            alight.append(a[6] != 1)
        else:
            dep_stop.append(index[a[2]])
            arr_stop.append(index[b[2]])
            dep.append(a[5])
            arr.append(b[4])
            board.append(a[6] != 1)
            alight.append(b[7] != 1)
        trip_ix.append(t)
        seq.append(a[3])
    if dep:
        # by departure; rides of one trip at the same moment in the order they are driven
        # (mirrored: last stop first)
        order = np.lexsort(
            (np.array(seq) * (-1 if backward else 1), np.array(trip_ix), np.array(dep))
        ).tolist()
    else:
        order = []

    def pick(values: list[int]) -> list[int]:
        return [values[i] for i in order]

    def pick_flags(values: list[bool]) -> list[bool]:
        return [values[i] for i in order]

    return Connections(
        dep_stop=pick(dep_stop),
        arr_stop=pick(arr_stop),
        dep=pick(dep),
        arr=pick(arr),
        trip=pick(trip_ix),
        board=pick_flags(board),
        alight=pick_flags(alight),
        seq=pick(seq),
        trip_pk=trip_pks,
        trip_day=trip_days,
    )


def shape_points(shape_ids: set[str], versions: tuple[int, ...]) -> dict[str, list[list[float]]]:
    return dict(
        Shape.objects.filter(version__in=versions, shape_id__in=shape_ids).values_list(
            "shape_id", "points"
        )
    )


# ---- live data ------------------------------------------------------------------------------


def fresh_snapshot(version_id: int) -> realtime.Snapshot | None:
    fresh = fresh_state(version_id)
    return None if fresh is None else fresh[1]


def fresh_state(version_id: int) -> tuple[object, realtime.Snapshot] | None:
    """(when it was stored, the snapshot) of the feed's fresh real-time data, else None."""
    """The feed's GTFS-Realtime data if it is fresh (RATHAUS_TRANSIT_REALTIME_MAX_AGE), else
    None: then boards and journeys use the timetable alone ("Fahrplandaten"). Read at most
    every two seconds per process, decoded once per new state."""
    written, snapshot = _snapshots_recent.get(version_id, lambda: _snapshot_read(version_id))
    if snapshot is None:
        return None
    now = int(timezone.now().timestamp())
    if realtime.is_stale(snapshot, now=now, max_age=settings.TRANSIT_REALTIME_MAX_AGE):
        return None
    return written, snapshot


def _snapshot_read(version_id: int) -> tuple[object, realtime.Snapshot | None]:
    state = RealtimeState.objects.filter(feed__active_version_id=version_id).first()
    if state is None or not state.snapshot:
        return None, None
    try:
        return state.updated_at, realtime.Snapshot.from_json(state.snapshot)
    except realtime.RealtimeError:
        return state.updated_at, None


def live_day(service_date: date, versions: tuple[int, ...] | None = None) -> Day:
    """The date's connections with fresh real-time data applied: delays move a trip's times,
    a cancelled trip is gone, a skipped stop can be neither boarded nor left. Rebuilt when a
    newer snapshot arrives; without fresh data, the timetable's ``day``."""
    versions = active_versions() if versions is None else versions
    base = day(service_date, versions)
    states = {v: state for v in versions if (state := fresh_state(v)) is not None}
    if not states:
        return base
    snapshots = {v: snapshot for v, (_written, snapshot) in states.items()}
    # which data: when each feed's state was stored (two snapshots may share a header time)
    stamps = tuple(states[v][0] if v in states else None for v in versions)
    key = (versions, service_date)
    with _lock:
        found = _store.live.get(key)
        if found is not None and found.live == stamps:
            return found
    net = network(versions)
    rows = _live_rows(net, base, snapshots)
    built = Day(
        date=service_date,
        forward=_connections(net, rows, backward=False),
        backward=_connections(net, rows, backward=True),
        rows=rows,
        live=stamps,
    )
    with _lock:
        _store.live[key] = built
        while len(_store.live) > 2:
            _store.live.popitem(last=False)
    return built


def _live_rows(net: Network, base: Day, snapshots: dict[int, realtime.Snapshot]) -> list[Row]:
    runs: dict[tuple[int, int], list[Row]] = {}
    for row in base.rows:
        runs.setdefault((row[0], row[1]), []).append(row)
    stop_ids = dict(
        Stop.objects.filter(pk__in={row[2] for row in base.rows}).values_list("pk", "stop_id")
    )
    result: list[Row] = []
    for (trip_pk, offset), calls in runs.items():
        version = net.trip_version.get(trip_pk)
        snapshot = snapshots.get(version) if version is not None else None
        trip_id = net.trips[trip_pk][4] if trip_pk in net.trips else ""
        service_day = base.date + timedelta(days=offset)
        update = snapshot.trip_for(trip_id, service_day) if snapshot is not None else None
        if update is None:
            result.extend(calls)
            continue
        if update.cancelled:
            continue
        shift = offset * DAY
        expected = realtime.expected_times(
            stop_times=[
                realtime.ScheduledStop(r[3], stop_ids.get(r[2], ""), r[4] - shift, r[5] - shift)
                for r in calls
            ],
            realtime=update,
            service_midnight=int(service_midnight(service_day).timestamp()),
        )
        delay = 0
        last = -(10**9)
        for row, stop in zip(calls, expected, strict=True):
            # a skipped stop is passed at the delay before it (nobody boards or leaves there);
            # a stop without prediction (NO_DATA) keeps its timetable
            carried = delay if stop.skipped else 0
            arrival = stop.arrival if stop.arrival is not None else stop.scheduled_arrival + carried
            departure = (
                stop.departure if stop.departure is not None else stop.scheduled_departure + carried
            )
            if stop.departure is not None:
                delay = stop.departure - stop.scheduled_departure
            arrival = max(arrival, last)
            departure = max(departure, arrival)
            last = departure
            pickup, drop_off = (1, 1) if stop.skipped else (row[6], row[7])
            result.append(
                (
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    arrival + shift,
                    departure + shift,
                    pickup,
                    drop_off,
                )
            )
    return result
