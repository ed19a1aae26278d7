"""Sensor data queries at 10 million observations on PostgreSQL (issue 8): the latest value of
every datastream (the map) and a one-month hourly aggregate of one datastream (a chart),
each p50/p95, next to a same-run baseline that answers the same question from the raw
observations (GROUP BY over the table; GROUP BY date_trunc over the month's rows).

The observations are made in the database (generate_series: 1,000 datastreams, one value
every 5 minutes, about 35 days each) and their aggregates and each datastream's latest value
computed once in SQL the way ingestion keeps them, so that setting up takes a minute rather than the time ingestion
itself takes (measured in bench/citydata.py).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_CITYDATA_QUERIES_POSTGRES_URL",
    "postgres://postgres@127.0.0.1:5432/rathaus_bench_citydata_10m",
)
OBSERVATIONS = int(os.environ.get("BENCH_CITYDATA_OBSERVATIONS", "10000000"))
STREAMS = 1000
RUNS = 50
HOURS = 30 * 24  # in the month charted


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000,
    }


def timed(function: Any, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def fill() -> int:
    """1,000 datastreams with OBSERVATIONS / 1,000 readings each, and their aggregates."""
    from django.core.management import call_command
    from django.db import connection

    from rathaus.citydata.models import Datastream, ObservedProperty, Sensor, Thing

    call_command("migrate", "--no-input", "-v", "0")
    sensor = Sensor.objects.create(name="bench")
    observed = ObservedProperty.objects.create(name="NO2", definition="x")
    things = Thing.objects.bulk_create([Thing(name=f"Station {i}") for i in range(STREAMS)])
    Datastream.objects.bulk_create(
        Datastream(
            name=f"NO2 {thing.name}",
            unit_of_measurement={"name": "µg/m³", "symbol": "µg/m³", "definition": ""},
            thing=thing,
            sensor=sensor,
            observed_property=observed,
        )
        for thing in things
    )
    per_stream = OBSERVATIONS // STREAMS
    started = time.monotonic()
    with connection.cursor() as cursor:
        say(f"citydata queries: writing {per_stream * STREAMS:,} observations ...")
        cursor.execute(
            """
            INSERT INTO citydata_observation (datastream_id, phenomenon_time, result_number)
            SELECT d.id, timestamptz '2026-09-01 00:00+00' + n * interval '5 minutes',
                   20 + 15 * sin(n / 50.0) + (d.id %% 7)
            FROM citydata_datastream d, generate_series(0, %s - 1) AS n
            """,
            [per_stream],
        )
        say(f"  done in {time.monotonic() - started:.0f} s; aggregates ...")
        for period, bucket in (
            ("hour", "date_trunc('hour', phenomenon_time)"),
            (
                "day",
                "date_trunc('day', phenomenon_time AT TIME ZONE 'Europe/Berlin') "
                "AT TIME ZONE 'Europe/Berlin'",
            ),
        ):
            cursor.execute(
                f"""
                INSERT INTO citydata_aggregate
                    (datastream_id, period, start, count, total, minimum, maximum)
                SELECT datastream_id, %s, {bucket}, count(*), sum(result_number),
                       min(result_number), max(result_number)
                FROM citydata_observation GROUP BY datastream_id, {bucket}
                """,  # noqa: S608 - our own expressions
                [period],
            )
        cursor.execute(
            """
            UPDATE citydata_datastream d SET phenomenon_start = r.low, phenomenon_end = r.high,
                latest_time = r.high, latest_result = (
                    SELECT result_number FROM citydata_observation o
                    WHERE o.datastream_id = d.id ORDER BY phenomenon_time DESC LIMIT 1)
            FROM (SELECT datastream_id, min(phenomenon_time) AS low, max(phenomenon_time) AS high
                  FROM citydata_observation GROUP BY datastream_id) r
            WHERE r.datastream_id = d.id
            """
        )
        cursor.execute("ANALYZE")
    say(f"  filled in {time.monotonic() - started:.0f} s")
    return per_stream * STREAMS


def worker() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Avg, Count, Max, Min
    from django.db.models.functions import TruncHour

    from rathaus.citydata import selectors
    from rathaus.citydata.models import Datastream, Observation

    total = fill()
    streams = list(Datastream.objects.values_list("pk", "phenomenon_start"))
    rng = random.Random(8)  # noqa: S311 - picks test windows, not secrets

    def latest() -> None:
        rows = list(
            selectors.latest_observations().values_list("pk", "latest_time", "latest_result")
        )
        assert len(rows) == STREAMS and all(r[1] is not None for r in rows)  # noqa: S101

    def latest_baseline() -> None:
        rows = list(
            Observation.objects.values("datastream_id").annotate(last=Max("phenomenon_time"))
        )
        assert len(rows) == STREAMS  # noqa: S101

    def month_window() -> tuple[int, Any, Any]:
        pk, start = rng.choice(streams)
        begin = start + timedelta(days=rng.randint(0, 3))
        return pk, begin, begin + timedelta(days=30)

    def month() -> None:
        pk, begin, end = month_window()
        buckets = selectors.aggregates_list(datastream_id=pk, period="hour", start=begin, end=end)
        assert len(buckets) == HOURS or OBSERVATIONS < 10_000_000  # noqa: S101

    def month_baseline() -> None:
        pk, begin, end = month_window()
        rows = list(
            Observation.objects.filter(
                datastream_id=pk, phenomenon_time__gte=begin, phenomenon_time__lt=end
            )
            .annotate(hour=TruncHour("phenomenon_time"))
            .values("hour")
            .annotate(
                n=Count("pk"),
                mean=Avg("result_number"),
                low=Min("result_number"),
                high=Max("result_number"),
            )
            .order_by("hour")
        )
        assert len(rows) == HOURS or OBSERVATIONS < 10_000_000  # noqa: S101

    latest()  # warm the cache of the index pages, as a running server has it
    results = {
        "observations": total,
        "datastreams": STREAMS,
        "latest": timed(latest, RUNS),
        "latest_baseline": timed(latest_baseline, 5),
        "month": timed(month, RUNS * 4),
        "month_baseline": timed(month_baseline, RUNS * 4),
        "database": connection.vendor,
    }
    print(json.dumps(results))


def main() -> dict[str, Any]:
    from bench.run import WORK, postgres_fresh

    results: dict[str, Any] = {}
    if not postgres_fresh(POSTGRES_URL):
        say("citydata queries: PostgreSQL not reachable, skipped")
        return results
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }
    out = subprocess.run(
        [sys.executable, __file__, "worker"], env=env, capture_output=True, text=True
    )
    sys.stderr.write(out.stderr)
    out.check_returncode()
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    results["postgresql"] = figures
    latest, base = figures["latest"], figures["latest_baseline"]
    month, month_base = figures["month"], figures["month_baseline"]
    say(
        f"citydata at {figures['observations']:,} observations (PostgreSQL): latest value of "
        f"all {figures['datastreams']:,} datastreams p50 {latest['p50_ms']:.1f} ms, "
        f"p95 {latest['p95_ms']:.1f} ms | baseline GROUP BY over the table: "
        f"p95 {base['p95_ms']:.0f} ms | {base['p95_ms'] / latest['p95_ms']:.0f}x"
    )
    say(
        f"citydata at {figures['observations']:,} observations (PostgreSQL): one month hourly "
        f"(720 buckets) p50 {month['p50_ms']:.2f} ms, p95 {month['p95_ms']:.2f} ms | baseline "
        f"GROUP BY hour over the month's rows: p95 {month_base['p95_ms']:.1f} ms | "
        f"{month_base['p95_ms'] / month['p95_ms']:.0f}x"
    )
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "citydata-queries-results.json").write_text(json.dumps(results))
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        main()
