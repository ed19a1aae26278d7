"""Time-series charts of a datastream drawn as SVG on the server (no JavaScript, no chart
library): the line of the values (or of the means), for hourly and daily means the band from
minimum to maximum, and the axes with their labels. The page shows the same numbers in a
table beside each chart (citydata/templates/citydata/thing.html)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from django.utils import formats

from rathaus.citydata.aggregates import city_zone
from rathaus.citydata.selectors import DAY, HOUR, Series

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 32, 24, 44  # margins around the plot area


@dataclass(frozen=True)
class Tick:
    at: str  # the coordinate, formatted for SVG
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    x0: int = LEFT
    x1: int = WIDTH - RIGHT
    y0: int = TOP
    y1: int = HEIGHT - BOTTOM
    line: str = ""  # path of the values or means
    band: str = ""  # path of the min-max band (aggregated resolutions)
    dots: list[tuple[str, str]] = field(default_factory=list)  # lone points
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)


def _n(value: float) -> str:
    return f"{value:.1f}"


def nice_scale(low: float, high: float, steps: int = 7) -> tuple[float, float, float]:
    """Bottom, top and step of a y axis with round numbers that holds ``low`` to ``high``
    (from 0 when every value is positive), in at most ``steps`` steps."""
    low = min(low, 0.0)
    span = high - low
    if span <= 0:
        span = abs(high) or 1.0
    raw = span / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    bottom = math.floor(low / step) * step
    top = math.ceil(high / step) * step
    if top <= bottom:
        top = bottom + step
    return bottom, top, step


_HOUR_STEPS = (1, 2, 3, 6, 12)  # hours
_DAY_STEPS = (1, 2, 7, 14)  # days
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)  # months
MAX_X_TICKS = 8


def _month_add(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def x_tick_times(start: datetime, end: datetime) -> tuple[list[datetime], str]:
    """Tick times in the city's time zone from ``start`` to ``end`` (at most MAX_X_TICKS) and
    the kind of label they want: "hour", "day" or "month"."""
    zone = city_zone()
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    span = end - start
    for hours in _HOUR_STEPS:
        if span / timedelta(hours=hours) <= MAX_X_TICKS:
            first = local_start.replace(minute=0, second=0, microsecond=0)
            while first < local_start or first.hour % hours:
                first += timedelta(hours=1)
            ticks, moment = [], first
            while moment <= local_end:
                ticks.append(moment)
                moment = (moment + timedelta(hours=hours)).astimezone(zone)
            return ticks, "hour"
    for days in _DAY_STEPS:
        if span / timedelta(days=days) <= MAX_X_TICKS:
            first = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
            if first < local_start:
                first = first + timedelta(days=1)
            ticks, moment = [], first
            while moment <= local_end:
                ticks.append(moment)
                day = moment.date() + timedelta(days=days)
                moment = datetime(day.year, day.month, day.day, tzinfo=zone)
            return ticks, "day"
    for months in _MONTH_STEPS:
        if span / timedelta(days=30.5 * months) <= MAX_X_TICKS - 1:
            break
    first = local_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if first < local_start:
        first = _month_add(first, 1)
    while (first.year * 12 + first.month - 1) % months:
        first = _month_add(first, 1)
    ticks, moment = [], first
    while moment <= local_end:
        ticks.append(moment)
        moment = _month_add(moment, months)
    return ticks, "month"


def _x_label(moment: datetime, kind: str) -> str:
    if kind == "month":
        return formats.date_format(moment, "m/Y")
    if kind == "day" or (moment.hour == 0 and moment.minute == 0):
        return formats.date_format(moment, "d.m.")
    return formats.date_format(moment, "H:i")


def _number(value: float, step: float) -> str:
    decimals = len(f"{step:.6f}".rstrip("0").partition(".")[2])  # as many as the step has
    return formats.number_format(round(value, decimals), decimals)


def _expected_gap(series: Series) -> timedelta:
    if series.resolution == HOUR:
        return timedelta(hours=1)
    if series.resolution == DAY:
        return timedelta(hours=25)  # the day the clocks go back
    deltas = [
        (b.time - a.time).total_seconds()
        for a, b in zip(series.points, series.points[1:], strict=False)
    ]
    return timedelta(seconds=max(median(deltas), 60.0)) if deltas else timedelta(hours=1)


def chart_of(series: Series) -> Chart:
    """The geometry of a series' chart: x from the period's start to its end, y from the
    lowest minimum to the highest maximum (from 0 when all are positive). A gap of more
    than twice the usual interval breaks the line, so that missing data is not drawn."""
    chart = Chart()
    points = series.points
    plot_w, plot_h = chart.x1 - chart.x0, chart.y1 - chart.y0
    total = (series.end - series.start).total_seconds() or 1.0
    half = {
        HOUR: timedelta(minutes=30),
        DAY: timedelta(hours=12),
    }.get(series.resolution, timedelta(0))  # a bucket is drawn at its middle

    def x(moment: datetime) -> float:
        offset = (moment + half - series.start).total_seconds() / total
        return chart.x0 + min(max(offset, 0.0), 1.0) * plot_w

    low = min((p.minimum for p in points), default=0.0)
    high = max((p.maximum for p in points), default=1.0)
    bottom, top, step = nice_scale(low, high)

    def y(value: float) -> float:
        return chart.y1 - (value - bottom) / (top - bottom) * plot_h

    value = bottom
    while value <= top + step / 1000:
        chart.y_ticks.append(Tick(_n(y(value)), _number(value, step)))
        value += step
    ticks, kind = x_tick_times(series.start, series.end)
    chart.x_ticks = [
        Tick(_n(chart.x0 + (t - series.start).total_seconds() / total * plot_w), _x_label(t, kind))
        for t in ticks
    ]

    gap = _expected_gap(series) * 2
    segments: list[list[int]] = []
    for index, point in enumerate(points):
        if index and point.time - points[index - 1].time <= gap:
            segments[-1].append(index)
        else:
            segments.append([index])
    line, band = [], []
    aggregated = series.resolution in (HOUR, DAY)
    for segment in segments:
        if len(segment) == 1:
            p = points[segment[0]]
            chart.dots.append((_n(x(p.time)), _n(y(p.value))))
            continue
        line.append(
            "M" + " L".join(f"{_n(x(points[i].time))},{_n(y(points[i].value))}" for i in segment)
        )
        if aggregated:
            upper = [f"{_n(x(points[i].time))},{_n(y(points[i].maximum))}" for i in segment]
            lower = [
                f"{_n(x(points[i].time))},{_n(y(points[i].minimum))}" for i in reversed(segment)
            ]
            band.append("M" + " L".join(upper + lower) + " Z")
    chart.line = " ".join(line)
    chart.band = " ".join(band)
    return chart
