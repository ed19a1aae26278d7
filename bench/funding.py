"""The funding register at the size of a well-kept national register (issue 11), on
PostgreSQL and SQLite: 5,000 programmes, 20,000 calls with 1 to 3 deadlines each (half of the
calls closed, the rest open or forthcoming) and 2,000 applications of the city.

- the deadline calendar (``selectors.calendar``): the first page of the page's list for the
  next 12 months (count and 50 rows with call and programme), and the iCal feed's body for one
  theme; p50/p95, next to a same-run naive version that loads every programme, call and
  deadline into Python and filters and sorts there;
- the matching of calls (``selectors.matching.calls_matching``: first page of 25 and the
  count) for four profiles (a strategy measure's, a start-up's, one theme, no input), next to
  the same naive loading and filtering in Python.

Each fast answer is checked against its naive twin (same rows in the same order). The data
are generated (seeded): no personal data, the same every run."""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_FUNDING_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_funding"
)
PROGRAMMES = int(os.environ.get("BENCH_FUNDING_PROGRAMMES", "5000"))
CALLS = int(os.environ.get("BENCH_FUNDING_CALLS", "20000"))
APPLICATIONS = int(os.environ.get("BENCH_FUNDING_APPLICATIONS", "2000"))
RUNS = int(os.environ.get("BENCH_FUNDING_RUNS", "50"))
NAIVE_RUNS = int(os.environ.get("BENCH_FUNDING_NAIVE_RUNS", "10"))
CALENDAR_PAGE = 50  # as views.matching.DEADLINE_PAGE_SIZE
MATCH_PAGE = 25  # as views.matching.MATCH_PAGE_SIZE


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000,
    }


def timed(function: Callable[[], Any], runs: int) -> dict[str, float]:
    function()  # warm: the first run pays for connecting and the database's caches
    samples = []
    for _run in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


# ---- the data --------------------------------------------------------------------------------


def _some(rng: random.Random, values: list[str], low: int, high: int) -> list[str]:
    return rng.sample(values, rng.randint(low, high))


def fill(rng: random.Random, now: datetime) -> dict[str, int]:
    """Programmes, calls with their deadlines and applications, bulk-created."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from rathaus.core.themes import Theme, mask_of
    from rathaus.funding.constants import (
        ApplicantType,
        ApplicationStatus,
        CallStatus,
        DeadlineModel,
        FundingType,
        Level,
        Region,
    )
    from rathaus.funding.models import Application, Call, CallDeadline, Programme

    call_command("migrate", "--no-input", "-v", "0")
    started = time.monotonic()
    themes = list(Theme.values)
    applicant_types = list(ApplicantType.values)
    lands = [value for value in Region.values if value.startswith("DE-")]
    levels = [Level.EU] * 15 + [Level.FEDERAL] * 30 + [Level.STATE] * 35
    levels += [Level.MUNICIPAL] * 10 + [Level.FOUNDATION] * 10
    with transaction.atomic():
        programmes = []
        for i in range(PROGRAMMES):
            level = rng.choice(levels)
            regions: list[str]
            if level == Level.EU:
                regions = [Region.EU] if rng.random() < 0.8 else []
            elif level == Level.FEDERAL:
                regions = [Region.DE]
            elif level in (Level.STATE, Level.MUNICIPAL):
                regions = [rng.choice(lands)]
            else:
                regions = [Region.DE] if rng.random() < 0.5 else []
            low = high = None
            shape = rng.random()
            if shape < 0.6:
                low = Decimal(rng.choice([5, 10, 25, 50, 100, 250, 500, 1000]) * 1000)
                high = low * rng.choice([2, 4, 10, 20])
            elif shape < 0.75:
                high = Decimal(rng.choice([50, 100, 200, 500, 2000]) * 1000)
            programmes.append(
                Programme(
                    name=f"Förderprogramm {i:05d}",
                    code=f"P{i:05d}",
                    funder=f"Fördergeber {i % 400}",
                    level=level,
                    funding_type=rng.choice(
                        [FundingType.GRANT] * 8 + [FundingType.LOAN, FundingType.PRIZE]
                    ),
                    themes_mask=mask_of(_some(rng, themes, 1, 4), Theme),
                    applicant_types_mask=(
                        0
                        if rng.random() < 0.2
                        else mask_of(_some(rng, applicant_types, 1, 4), ApplicantType)
                    ),
                    regions_mask=mask_of(regions, Region),
                    rate_max=Decimal(rng.choice([50, 70, 80, 90, 100])),
                    amount_min=low,
                    amount_max=high,
                )
            )
        programmes = Programme.objects.bulk_create(programmes, batch_size=1000)
        calls: list[Call] = []
        stages: list[list[tuple[datetime, str, str]]] = []
        for i in range(CALLS):
            programme = rng.choice(programmes)
            foundation_zone = rng.choice(["Europe/Berlin", "America/New_York"])
            zones = {Level.EU.value: "Europe/Brussels", Level.FOUNDATION.value: foundation_zone}
            zone = zones.get(programme.level, "Europe/Berlin")
            status = rng.choices(
                [CallStatus.CLOSED, CallStatus.OPEN, CallStatus.FORTHCOMING], [50, 35, 15]
            )[0]
            count = rng.choices([1, 2, 3], [60, 25, 15])[0]
            if status == CallStatus.CLOSED:
                last = now - timedelta(days=rng.randint(1, 900), hours=rng.randint(0, 23))
            elif status == CallStatus.OPEN:
                last = now + timedelta(days=rng.randint(1, 420), hours=rng.randint(0, 23))
            else:
                last = now + timedelta(days=rng.randint(60, 540), hours=rng.randint(0, 23))
            # 17:00 in the funder's zone, as calls state it
            last = last.astimezone(ZoneInfo(zone)).replace(
                hour=17, minute=0, second=0, microsecond=0
            )
            moments = sorted(last - timedelta(days=90 * k) for k in range(count))
            labels = {
                1: [""],
                2: ["Skizze", "Vollantrag"],
                3: ["Stichtag 1", "Stichtag 2", "Stichtag 3"],
            }[count]
            calls.append(
                Call(
                    programme=programme,
                    identifier=f"{programme.code}-{i:05d}",
                    title=f"Aufruf {i:05d} zu {programme.name}",
                    status=status,
                    deadline_model=[
                        DeadlineModel.SINGLE,
                        DeadlineModel.TWO_STAGE,
                        DeadlineModel.CUTOFFS,
                    ][count - 1],
                    budget=Decimal(rng.randint(1, 400) * 100000),
                    final_deadline=moments[-1],
                )
            )
            stages.append([(m, labels[k], zone) for k, m in enumerate(moments)])
        calls = Call.objects.bulk_create(calls, batch_size=1000)
        deadlines = [
            CallDeadline(call=call, position=k + 1, due_at=due, label=label, timezone=zone)
            for call, moments in zip(calls, stages, strict=True)
            for k, (due, label, zone) in enumerate(moments)
        ]
        CallDeadline.objects.bulk_create(deadlines, batch_size=2000)
        Application.objects.bulk_create(
            [
                Application(
                    call=rng.choice(calls),
                    title=f"Vorhaben {i:04d}",
                    acronym=f"V{i:04d}",
                    status=rng.choice(ApplicationStatus.values),
                    total_cost=Decimal(rng.randint(1, 100) * 50000),
                    requested_funding=Decimal(rng.randint(1, 50) * 50000),
                )
                for i in range(APPLICATIONS)
            ],
            batch_size=1000,
        )
    with connection.cursor() as cursor:  # as autovacuum (PRAGMA optimize) would after a load
        cursor.execute("ANALYZE")
    say(
        f"funding ({connection.vendor}): {PROGRAMMES:,} programmes, {CALLS:,} calls, "
        f"{len(deadlines):,} deadlines, {APPLICATIONS:,} applications in "
        f"{time.monotonic() - started:.0f} s"
    )
    return {"deadlines": len(deadlines)}


# ---- the naive versions: everything into Python ----------------------------------------------


def load_everything() -> tuple[dict[int, Any], dict[int, Any], list[Any]]:
    """Every programme, call and deadline, as a straightforward implementation would read
    them (three plain queries, joined in Python)."""
    from rathaus.funding.models import Call, CallDeadline, Programme

    programmes = {p.pk: p for p in Programme.objects.all()}
    calls = {}
    for call in Call.objects.all():
        call.programme = programmes[call.programme_id]
        calls[call.pk] = call
    deadlines = []
    for deadline in CallDeadline.objects.all():
        deadline.call = calls[deadline.call_id]
        deadlines.append(deadline)
    return programmes, calls, deadlines


def naive_calendar(filters: Any, now: datetime) -> tuple[int, list[Any]]:
    from rathaus.core.themes import Theme, mask_of
    from rathaus.funding.selectors.calendar import BERLIN, LIVE_STATUSES, add_months

    until = add_months(now.astimezone(BERLIN), filters.months)
    bit = mask_of([filters.theme], Theme) if filters.theme else 0
    _programmes, _calls, deadlines = load_everything()
    found = [
        d
        for d in deadlines
        if now <= d.due_at < until
        and d.call.status in LIVE_STATUSES
        and (not filters.level or d.call.programme.level == filters.level)
        and (not bit or d.call.programme.themes_mask & bit)
    ]
    found.sort(key=lambda d: (d.due_at, d.call.identifier, d.position, d.pk))
    return len(found), found


def naive_matching(profile: Any, now: datetime, limit: int) -> tuple[int, list[Any]]:
    from rathaus.funding.selectors.calendar import LIVE_STATUSES

    programmes, calls, deadlines = load_everything()
    next_due: dict[int, datetime] = {}
    for d in deadlines:
        if d.due_at >= now and (d.call_id not in next_due or d.due_at < next_due[d.call_id]):
            next_due[d.call_id] = d.due_at

    def fits(call: Any) -> bool:
        p = call.programme
        if (
            call.status not in LIVE_STATUSES
            or not call.final_deadline
            or call.final_deadline <= now
        ):
            return False
        if profile.themes_mask and not p.themes_mask & profile.themes_mask:
            return False
        if profile.applicant_types_mask and p.applicant_types_mask:
            if not p.applicant_types_mask & profile.applicant_types_mask:
                return False
        if profile.regions_mask and p.regions_mask and not p.regions_mask & profile.regions_mask:
            return False
        if profile.amount is not None:
            if p.amount_min is not None and p.amount_min > profile.amount:
                return False
            if p.amount_max is not None and p.amount_max < profile.amount:
                return False
        return True

    found = [call for call in calls.values() if fits(call)]
    found.sort(key=lambda c: (next_due.get(c.pk, c.final_deadline), c.identifier, c.pk))
    return len(found), found[:limit]


# ---- the worker ------------------------------------------------------------------------------


def worker() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from rathaus.core.ical import calendar_text
    from rathaus.core.themes import Theme, mask_of
    from rathaus.funding.constants import ApplicantType, Region
    from rathaus.funding.selectors.calendar import (
        FEED_MAX_EVENTS,
        PRODID,
        CalendarFilters,
        FeedWriter,
        by_month,
        deadline_feed,
        deadline_list,
    )
    from rathaus.funding.selectors.matching import MatchProfile, calls_matching

    now = timezone.now()
    sizes = fill(random.Random(11), now)  # noqa: S311 - generated test data, not secrets
    results: dict[str, Any] = {
        "database": connection.vendor,
        "programmes": PROGRAMMES,
        "calls": CALLS,
        "deadlines": sizes["deadlines"],
        "applications": APPLICATIONS,
        "runs": RUNS,
        "naive_runs": NAIVE_RUNS,
        "rows": {},
    }

    def record(name: str, fast: Callable[[], Any], naive: Callable[[], Any]) -> None:
        results["rows"][name] = {"fast": timed(fast, RUNS), "naive": timed(naive, NAIVE_RUNS)}
        row = results["rows"][name]
        say(
            f"  {name}: p95 {row['fast']['p95_ms']:.1f} ms | naive p95 "
            f"{row['naive']['p95_ms']:.0f} ms"
        )

    # (a) the calendar: first page of the next 12 months; the feed for one theme
    twelve = CalendarFilters()

    def calendar_page() -> tuple[int, list[Any]]:
        deadlines = deadline_list(filters=twelve, now=now)
        rows = list(deadlines[:CALENDAR_PAGE])
        by_month(rows, now=now)
        return deadlines.count(), rows

    def calendar_page_naive() -> tuple[int, list[Any]]:
        total, found = naive_calendar(twelve, now)
        rows = found[:CALENDAR_PAGE]
        by_month(rows, now=now)
        return total, rows

    fast_total, fast_rows = calendar_page()
    slow_total, slow_rows = calendar_page_naive()
    assert fast_total == slow_total and [d.pk for d in fast_rows] == [d.pk for d in slow_rows]
    results["calendar_total"] = fast_total
    record("calendar page 1 (12 months)", calendar_page, calendar_page_naive)

    themed = CalendarFilters(theme=Theme.DATA)

    def feed() -> str:
        return deadline_feed(filters=themed, now=now)

    def feed_naive() -> str:
        """The same events written the same way; only the finding is naive."""
        _total, found = naive_calendar(themed, now)
        writer = FeedWriter(stamp=now)
        return calendar_text(
            (writer.vevent(d) for d in found[:FEED_MAX_EVENTS]), prodid=PRODID, name=""
        )

    body = feed()
    results["feed_events"] = body.count("BEGIN:VEVENT")
    results["feed_kb"] = len(body.encode()) / 1024
    assert results["feed_events"] == feed_naive().count("BEGIN:VEVENT")
    record("iCal feed (theme data, 12 months)", feed, feed_naive)

    # (b) matching: first page and count for a few profiles
    city = mask_of([Region.EU, Region.DE, Region.SN], Region)
    profiles = {
        "measure (2 themes, municipality, Saxony, 2 M€)": MatchProfile(
            themes_mask=mask_of([Theme.DATA, Theme.SMART_CITY], Theme),
            applicant_types_mask=mask_of([ApplicantType.MUNICIPALITY], ApplicantType),
            regions_mask=city,
            amount=Decimal("2000000"),
        ),
        "start-up (type and region)": MatchProfile(
            applicant_types_mask=mask_of([ApplicantType.STARTUP], ApplicantType),
            regions_mask=city,
        ),
        "one theme": MatchProfile(themes_mask=mask_of([Theme.DIGITALISATION], Theme)),
        "no input (all open calls)": MatchProfile(),
    }
    results["match_totals"] = {}
    for label, profile in profiles.items():

        def matching(profile: MatchProfile = profile) -> Any:
            return calls_matching(profile, limit=MATCH_PAGE, offset=0, now=now)

        def matching_naive(profile: MatchProfile = profile) -> Any:
            return naive_matching(profile, now, MATCH_PAGE)

        page = matching()
        total, found = matching_naive()
        assert page.total == total, (label, page.total, total)
        assert [m.call.pk for m in page.matches] == [c.pk for c in found], label
        results["match_totals"][label] = total
        record(f"matching: {label}", matching, matching_naive)
    print(json.dumps(results))


# ---- the driver ------------------------------------------------------------------------------


def table(f: dict[str, Any]) -> list[str]:
    name = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[f["database"]]
    lines = [
        f"funding at {f['programmes']:,} programmes, {f['calls']:,} calls, {f['deadlines']:,} "
        f"deadlines, {f['applications']:,} applications ({name}; {f['runs']} runs, naive "
        f"{f['naive_runs']}; {f['calendar_total']:,} deadlines in the next 12 months, feed "
        f"{f['feed_events']:,} events / {f['feed_kb']:.0f} KiB)",
        f"  {'what':<58} {'p50 ms':>8} {'p95 ms':>8} {'naive p95':>10} {'ratio':>7}",
    ]
    for what, row in f["rows"].items():
        fast, naive = row["fast"], row["naive"]
        lines.append(
            f"  {what:<58} {fast['p50_ms']:>8.1f} {fast['p95_ms']:>8.1f} "
            f"{naive['p95_ms']:>10.0f} {naive['p95_ms'] / fast['p95_ms']:>6.0f}x"
        )
    return lines


def main() -> dict[str, Any]:
    from bench.run import on_both_databases

    return on_both_databases("funding", __file__, POSTGRES_URL, table)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        main()
