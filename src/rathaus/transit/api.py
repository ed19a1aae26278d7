"""The public transit API: stops, departures and journeys over the active timetables.

Stops are named by the feed's own ``stop_id``, prefixed ``<feed>:`` where several feeds are
loaded (the bare id is accepted when it is unambiguous). Times are ISO 8601 with offset.
Limited per client (RATHAUS_RATELIMIT_TRANSIT)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from rathaus.core.errors import api_error_body, message_format
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.transit import selectors, timetable
from rathaus.transit.selectors import TransitError

router = Router(tags=["transit"])
NO_NUL = r"^[^\x00]*$"
# "lat,lon" in range, or nothing
LAT_LON = (
    r"^$|^-?(?:[0-8]?\d(?:\.\d+)?|90(?:\.0+)?)"
    r",-?(?:(?:1[0-7]\d|\d{1,2})(?:\.\d+)?|180(?:\.0+)?)$"
)
_STATUS = {
    "unknown_stop": 404,
    "ambiguous_stop": 422,
    "out_of_range": 422,
    "no_timetable": 404,
    "same_place": 422,
    "bad_point": 422,
    "no_stop_near": 422,
    "depart_and_arrive": 422,
    "bad_time": 422,
}


def _limited(request: HttpRequest) -> None:
    if ratelimit_exceeded(
        scope="transit", key=client_address(request), rate=settings.RATELIMIT_TRANSIT
    ):
        raise HttpError(429, "too many requests")


def _loaded() -> None:
    """Queries about timetables need one: without, 404 before anything else is looked at."""
    if not timetable.active_versions():
        raise TransitError("no_timetable", _("Es ist kein Fahrplan geladen."))


def _error(exc: TransitError) -> JsonResponse:
    return JsonResponse(api_error_body(exc.code, exc.message), status=_STATUS.get(exc.code, 422))


def _moment(value: str, field: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TransitError(
            "bad_time",
            message_format(
                _("„%(field)s“ ist keine Zeit nach ISO 8601 (z. B. 2016-10-31T08:00:00+01:00)."),
                {"field": field},
            ),
        ) from None
    if not selectors.sensible_moment(moment):
        raise TransitError(
            "bad_time",
            message_format(_("„%(field)s“ liegt nicht zwischen 1900 und 2200."), {"field": field}),
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class StopOut(Schema):
    id: str
    name: str
    lat: float
    lon: float
    distance_m: float | None = None


@router.get("/transit/stops", response=list[StopOut])
def stops(
    request: HttpRequest,
    q: str = Query("", max_length=100, pattern=NO_NUL),  # type: ignore[type-arg]
    near: str = Query("", max_length=60, pattern=LAT_LON),  # type: ignore[type-arg]
    limit: int = Query(10, ge=1, le=50),  # type: ignore[type-arg]
) -> Any:
    """Stops by name (typo-tolerant) or nearest to ``near=lat,lon``."""
    _limited(request)
    if near:
        try:
            lat_text, lon_text = near.split(",")
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            return _error(TransitError("bad_point", _("„near“ muss „Breite,Länge“ sein.")))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return _error(
                TransitError("bad_point", _("Die Koordinaten liegen außerhalb der Erde."))
            )
        hits = selectors.stops_near(lat, lon, limit=limit)
    else:
        hits = selectors.stop_search(q, limit=limit)
    return [
        {"id": h.ref, "name": h.name, "lat": h.lat, "lon": h.lon, "distance_m": h.distance}
        for h in hits
    ]


class DepartureOut(Schema):
    line: str
    mode: int  # GTFS route_type
    headsign: str
    platform: str
    stop: str
    scheduled: datetime
    expected: datetime | None
    delay_minutes: int | None
    cancelled: bool
    trip_id: str
    wheelchair_accessible: bool | None


class BoardOut(Schema):
    stop: StopOut
    realtime: bool
    at: datetime
    departures: list[DepartureOut]


@router.get("/transit/stops/{stop_id}/departures", response=BoardOut)
def departures(
    request: HttpRequest,
    stop_id: str,
    at: str = Query("", max_length=40, pattern=NO_NUL),  # type: ignore[type-arg]
    limit: int = Query(20, ge=1, le=100),  # type: ignore[type-arg]
) -> Any:
    """The next departures from a stop (a station: all its platforms); ``realtime`` is false
    when no fresh live data applies ("Fahrplandaten")."""
    _limited(request)
    try:
        _loaded()
        stop = selectors.stop_get(stop_id)
        board = selectors.departures(stop, at=_moment(at, "at"), limit=limit)
    except TransitError as exc:
        return _error(exc)
    return {
        "stop": {
            "id": selectors.stop_ref(stop),
            "name": stop.name,
            "lat": stop.lat,
            "lon": stop.lon,
        },
        "realtime": board.realtime,
        "at": board.at,
        "departures": [
            {
                "line": d.line,
                "mode": d.route_type,
                "headsign": d.headsign,
                "platform": d.platform,
                "stop": d.stop_name,
                "scheduled": d.scheduled,
                "expected": d.expected,
                "delay_minutes": d.delay_minutes,
                "cancelled": d.cancelled,
                "trip_id": d.trip_id,
                "wheelchair_accessible": {1: True, 2: False}.get(d.wheelchair),
            }
            for d in board.departures
        ],
    }


class StopCall(Schema):
    name: str
    arrival: datetime | None
    departure: datetime | None


class LegOut(Schema):
    mode: str  # "ride" or "walk"
    origin: str
    destination: str
    departure: datetime
    arrival: datetime
    line: str
    headsign: str
    trip_id: str
    stops: list[StopCall]
    geometry: list[list[float]]  # [[lat, lon], ...]


class JourneyOut(Schema):
    departure: datetime
    arrival: datetime
    duration_minutes: int
    transfers: int
    legs: list[LegOut]


class PlanOut(Schema):
    origin: str
    destination: str
    arrive_by: bool
    journeys: list[JourneyOut]


@router.get("/transit/journeys", response=PlanOut)
def journeys(
    request: HttpRequest,
    from_: str = Query(..., alias="from", min_length=1, max_length=200, pattern=NO_NUL),  # type: ignore[type-arg]
    to: str = Query(..., min_length=1, max_length=200, pattern=NO_NUL),  # type: ignore[type-arg]
    depart: str = Query("", max_length=40, pattern=NO_NUL),  # type: ignore[type-arg]
    arrive: str = Query("", max_length=40, pattern=NO_NUL),  # type: ignore[type-arg]
    wheelchair: bool = False,
) -> Any:
    """Journeys from ``from`` to ``to`` (a stop id or ``lat,lon``), departing at ``depart`` or
    arriving by ``arrive`` (ISO 8601; default now): the Pareto set over arrival time and number
    of transfers, each leg with its times, line, stops and geometry."""
    _limited(request)
    if ratelimit_exceeded(
        scope="transit-journeys",
        key=client_address(request),
        rate=settings.RATELIMIT_TRANSIT_JOURNEYS,
    ):
        raise HttpError(429, "too many requests")
    try:
        _loaded()
        plan = selectors.journeys_plan(
            origin=from_,
            destination=to,
            depart=_moment(depart, "depart"),
            arrive=_moment(arrive, "arrive"),
            wheelchair=wheelchair,
        )
    except TransitError as exc:
        return _error(exc)
    return {
        "origin": plan.origin.label,
        "destination": plan.destination.label,
        "arrive_by": plan.arrive_by,
        "journeys": [
            {
                "departure": j.departure,
                "arrival": j.arrival,
                "duration_minutes": j.minutes,
                "transfers": j.transfers,
                "legs": [
                    {
                        "mode": leg.kind,
                        "origin": leg.origin,
                        "destination": leg.destination,
                        "departure": leg.departure,
                        "arrival": leg.arrival,
                        "line": leg.line,
                        "headsign": leg.headsign,
                        "trip_id": leg.trip_id,
                        "stops": [
                            {"name": n, "arrival": a, "departure": d} for n, a, d in leg.stops
                        ],
                        "geometry": leg.points,
                    }
                    for leg in j.legs
                ],
            }
            for j in plan.journeys
        ],
    }
