"""The dashboard's SVG charts (rathaus.strategy.charts) and their templates: a KPI against its
baseline and target, the timeline of measures; both well-formed, with the same facts as a table,
and without inline styles (the Content-Security-Policy refuses them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest
from django.template.loader import render_to_string
from django.utils import translation

from rathaus.strategy.charts import (
    IndicatorChart,
    Point,
    Timeline,
    TimelineMilestone,
    TimelineRow,
    indicator_chart,
    timeline_chart,
)
from rathaus.strategy.constants import Direction, Frequency, MilestoneStatus

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _german() -> Iterator[None]:
    with translation.override("de"):
        yield


def _kpi(
    points: list[Point],
    *,
    direction: str = Direction.HIGHER,
    baseline: tuple[date, float] | None = (date(2019, 12, 31), 30.0),
    target: tuple[date, float] | None = (date(2027, 12, 31), 75.0),
    unit: str = "%",
) -> IndicatorChart:
    return indicator_chart(
        name="Online-Leistungen",
        unit=unit,
        direction=direction,
        points=points,
        baseline=baseline,
        target=target,
    )


def _yearly(*values: float, first: int = 2020, provisional_last: bool = False) -> list[Point]:
    return [
        Point(date(first + i, 1, 1), v, provisional_last and i == len(values) - 1)
        for i, v in enumerate(values)
    ]


def _monthly(count: int, start: int = 2015) -> list[Point]:
    return [
        Point(date(start + i // 12, i % 12 + 1, 1), 40.0 - i * 0.1, i >= count - 2)
        for i in range(count)
    ]


def _render_chart(chart: IndicatorChart) -> str:
    return render_to_string("strategy/charts/_indicator_chart.html", {"chart": chart})


def _render_timeline(timeline: Timeline) -> str:
    return render_to_string("strategy/charts/_timeline.html", {"timeline": timeline})


def _svg(html: str) -> Element:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no SVG in the output"
    return SafeET.fromstring(match.group(0))


def _texts(svg: Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter("text")]


def _body_rows(html: str) -> list[str]:
    body = re.search(r"<tbody.*?</tbody>", html, re.S)
    assert body
    return re.findall(r"<tr\b.*?</tr>", body.group(0), re.S)


def _assert_no_inline_style_or_script(html: str) -> None:
    assert not re.search(r"\sstyle\s*=", html)
    assert "<script" not in html
    assert "<style" not in html


# ---------------------------------------------------------------------------------------------
# KPI chart


def test_kpi_chart_is_well_formed_svg_with_axes_baseline_and_target() -> None:
    chart = _kpi(_yearly(30, 33.5, 37, 40.5, 44, 44.5, provisional_last=True))
    html = _render_chart(chart)

    svg = _svg(html)
    SafeET.fromstring(f"<root>{html}</root>")  # the whole fragment, table included
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby", "").split()
    assert svg.find(f"title[@id='{title_id}']") is not None
    desc = svg.find(f"desc[@id='{desc_id}']")
    assert desc is not None and "Ziel 75" in (desc.text or "")
    texts = _texts(svg)
    assert {"2020", "2022", "2024", "2026"} <= set(texts)  # years on the time axis
    assert {"0", "20", "40", "60", "80"} <= set(texts)  # the value axis
    assert f"Ziel 75{NBSP}% bis 12/2027" in texts
    assert f"Ausgangswert 30{NBSP}%" in texts
    assert "%" in texts  # the unit
    assert chart.target_path  # the dashed straight way to the target
    assert 'stroke-dasharray="6 4"' in html
    _assert_no_inline_style_or_script(html)


def test_kpi_summary_says_latest_value_target_direction_and_track_in_words() -> None:
    chart = _kpi(_yearly(30, 33.5, 37, 40.5, 44, 44.5, provisional_last=True))

    assert chart.summary.startswith(f"Zuletzt 44,5{NBSP}% (2025, vorläufig); ")
    assert f"Ziel 75{NBSP}% bis 31.12.2027" in chart.summary
    assert "höher ist besser" in chart.summary
    # straight path 30 (end 2019) -> 75 (end 2027): about 46 at the start of 2025
    assert chart.track == "behind"
    assert chart.summary.endswith("hinter dem Plan.")
    html = _render_chart(chart)
    assert "hinter dem Plan" in html  # in the caption, as words
    assert "<figcaption" in html


def test_provisional_values_are_hollow_and_marked_in_the_table() -> None:
    html = _render_chart(_kpi(_yearly(30, 35, 41, provisional_last=True)))

    svg = _svg(html)
    circles = list(svg.iter("circle"))
    hollow = [c for c in circles if c.get("fill") == "#fff"]
    assert len(circles) == 3 and len(hollow) == 1
    assert "vorläufig" in "".join(hollow[0].itertext())
    rows = _body_rows(html)
    assert len(rows) == 3
    assert "2022" in rows[2] and "41" in rows[2] and "vorläufig" in rows[2]
    assert "endgültig" in rows[0]


def test_kpi_without_values_shows_a_sentence_and_no_svg() -> None:
    chart = _kpi([])
    html = _render_chart(chart)

    assert chart.empty
    assert "Noch keine Werte" in html
    assert "<svg" not in html and "<table" not in html
    assert f"Ziel: 75{NBSP}% bis 31.12.2027" in html  # baseline and target are still told
    assert chart.track == ""


def test_kpi_with_one_value_draws_a_point_and_no_line() -> None:
    chart = _kpi([Point(date(2024, 4, 1), 310, False)], baseline=None, target=None, unit="")
    html = _render_chart(chart)

    svg = _svg(html)
    assert len(list(svg.iter("circle"))) == 1
    assert chart.line == ""
    assert len(chart.x_ticks) >= 3  # a lone value still gets a readable time axis
    assert len(_body_rows(html)) == 1
    assert chart.summary.startswith("Zuletzt 310 (")
    assert chart.track == ""  # nothing to compare with


def test_kpi_with_ten_years_of_monthly_values_folds_its_table_and_keeps_the_svg_small() -> None:
    chart = _kpi(
        _monthly(120),
        direction=Direction.LOWER,
        baseline=(date(2015, 1, 1), 40.0),
        target=(date(2026, 12, 31), 15.0),
        unit="Tage",
    )
    html = _render_chart(chart)

    svg = _svg(html)
    assert "Datentabelle (120 Werte)" in html
    assert "<details" in html
    assert len(_body_rows(html)) == 120
    assert "Januar 2015" in html and "Dezember 2024" in html
    # one path for the line; dots only for the provisional and the last values
    assert chart.line.count("L") == 119
    assert len(list(svg.iter("circle"))) == 2
    labels = [t.label for t in chart.x_ticks]
    assert all(re.fullmatch(r"\d{4}", label) for label in labels), labels
    assert len(html) < 40_000


def test_negative_values_keep_zero_on_the_scale() -> None:
    chart = _kpi(
        _yearly(-12.5, -4, -6, first=2022),
        baseline=None,
        target=(date(2026, 1, 1), 5.0),
        unit="",
    )
    svg = _svg(_render_chart(chart))

    labels = [t.label for t in chart.y_ticks]
    assert "0" in labels and labels[0].startswith("-")
    assert chart.zero_y  # the zero line is drawn
    assert len(list(svg.iter("circle"))) == 3
    assert "-12,5" in _body_rows(_render_chart(chart))[0]
    # no baseline: the straight path starts at the first value (-12.5 in 2022)
    assert chart.track == "behind"


def test_all_values_equal_and_all_zero_draw_without_error() -> None:
    same = _kpi(
        [Point(date(2024, m, 1), 5.0, False) for m in (1, 4, 7, 10)], baseline=None, target=None
    )
    zero = _kpi(_yearly(0, 0, 0), baseline=None, target=None)

    for chart in (same, zero):
        svg = _svg(_render_chart(chart))
        assert len(chart.y_ticks) >= 2
        assert len(list(svg.iter("circle"))) == len(chart.rows)
    assert same.rows[1].period_label == "2. Quartal 2024"


@pytest.mark.parametrize(
    ("direction", "latest", "track", "words"),
    [
        # straight path 40 (2020) -> 20 (2030): 30 expected in 2025
        (Direction.LOWER, 28.0, "on_track", "auf Kurs"),
        (Direction.LOWER, 33.0, "behind", "hinter dem Plan"),
        (Direction.LOWER, 19.0, "reached", "Ziel erreicht"),
        # the same numbers with higher-is-better: a path 20 -> 40, 30 expected in 2025
        (Direction.HIGHER, 33.0, "on_track", "auf Kurs"),
        (Direction.HIGHER, 28.0, "behind", "hinter dem Plan"),
        (Direction.HIGHER, 41.0, "reached", "Ziel erreicht"),
    ],
)
def test_track_follows_the_direction(direction: str, latest: float, track: str, words: str) -> None:
    lower = direction == Direction.LOWER
    chart = _kpi(
        [Point(date(2025, 1, 1), latest, False)],
        direction=direction,
        baseline=(date(2020, 1, 1), 40.0 if lower else 20.0),
        target=(date(2030, 1, 1), 20.0 if lower else 40.0),
        unit="Tage",
    )

    assert chart.track == track
    assert chart.track_label == words
    assert words in chart.summary
    assert ("niedriger ist besser" if lower else "höher ist besser") in chart.summary


def test_explicit_frequency_names_the_periods() -> None:
    chart = indicator_chart(
        name="X",
        unit="%",
        direction=Direction.HIGHER,
        points=[Point(date(2024, 1, 1), 1.25, False)],
        baseline=None,
        target=None,
        frequency=Frequency.MONTHLY,
    )

    assert chart.rows[0].period_label == "Januar 2024"
    assert chart.rows[0].value == "1,25"


def test_two_charts_on_one_page_have_different_ids() -> None:
    first = _kpi(_yearly(30, 35))
    second = indicator_chart(
        name="Andere Kennzahl",
        unit="%",
        direction=Direction.HIGHER,
        points=_yearly(30, 35),
        baseline=None,
        target=None,
    )

    assert first.uid != second.uid
    html = render_to_string(
        "strategy/charts/_indicator_chart.html", {"chart": first, "chart_id": "kpi-7"}
    )
    assert 'aria-labelledby="kpi-7-title kpi-7-desc"' in html


# ---------------------------------------------------------------------------------------------
# timeline


TODAY = date(2025, 5, 15)


def _row(code: str, **kwargs: object) -> TimelineRow:
    values: dict[str, object] = {
        "code": code,
        "title": f"Maßnahme {code}",
        "url": f"/strategie/leipzig-digital/massnahmen/{code}/",
        "status_label": "läuft",
        "planned_start": None,
        "planned_end": None,
        "actual_start": None,
        "actual_end": None,
        "milestones": [],
    }
    values.update(kwargs)
    return TimelineRow(**values)  # type: ignore[arg-type]


def _milestone(
    day: date, status: str = MilestoneStatus.OPEN, baseline: date | None = None, title: str = "M"
) -> TimelineMilestone:
    baseline = baseline or day
    return TimelineMilestone(
        date=day, title=title, status=status, slipped=day > baseline, baseline=baseline
    )


def test_timeline_draws_bars_milestone_shapes_today_and_a_table() -> None:
    rows = [
        _row(
            "LD-1",
            planned_start=date(2021, 1, 1),
            planned_end=date(2024, 6, 30),
            actual_start=date(2021, 3, 1),
            milestones=[
                _milestone(date(2022, 5, 1), MilestoneStatus.DONE, title="Ausschreibung"),
                _milestone(date(2025, 9, 1), baseline=date(2024, 9, 1), title="Go-live"),
                _milestone(date(2026, 3, 1), title="Ausbau"),
                _milestone(date(2023, 1, 1), MilestoneStatus.CANCELLED, title="Pilot"),
            ],
        ),
        _row(
            "LD-2",
            status_label="abgeschlossen",
            planned_start=date(2022, 1, 1),
            planned_end=date(2023, 1, 1),
            actual_start=date(2022, 2, 1),
            actual_end=date(2023, 3, 1),
        ),
    ]
    timeline = timeline_chart(rows=rows, today=TODAY)
    html = _render_timeline(timeline)

    svg = _svg(html)
    SafeET.fromstring(f"<root>{html}</root>")
    assert svg.get("role") == "group"
    texts = _texts(svg)
    assert {"2021", "2022", "2023", "2024", "2025", "2026"} <= set(texts)
    assert {
        "heute",
        "geplant",
        "tatsächlich",
        "erreicht",
        "offen",
        "verschoben",
        "entfallen",
    } <= set(texts)  # the legend
    assert "läuft" in texts and "abgeschlossen" in texts  # status as text
    links = [a for a in svg.iter("a")]
    assert [a.get("href") for a in links] == [r.url for r in rows]
    # different shapes per state, each once in the legend and once in the row
    for kind in ("done", "open", "slipped", "cancelled"):
        assert html.count(f'class="rh-timeline-{kind}"') == 2, kind
    line = timeline.lines[0]
    shapes = {m.kind: m.path for m in line.milestones}
    assert " a" in shapes["done"] and shapes["open"].count("L") == 3
    assert shapes["slipped"].count("L") == 2 and shapes["cancelled"].count("M") == 2
    assert [m.kind for m in line.milestones if m.tail] == ["slipped"]
    assert line.running and line.actual is not None
    # the running measure's actual bar ends today
    today_x = float(timeline.today_x)
    assert float(line.actual.x) + float(line.actual.width) == pytest.approx(today_x, abs=0.2)

    table_rows = _body_rows(html)
    assert len(table_rows) == 2
    assert "01.01.2021 – 30.06.2024" in table_rows[0]
    assert "seit 01.03.2021 (läuft)" in table_rows[0]
    assert "Go-live: 01.09.2025 (offen; verschoben von 01.09.2024 auf 01.09.2025)" in table_rows[0]
    assert "Ausschreibung: 01.05.2022 (erreicht)" in table_rows[0]
    assert "Pilot: 01.01.2023 (entfallen)" in table_rows[0]
    assert "01.02.2022 – 01.03.2023" in table_rows[1]
    _assert_no_inline_style_or_script(html)


def test_timeline_row_without_dates_says_so() -> None:
    timeline = timeline_chart(
        rows=[_row("LD-9", status_label="geplant"), _row("LD-8", planned_start=date(2026, 2, 1))],
        today=TODAY,
    )
    html = _render_timeline(timeline)

    _svg(html)
    assert timeline.lines[0].no_dates
    assert "noch ohne Termine" in html
    assert "–" in _body_rows(html)[0]
    # a start without an end is a mark, not a bar
    assert timeline.lines[1].planned is None and len(timeline.lines[1].ticks) == 1
    assert "ab 01.02.2026" in _body_rows(html)[1]


def test_timeline_milestones_outside_the_bars_widen_the_axis() -> None:
    timeline = timeline_chart(
        rows=[
            _row(
                "LD-3",
                planned_start=date(2023, 1, 1),
                planned_end=date(2023, 12, 31),
                milestones=[
                    _milestone(date(2028, 6, 1), baseline=date(2020, 6, 1), title="Spät"),
                ],
            )
        ],
        today=TODAY,
    )
    html = _render_timeline(timeline)

    assert timeline.start == date(2020, 1, 1) and timeline.end == date(2029, 1, 1)
    svg = _svg(html)
    assert {"2020", "2028"} <= set(_texts(svg))
    shape = timeline.lines[0].milestones[0]
    assert float(timeline.x0) <= float(shape.x) <= float(timeline.x1)
    assert shape.tail  # dashed from the first planned date
    assert "verschoben von 01.06.2020 auf 01.06.2028" in html


def test_timeline_with_fifty_rows_and_overdue_milestone() -> None:
    rows = [
        _row(
            f"M-{i:02d}",
            planned_start=date(2020, 1, 1) + timedelta(days=30 * i),
            planned_end=date(2022, 1, 1) + timedelta(days=30 * i),
            milestones=[_milestone(date(2021, 1, 1) + timedelta(days=30 * i))],
        )
        for i in range(50)
    ]
    timeline = timeline_chart(rows=rows, today=TODAY)
    html = _render_timeline(timeline)

    svg = _svg(html)
    assert len(list(svg.iter("a"))) == 50
    assert len(_body_rows(html)) == 50
    assert "Zeitplan als Tabelle (50 Maßnahmen)" in html  # folded
    assert "offen, überfällig" in html
    assert int(timeline.height) > 50 * 30


def test_empty_timeline_renders_a_sentence() -> None:
    html = _render_timeline(timeline_chart(rows=[], today=TODAY))

    assert "<svg" not in html
    assert "Keine Maßnahmen" in html
