"""The public progress dashboard of a strategy at the size of a long-running city strategy
(issue 12), on PostgreSQL and SQLite: 500 measures (400 top-level, 100 sub-measures), 3,000
milestones, 200 KPIs with 10 years of monthly observations (24,000 values), 20 fields of action,
published once.

- the dashboard's first page (fields of action, 25 measures with their milestones on the
  timeline, 10 KPI charts with their tables), a filtered page (status and field), a measure's
  page and a KPI's page, through the Django test client (whole request: URL routing, the
  published state, template rendering): p50/p95 and the number of queries;
- next to a same-run naive dashboard that reads the live tables the straightforward way (a
  query per measure for its milestones, fields and areas, one per KPI for its observations)
  and renders the same template;
- and the cost of publishing (building the snapshot) once.

The data are generated (seeded): no personal data, the same every run."""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_STRATEGY_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_strategy"
)
MEASURES = int(os.environ.get("BENCH_STRATEGY_MEASURES", "500"))
MILESTONES = int(os.environ.get("BENCH_STRATEGY_MILESTONES", "3000"))
KPIS = int(os.environ.get("BENCH_STRATEGY_KPIS", "200"))
YEARS = int(os.environ.get("BENCH_STRATEGY_YEARS", "10"))
RUNS = int(os.environ.get("BENCH_STRATEGY_RUNS", "40"))
NAIVE_RUNS = int(os.environ.get("BENCH_STRATEGY_NAIVE_RUNS", "5"))
SLUG = "bench-strategie"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000,
    }


# ---- the data --------------------------------------------------------------------------------


def fill(rng: random.Random) -> dict[str, int]:
    """A strategy with fields, measures, sub-measures, milestones and KPIs, bulk-created."""
    from django.core.management import call_command
    from django.db import transaction

    from rathaus.accounts.constants import OfficeKind
    from rathaus.accounts.models import Office
    from rathaus.strategy.constants import (
        Frequency,
        MeasureStatus,
        MilestoneStatus,
        ProgressMode,
        StrategyStatus,
        TrafficLight,
    )
    from rathaus.strategy.models import (
        FieldOfAction,
        Indicator,
        IndicatorObservation,
        Measure,
        Milestone,
        Strategy,
    )

    call_command("migrate", "--no-input", "-v", "0")
    started = time.monotonic()
    with transaction.atomic():
        offices = [
            Office.objects.create(name=f"Amt {i:02d}", kind=OfficeKind.OFFICE) for i in range(12)
        ]
        strategy = Strategy.objects.create(
            name="Bench-Strategie",
            slug=SLUG,
            version="2030",
            status=StrategyStatus.ADOPTED,
            council_decision_number="BENCH-0001",
            council_decision_date=date(2020, 1, 15),
        )
        tops = [
            FieldOfAction.objects.create(
                strategy=strategy, code=str(i + 1), title=f"Handlungsfeld {i + 1}", position=i
            )
            for i in range(5)
        ]
        fields = list(tops)
        for i in range(15):
            parent = tops[i % 5]
            fields.append(
                FieldOfAction.objects.create(
                    strategy=strategy,
                    parent=parent,
                    code=f"{parent.code}.{i // 5 + 1}",
                    title=f"Unterfeld {parent.code}.{i // 5 + 1}",
                    position=i,
                )
            )
        statuses = list(MeasureStatus.values)
        top_count = MEASURES * 4 // 5
        measures: list[Measure] = []
        for i in range(top_count):
            start = date(2020, 1, 1) + timedelta(days=rng.randint(0, 2500))
            status = rng.choice(statuses)
            light = TrafficLight.GREEN
            if status == MeasureStatus.DELAYED or rng.random() < 0.1:
                light = rng.choice([TrafficLight.YELLOW, TrafficLight.RED])
            measures.append(
                Measure(
                    code=f"M-{i + 1:04d}",
                    title=f"Maßnahme {i + 1}: Digitalisierung eines Verfahrens",
                    description="Beschreibung der Maßnahme. " * 8,
                    office=rng.choice(offices),
                    status=status,
                    traffic_light=light,
                    status_reason="" if light == TrafficLight.GREEN else "Lieferverzug",
                    progress=rng.randint(0, 100),
                    planned_start=start,
                    planned_end=start + timedelta(days=rng.randint(180, 1500)),
                    actual_start=start if status != MeasureStatus.PLANNED else None,
                    planned_budget=Decimal(rng.randint(10, 5000) * 1000),
                    spent_budget=Decimal(rng.randint(0, 2000) * 1000),
                )
            )
        measures = Measure.objects.bulk_create(measures, batch_size=500)
        parents = measures[: (MEASURES - top_count) // 2]
        subs: list[Measure] = []
        for n, parent in enumerate(parents):
            parent.progress_mode = ProgressMode.ROLLED_UP
            for k, weight in enumerate((60, 40)):
                subs.append(
                    Measure(
                        code=f"{parent.code}.{k + 1}",
                        title=f"Teilmaßnahme {n + 1}.{k + 1}",
                        parent=parent,
                        weight=weight,
                        office=parent.office,
                        status=MeasureStatus.RUNNING,
                        progress=rng.randint(0, 100),
                        planned_start=parent.planned_start,
                        planned_end=parent.planned_end,
                    )
                )
        subs = Measure.objects.bulk_create(subs, batch_size=500)
        for parent in parents:
            children = [s for s in subs if s.parent_id == parent.pk]
            parent.progress = round(sum(c.progress * (c.weight or 0) for c in children) / 100)
        Measure.objects.bulk_update(parents, ["progress", "progress_mode"], batch_size=500)
        everything = measures + subs
        through = Measure.strategies.through
        through.objects.bulk_create(
            [through(measure_id=m.pk, strategy_id=strategy.pk) for m in everything],
            batch_size=1000,
        )
        fields_through = Measure.fields_of_action.through
        fields_through.objects.bulk_create(
            [
                fields_through(measure_id=m.pk, fieldofaction_id=rng.choice(fields).pk)
                for m in measures
            ],
            batch_size=1000,
        )
        milestones = []
        for i in range(MILESTONES):
            measure = everything[i % len(everything)]
            start = measure.planned_start or date(2020, 1, 1)
            planned = start + timedelta(days=rng.randint(10, 1400))
            slipped = rng.random() < 0.15
            done = planned < date(2026, 1, 1) and rng.random() < 0.7
            milestones.append(
                Milestone(
                    measure=measure,
                    title=f"Meilenstein {i + 1}",
                    planned_date=planned,
                    baseline_date=planned - timedelta(days=90) if slipped else planned,
                    slip_reason="Vergabe verzögert" if slipped else "",
                    actual_date=planned if done else None,
                    status=MilestoneStatus.DONE if done else MilestoneStatus.OPEN,
                    evidence_url="https://example.org/nachweis" if done else "",
                )
            )
        Milestone.objects.bulk_create(milestones, batch_size=1000)
        indicators = Indicator.objects.bulk_create(
            [
                Indicator(
                    strategy=strategy,
                    field_of_action=fields[i % len(fields)],
                    code=f"K-{i + 1:03d}",
                    name=f"Kennzahl {i + 1}",
                    definition="Definition der Kennzahl.",
                    unit=rng.choice(["%", "Anzahl", "Tage", "t CO2"]),
                    baseline_value=Decimal(rng.randint(0, 50)),
                    baseline_date=date(2016, 12, 31),
                    target_value=Decimal(rng.randint(50, 100)),
                    target_date=date(2030, 12, 31),
                    frequency=Frequency.MONTHLY,
                    data_source="Bench",
                    position=i,
                )
                for i in range(KPIS)
            ],
            batch_size=500,
        )
        observations = []
        for indicator in indicators:
            value = float(indicator.baseline_value or 0)
            for month in range(YEARS * 12):
                value = min(100.0, max(0.0, value + rng.uniform(-1, 1.5)))
                observations.append(
                    IndicatorObservation(
                        indicator=indicator,
                        period=date(2017 + month // 12, month % 12 + 1, 1),
                        value=Decimal(f"{value:.2f}"),
                        provisional=month >= YEARS * 12 - 2,
                    )
                )
        IndicatorObservation.objects.bulk_create(observations, batch_size=2000)
    say(f"  filled in {time.monotonic() - started:.1f} s")
    return {
        "measures": len(everything),
        "milestones": len(milestones),
        "kpis": len(indicators),
        "observations": len(observations),
        "strategy_id": strategy.pk,
    }


# ---- the measurements ------------------------------------------------------------------------


def worker() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from rathaus.accounts.constants import Role
    from rathaus.accounts.models import RoleAssignment, User
    from rathaus.strategy.models import Strategy
    from rathaus.strategy.selectors import public
    from rathaus.strategy.selectors.snapshot import strategy_snapshot
    from rathaus.strategy.services.publication import strategy_publish
    from rathaus.strategy.views.public import dashboard_context

    setup_test_environment()  # the test client's hosts; templates render as in production
    settings.DEBUG = False
    sizes = fill(random.Random(12))  # noqa: S311 - generated test data, not secrets
    staff = User.objects.create_user("bench@example.org", "bench-password")
    RoleAssignment.objects.create(user=staff, role=Role.DEPARTMENT_STAFF)
    strategy = Strategy.objects.get(pk=sizes["strategy_id"])

    started = time.perf_counter()
    publication = strategy_publish(actor=staff, strategy_id=strategy.pk, note="Bench")
    publish_ms = (time.perf_counter() - started) * 1000
    results: dict[str, Any] = {
        "database": connection.vendor,
        **{key: value for key, value in sizes.items() if key != "strategy_id"},
        "runs": RUNS,
        "naive_runs": NAIVE_RUNS,
        "publish_ms": publish_ms,
        "snapshot_kb": len(json.dumps(publication.data).encode()) / 1024,
        "rows": {},
    }
    client = Client()

    def fetch(url: str) -> Callable[[], bytes]:
        def get() -> bytes:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response.content

        return get

    def queries_of(function: Callable[[], Any]) -> int:
        with CaptureQueriesContext(connection) as captured:
            function()
        return len(captured)

    def naive_dashboard(query: str) -> Callable[[], bytes]:
        """The same page from the live tables, read the straightforward way (a query per
        measure and per KPI), rendered by the same template."""
        from django.template.loader import render_to_string
        from django.test import RequestFactory

        request = RequestFactory().get(f"/strategie/{SLUG}/{query}")

        def get() -> bytes:
            live = Strategy.objects.get(pk=strategy.pk)
            state = public.draft_state(
                strategy_id=live.pk,
                data=strategy_snapshot(strategy=live, per_object=True),
                now=timezone.now(),
            )
            context = dashboard_context(request, state)
            return render_to_string("strategy/public/dashboard.html", context, request).encode()

        return get

    def measure(name: str, fast: Callable[[], Any], naive: Callable[[], Any] | None) -> None:
        fast()  # warm: the first request parses the publication into the in-process cache
        row: dict[str, Any] = {"queries": queries_of(fast)}
        samples = []
        for _run in range(RUNS):
            reset_queries()
            begun = time.perf_counter()
            fast()
            samples.append(time.perf_counter() - begun)
        row["fast"] = percentiles(samples)
        if naive is not None:
            row["naive_queries"] = queries_of(naive)
            slow = []
            for _run in range(NAIVE_RUNS):
                begun = time.perf_counter()
                naive()
                slow.append(time.perf_counter() - begun)
            row["naive"] = percentiles(slow)
        results["rows"][name] = row
        text = f"  {name}: p95 {row['fast']['p95_ms']:.1f} ms, {row['queries']} queries"
        if naive is not None:
            text += f" | naive p95 {row['naive']['p95_ms']:.0f} ms, {row['naive_queries']} queries"
        say(text)

    base = f"/strategie/{SLUG}/"
    filtered = "?status=running&feld=1"
    # the first request after publishing pays for parsing the snapshot once per process
    public.state_clear_cache()
    begun = time.perf_counter()
    fetch(base)()
    results["cold_ms"] = (time.perf_counter() - begun) * 1000
    measure("dashboard, first page", fetch(base), naive_dashboard(""))
    measure(
        "dashboard, filtered (status, field)", fetch(base + filtered), naive_dashboard(filtered)
    )
    measure("dashboard, KPI page 5", fetch(base + "?kseite=5"), None)
    measure("measure page", fetch(base + "massnahmen/M-0001/"), None)
    measure("KPI page (120 values)", fetch(base + "kennzahlen/K-001/"), None)
    client.force_login(staff)
    measure(
        "staff draft preview (snapshot per request)",
        fetch(f"/strategie/verwaltung/strategien/{strategy.pk}/entwurf/"),
        None,
    )
    print(json.dumps(results))


# ---- the driver ------------------------------------------------------------------------------


def table(f: dict[str, Any]) -> list[str]:
    name = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[f["database"]]
    lines = [
        f"strategy dashboard at {f['measures']:,} measures, {f['milestones']:,} milestones, "
        f"{f['kpis']:,} KPIs with {f['observations']:,} monthly values ({name}; {f['runs']} "
        f"runs, naive {f['naive_runs']}; publishing {f['publish_ms']:.0f} ms, snapshot "
        f"{f['snapshot_kb']:.0f} KiB, first request after publishing {f['cold_ms']:.0f} ms)",
        f"  {'what':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'naive p95':>10} "
        f"{'naive q':>8} {'ratio':>7}",
    ]
    for what, row in f["rows"].items():
        fast = row["fast"]
        line = f"  {what:<44} {fast['p50_ms']:>8.1f} {fast['p95_ms']:>8.1f} {row['queries']:>8}"
        if "naive" in row:
            naive = row["naive"]
            line += (
                f" {naive['p95_ms']:>10.0f} {row['naive_queries']:>8} "
                f"{naive['p95_ms'] / fast['p95_ms']:>6.0f}x"
            )
        lines.append(line)
    return lines


def main() -> dict[str, Any]:
    from bench.run import on_both_databases

    # the measured client asks far more often than one visitor may
    return on_both_databases(
        "strategy", __file__, POSTGRES_URL, table, env={"RATHAUS_RATELIMIT_CITYDATA": "1000000/m"}
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        main()
