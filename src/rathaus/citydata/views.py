"""The public sensor-data pages: the map of the measuring stations with the latest value of a
chosen observed property (and the same as a table), a page per station (Thing) with a chart
and a data table per datastream for a chosen period, and the CSV download of that period.
Thin: the reads are in selectors, the bands in bands.py, the chart geometry in charts.py."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from rathaus.citydata import bands, charts, selectors
from rathaus.citydata.aggregates import city_zone
from rathaus.citydata.models import Datastream, Location, ObservedProperty, Thing
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

DEFAULT_DAYS = 7  # the default period: the last 7 days *of the data* (demo data is old)
MAX_YEARS = 10
STALE_AFTER = timedelta(hours=3)  # older latest values are called out as not current
# the map's default observed property, and the order of the table's columns
PREFERRED = ["NO2", "PM10", "PM2.5", "O3", "SO2", "NO", "Benzol"]
PRESETS = [  # counted back from the last day with data
    (1, gettext_lazy("letzter Tag der Daten (24 Stunden)")),
    (7, gettext_lazy("letzte 7 Tage der Daten")),
    (30, gettext_lazy("letzte 30 Tage der Daten")),
    (365, gettext_lazy("letztes Jahr der Daten")),
]
RESOLUTIONS = {
    selectors.RAW: gettext_lazy("alle Messwerte"),
    selectors.HOUR: gettext_lazy("Stundenmittel mit Minimum und Maximum je Stunde"),
    selectors.DAY: gettext_lazy("Tagesmittel mit Minimum und Maximum je Tag"),
}


def _limited(request: HttpRequest, scope: str = "citydata") -> bool:
    return ratelimit_exceeded(
        scope=scope, key=client_address(request), rate=settings.RATELIMIT_CITYDATA
    )


def _unit(stream: Datastream) -> str:
    return str((stream.unit_of_measurement or {}).get("symbol", "")).strip()


def _value(value: float | None) -> str:
    """A measured value as people read it: at most one decimal, in the page's language."""
    if value is None:
        return "–"
    return formats.number_format(round(value, 1), 1 if round(value, 1) % 1 else 0)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _pollutant(stream: Datastream) -> str | None:
    observed = stream.observed_property
    return bands.pollutant_of(
        definition=observed.definition, name=observed.name, unit_symbol=_unit(stream)
    )


def _order(observed: ObservedProperty) -> tuple[int, str]:
    name = observed.name
    return (PREFERRED.index(name) if name in PREFERRED else len(PREFERRED), name.casefold())


@dataclass(frozen=True)
class Cell:
    """A datastream's latest value as the map and the tables show it."""

    stream: Datastream
    value: str  # formatted, without the unit
    unit: str
    time: datetime | None
    band: bands.Band


def _cell(stream: Datastream) -> Cell:
    result = getattr(stream, "latest_result", None)
    return Cell(
        stream=stream,
        value=_value(result),
        unit=_unit(stream),
        time=_latest_time(stream),
        band=bands.band_for(_pollutant(stream), result),
    )


def _place(thing: Thing) -> Location | None:
    # prefetched: the first of the prefetched locations, without another query
    locations = list(thing.locations.all())
    return locations[0] if locations else None


def _latest_time(stream: Datastream) -> datetime | None:
    """The time of the stream's latest observation (annotated by the selectors)."""
    moment: datetime | None = getattr(stream, "latest_time", None)
    return moment


def _latest(streams: list[Datastream]) -> datetime | None:
    return max((t for s in streams if (t := _latest_time(s)) is not None), default=None)


class PropertyForm(forms.Form):
    """The observed property the map shows (the choices are those with datastreams)."""

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["messgroesse"] = forms.ChoiceField(
            label=gettext_lazy("Messgröße auf der Karte"),
            choices=choices,
            error_messages={
                "invalid_choice": gettext_lazy(
                    "Diese Messgröße gibt es nicht. Bitte wählen Sie eine aus der Liste."
                )
            },
        )


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The stations on a map with the latest value of one observed property, its legend as
    text, and every station's latest values as a table (which is always there: the map is an
    enhancement)."""
    if _limited(request):
        return error_response(request, 429)
    things = selectors.things_for_map()  # three queries, whatever the number of stations
    observed: dict[int, ObservedProperty] = {}
    for thing in things:
        for stream in thing.datastreams.all():
            observed.setdefault(stream.observed_property_id, stream.observed_property)
    columns = sorted(observed.values(), key=_order)
    choices = [(str(o.pk), o.name) for o in columns]
    form = PropertyForm(request.GET or None, choices=choices)
    chosen = columns[0] if columns else None
    if form.is_bound and form.is_valid():
        chosen = observed[int(form.cleaned_data["messgroesse"])]
    elif not form.is_bound and chosen is not None:
        form = PropertyForm(initial={"messgroesse": str(chosen.pk)}, choices=choices)

    rows = []
    stations = []
    pollutant = None
    unit = ""
    for thing in things:
        by_property = {s.observed_property_id: _cell(s) for s in thing.datastreams.all()}
        place = _place(thing)
        rows.append(
            {
                "thing": thing,
                "place": place,
                "cells": [by_property.get(o.pk) for o in columns],
            }
        )
        shown = by_property.get(chosen.pk) if chosen else None
        if shown is not None:
            pollutant = pollutant or _pollutant(shown.stream)
            unit = unit or shown.unit
        if place is None or place.lat is None or place.lon is None or chosen is None:
            continue
        stations.append(
            {
                "name": thing.name,
                "url": reverse("citydata:thing", args=[thing.pk]),
                "lat": place.lat,
                "lon": place.lon,
                "value": shown.value if shown else "–",
                "unit": shown.unit if shown else "",
                "band": shown.band.key if shown else "none",
                "band_label": str(shown.band.label) if shown else _("kein Messwert"),
                "time": _when(shown.time) if shown else "",
            }
        )
    latest = _latest([s for t in things for s in t.datastreams.all()])
    return render(
        request,
        "citydata/index.html",
        {
            "form": form,
            "chosen": chosen,
            "columns": columns,
            "rows": rows,
            "legend": bands.bands_of(pollutant),
            "unit": unit,
            "no_band": bands.NO_BAND,
            "map_data": {"stations": stations, "property": chosen.name if chosen else ""},
            "tile_url": settings.TILE_URL,
            "latest": latest,
            "stale": latest is not None and timezone.now() - latest > STALE_AFTER,
            "mapped": len(stations),
        },
    )


# ---- a station's page and its CSV -----------------------------------------------------------


class PeriodForm(forms.Form):
    """The period of the charts: whole days in the city's time zone, ``von`` to ``bis``
    inclusive."""

    von = forms.DateField(
        label=gettext_lazy("Von"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": gettext_lazy("Bitte ein Datum angeben, z. B. 24.10.2014."),
            "required": gettext_lazy("Bitte den ersten Tag des Zeitraums angeben."),
        },
    )
    bis = forms.DateField(
        label=gettext_lazy("Bis"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": gettext_lazy("Bitte ein Datum angeben, z. B. 30.10.2014."),
            "required": gettext_lazy("Bitte den letzten Tag des Zeitraums angeben."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "zeitraum_%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        von, bis = data.get("von"), data.get("bis")
        for name, day in (("von", von), ("bis", bis)):
            if day is not None and not 1900 <= day.year <= 2200:
                self.add_error(name, _("Bitte ein Datum zwischen 1900 und 2200 angeben."))
                return data
        if von is not None and bis is not None:
            if bis < von:
                self.add_error("bis", _("„Bis“ darf nicht vor „Von“ liegen."))
            elif _years_before(bis, MAX_YEARS) >= von:
                self.add_error(
                    None,
                    ValidationError(
                        _("Der Zeitraum darf höchstens %(years)s Jahre lang sein.")
                        % {"years": MAX_YEARS}
                    ),
                )
        return data


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _data_end(streams: list[Datastream]) -> date:
    """The last day with data among the streams (today when there is none)."""
    last = _latest(streams) or max(
        (s.phenomenon_end for s in streams if s.phenomenon_end is not None), default=None
    )
    return timezone.localtime(last, city_zone()).date() if last else timezone.localdate()


def _bounds(von: date, bis: date) -> tuple[datetime, datetime]:
    zone = city_zone()
    start = datetime(von.year, von.month, von.day, tzinfo=zone)
    after = bis + timedelta(days=1)
    return start, datetime(after.year, after.month, after.day, tzinfo=zone)


def _period(request: HttpRequest, streams: list[Datastream]) -> tuple[PeriodForm, date, date]:
    """The form and the period it asks for; the default period (the last DEFAULT_DAYS days of
    the data) when nothing is asked or the input is wrong (the form then has the errors)."""
    last = _data_end(streams)
    von, bis = last - timedelta(days=DEFAULT_DAYS - 1), last
    query = {k: request.GET[k] for k in ("von", "bis") if request.GET.get(k, "") != ""}
    if not query:
        return PeriodForm(initial={"von": von, "bis": bis}), von, bis
    form = PeriodForm(query)
    if form.is_valid():
        von, bis = form.cleaned_data["von"], form.cleaned_data["bis"]
    return form, von, bis


def _thing_or_404(thing_id: int) -> Thing:
    if not 0 < thing_id < 2**63:
        raise Http404
    return selectors.thing_get(thing_id=thing_id)


@require_safe
def thing(request: HttpRequest, thing_id: int) -> HttpResponse:
    """A station: where it is, its datastreams with their latest values, and per datastream
    a chart of the chosen period with the same numbers as a table and as CSV."""
    if _limited(request):
        return error_response(request, 429)
    station = _thing_or_404(thing_id)
    streams = sorted(station.datastreams.all(), key=lambda s: _order(s.observed_property))
    form, von, bis = _period(request, streams)
    start, end = _bounds(von, bis)
    last = _data_end(streams)
    query = f"?von={von.isoformat()}&bis={bis.isoformat()}"
    sections = []
    for stream in streams:
        series = selectors.series_get(datastream=stream, start=start, end=end)
        sections.append(
            {
                "stream": stream,
                "latest": _cell(stream),
                "series": series,
                "rows": selectors.series_rows(series),
                "chart": charts.chart_of(series) if series.points else None,
                "resolution": RESOLUTIONS[series.resolution],
                "aggregated": series.resolution != selectors.RAW,
                "low": _value(min((p.minimum for p in series.points), default=None)),
                "high": _value(max((p.maximum for p in series.points), default=None)),
                "csv_url": _csv_url(station, stream) + query,
            }
        )
    presets = []
    for days, label in PRESETS:
        first = last - timedelta(days=days - 1)
        presets.append(
            {
                "label": label,
                "url": f"?von={first.isoformat()}&bis={last.isoformat()}",
                "current": (first, last) == (von, bis),
            }
        )
    place = _place(station)
    latest = _latest(streams)
    return render(
        request,
        "citydata/thing.html",
        {
            "thing": station,
            "place": place,
            "streams": streams,
            "cells": [_cell(s) for s in streams],
            "sections": sections,
            "form": form,
            "von": von,
            "bis": bis,
            "presets": presets,
            "tile_url": settings.TILE_URL,
            "latest": latest,
            "stale": latest is not None and timezone.now() - latest > STALE_AFTER,
            "altitude": (station.properties or {}).get("altitude_m"),
        },
    )


def _csv_url(station: Thing, stream: Datastream) -> str:
    return reverse("citydata:csv", args=[station.pk, stream.pk])


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(series: selectors.Series) -> Iterator[str]:
    """The rows of the CSV, one line at a time. Only ISO times and numbers written by Python
    (``repr`` of a float, an int) go in, never a name or other text: no cell can start a
    spreadsheet formula (a negative number such as ``-0.5`` is read as a number)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    zone = city_zone()
    if series.resolution == selectors.RAW:
        yield writer.writerow(["phenomenonTime", "result"])
        for point in series.points:
            yield writer.writerow([point.time.astimezone(zone).isoformat(), repr(point.value)])
        return
    yield writer.writerow(["time", "value", "minimum", "maximum", "count"])
    for point in series.points:
        yield writer.writerow(
            [
                point.time.astimezone(zone).isoformat(),
                repr(point.value),
                repr(point.minimum),
                repr(point.maximum),
                point.count,
            ]
        )


@require_safe
def datastream_csv(request: HttpRequest, thing_id: int, datastream_id: int) -> HttpResponseBase:
    """A datastream's series of the period as CSV, at the resolution the chart uses."""
    if _limited(request, scope="citydata-csv"):
        return error_response(request, 429)
    station = _thing_or_404(thing_id)
    stream = next((s for s in station.datastreams.all() if s.pk == datastream_id), None)
    if stream is None:
        return error_response(
            request, 404, _("Diese Messreihe gibt es an dieser Messstelle nicht.")
        )
    form, von, bis = _period(request, [stream])
    if form.is_bound and not form.is_valid():
        messages = [str(e) for errors in form.errors.values() for e in errors]
        return error_response(request, 400, " ".join(messages))
    start, end = _bounds(von, bis)
    series = selectors.series_get(datastream=stream, start=start, end=end)
    name = slugify(f"{station.name} {stream.observed_property.name}")[:80] or "messreihe"
    filename = f"{name}_{von.isoformat()}_{bis.isoformat()}.csv"
    response = StreamingHttpResponse(_csv_lines(series), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
