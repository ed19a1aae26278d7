"""Catalogue search latency on the full LeiKa catalogue (4,813 services), on SQLite and on
PostgreSQL: through the search service and through the HTTP API, next to a plain
``name__icontains`` query measured in the same run; plus the import time and whether both
databases return the same results.

Run by bench/run.py; `python bench/search.py worker` is the per-database part (settings are
read once per process, so each database gets its own process).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "bench"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench"
)
QUERY_COUNT = 520


def realistic_queries(names: list[str], everyday: list[str]) -> list[str]:
    """What people type: everyday phrases, then words and pairs of words from service names,
    lower-cased, some with one letter missing, some with a verb people add."""
    rng = random.Random(2026)  # noqa: S311 - a fixed sample, not security
    queries = list(everyday)
    verbs = ["beantragen", "anmelden", "verlängern", "", "", ""]
    while len(queries) < QUERY_COUNT:
        words = [
            w for w in names[rng.randrange(len(names))].split() if len(w) > 3 and w[0].isalpha()
        ]
        if not words:
            continue
        kind = rng.randrange(4)
        if kind == 0:
            query = words[0]
        elif kind == 1:
            query = " ".join(words[:2])
        elif kind == 2:
            word = words[0]
            cut = rng.randrange(1, len(word) - 1)
            query = word[:cut] + word[cut + 1 :]  # a letter missing
        else:
            query = f"{words[0].lower()} {rng.choice(verbs)}".strip()
        queries.append(query)
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(function: Any, queries: list[str]) -> list[float]:
    times = []
    for query in queries:
        start = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - start) * 1000)
    return times


def worker() -> None:
    """In a process whose DATABASE_URL is the database to measure."""
    import django

    django.setup()
    from django.core.management import call_command

    from rathaus.catalog.management.commands import import_leika_path
    from rathaus.catalog.models import Service
    from rathaus.catalog.selectors import service_name_contains, service_search
    from rathaus.catalog.services import leika_import
    from rathaus.catalog.tests.test_search import EVERYDAY_QUERIES

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    report = leika_import(path=import_leika_path())
    import_seconds = time.perf_counter() - start
    names = list(Service.objects.order_by("leika_key").values_list("name", flat=True))
    queries = realistic_queries(names, [q for q, _ in EVERYDAY_QUERIES])

    def search(query: str) -> list[str]:
        return [s.leika_key for s in service_search(query=query, limit=20).services]

    top10 = {q: search(q)[:10] for q in queries}  # warm-up and the answers to compare
    service_ms = timed(search, queries)
    baseline_ms = timed(lambda q: service_name_contains(query=q, limit=20), queries)
    print(
        json.dumps(
            {
                "services": Service.objects.count(),
                "import_seconds": import_seconds,
                "import_created": report.created,
                "queries": queries,
                "top10": top10,
                "service_ms": service_ms,
                "baseline_ms": baseline_ms,
            }
        )
    )


def http_times(env: dict[str, str], queries: list[str]) -> list[float]:
    """The same queries through /api/v1/services on a gunicorn worker (one request at a time)."""

    from bench.run import gunicorn

    with gunicorn({**env, "RATHAUS_LOG_LEVEL": "WARNING"}, 1) as server:
        base = f"{server}/api/v1/services?limit=20&q="
        for query in queries[:50]:  # warm-up
            urllib.request.urlopen(base + urllib.parse.quote(query), timeout=10).read()  # noqa: S310
        return timed(
            lambda q: urllib.request.urlopen(base + urllib.parse.quote(q), timeout=10).read(),  # noqa: S310
            queries,
        )


def run_database(label: str, database_url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_VAR_DIR": str(WORK / label),
        "RATHAUS_DEMO": "0",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "worker"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["http_ms"] = http_times(env, result["queries"])
    return result


def fresh_postgres() -> str | None:
    """A new, empty benchmark database, or None when no PostgreSQL answers."""
    import psycopg

    parts = urllib.parse.urlsplit(POSTGRES_URL)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(
            f"search (postgresql): skipped: {type(exc).__name__}: no PostgreSQL at {POSTGRES_URL}"
        )
        return None
    return POSTGRES_URL


def summary(label: str, result: dict[str, Any]) -> list[str]:
    s, b, h = result["service_ms"], result["baseline_ms"], result["http_ms"]
    n = len(result["queries"])
    return [
        f"import-leika ({label}): {result['import_created']} services in "
        f"{result['import_seconds']:.1f} s (target: under 60 s)",
        f"search ({label}, service): p50 {statistics.median(s):.2f} ms, p95 {percentile(s, 95):.2f} ms "
        f"over {n} queries | baseline name__icontains p50 {statistics.median(b):.2f} ms, "
        f"p95 {percentile(b, 95):.2f} ms | p95 ratio {percentile(s, 95) / percentile(b, 95):.1f}x "
        f"(target: p95 under 10 ms)",
        f"search ({label}, HTTP API /api/v1/services): p50 {statistics.median(h):.2f} ms, "
        f"p95 {percentile(h, 95):.2f} ms over {n} requests",
    ]


def main() -> dict[str, Any]:
    (WORK / "sqlite").mkdir(parents=True, exist_ok=True)
    sqlite_file = WORK / "sqlite" / "search.sqlite3"
    for leftover in WORK.glob("sqlite/search.sqlite3*"):
        leftover.unlink()
    results = {"sqlite": run_database("sqlite", f"sqlite:///{sqlite_file}")}
    postgres = fresh_postgres()
    if postgres:
        results["postgresql"] = run_database("postgresql", postgres)
    for label, result in results.items():
        for line in summary(label, result):
            print(line, flush=True)
    if "postgresql" in results:
        a, b = results["sqlite"]["top10"], results["postgresql"]["top10"]
        same = sum(a[q] == b.get(q) for q in a)
        print(f"search results SQLite vs PostgreSQL: {same}/{len(a)} queries with the same top 10")
    (WORK / "search-results.json").write_text(
        json.dumps({k: {x: v for x, v in r.items() if x != "top10"} for k, r in results.items()})
    )
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        main()
