"""Journey planning: the Connection Scan Algorithm (Dibbelt et al. 2013) with the number of
rides as a second criterion, so that the answer is the Pareto set over arrival time and
transfers.

One scan over the day's connections, sorted by departure, from the moment of departure on.
A label per (rides, stop) holds the earliest moment one can board there with that many rides
behind; a trip is "reached" with the fewest rides that catch it. The scan ends when the
departures pass the earliest arrival plus ``slack`` (journeys with fewer transfers that arrive
at most that much later are still found) or ``horizon`` after the start.

Arrive-by queries run the same scan over the mirrored connections (``timetable.Day.backward``:
time negated, each ride reversed) from the destination, and mirror the result back.

Rules shared with the reference implementation in tests/test_journeys: a change of vehicle
takes ``change`` seconds; after a ride one may walk one footpath to a nearby stop (footpaths
are not chained); staying on the same trip is not a change.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from rathaus.transit.timetable import Connections

INF = 1 << 40
WALK = -1
RIDE = -2
ORIGIN = -1  # as a leg's stop: the point the journey starts from
DESTINATION = -2


@dataclass(frozen=True)
class Ride:
    run: int  # index into Connections.trip_pk / trip_day
    first: int  # index of the first connection ridden
    last: int  # index of the last one


@dataclass(frozen=True)
class Walk:
    from_stop: int
    to_stop: int
    seconds: int


@dataclass
class Leg:
    kind: str  # "ride" or "walk"
    from_stop: int  # stop index; -1 = the origin point, -2 = the destination point
    to_stop: int
    departure: int  # seconds after midnight of the service date
    arrival: int
    run: int = -1
    stops: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    # (stop, arrival, departure) of a ride's stops; None at its ends


@dataclass
class Journey:
    departure: int
    arrival: int
    rides: int
    legs: list[Leg]

    @property
    def transfers(self) -> int:
        return max(0, self.rides - 1)


@dataclass
class Query:
    sources: dict[int, int]  # stop index -> seconds of walking from the origin
    targets: dict[int, int]  # stop index -> seconds of walking to the destination
    time: int  # departure (or, backward, the arrival), seconds after midnight
    max_rides: int = 8
    change: int = 60
    slack: int = 3600
    horizon: int = 6 * 3600
    run_ok: list[bool] | None = None  # per run: may be used (e.g. wheelchair accessible)
    stop_ok: list[bool] | None = None  # per stop: may board or alight here


@dataclass
class Labels:
    """What one scan leaves: per number of rides the best arrival at the destination and how
    it was reached ((alighting stop, stop walked to or the same)), the earliest moment one
    can board at each stop and why ((RIDE, stop): alighted there; (WALK, stop): walked from
    there after alighting; (WALK, -1): a source), and each stop's best ride there
    ((boarding connection, alighting connection))."""

    best: list[int]
    best_via: list[tuple[int, int]]
    ready: list[dict[int, int]]
    parents: list[dict[int, tuple[int, int]]]
    rode: list[dict[int, tuple[int, int]]]


def scan(conns: Connections, footpaths: list[list[tuple[int, int]]], query: Query) -> Labels:
    """One forward scan (see the module doc). Footpaths are walked only after a ride, so a
    stop keeps its best arrival by ride apart from its best moment to board, which may come
    from a walk."""
    limit = query.max_rides
    labels: list[dict[int, int]] = [{} for _ in range(limit + 1)]
    parents: list[dict[int, tuple[int, int]]] = [{} for _ in range(limit + 1)]
    arrivals: list[dict[int, int]] = [{} for _ in range(limit + 1)]
    rode: list[dict[int, tuple[int, int]]] = [{} for _ in range(limit + 1)]
    best = [INF] * (limit + 1)
    best_via = [(-1, -1)] * (limit + 1)
    t0 = query.time
    targets = query.targets
    for stop, seconds in query.sources.items():
        labels[0][stop] = t0 + seconds
        parents[0][stop] = (WALK, -1)
        if stop in targets and t0 + seconds + targets[stop] < best[0]:
            best[0] = t0 + seconds + targets[stop]
            best_via[0] = (stop, stop)
    bound = t0 + query.horizon
    if best[0] < INF:
        bound = min(bound, best[0] + query.slack)
    change = query.change
    run_ok, stop_ok = query.run_ok, query.stop_ok
    dep, arr, trip = conns.dep, conns.arr, conns.trip
    dep_stop, arr_stop, board, alight = conns.dep_stop, conns.arr_stop, conns.board, conns.alight
    reached: dict[int, int] = {}  # run -> fewest rides with which it is caught
    boarded: dict[int, int] = {}  # run -> connection where it was caught so
    n = len(dep)
    c = bisect_left(dep, t0)
    while c < n:
        d = dep[c]
        if d > bound:
            break
        r = trip[c]
        if run_ok is not None and not run_ok[r]:
            c += 1
            continue
        k_on = reached.get(r, INF)
        if k_on > 1 and board[c]:
            u = dep_stop[c]
            if stop_ok is None or stop_ok[u]:
                for k in range(1, min(k_on, limit + 1)):
                    if labels[k - 1].get(u, INF) <= d:
                        reached[r] = k_on = k
                        boarded[r] = c
                        break
        if k_on <= limit and alight[c]:
            v = arr_stop[c]
            a = arr[c]
            arrived = arrivals[k_on]
            if a < arrived.get(v, INF) and (stop_ok is None or stop_ok[v]):
                arrived[v] = a
                rode[k_on][v] = (boarded[r], c)
                level = labels[k_on]
                parent = parents[k_on]
                ready = a + change
                if ready < level.get(v, INF):
                    level[v] = ready
                    parent[v] = (RIDE, v)
                egress = targets.get(v)
                if egress is not None and a + egress < best[k_on]:
                    best[k_on] = a + egress
                    best_via[k_on] = (v, v)
                    bound = min(bound, min(best) + query.slack)
                for w, seconds in footpaths[v]:
                    if stop_ok is not None and not stop_ok[w]:
                        continue
                    if ready + seconds < level.get(w, INF):
                        level[w] = ready + seconds
                        parent[w] = (WALK, v)
                    egress = targets.get(w)
                    if egress is not None and a + seconds + egress < best[k_on]:
                        best[k_on] = a + seconds + egress
                        best_via[k_on] = (v, w)
                        bound = min(bound, min(best) + query.slack)
        c += 1
    return Labels(best, best_via, labels, parents, rode)


def pareto(
    conns: Connections, footpaths: list[list[tuple[int, int]]], query: Query
) -> list[Journey]:
    """The Pareto-optimal journeys (arrival, rides), fewest rides first; times in the scan's
    direction (for a backward query: negated and mirrored; see ``mirror``)."""
    labels = scan(conns, footpaths, query)
    journeys: list[Journey] = []
    so_far = INF
    for k, arrival in enumerate(labels.best):
        if arrival >= so_far:
            continue
        so_far = arrival
        journeys.append(_journey(conns, footpaths, labels, query, k, arrival))
    return journeys


def _journey(
    conns: Connections,
    footpaths: list[list[tuple[int, int]]],
    labels: Labels,
    query: Query,
    rides: int,
    arrival: int,
) -> Journey:
    """Follow the labels back from the destination, then lay the legs out in time."""
    steps: list[Ride | Walk] = []
    k = rides
    alighted, stop = labels.best_via[k]
    if alighted != stop:
        steps.append(Walk(alighted, stop, _seconds(footpaths, alighted, stop)))
        stop = alighted
    while k > 0:
        first, last = labels.rode[k][stop]
        steps.append(Ride(conns.trip[first], first, last))
        stop = conns.dep_stop[first]
        k -= 1
        kind, before = labels.parents[k][stop]
        if kind == WALK and before != -1:
            steps.append(Walk(before, stop, _seconds(footpaths, before, stop)))
            stop = before
    steps.reverse()
    legs: list[Leg] = []
    for step in steps:
        if isinstance(step, Ride):
            ridden = [c for c in range(step.first, step.last + 1) if conns.trip[c] == step.run]
            stops: list[tuple[int, int | None, int | None]] = [
                (conns.dep_stop[ridden[0]], None, conns.dep[ridden[0]])
            ]
            for i, c in enumerate(ridden):
                following = conns.dep[ridden[i + 1]] if i + 1 < len(ridden) else None
                stops.append((conns.arr_stop[c], conns.arr[c], following))
            legs.append(
                Leg(
                    "ride",
                    conns.dep_stop[step.first],
                    conns.arr_stop[step.last],
                    conns.dep[step.first],
                    conns.arr[step.last],
                    run=step.run,
                    stops=stops,
                )
            )
        else:
            start = legs[-1].arrival
            legs.append(Leg("walk", step.from_stop, step.to_stop, start, start + step.seconds))
    access = query.sources[stop]
    if access:
        # leave just in time for the first ride
        leave = legs[0].departure - access if legs else query.time
        legs.insert(0, Leg("walk", ORIGIN, stop, leave, leave + access))
    last_stop = legs[-1].to_stop if legs and legs[-1].to_stop >= 0 else stop
    egress = query.targets[last_stop]
    if egress:
        end = legs[-1].arrival if legs else query.time
        legs.append(Leg("walk", last_stop, DESTINATION, end, end + egress))
    departure = legs[0].departure if legs else query.time
    return Journey(departure=departure, arrival=arrival, rides=rides, legs=legs)


def _seconds(footpaths: list[list[tuple[int, int]]], start: int, end: int) -> int:
    return next(seconds for other, seconds in footpaths[start] if other == end)


def mirror(journey: Journey) -> Journey:
    """A journey of the backward scan as it is travelled."""
    legs = []
    for leg in reversed(journey.legs):
        legs.append(
            Leg(
                leg.kind,
                _mirror_end(leg.to_stop),
                _mirror_end(leg.from_stop),
                -leg.arrival,
                -leg.departure,
                run=leg.run,
                stops=[
                    (stop, None if dep is None else -dep, None if arr is None else -arr)
                    for stop, arr, dep in reversed(leg.stops)
                ],
            )
        )
    return Journey(
        departure=-journey.arrival, arrival=-journey.departure, rides=journey.rides, legs=legs
    )


def _mirror_end(stop: int) -> int:
    return {ORIGIN: DESTINATION, DESTINATION: ORIGIN}.get(stop, stop)
