"""Statistics for office leads and the department: received, closed, open and overdue cases,
median and 90th percentile processing time and the share handled online end to end, the
same on SQLite and PostgreSQL; the page with a chart and its table, the CSV export; nobody
else sees them."""

from __future__ import annotations

import csv
import io
import statistics
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from rathaus.cases.models import Case
from rathaus.cases.seeding import seed_cases
from rathaus.cases.statistics import case_statistics
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


def _window() -> tuple[date, date]:
    today = timezone.localdate()
    end = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return end.replace(year=end.year - 3), end


def test_the_figures_match_the_cases(office: Any, personas: dict[str, Any]) -> None:
    seed_cases(count=120)
    closed = list(Case.objects.filter(status="closed"))
    start, end = _window()
    figures = case_statistics(user=personas["department"], start=start, end=end)
    total = figures.total
    today = timezone.localdate()
    assert total.received == Case.objects.count() == 120
    online = [c for c in closed if c.letter_issued_at is not None]
    assert total.closed == len(closed) and total.online == len(online) > 0
    assert total.open == Case.objects.filter(is_open=1).count()
    assert total.overdue == Case.objects.filter(is_open=1, due_on__lt=today).count() > 0
    days = sorted((c.closed_at - c.received_at).total_seconds() / 86400 for c in closed)
    assert total.median_days == pytest.approx(statistics.median(days), abs=0.06)
    p90 = statistics.quantiles(days, n=10, method="inclusive")[-1]
    assert total.p90_days == pytest.approx(p90, abs=0.06)
    assert sum(row.received for _m, row in figures.months) == 120
    assert sum(row.closed for _m, row in figures.months) == len(closed)
    assert [office.name for office, _row in figures.offices] == ["Ordnungsamt"]
    # unfinished at each month's end: received by then, not closed or withdrawn by then
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    everything = list(Case.objects.all())
    for month, row in figures.months:
        end_day = (month + timedelta(days=32)).replace(day=1)
        until = datetime.combine(end_day, datetime.min.time(), zone)
        pending = [
            c
            for c in everything
            if c.received_at < until and (c.closed_at is None or c.closed_at >= until)
        ]
        late = [c for c in pending if c.due_on is not None and c.due_on < end_day]
        assert (row.pending_at_end, row.overdue_at_end) == (len(pending), len(late)), month
    # a lead sees the offices they lead, and only those
    led = case_statistics(user=personas["lead"], start=start, end=end, office_id=office.pk)
    assert led.total.received == 120
    for name in ("caseworker", "caseworker_other", "citizen"):
        with pytest.raises(PermissionDenied):
            case_statistics(user=personas[name], start=start, end=end)


def test_the_page_shows_a_chart_with_its_table_and_exports_csv(
    office: Any, personas: dict[str, Any]
) -> None:
    seed_cases(count=40)
    client = Client()
    client.force_login(personas["lead"])
    page = client.get("/verwaltung/vorgaenge/statistik/", {"monate": "36"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'role="img"' in html and "<table" in html
    assert "Median" in html and "Ordnungsamt" in html
    export = client.get("/verwaltung/vorgaenge/statistik/", {"monate": "36", "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert sum(int(r["received"]) for r in rows if r["service"] == "") == 40
    assert {"month", "office", "service", "closed", "median_days", "p90_days"} <= set(rows[0])
    assert {"pending_at_month_end", "overdue_at_month_end"} <= set(rows[0])
    last_month = max(r["month"] for r in rows)
    pending_now = sum(
        int(r["pending_at_month_end"])
        for r in rows
        if r["month"] == last_month and r["service"] == ""
    )
    assert pending_now == Case.objects.filter(closed_at__isnull=True).count()
    wrong = client.get("/verwaltung/vorgaenge/statistik/", {"monate": "x", "stelle": "abc"})
    assert wrong.status_code == 200 and "Bitte prüfen Sie Ihre Angaben" in wrong.content.decode()
    outsider = Client()
    outsider.force_login(personas["caseworker"])
    assert outsider.get("/verwaltung/vorgaenge/statistik/").status_code == 403
