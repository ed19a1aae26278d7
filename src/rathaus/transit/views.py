"""The public transit pages: stop search, departure boards (page, live fragment, kiosk),
journeys, and service quality for planners with its exports. Thin: the reads are in
selectors."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.transit import geocoding, quality, selectors, timetable
from rathaus.transit.forms import JourneyForm, StopSearchForm
from rathaus.transit.selectors import TransitError

_POINT_CHARS = set("0123456789.,- ")


def _limited(request: HttpRequest) -> bool:
    return ratelimit_exceeded(
        scope="transit", key=client_address(request), rate=settings.RATELIMIT_TRANSIT
    )


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Find a stop by name (or near a position) and start a journey."""
    if _limited(request):
        return error_response(request, 429)
    form = StopSearchForm(request.GET or None)
    hits: list[selectors.StopHit] | None = None
    if form.is_bound and form.is_valid():
        hits = selectors.stop_search(form.cleaned_data["q"], limit=15)
    near = request.GET.get("nahe", "")
    nearby: list[selectors.StopHit] | None = None
    if near and set(near) <= _POINT_CHARS and near.count(",") == 1:
        try:
            lat, lon = (float(part) for part in near.split(","))
            nearby = selectors.stops_near(lat, lon, limit=10)
        except ValueError:
            nearby = None
    return render(
        request,
        "transit/index.html",
        {
            "form": form,
            "hits": hits,
            "nearby": nearby,
            "journey_form": JourneyForm(initial=_now_initial()),
            "loaded": bool(timetable.active_versions()),
        },
    )


def _journeys_limited(request: HttpRequest) -> bool:
    """Planning costs more than a board (a new date builds its timetable): its own limit."""
    return ratelimit_exceeded(
        scope="transit-journeys",
        key=client_address(request),
        rate=settings.RATELIMIT_TRANSIT_JOURNEYS,
    )


def _now_initial() -> dict[str, Any]:
    """Now, or where the loaded timetable does not cover today (an old or future feed), its
    busiest weekday at 08:00, so that the first search finds something."""
    now = _example_moment() or timezone.localtime()
    return {
        "datum": now.date(),
        "zeit": now.time().replace(second=0, microsecond=0),
        "ankunft": "0",
    }


def _example_moment() -> datetime | None:
    """None while the timetable covers today; else its busiest weekday at 08:00."""
    first, last = selectors.feed_range()
    today = timezone.localdate()
    if first is None or last is None or first <= today <= last:
        return None
    day = selectors.busiest_weekday()
    return None if day is None else selectors.at_seconds(day, 8 * 3600)


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not selectors.sensible_moment(moment):
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _stop_or_404(ref: str) -> Any:
    try:
        return selectors.stop_get(ref)
    except TransitError as exc:
        raise Http404(exc.message) from None


@require_safe
def stop(request: HttpRequest, ref: str) -> HttpResponse:
    """A stop's next departures; ``?ansicht=kiosk`` for a screen or a printout."""
    if _limited(request):
        return error_response(request, 429)
    place = _stop_or_404(ref)
    at = _moment(request.GET.get("zeit", ""))
    board = selectors.departures(place, at=at, limit=20)
    context = {
        "stop": place,
        "board": board,
        "ref": ref,
        "example": _example_moment() if at is None else None,
        "range": selectors.feed_range(),
    }
    if request.GET.get("ansicht") == "kiosk":
        return render(request, "transit/kiosk.html", context)
    day, lines = selectors.headways(place)
    context.update({"headways": lines, "headway_day": day})
    return render(request, "transit/stop.html", context)


@require_safe
def board(request: HttpRequest) -> HttpResponse:
    """The departure board alone (``?halt=<stop>``): what the stop page reloads every 30
    seconds."""
    if _limited(request):
        return error_response(request, 429)
    ref = request.GET.get("halt", "")
    place = _stop_or_404(ref)
    at = _moment(request.GET.get("zeit", ""))
    return render(
        request,
        "transit/_board.html",
        {"stop": place, "board": selectors.departures(place, at=at, limit=20), "ref": ref},
    )


def _place_spec(text: str) -> tuple[str, str | None]:
    """What the planner gets for a typed place, and the label to show for it: coordinates
    or a stop id as they are; an address (a street with a house number) as its position; a
    stop's name as its best match."""
    text = text.strip()
    if set(text) <= _POINT_CHARS and text.count(",") == 1:
        return text, None
    try:
        return selectors.stop_ref(selectors.stop_get(text)), None
    except TransitError:
        pass
    if geocoding.looks_like_address(text):
        address = geocoding.address_resolve(text)
        if address is not None:
            return f"{address.lat:.6f},{address.lon:.6f}", address.label
    hits = selectors.stop_search(text, limit=1)
    if not hits:
        raise TransitError(
            "unknown_stop",
            _("Keine Haltestelle und keine Adresse gefunden für „%(q)s“.") % {"q": text},
        )
    return hits[0].ref, None


@require_safe
def journeys(request: HttpRequest) -> HttpResponse:
    if _limited(request) or (request.GET and _journeys_limited(request)):
        return error_response(request, 429)
    form = JourneyForm(request.GET or None, initial=_now_initial())
    plan = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        moment = timezone.make_aware(datetime.combine(data["datum"], data["zeit"]))
        try:
            origin, origin_label = _place_spec(data["von"])
        except TransitError as exc:
            form.add_error("von", str(exc.message))
        try:
            destination, destination_label = _place_spec(data["nach"])
        except TransitError as exc:
            form.add_error("nach", str(exc.message))
        if form.is_valid():
            try:
                plan = selectors.journeys_plan(
                    origin=origin,
                    destination=destination,
                    depart=None if data["ankunft"] else moment,
                    arrive=moment if data["ankunft"] else None,
                    wheelchair=data["rollstuhl"],
                    origin_label=origin_label,
                    destination_label=destination_label,
                )
            except TransitError as exc:
                form.add_error(None, str(exc.message))
    shown = 0
    if plan and plan.journeys:
        try:
            shown = min(max(int(request.GET.get("zeige", "0")), 0), len(plan.journeys) - 1)
        except ValueError:
            shown = 0
    return render(
        request,
        "transit/journeys.html",
        {
            "form": form,
            "plan": plan,
            "shown": shown,
            "map_data": _journey_map(plan.journeys[shown]) if plan and plan.journeys else None,
            "tile_url": settings.TILE_URL,
            "query": request.GET.urlencode(),
        },
    )


def _journey_map(journey: selectors.PlannedJourney) -> dict[str, Any]:
    return {
        "legs": [
            {
                "kind": leg.kind,
                "label": leg.line or _("Fußweg"),
                "points": leg.points,
                "color": "#005ca9" if leg.kind == "ride" else "#5a5a5a",
            }
            for leg in journey.legs
        ]
    }


def _quality_inputs() -> tuple[str | None, str | None]:
    """The planners' areas (GeoJSON) and population grid (CSV) from the settings."""
    texts: list[str | None] = []
    for path in (settings.TRANSIT_AREAS_FILE, settings.TRANSIT_POPULATION_FILE):
        texts.append(Path(path).read_text(encoding="utf-8-sig") if path else None)
    return texts[0], texts[1]


def _quality(request: HttpRequest) -> selectors.QualityReport:
    files = tuple(
        (path, Path(path).stat().st_mtime_ns if path and Path(path).exists() else 0)
        for path in (settings.TRANSIT_AREAS_FILE, settings.TRANSIT_POPULATION_FILE)
    )
    return _quality_cached(timetable.active_versions(), settings.TRANSIT_QUALITY_CELL_METERS, files)


@lru_cache(maxsize=4)
def _quality_cached(
    versions: tuple[int, ...], cell_m: float, files: tuple[tuple[str, int], ...]
) -> selectors.QualityReport:
    """Computed once per timetable and input files in each process (about a second for a
    city's network)."""
    areas, population = _quality_inputs()
    return selectors.quality_report(cell_m=cell_m, areas_text=areas, population_text=population)


@require_safe
def service_quality(request: HttpRequest) -> HttpResponse:
    """ÖV-Güteklassen: a map with legend, the same as tables, and the exports."""
    if _limited(request):
        return error_response(request, 429)
    if not timetable.active_versions():
        return render(request, "transit/quality.html", {"report": None})
    report = _quality(request)
    rated = [r for r in report.ratings if r.category]
    map_stops = [
        {
            "name": r.stop.name,
            "lat": r.stop.lat,
            "lon": r.stop.lon,
            "category": r.category,
            "rings": [
                [distance, quality.quality_class(r.category, distance - 1)]
                for distance in quality.DISTANCE_BANDS_M
                if r.category and quality.quality_class(r.category, distance - 1)
            ],
        }
        for r in rated
    ]
    return render(
        request,
        "transit/quality.html",
        {
            "report": report,
            "rows": [(r, report.lines.get(r.stop.id, [])) for r in report.ratings],
            "map_data": {"stops": map_stops, "colors": QUALITY_COLORS},
            "tile_url": settings.TILE_URL,
            "colors": QUALITY_COLORS,
            "class_counts": [
                (key, count, round(count * report.cell_m**2 / 1_000_000, 2))
                for key, count in report.class_counts()
            ],
            "population": (
                [
                    (key, people, round(share * 100, 1))
                    for key, (people, share) in report.population.items()
                ]
                if report.population
                else None
            ),
        },
    )


# Colour per class, worst to best light to dark; the letter is always shown beside it.
QUALITY_COLORS = {
    "A": "#1a4d2e",
    "B": "#2e7d32",
    "C": "#66a61e",
    "D": "#c9b200",
    "E": "#e08214",
    "F": "#d73027",
}


@require_safe
def quality_export(request: HttpRequest, kind: str) -> HttpResponse:
    if ratelimit_exceeded(
        scope="transit-export", key=client_address(request), rate=settings.RATELIMIT_EXPORT
    ):
        return error_response(request, 429)
    if not timetable.active_versions():
        raise Http404
    report = _quality(request)
    if kind == "geojson":
        rated = [r for r in report.ratings if r.category]
        body = json.dumps(quality.quality_geojson(rated, report.cells, report.cell_m))
        response = HttpResponse(body, content_type="application/geo+json")
        name = "oev-gueteklassen.geojson"
    elif kind == "csv":
        response = HttpResponse(
            quality.write_csv(quality.quality_csv_rows(report.ratings)), content_type="text/csv"
        )
        name = "oev-gueteklassen-haltestellen.csv"
    elif kind == "ortsteile" and report.areas is not None:
        response = HttpResponse(
            quality.write_csv(quality.area_csv_rows(report.areas)), content_type="text/csv"
        )
        name = "oev-gueteklassen-ortsteile.csv"
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
