"""Charts of the strategy dashboard, drawn as SVG on the server (no JavaScript, no chart
library), each with the same numbers as a table beside it:

- ``indicator_chart``: a KPI's observed values over time against its baseline and its target,
  with a sentence that says in words where it stands ("auf Kurs" / "hinter dem Plan");
- ``timeline_chart``: measures as rows over the years, planned and actual periods as bars, and
  milestones whose state is told by their SHAPE (and a legend), not by colour alone.

Pure functions: no database, the callers (dashboard, measure and indicator pages) hand in plain
values. The templates are ``strategy/charts/_indicator_chart.html`` (context ``chart``) and
``strategy/charts/_timeline.html`` (context ``timeline``). The y scale and the time ticks come
from the sensor charts (``rathaus.citydata.charts``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import formats, numberformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from rathaus.citydata.aggregates import city_zone
from rathaus.citydata.charts import Tick, nice_scale, x_tick_times
from rathaus.strategy.constants import Direction, Frequency, MilestoneStatus

Day = date  # for annotations inside classes that have a field named "date"

# ---------------------------------------------------------------------------------------------
# shared helpers


def _n(value: float) -> str:
    """A coordinate for an SVG attribute (never localised: "12.5", not "12,5")."""
    return f"{value:.1f}"


def _decimals(value: float, most: int = 3) -> int:
    return len(f"{abs(value):.{most}f}".rstrip("0").partition(".")[2])


Separators = tuple[str, int, str]  # decimal separator, grouping, thousand separator


def _separators() -> Separators:
    """The active language's number format, as ``formats.number_format`` reads it; looked up
    once per chart, not once per value."""
    language = get_language()
    return (
        formats.get_format("DECIMAL_SEPARATOR", language),
        formats.get_format("NUMBER_GROUPING", language),
        formats.get_format("THOUSAND_SEPARATOR", language),
    )


def _number(value: float, decimals: int | None = None, separators: Separators | None = None) -> str:
    """``value`` in the active language's format (German: 44,5), with as many decimals as it
    has (at most three) unless ``decimals`` is given."""
    places = _decimals(value) if decimals is None else decimals
    rounded = round(value, places)
    if rounded == 0:
        rounded = 0.0  # no "-0"
    decimal_sep, grouping, thousand_sep = separators or _separators()
    return str(numberformat.format(rounded, decimal_sep, places, grouping, thousand_sep))


def with_unit(value: float, unit: str) -> str:
    """ "75 %", "12,5 Tage", "310" (no unit)."""
    text = _number(value)
    return f"{text}\u00a0{unit}" if unit else text


def _day(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _uid(prefix: str, *parts: object) -> str:
    """An id for aria-labelledby that is stable for the same chart and differs between the
    charts of one page (the dashboard shows several)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:10]
    return f"{prefix}-{digest}"


# ---------------------------------------------------------------------------------------------
# KPI chart

KPI_WIDTH, KPI_HEIGHT = 640, 260
KPI_LEFT, KPI_RIGHT, KPI_TOP, KPI_BOTTOM = 64, 24, 32, 40
KPI_INSET = 10.0  # px between the plot's edge and the first/last date, so markers stay whole
MIN_SPAN = timedelta(days=365)  # a lone value still gets a readable time axis
MAX_DOTS = 36  # longer series draw the line only (and their provisional and last values)
TABLE_OPEN_ROWS = 12  # longer tables are folded into <details>


@dataclass(frozen=True)
class Point:
    period: date  # first day of the period
    value: float
    provisional: bool


@dataclass(frozen=True)
class Dot:
    x: str
    y: str
    provisional: bool
    title: str  # "März 2025: 44,5 % (vorläufig)"


@dataclass(frozen=True)
class Marker:
    """Baseline or target: a shape at (x, y) and its label."""

    x: str
    y: str
    path: str  # the marker's outline (square for the baseline, diamond for the target)
    label: str
    label_x: str
    label_y: str
    anchor: str  # text-anchor of the label: "start" or "end"


@dataclass(frozen=True)
class ObservationRow:
    period: date
    period_label: str
    value: str  # formatted, without the unit
    provisional: bool
    state: str  # "vorläufig" / "endgültig"


@dataclass
class IndicatorChart:
    name: str
    unit: str
    direction: str
    direction_label: str
    uid: str
    empty: bool
    summary: str  # one sentence for the caption and the SVG's <desc>
    latest_text: str = ""  # "44,5 % (2025, vorläufig)"
    baseline_text: str = ""  # "30 % (31.12.2019)"
    target_text: str = ""  # "75 % bis 31.12.2027"
    track: str = ""  # "reached" | "on_track" | "behind" | "" (cannot tell)
    track_label: str = ""  # "Ziel erreicht" | "auf Kurs" | "hinter dem Plan"
    width: str = str(KPI_WIDTH)
    height: str = str(KPI_HEIGHT)
    x0: str = _n(KPI_LEFT)
    x1: str = _n(KPI_WIDTH - KPI_RIGHT)
    y0: str = _n(KPI_TOP)
    y1: str = _n(KPI_HEIGHT - KPI_BOTTOM)
    tick_y2: str = _n(KPI_HEIGHT - KPI_BOTTOM + 5)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    zero_y: str = ""  # the zero line, when the scale reaches below zero
    line: str = ""  # path of the observed values
    dots: list[Dot] = field(default_factory=list)
    baseline: Marker | None = None
    target: Marker | None = None
    target_path: str = ""  # dashed path from the start (baseline) to the target
    rows: list[ObservationRow] = field(default_factory=list)

    @property
    def folded(self) -> bool:
        """Whether the data table is long enough to sit inside <details>."""
        return len(self.rows) > TABLE_OPEN_ROWS

    @property
    def has_provisional(self) -> bool:
        return any(row.provisional for row in self.rows)


def _infer_frequency(periods: list[date]) -> str:
    """Yearly when every period is a 1 January a year or more apart, quarterly when every
    period starts a quarter and they are a quarter or more apart, else monthly."""
    if not periods:
        return Frequency.MONTHLY
    months = sorted({p.year * 12 + p.month - 1 for p in periods})
    gaps = [b - a for a, b in zip(months, months[1:], strict=False)]
    smallest = min(gaps, default=12)
    if all(p.month == 1 and p.day == 1 for p in periods) and smallest >= 12:
        return Frequency.YEARLY
    if all(p.month in (1, 4, 7, 10) and p.day == 1 for p in periods) and smallest >= 3:
        return Frequency.QUARTERLY
    return Frequency.MONTHLY


def period_label(period: date, frequency: str, months: list[str] | None = None) -> str:
    """ "2025", "2. Quartal 2025", "März 2025" (``months``: the names from _month_names)."""
    if frequency == Frequency.YEARLY:
        return str(period.year)
    if frequency == Frequency.QUARTERLY:
        return _("%(quarter)s. Quartal %(year)s") % {
            "quarter": (period.month - 1) // 3 + 1,
            "year": period.year,
        }
    if period.day != 1:
        return _day(period)
    return f"{(months or _month_names())[period.month - 1]} {period.year}"


def _month_names() -> list[str]:
    """The month names of the active language, looked up once per chart rather than once per
    value (ten years of monthly values on ten charts per page)."""
    return [formats.date_format(date(2000, month, 1), "F") for month in range(1, 13)]


def _track(
    *,
    direction: str,
    latest: Point,
    start: tuple[date, float] | None,
    target: tuple[date, float] | None,
) -> str:
    """Where the latest value stands against the straight path from ``start`` (the baseline)
    to the target: "reached" when it already meets the target, "on_track" when it is at least
    where the path is at its period, "behind" otherwise; "" when there is nothing to compare."""
    if target is None:
        return ""
    lower = direction == Direction.LOWER
    target_date, target_value = target

    def at_least(value: float, goal: float) -> bool:
        return value <= goal if lower else value >= goal

    if at_least(latest.value, target_value):
        return "reached"
    if start is None:
        return ""
    start_date, start_value = start
    total = (target_date - start_date).days
    share = 1.0 if total <= 0 else (latest.period - start_date).days / total
    share = min(max(share, 0.0), 1.0)
    expected = start_value + (target_value - start_value) * share
    # a small tolerance: a value equal to the path up to rounding is on track
    tolerance = 1e-9 * max(1.0, abs(expected))
    if lower:
        return "on_track" if latest.value <= expected + tolerance else "behind"
    return "on_track" if latest.value >= expected - tolerance else "behind"


def _track_label(track: str) -> str:
    return {
        "reached": _("Ziel erreicht"),
        "on_track": _("auf Kurs"),
        "behind": _("hinter dem Plan"),
    }.get(track, "")


def _as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=city_zone())


def _x_tick_label(moment: datetime, yearly: bool) -> str:
    return str(moment.year) if yearly else formats.date_format(moment, "m/Y")


def _square(x: float, y: float, r: float) -> str:
    return f"M{_n(x - r)},{_n(y - r)} h{_n(2 * r)} v{_n(2 * r)} h{_n(-2 * r)} Z"


def _diamond(x: float, y: float, r: float) -> str:
    return f"M{_n(x)},{_n(y - r)} L{_n(x + r)},{_n(y)} L{_n(x)},{_n(y + r)} L{_n(x - r)},{_n(y)} Z"


def _triangle(x: float, y: float, r: float) -> str:
    return f"M{_n(x)},{_n(y - r)} L{_n(x + r)},{_n(y + r * 0.8)} L{_n(x - r)},{_n(y + r * 0.8)} Z"


def _cross(x: float, y: float, r: float) -> str:
    return (
        f"M{_n(x - r)},{_n(y - r)} L{_n(x + r)},{_n(y + r)} "
        f"M{_n(x - r)},{_n(y + r)} L{_n(x + r)},{_n(y - r)}"
    )


def indicator_chart(
    *,
    name: str,
    unit: str,
    direction: str,
    points: list[Point],
    baseline: tuple[date, float] | None,
    target: tuple[date, float] | None,
    frequency: str | None = None,
) -> IndicatorChart:
    """The chart of one KPI. x runs from the earliest of baseline and first value to the
    latest of target and last value; y holds the values, the baseline, the target and zero.
    ``frequency`` (a ``Frequency``) names the periods in the table; without it, it is read
    from the periods themselves."""
    points = sorted(points, key=lambda p: p.period)
    if baseline is not None:
        baseline = (baseline[0], float(baseline[1]))
    if target is not None:
        target = (target[0], float(target[1]))
    try:
        direction_label = str(Direction(direction).label)
    except ValueError:
        direction_label = ""
    frequency = frequency or _infer_frequency([p.period for p in points])
    chart = IndicatorChart(
        name=name,
        unit=unit,
        direction=direction,
        direction_label=direction_label,
        uid=_uid("kpi", name, unit, baseline, target, len(points), points[-1] if points else ""),
        empty=not points,
        summary="",
    )
    if baseline is not None:
        chart.baseline_text = _("%(value)s (%(date)s)") % {
            "value": with_unit(baseline[1], unit),
            "date": _day(baseline[0]),
        }
    if target is not None:
        chart.target_text = _("%(value)s bis %(date)s") % {
            "value": with_unit(target[1], unit),
            "date": _day(target[0]),
        }
    months, separators = _month_names(), _separators()
    provisional_word, final_word = _("vorläufig"), _("endgültig")
    chart.rows = [
        ObservationRow(
            period=p.period,
            period_label=period_label(p.period, frequency, months),
            value=_number(float(p.value), separators=separators),
            provisional=p.provisional,
            state=provisional_word if p.provisional else final_word,
        )
        for p in points
    ]
    parts: list[str] = []
    if points:
        latest = points[-1]
        latest_row = chart.rows[-1]
        if latest.provisional:
            chart.latest_text = _("%(value)s (%(period)s, vorläufig)") % {
                "value": with_unit(float(latest.value), unit),
                "period": latest_row.period_label,
            }
        else:
            chart.latest_text = _("%(value)s (%(period)s)") % {
                "value": with_unit(float(latest.value), unit),
                "period": latest_row.period_label,
            }
        parts.append(_("Zuletzt %(latest)s") % {"latest": chart.latest_text})
        start = baseline
        if start is None and len(points) > 1:
            start = (points[0].period, float(points[0].value))
        chart.track = _track(
            direction=direction,
            latest=Point(latest.period, float(latest.value), latest.provisional),
            start=start,
            target=target,
        )
        chart.track_label = _track_label(chart.track)
    else:
        parts.append(_("Noch keine Werte"))
    if baseline is not None:
        parts.append(_("Ausgangswert %(baseline)s") % {"baseline": chart.baseline_text})
    if target is not None:
        parts.append(_("Ziel %(target)s") % {"target": chart.target_text})
    if direction_label:
        parts.append(direction_label)
    if chart.track_label:
        parts.append(chart.track_label)
    chart.summary = "; ".join(parts) + "."
    if points:
        _draw_indicator(chart, points, baseline, target, unit)
    return chart


def _draw_indicator(
    chart: IndicatorChart,
    points: list[Point],
    baseline: tuple[date, float] | None,
    target: tuple[date, float] | None,
    unit: str,
) -> None:
    x0, x1 = float(KPI_LEFT), float(KPI_WIDTH - KPI_RIGHT)
    y0, y1 = float(KPI_TOP), float(KPI_HEIGHT - KPI_BOTTOM)

    dates = [points[0].period, points[-1].period]
    values = [float(p.value) for p in points]
    for extra in (baseline, target):
        if extra is not None:
            dates.append(extra[0])
            values.append(extra[1])
    start, end = min(dates), max(dates)
    if end - start < MIN_SPAN:
        middle = start + (end - start) / 2
        start, end = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
    total = (end - start).days or 1
    plot_left, plot_w = x0 + KPI_INSET, (x1 - x0) - 2 * KPI_INSET

    def x(day: date) -> float:
        return plot_left + (day - start).days / total * plot_w

    # zero stays on the scale: a KPI's size is read against it (nice_scale adds it below
    # positive values; this adds it above negative ones)
    bottom, top, step = nice_scale(min(values), max(max(values), 0.0), steps=5)
    span = top - bottom

    def y(value: float) -> float:
        return y1 - (value - bottom) / span * (y1 - y0)

    decimals = _decimals(step, most=6)
    tick = bottom
    while tick <= top + step / 1000:
        chart.y_ticks.append(Tick(_n(y(tick)), _number(tick, decimals)))
        tick += step
    if bottom < 0 < top:
        chart.zero_y = _n(y(0.0))

    ticks, kind = x_tick_times(_as_datetime(start), _as_datetime(end))
    months = [t.year * 12 + t.month for t in ticks]
    yearly = (
        kind == "month"
        and all(t.month == 1 for t in ticks)
        and all(b - a >= 12 for a, b in zip(months, months[1:], strict=False))
    )
    chart.x_ticks = [
        Tick(_n(x(t.date())), _x_tick_label(t, yearly))
        for t in ticks
        if kind == "month" or t.hour == 0
    ]

    coords = [(x(p.period), y(float(p.value))) for p in points]
    if len(coords) > 1:
        chart.line = "M" + " L".join(f"{_n(a)},{_n(b)}" for a, b in coords)
    long = len(points) > MAX_DOTS
    for index, (point, (px, py), row) in enumerate(zip(points, coords, chart.rows, strict=True)):
        if long and not point.provisional and index != len(points) - 1:
            continue
        title = _("%(period)s: %(value)s") % {
            "period": row.period_label,
            "value": with_unit(float(point.value), unit),
        }
        if point.provisional:
            title = _("%(title)s (vorläufig)") % {"title": title}
        chart.dots.append(Dot(_n(px), _n(py), point.provisional, title))

    def label_at(
        mx: float, my: float, text: str, prefer_end: bool, above: bool
    ) -> tuple[str, str, str]:
        width = 6.2 * len(text)  # about the width of an 11 px label
        if prefer_end and mx - 8 - width >= x0:
            lx, anchor = mx - 8, "end"
        elif mx + 8 + width <= KPI_WIDTH:
            lx, anchor = mx + 8, "start"
        else:
            lx, anchor = mx - 8, "end"
        # on the side the line is not: above when the values come from below, else below
        if above:
            ly = my - 10 if my - 21 >= 0 else my + 20
        else:
            ly = my + 20 if my + 20 <= KPI_HEIGHT - KPI_BOTTOM + 14 else my - 10
        return _n(lx), _n(ly), anchor

    if baseline is not None:
        bx, by = x(baseline[0]), y(baseline[1])
        text = _("Ausgangswert %(value)s") % {"value": with_unit(baseline[1], unit)}
        rising = sum(values[: len(points)]) / len(points) >= baseline[1]
        lx, ly, anchor = label_at(bx, by, text, prefer_end=False, above=not rising)
        chart.baseline = Marker(_n(bx), _n(by), _square(bx, by, 4.5), text, lx, ly, anchor)
    if target is not None:
        tx, ty = x(target[0]), y(target[1])
        text = _("Ziel %(value)s bis %(date)s") % {
            "value": with_unit(target[1], unit),
            "date": formats.date_format(target[0], "m/Y"),
        }
        from_below = target[1] >= float(points[-1].value)
        lx, ly, anchor = label_at(tx, ty, text, prefer_end=True, above=from_below)
        chart.target = Marker(_n(tx), _n(ty), _diamond(tx, ty, 6.0), text, lx, ly, anchor)
        if baseline is not None:
            sx, sy = x(baseline[0]), y(baseline[1])
        else:
            sx, sy = coords[0]
        if (sx, sy) != (tx, ty):
            chart.target_path = f"M{_n(sx)},{_n(sy)} L{_n(tx)},{_n(ty)}"


# ---------------------------------------------------------------------------------------------
# timeline of measures

TL_WIDTH = 800
TL_LABEL = 180  # width of the label column (code and status)
TL_RIGHT = 16
TL_LEGEND_Y = 16
TL_AXIS_Y = 40  # baseline of the year labels
TL_TOP = 54  # first row
TL_ROW = 34
TL_BOTTOM = 8
TL_MARK = 5.5  # radius of a milestone marker


@dataclass(frozen=True)
class TimelineMilestone:
    date: date  # the date shown: actual date if reached, else the planned date
    title: str
    status: str  # MilestoneStatus
    slipped: bool
    baseline: Day  # the first planned date ("date" is shadowed by the field above)


@dataclass(frozen=True)
class TimelineRow:
    code: str
    title: str
    url: str
    status_label: str
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    milestones: list[TimelineMilestone]


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True)
class MilestoneShape:
    kind: str  # "done" (circle), "open" (diamond), "slipped" (triangle), "cancelled" (cross)
    x: str
    y: str
    path: str  # the shape's outline
    tail: str  # dashed line from the first planned date to the date, for slipped milestones
    title: str


@dataclass(frozen=True)
class MilestoneText:
    title: str
    date: date
    date_text: str
    status_label: str  # "erreicht", "offen", "offen, überfällig", "entfallen"
    slipped: bool
    slip_text: str  # "verschoben von 01.03.2024 auf 01.06.2024" or ""
    kind: str


@dataclass(frozen=True)
class TimelineLine:
    row: TimelineRow
    top: str  # y of the row's band
    tick_y1: str  # extent of the marks of single dates
    tick_y2: str
    code_y: str
    status_y: str
    mid: str
    stripe: bool  # every other row gets a light background
    planned: Bar | None
    actual: Bar | None
    running: bool  # actual bar ends today because the measure has not ended
    ticks: list[str]  # x of single dates (a start without end or an end without start)
    milestones: list[MilestoneShape]
    no_dates: bool
    planned_text: str
    actual_text: str
    milestone_texts: list[MilestoneText]


@dataclass(frozen=True)
class LegendItem:
    kind: str  # "planned", "actual", "today" or a milestone kind
    label: str
    path: str  # the symbol
    text_x: str


@dataclass
class Timeline:
    uid: str
    today: date
    today_text: str
    empty: bool
    width: str = str(TL_WIDTH)
    height: str = str(TL_TOP + TL_BOTTOM)
    x0: str = _n(TL_LABEL)
    x1: str = _n(TL_WIDTH - TL_RIGHT)
    top: str = _n(TL_TOP)
    row_height: str = str(TL_ROW)
    bottom: str = _n(TL_TOP)
    today_top: str = _n(TL_TOP - 6)
    axis_y: str = _n(TL_AXIS_Y)
    legend_y: str = _n(TL_LEGEND_Y)
    start: date | None = None
    end: date | None = None
    today_x: str = ""
    year_lines: list[str] = field(default_factory=list)
    year_labels: list[Tick] = field(default_factory=list)
    lines: list[TimelineLine] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    summary: str = ""

    @property
    def folded(self) -> bool:
        """Whether the table is long enough to sit inside <details>."""
        return len(self.lines) > TABLE_OPEN_ROWS


def _milestone_kind(milestone: TimelineMilestone) -> str:
    if milestone.status == MilestoneStatus.DONE:
        return "done"
    if milestone.status == MilestoneStatus.CANCELLED:
        return "cancelled"
    return "slipped" if milestone.slipped else "open"


def _circle(x: float, y: float, r: float) -> str:
    return f"M{_n(x - r)},{_n(y)} a{_n(r)},{_n(r)} 0 1,0 {_n(2 * r)},0 a{_n(r)},{_n(r)} 0 1,0 {_n(-2 * r)},0 Z"


def _milestone_path(kind: str, x: float, y: float) -> str:
    if kind == "open":
        return _diamond(x, y, TL_MARK + 0.5)
    if kind == "slipped":
        return _triangle(x, y, TL_MARK + 0.5)
    if kind == "cancelled":
        return _cross(x, y, TL_MARK - 1)
    return _circle(x, y, TL_MARK)  # "done"


def _period_text(start: date | None, end: date | None, *, running: bool = False) -> str:
    if start and end:
        return f"{_day(start)} – {_day(end)}"
    if start:
        if running:
            return _("seit %(date)s (läuft)") % {"date": _day(start)}
        return _("ab %(date)s") % {"date": _day(start)}
    if end:
        return _("bis %(date)s") % {"date": _day(end)}
    return "–"


def _milestone_text(milestone: TimelineMilestone, kind: str, today: date) -> MilestoneText:
    try:
        status_label = str(MilestoneStatus(milestone.status).label)
    except ValueError:
        status_label = milestone.status
    if kind in ("open", "slipped") and milestone.date < today:
        status_label = _("%(status)s, überfällig") % {"status": status_label}
    slip_text = ""
    if milestone.slipped:
        slip_text = _("verschoben von %(before)s auf %(after)s") % {
            "before": _day(milestone.baseline),
            "after": _day(milestone.date),
        }
    return MilestoneText(
        title=milestone.title,
        date=milestone.date,
        date_text=_day(milestone.date),
        status_label=status_label,
        slipped=milestone.slipped,
        slip_text=slip_text,
        kind=kind,
    )


def _legend() -> list[LegendItem]:
    entries = [
        ("planned", _("geplant"), 22),
        ("actual", _("tatsächlich"), 22),
        ("done", _("erreicht"), 14),
        ("open", _("offen"), 14),
        ("slipped", _("verschoben"), 14),
        ("cancelled", _("entfallen"), 14),
        ("today", _("heute"), 14),
    ]
    items, x = [], 4.0
    y = TL_LEGEND_Y - 4  # middle of the symbols; the labels sit on TL_LEGEND_Y
    for kind, label, symbol in entries:
        if kind == "planned":
            path = f"M{_n(x)},{_n(y - 4.5)} h{symbol} v9 h-{symbol} Z"
        elif kind == "actual":
            path = f"M{_n(x)},{_n(y - 2.5)} h{symbol} v5 h-{symbol} Z"
        elif kind == "today":
            path = f"M{_n(x + symbol / 2)},{_n(y - 7)} v14"
        else:
            path = _milestone_path(kind, x + symbol / 2, y)
        items.append(LegendItem(kind, label, path, _n(x + symbol + 5)))
        x += symbol + 5 + 6.2 * len(label) + 16
    return items


def timeline_chart(*, rows: list[TimelineRow], today: date) -> Timeline:
    """The timeline of ``rows`` (in the given order). x runs over whole years from the earliest
    to the latest date of any bar, milestone (also its first planned date) or today."""
    timeline = Timeline(
        uid=_uid("timeline", today, *(row.code for row in rows)),
        today=today,
        today_text=_day(today),
        empty=not rows,
    )
    dates = [today]
    for row in rows:
        dates.extend(
            d
            for d in (row.planned_start, row.planned_end, row.actual_start, row.actual_end)
            if d is not None
        )
        for milestone in row.milestones:
            dates.extend((milestone.date, milestone.baseline))
    start = date(min(dates).year, 1, 1)
    end = date(max(dates).year + 1, 1, 1)
    timeline.start, timeline.end = start, end
    x0, x1 = float(TL_LABEL), float(TL_WIDTH - TL_RIGHT)
    total = (end - start).days

    def x(day: date) -> float:
        return x0 + (day - start).days / total * (x1 - x0)

    years = list(range(start.year, end.year))
    label_every = 1 if len(years) <= 12 else 2 if len(years) <= 24 else 5
    timeline.year_lines = [_n(x(date(year, 1, 1))) for year in [*years, end.year]]
    for year in years:
        if year % label_every:
            continue
        middle = x(date(year, 7, 2)) if label_every == 1 else x(date(year, 1, 1))
        timeline.year_labels.append(Tick(_n(middle), str(year)))
    timeline.today_x = _n(x(today))
    timeline.legend = _legend()

    for index, row in enumerate(rows):
        top = TL_TOP + index * TL_ROW
        mid = top + TL_ROW / 2
        planned = actual = None
        ticks: list[str] = []
        if row.planned_start and row.planned_end:
            left, right = x(row.planned_start), x(row.planned_end)
            planned = Bar(_n(left), _n(mid - 9), _n(max(right - left, 2.0)), "9.0")
        else:
            ticks.extend(_n(x(d)) for d in (row.planned_start, row.planned_end) if d)
        running = bool(row.actual_start and not row.actual_end)
        actual_end = row.actual_end or (today if running else None)
        if row.actual_start and actual_end and actual_end >= row.actual_start:
            left, right = x(row.actual_start), x(actual_end)
            actual = Bar(_n(left), _n(mid + 2), _n(max(right - left, 2.0)), "5.0")
        else:
            ticks.extend(_n(x(d)) for d in (row.actual_start, row.actual_end) if d)
        shapes, texts = [], []
        for milestone in sorted(row.milestones, key=lambda m: (m.date, m.title)):
            kind = _milestone_kind(milestone)
            mx = x(milestone.date)
            tail = ""
            if milestone.slipped and milestone.baseline != milestone.date:
                tail = f"M{_n(x(milestone.baseline))},{_n(mid)} L{_n(mx)},{_n(mid)}"
            text = _milestone_text(milestone, kind, today)
            title = f"{milestone.title}: {text.date_text} ({text.status_label})"
            if text.slip_text:
                title = f"{title}, {text.slip_text}"
            shapes.append(
                MilestoneShape(
                    kind=kind,
                    x=_n(mx),
                    y=_n(mid),
                    path=_milestone_path(kind, mx, mid),
                    tail=tail,
                    title=title,
                )
            )
            texts.append(text)
        timeline.lines.append(
            TimelineLine(
                row=row,
                top=_n(top),
                tick_y1=_n(mid - 10),
                tick_y2=_n(mid + 8),
                code_y=_n(top + 14),
                status_y=_n(top + 28),
                mid=_n(mid),
                stripe=index % 2 == 1,
                planned=planned,
                actual=actual,
                running=running,
                ticks=ticks,
                milestones=shapes,
                no_dates=planned is None and actual is None and not ticks and not shapes,
                planned_text=_period_text(row.planned_start, row.planned_end),
                actual_text=_period_text(row.actual_start, row.actual_end, running=running),
                milestone_texts=texts,
            )
        )
    bottom = TL_TOP + len(rows) * TL_ROW
    timeline.bottom = _n(bottom)
    timeline.height = str(bottom + TL_BOTTOM)
    slipped = sum(1 for line in timeline.lines for m in line.milestone_texts if m.slipped)
    milestones = sum(len(line.milestone_texts) for line in timeline.lines)
    timeline.summary = _(
        "Zeitplan von %(start)s bis %(end)s; Meilensteine: %(milestones)s, davon verschoben: "
        "%(slipped)s; heute: %(today)s."
    ) % {
        "start": start.year,
        "end": end.year - 1,
        "milestones": milestones,
        "slipped": slipped,
        "today": timeline.today_text,
    }
    return timeline
