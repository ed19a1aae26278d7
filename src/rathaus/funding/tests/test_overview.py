"""The overview of the city's applications: the pipeline board by status, the figures per
year of submission and programme level (decided, granted, success rate, funds acquired), the
chart of the funds with the same figures in a table, and the CSV exports."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rathaus.funding.constants import ApplicationStatus, CallStatus, Level
from rathaus.funding.models import Application, Call, Programme
from rathaus.funding.selectors.overview import figures_by_year_and_level

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(funding: dict[str, Any]) -> dict[str, Any]:
    """A known set of applications: EU (the fixture's DIGITAL programme) and federal ones
    submitted in 2024 and 2025, and some not submitted."""
    eu_call = funding["call"]
    federal = Programme.objects.create(
        name="Modellprojekte Smart Cities", code="MPSC", funder="BMWSB", level=Level.FEDERAL
    )
    federal_call = Call.objects.create(
        programme=federal, identifier="MPSC-2024", title="Staffel 4", status=CallStatus.CLOSED
    )

    def app(call: Call, acronym: str, status: str, submitted: date | None, **extra: Any) -> Any:
        return Application.objects.create(
            call=call,
            title=f"Projekt {acronym}",
            acronym=acronym,
            status=status,
            submitted_on=submitted,
            requested_funding=Decimal("100000"),
            **extra,
        )

    s = ApplicationStatus
    app(eu_call, "EU-A", s.GRANTED, date(2024, 3, 1), granted_amount=Decimal("100000"))
    app(eu_call, "EU-B", s.RUNNING, date(2024, 9, 30), granted_amount=Decimal("50000.25"))
    app(eu_call, "EU-C", s.REJECTED, date(2024, 5, 1))
    app(federal_call, "BUND-A", s.SUBMITTED, date(2024, 11, 1))
    app(federal_call, "BUND-B", s.CLOSED, date(2025, 1, 15), granted_amount=Decimal("200000.50"))
    app(federal_call, "BUND-C", s.REJECTED, date(2025, 2, 1))
    app(federal_call, "BUND-D", s.WITHDRAWN, date(2025, 3, 1))
    app(eu_call, "IDEE", s.IDEA, None)
    # the fixture's application (TWIN-WEST) is an idea, not submitted either
    return funding


def test_figures_per_year_and_level_match_the_known_applications(
    known: dict[str, Any], personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    # the user's roles (two queries), then one GROUP BY query for all figures
    with django_assert_num_queries(3):
        figures = figures_by_year_and_level(user=personas["department"])

    flat = [
        (f.year, f.level, f.submitted, f.decided, f.granted, f.rate, f.funds)
        for year in figures.years
        for f in [*year.levels, year.total]
    ]
    assert flat == [
        (2024, "eu", 3, 3, 2, Decimal("66.7"), Decimal("150000.25")),
        (2024, "federal", 1, 0, 0, None, Decimal("0")),
        (2024, "", 4, 3, 2, Decimal("66.7"), Decimal("150000.25")),
        (2025, "federal", 3, 2, 1, Decimal("50.0"), Decimal("200000.50")),
        (2025, "", 3, 2, 1, Decimal("50.0"), Decimal("200000.50")),
    ]
    total = figures.total
    assert (total.submitted, total.decided, total.granted, total.rate, total.funds) == (
        7,
        5,
        3,
        Decimal("60.0"),
        Decimal("350000.75"),
    )
    assert figures.levels == [("eu", "EU"), ("federal", "Bund")]


def cells(html: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert found, f"no table {table_id}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(0), re.S):
        row_cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row_cells])
    return rows


def test_overview_page_shows_the_figures_table(staff_client: Client, known: dict[str, Any]) -> None:
    html = staff_client.get(reverse("funding:overview")).content.decode()

    rows = cells(html, "figures-table")
    assert rows[1] == ["2024", "EU", "3", "3", "2", "66,7 %", "150.000,25 €"]
    assert rows[2] == ["2024", "Bund", "1", "0", "0", "– keine Entscheidung", "0,00 €"]
    assert rows[3] == ["2024", "Alle Ebenen", "4", "3", "2", "66,7 %", "150.000,25 €"]
    assert rows[4] == ["2025", "Bund", "3", "2", "1", "50,0 %", "200.000,50 €"]
    assert rows[-1] == ["Alle Jahre", "Alle Ebenen", "7", "5", "3", "60,0 %", "350.000,75 €"]


def test_chart_and_its_table_show_the_same_funds(
    staff_client: Client, known: dict[str, Any]
) -> None:
    html = staff_client.get(reverse("funding:overview")).content.decode()

    chart = re.search(r'<figure class="rh-chart" id="funds-chart">.*?</figure>', html, re.S)
    assert chart
    svg = chart.group(0)
    assert 'role="img"' in svg
    assert re.search(r'aria-labelledby="funds-chart-title funds-chart-desc"', svg)
    assert '<title id="funds-chart-title">' in svg and '<desc id="funds-chart-desc">' in svg
    assert "<script" not in svg
    bars = {
        (year, level): amount
        for year, level, amount in re.findall(
            r'<rect [^>]*data-year="(\d+)" data-level="(\w+)"><title>[^<]*: ([\d.,]+) €</title>',
            svg,
        )
    }
    table = cells(html, "funds-table")
    assert table[0] == ["Jahr", "EU", "Bund", "Alle Ebenen"]
    from_table = {
        (row[0], level): amount
        for row in table[1:]
        for level, amount in zip(("eu", "federal"), row[1:3], strict=True)
    }
    assert (
        bars
        == from_table
        == {
            ("2024", "eu"): "150.000,25",
            ("2024", "federal"): "0,00",
            ("2025", "eu"): "0,00",
            ("2025", "federal"): "200.000,50",
        }
    )
    # the higher amount has the taller bar
    heights = {
        (year, level): float(height)
        for height, year, level in re.findall(
            r'<rect [^>]*height="([\d.]+)"[^>]*data-year="(\d+)" data-level="(\w+)"', svg
        )
    }
    assert heights[("2025", "federal")] > heights[("2024", "eu")] > heights[("2024", "federal")]


def test_pipeline_board_has_a_headed_list_per_status_in_order(
    staff_client: Client, known: dict[str, Any]
) -> None:
    html = staff_client.get(reverse("funding:overview")).content.decode()

    board = re.search(r'<div class="rh-cards" id="board">(.*?)</section>\s*</div>', html, re.S)
    assert board
    headings = re.findall(r'<h3 [^>]*id="status-(\w+)">(.*?)</h3>', board.group(1), re.S)
    assert [status for status, _h in headings] == list(ApplicationStatus.values)
    counts = {status: " ".join(re.sub(r"<[^>]+>", " ", h).split()) for status, h in headings}
    assert counts["idea"] == "Idee (2 Anträge)"
    assert counts["rejected"] == "Abgelehnt (2 Anträge)"
    assert counts["submitted"] == "Eingereicht (1 Antrag)"
    assert counts["preparation"] == "In Vorbereitung (0 Anträge)"
    granted = re.search(
        r'id="status-granted">.*?<ul class="kern-list" aria-labelledby="status-granted">(.*?)</ul>',
        board.group(1),
        re.S,
    )
    assert granted
    entry = " ".join(re.sub(r"<[^>]+>", " ", granted.group(1)).split())
    assert "EU-A: Projekt EU-A" in entry
    assert "DIGITAL-2026-AI-01" in entry and "beantragt 100.000,00 €" in entry
    application = Application.objects.get(acronym="EU-A")
    assert reverse("funding:application_detail", args=[application.pk]) in granted.group(1)


def test_overview_without_submissions_says_so(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    html = staff_client.get(reverse("funding:overview")).content.decode()
    assert "Noch kein Antrag ist eingereicht." in html
    assert "funds-chart" not in html


def csv_lines(response: Any) -> list[str]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(content[1:].splitlines())


def test_applications_csv_has_german_amounts_and_formula_safe_cells(
    staff_client: Client, known: dict[str, Any]
) -> None:
    application = Application.objects.get(acronym="EU-B")
    application.title = '=HYPERLINK("http://evil.example","klick")'
    application.total_cost = Decimal("1234567.8")
    application.decision_on = date(2024, 2, 1)
    application.decision = "go"
    application.save()

    response = staff_client.get(reverse("funding:applications_csv"))

    lines = csv_lines(response)
    assert lines[0].startswith("Nummer;Akronym;Projekttitel;Aufruf;Titel des Aufrufs;Programm;")
    assert len(lines) == 1 + Application.objects.count()
    row = next(line for line in lines if ";EU-B;" in line)
    assert row == (
        f'{application.pk};EU-B;"\'=HYPERLINK(""http://evil.example"",""klick"")";'
        "DIGITAL-2026-AI-01;Local digital twins;Digital Europe Programme;EU;Laufend;"
        "Koordinator;;1234567,80;100000,00;0,00;50000,25;"
        f"{application.get_decision_display()};2024-02-01;2024-09-30;;;"
    )
    idea = next(line for line in lines if ";IDEE;" in line)
    assert ";Idee;" in idea and idea.endswith(";0,00;;Offen;;;;;")


def test_figures_csv_holds_the_table(staff_client: Client, known: dict[str, Any]) -> None:
    lines = csv_lines(staff_client.get(reverse("funding:figures_csv")))

    assert lines == [
        "Jahr der Einreichung;Ebene;Eingereicht;Entschieden;Bewilligt;Erfolgsquote (%);"
        "Eingeworbene Mittel (€)",
        "2024;EU;3;3;2;66,7;150000,25",
        "2024;Bund;1;0;0;–;0,00",
        "2024;Alle Ebenen;4;3;2;66,7;150000,25",
        "2025;Bund;3;2;1;50,0;200000,50",
        "2025;Alle Ebenen;3;2;1;50,0;200000,50",
        "Alle Jahre;Alle Ebenen;7;5;3;60,0;350000,75",
    ]


@pytest.mark.parametrize("persona", ["citizen", "organisation", "caseworker", "lead"])
def test_others_than_department_staff_get_403(
    persona: str, personas: dict[str, Any], known: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(personas[persona])
    for name in ("overview", "applications_csv", "figures_csv"):
        assert client.get(reverse(f"funding:{name}")).status_code == 403


def test_overview_needs_few_queries(
    staff_client: Client, known: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(20):
        assert staff_client.get(reverse("funding:overview")).status_code == 200
