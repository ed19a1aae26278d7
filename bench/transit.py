"""Public transport on the real Ulm feed (../shared/data/gtfs/ulm-swu-2015-16.zip):

- import time, and stop_times rows per second, on SQLite and PostgreSQL;
- departures for the busiest stop (Ehinger Tor): p50/p95 in-process and through the HTTP API
  (gunicorn, one request after the other), next to a straightforward pure-Python version of
  the same query (all of the stop's stop times read, filtered and sorted in Python);
- journeys over 1,000 random origin-destination-time triples: p50/p95 in-process and through
  the HTTP API, next to a straightforward pure-Python planner on the same data (Dijkstra on
  the time-expanded graph, the reference of the tests);
- ÖV-Güteklassen for the whole network (100 m grid).

Targets: journeys p95 under 10 ms in-process, departures p95 under 5 ms.
``python bench/transit.py worker DATABASE_URL`` is the per-database part.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
FEED = ROOT.parent / "shared" / "data" / "gtfs" / "ulm-swu-2015-16.zip"
POSTGRES_URL = os.environ.get(
    "BENCH_TRANSIT_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_transit"
)
JOURNEYS = int(os.environ.get("BENCH_TRANSIT_JOURNEYS", "1000"))
BASELINE_JOURNEYS = int(os.environ.get("BENCH_TRANSIT_BASELINE_JOURNEYS", "200"))
DEPARTURES = int(os.environ.get("BENCH_TRANSIT_DEPARTURES", "300"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def worker(database_url: str) -> None:
    """Import, then measure in-process; prints one JSON object."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection

    from rathaus.transit import routing, selectors, timetable
    from rathaus.transit.models import ServiceDay, Stop, StopTime, Trip
    from rathaus.transit.services import feed_import
    from rathaus.transit.tests.test_journeys import HORIZON, Reference

    call_command("migrate", "--no-input", "-v", "0")
    seconds, version = timed(feed_import, source=str(FEED), slug="swu")
    rows = version.report["imported"]["stop_times.txt"]
    result: dict[str, Any] = {
        "vendor": connection.vendor,
        "import_s": seconds / 1000,
        "stop_times": rows,
        "skipped": sum(p["count"] for p in version.report["skipped"].values()),
    }
    day = selectors.busiest_weekday()
    assert day is not None  # noqa: S101 - the feed has weekdays
    stop = selectors.stop_get("9001350")  # Ehinger Tor, the busiest station
    rng = random.Random(1)  # noqa: S311 - reproducible benchmark input
    midnight = selectors.service_midnight(day)
    moments = [
        midnight + timedelta(seconds=rng.randrange(5 * 3600, 22 * 3600)) for _ in range(DEPARTURES)
    ]
    selectors.departures(stop, at=moments[0])
    ours = [timed(selectors.departures, stop, at=m, limit=20)[0] for m in moments]

    def plain_departures(at: Any) -> list[tuple[int, int]]:
        """The same query, straightforwardly: every stop time of the stop into Python."""
        service_day, now = selectors.seconds_of(at)
        running = set(
            ServiceDay.objects.filter(version=stop.version_id, date=service_day).values_list(
                "service_id", flat=True
            )
        )
        platforms = [p.pk for p in selectors.stop_platforms(stop)]
        found = [
            (departure, trip)
            for departure, trip, service, last in StopTime.objects.filter(
                stop__in=platforms
            ).values_list("departure", "trip_id", "trip__service_id", "last")
            if service in running and now <= departure < now + 3 * 3600 and not last
        ]
        return sorted(found)[:20]

    plain = [timed(plain_departures, m)[0] for m in moments]
    result["departures"] = {"ours_ms": ours, "plain_ms": plain}

    net = timetable.network()
    service = timetable.day(day)
    reference = Reference(net, day)
    boardable = sorted(s for s, departures in reference.boardings.items() if departures)
    triples = []
    while len(triples) < JOURNEYS:
        origin, target = rng.choice(boardable), rng.choice(boardable)
        if origin != target:
            triples.append((origin, target, rng.randrange(5 * 3600, 22 * 3600)))
    journey_ms = []
    for origin, target, start in triples:
        query = routing.Query(sources={origin: 0}, targets={target: 0}, time=start, horizon=HORIZON)
        journey_ms.append(timed(routing.pareto, service.forward, net.footpaths, query)[0])
    plain_ms = [
        timed(reference.earliest_arrival, origin, target, start)[0]
        for origin, target, start in triples[:BASELINE_JOURNEYS]
    ]
    result["journeys"] = {"ours_ms": journey_ms, "plain_ms": plain_ms}
    stops = Stop.objects.in_bulk(net.stop_pk)
    result["journey_refs"] = [
        (
            selectors.stop_ref(stops[net.stop_pk[o]]),
            selectors.stop_ref(stops[net.stop_pk[t]]),
            selectors.at_seconds(day, s).isoformat(),
        )
        for o, t, s in triples
    ]
    result["day"] = day.isoformat()
    seconds, report = timed(selectors.quality_report, day=day)
    result["quality_s"] = seconds / 1000
    result["quality_cells"] = len(report.cells)
    result["quality_stops"] = sum(1 for r in report.ratings if r.category)
    result["trips"] = Trip.objects.count()
    print(json.dumps(result))


def run_database(database_url: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url, "RATHAUS_LOG_LEVEL": "WARNING"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    out = subprocess.run(
        [sys.executable, __file__, "worker", database_url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def http_figures(database_url: str, data: dict[str, Any]) -> dict[str, list[float]]:
    """Departures and journeys through gunicorn (one worker), one request at a time."""
    from bench.run import gunicorn

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "RATHAUS_RATELIMIT_TRANSIT": "100000/m",
        "RATHAUS_RATELIMIT_TRANSIT_JOURNEYS": "100000/m",
        "RATHAUS_SECRET_KEY": "bench-transit",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    figures: dict[str, list[float]] = {"departures": [], "journeys": []}
    with gunicorn(env, 1) as base:
        rng = random.Random(2)  # noqa: S311 - reproducible benchmark input

        def get(url: str) -> float:
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - localhost
                response.read()
                if response.status != 200:
                    raise SystemExit(f"{url}: HTTP {response.status}")
            return (time.perf_counter() - started) * 1000

        day = data["day"]
        for _ in range(3):  # warm the process's timetable
            get(
                f"{base}/api/v1/transit/journeys?from=9001350&to=9001008&depart={day}T08:00:00%2B01:00"
            )
        for _ in range(DEPARTURES):
            at = f"{day}T{rng.randrange(5, 22):02d}:{rng.randrange(60):02d}:00+01:00"
            query = urllib.parse.urlencode({"at": at})
            figures["departures"].append(
                get(f"{base}/api/v1/transit/stops/9001350/departures?{query}")
            )
        for origin, target, depart in data["journey_refs"]:
            query = urllib.parse.urlencode({"from": origin, "to": target, "depart": depart})
            figures["journeys"].append(get(f"{base}/api/v1/transit/journeys?{query}"))
    return figures


def report(label: str, data: dict[str, Any], http: dict[str, list[float]] | None) -> None:
    rate = data["stop_times"] / data["import_s"]
    print(
        f"transit import Ulm ({label}): {data['import_s']:.1f} s, {data['stop_times']:,} stop_times "
        f"({rate:,.0f} rows/s), {data['skipped']} rows skipped and reported",
        flush=True,
    )
    deps, plain = data["departures"]["ours_ms"], data["departures"]["plain_ms"]
    print(
        f"transit departures Ehinger Tor ({label}), in-process: p50 {percentile(deps, 50):.2f} ms, "
        f"p95 {percentile(deps, 95):.2f} ms (target < 5); straightforward Python: p50 "
        f"{percentile(plain, 50):.2f} ms, p95 {percentile(plain, 95):.2f} ms "
        f"({percentile(plain, 95) / percentile(deps, 95):.1f}x)",
        flush=True,
    )
    ours, base = data["journeys"]["ours_ms"], data["journeys"]["plain_ms"]
    print(
        f"transit journeys {len(ours)} random triples ({label}), in-process CSA: p50 "
        f"{percentile(ours, 50):.2f} ms, p95 {percentile(ours, 95):.2f} ms (target < 10); "
        f"straightforward Python (Dijkstra, {len(base)} of them): p50 {percentile(base, 50):.2f} ms, "
        f"p95 {percentile(base, 95):.2f} ms ({percentile(base, 95) / percentile(ours, 95):.1f}x)",
        flush=True,
    )
    if http:
        for name in ("departures", "journeys"):
            values = http[name]
            print(
                f"transit {name} via HTTP API ({label}, gunicorn, {len(values)} requests): "
                f"p50 {percentile(values, 50):.2f} ms, p95 {percentile(values, 95):.2f} ms",
                flush=True,
            )
    print(
        f"transit ÖV-Güteklassen whole network ({label}): {data['quality_s']:.2f} s for "
        f"{data['quality_stops']} rated stops and {data['quality_cells']:,} grid cells of 100 m",
        flush=True,
    )


def main() -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    sqlite_file = WORK / "transit.sqlite3"
    for leftover in WORK.glob("transit.sqlite3*"):
        leftover.unlink()
    say("transit: SQLite ...")
    sqlite_url = f"sqlite:///{sqlite_file}"
    results["sqlite"] = run_database(sqlite_url)
    results["sqlite_http"] = http_figures(sqlite_url, results["sqlite"])
    report("SQLite", results["sqlite"], results["sqlite_http"])
    from bench.run import postgres_fresh

    if postgres_fresh(POSTGRES_URL):
        say("transit: PostgreSQL ...")
        results["postgresql"] = run_database(POSTGRES_URL)
        results["postgresql_http"] = http_figures(POSTGRES_URL, results["postgresql"])
        report("PostgreSQL", results["postgresql"], results["postgresql_http"])
    else:
        say("transit: PostgreSQL not reachable, skipped")
    (WORK / "transit-results.json").write_text(json.dumps(results))
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        main()
