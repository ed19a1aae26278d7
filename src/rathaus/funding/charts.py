"""The bar chart of the overview page: funds acquired per year, one bar per programme level,
drawn as SVG on the server (no JavaScript, no chart library). The y axis uses the round
steps of the city data charts (``citydata.charts.nice_scale``) and shows euros in thousands
or millions; every bar carries its exact amount as a tooltip, and the page shows the same
figures in a table beside the chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from rathaus.citydata.charts import Tick, nice_scale
from rathaus.funding.selectors.overview import Figures

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 64  # margins; the legend sits below the year labels
MAX_BAR = 28
# one colour per level (Okabe-Ito, told apart with colour blindness), in Level order
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9")


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    colour: str
    year: int
    level: str
    level_label: str
    amount: Decimal  # euros, as in the table

    @property
    def text(self) -> str:
        return formats.number_format(self.amount, 2, force_grouping=True)


@dataclass(frozen=True)
class LegendItem:
    x: str
    colour: str
    label: str


@dataclass
class BarChart:
    width: int = WIDTH
    height: int = HEIGHT
    x0: int = LEFT
    x1: int = WIDTH - RIGHT
    y0: int = TOP
    y1: int = HEIGHT - BOTTOM
    unit: str = "€"
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    legend_y: int = HEIGHT - 14

    @property
    def empty(self) -> bool:
        return not self.bars


def _n(value: float) -> str:
    return f"{value:.1f}"


def _unit(top: float) -> tuple[float, str]:
    if top >= 1_000_000:
        return 1_000_000.0, _("Mio. €")
    if top >= 10_000:
        return 1_000.0, _("Tsd. €")
    return 1.0, "€"


def funds_chart(figures: Figures) -> BarChart:
    """Funds acquired per year (groups) and level (bars), from the same ``Figures`` as the
    table beside it."""
    chart = BarChart()
    levels = figures.levels
    years = figures.years
    if not years or not levels:
        return chart
    highest = max(float(figures.funds(year, level)) for year in years for level, _l in levels)
    divisor, chart.unit = _unit(highest)
    bottom, top, step = nice_scale(0.0, highest / divisor if highest else 1.0, steps=5)
    plot_w, plot_h = chart.x1 - chart.x0, chart.y1 - chart.y0

    def y(value: float) -> float:
        return chart.y1 - (value - bottom) / (top - bottom) * plot_h

    decimals = len(f"{step:.6f}".rstrip("0").partition(".")[2])
    value = bottom
    while value <= top + step / 1000:
        label = formats.number_format(round(value, decimals), decimals, force_grouping=True)
        chart.y_ticks.append(Tick(_n(y(value)), label))
        value += step

    group_w = plot_w / len(years)
    bar_w = min(MAX_BAR, group_w * 0.8 / len(levels))
    colours = {level: COLOURS[index % len(COLOURS)] for index, (level, _l) in enumerate(levels)}
    for index, year in enumerate(years):
        start = chart.x0 + index * group_w + (group_w - bar_w * len(levels)) / 2
        chart.x_labels.append(Tick(_n(chart.x0 + (index + 0.5) * group_w), str(year.year)))
        for position, (level, label) in enumerate(levels):
            amount = figures.funds(year, level)
            top_y = y(float(amount) / divisor)
            chart.bars.append(
                Bar(
                    x=_n(start + position * bar_w),
                    y=_n(top_y),
                    width=_n(max(bar_w - 2, 1.0)),
                    height=_n(chart.y1 - top_y),
                    colour=colours[level],
                    year=year.year,
                    level=level,
                    level_label=label,
                    amount=amount,
                )
            )
    legend_w = plot_w / len(levels)
    chart.legend = [
        LegendItem(x=_n(chart.x0 + index * legend_w), colour=colours[level], label=label)
        for index, (level, label) in enumerate(levels)
    ]
    return chart
