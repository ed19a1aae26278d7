"""The back office's inbox at scale: p50/p95 of the inbox page (the whole request: middleware,
gate, queries, template) for the busiest office, at 100,000 and 1,000,000 cases on PostgreSQL
and at 100,000 on SQLite, with the number of queries per request. Requests:

- first page: the default view (all open cases, by due date);
- filtered: one status and one caseworker, third page, sorted by priority;
- overdue: the saved view "Überfällig";
- name search: whole words of a name through the blind index ("Anna Müller", a rare name);
- reference search: a reference number typed in lower case.

Baseline in the same run: the bare ORM read of 25 cases of the office by primary key (the
floor any list page stands on). Target: p95 under 100 ms at 1,000,000 cases on PostgreSQL,
the same order of magnitude as at 100,000.

`python bench/cases.py worker SIZES` is the per-database part (one process per database).
BENCH_CASES_SIZES overrides the sizes (e.g. "20000,100000" for a quick look).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
POSTGRES_URL = os.environ.get(
    "BENCH_CASES_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_cases"
)
RUNS = int(os.environ.get("BENCH_CASES_RUNS", "150"))
TARGET_MS = 100.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _progress(already: int, size: int) -> Any:
    """A progress line every 20 seconds while seeding."""
    last = [0.0]

    def progress(done: int, _total: int) -> None:
        if time.perf_counter() - last[0] > 20:
            last[0] = time.perf_counter()
            say(f"  seeding {already + done:,}/{size:,}")

    return progress


def worker(sizes: list[int]) -> None:
    """In a process whose DATABASE_URL is the database to measure: seed up to each size,
    measure, go on; one JSON line per size on stdout."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from rathaus.accounts.models import OfficeMembership, User
    from rathaus.cases.models import Case
    from rathaus.cases.seeding import seed_cases

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed-demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    say(f"  seed-demo in {time.perf_counter() - started:.0f} s")
    seeded = 0
    for size in sizes:
        started = time.perf_counter()
        seed_cases(count=size - seeded, batch=5000, seed=size, progress=_progress(seeded, size))
        seed_seconds = time.perf_counter() - started
        seeded = size
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        busiest = (
            Case.objects.values("office_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .values_list("office_id", "n")[0]
        )
        office_id, office_cases = busiest
        worker = (
            User.objects.filter(memberships__office_id=office_id, memberships__role="caseworker")
            .order_by("pk")
            .first()
        )
        if worker is None:  # the seeding office has no caseworker: give it one
            worker = User.objects.filter(memberships__isnull=False).order_by("pk").first()
            assert worker is not None  # noqa: S101 - seed-demo made some
            OfficeMembership.objects.get_or_create(user=worker, office_id=office_id)
        colleague = (
            Case.objects.filter(office_id=office_id, assignee__isnull=False)
            .values_list("assignee_id", flat=True)
            .first()
        )
        reference = (
            Case.objects.filter(office_id=office_id).order_by("-pk").values_list("reference")[0][0]
        )
        inbox = f"/verwaltung/vorgaenge/stelle/{office_id}/"
        requests = {
            "first page": inbox,
            "filtered": inbox
            + f"?status=in_progress&bearbeitung={colleague}&sortierung=priority&seite=3",
            "overdue": inbox + "?ansicht=ueberfaellig",
            "name search": [
                inbox + "?" + urllib.parse.urlencode({"suche": name})
                for name in ("Anna Müller", "Ostbrink", "mueller", "Łucja Nguyen")
            ],
            "reference search": inbox
            + "?"
            + urllib.parse.urlencode({"suche": reference.lower().replace("-", " ")}),
        }
        client = Client()
        client.force_login(worker)
        result: dict[str, Any] = {
            "cases": Case.objects.count(),
            "office_cases": office_cases,
            "open_in_office": Case.objects.filter(office_id=office_id, is_open=True).count(),
            "seed_seconds": seed_seconds,
            "requests": {},
        }
        for label, urls in requests.items():
            urls = urls if isinstance(urls, list) else [urls]
            for url in urls * 3:  # warm-up
                assert client.get(url).status_code == 200, url  # noqa: S101
            times, queries = [], []
            for run in range(RUNS):
                url = urls[run % len(urls)]
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200  # noqa: S101
                queries.append(len(captured.captured_queries))
            result["requests"][label] = {"ms": times, "queries": max(queries)}
        floor = []
        for _run in range(RUNS):
            start = time.perf_counter()
            list(Case.objects.filter(office_id=office_id).order_by("pk")[:25])
            floor.append((time.perf_counter() - start) * 1000)
        result["baseline_ms"] = floor
        print(json.dumps(result), flush=True)


def run_database(label: str, database_url: str, sizes: list[int]) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_VAR_DIR": str(WORK / f"cases-{label}"),
        "RATHAUS_DEMO": "1",
        "RATHAUS_DEBUG": "0",
        "RATHAUS_INPROCESS_WORKER": "0",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    say(f"cases inbox ({label}): seeding {', '.join(f'{s:,}' for s in sizes)} cases ...")
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "worker", ",".join(map(str, sizes))],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.strip().splitlines() if line.startswith("{")]


def fresh_postgres() -> str | None:
    import psycopg

    parts = urllib.parse.urlsplit(POSTGRES_URL)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"cases inbox (postgresql): skipped: {type(exc).__name__}: no PostgreSQL")
        return None
    return POSTGRES_URL


def lines(label: str, result: dict[str, Any]) -> list[str]:
    base = result["baseline_ms"]
    out = [
        f"cases inbox ({label}, {result['cases']:,} cases; busiest office "
        f"{result['office_cases']:,}, {result['open_in_office']:,} open; seeded in "
        f"{result['seed_seconds']:.0f} s) | baseline bare ORM read of 25 cases: p50 "
        f"{statistics.median(base):.2f} ms, p95 {percentile(base, 95):.2f} ms"
    ]
    for name, figures in result["requests"].items():
        ms = figures["ms"]
        out.append(
            f"  {name}: p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
            f"{figures['queries']} queries per request (target: p95 under {TARGET_MS:.0f} ms)"
        )
    return out


def main() -> dict[str, list[dict[str, Any]]]:
    sizes = [int(s) for s in os.environ.get("BENCH_CASES_SIZES", "100000,1000000").split(",")]
    (WORK / "cases-sqlite").mkdir(parents=True, exist_ok=True)
    sqlite_file = WORK / "cases-sqlite" / "cases.sqlite3"
    for leftover in WORK.glob("cases-sqlite/cases.sqlite3*"):
        leftover.unlink()
    results: dict[str, list[dict[str, Any]]] = {}
    postgres = fresh_postgres()
    if postgres:
        results["postgresql"] = run_database("postgresql", postgres, sizes)
    results["sqlite"] = run_database("sqlite", f"sqlite:///{sqlite_file}", sizes[:1])
    for label, runs in results.items():
        for result in runs:
            for line in lines(label, result):
                print(line, flush=True)
    if len(results.get("postgresql", [])) > 1:
        small, large = results["postgresql"][0], results["postgresql"][-1]
        for name in large["requests"]:
            ratio = percentile(large["requests"][name]["ms"], 95) / percentile(
                small["requests"][name]["ms"], 95
            )
            print(
                f"cases inbox (postgresql) {name}: p95 at {large['cases']:,} / at "
                f"{small['cases']:,} = {ratio:.2f}x",
                flush=True,
            )
    (WORK / "cases-results.json").write_text(json.dumps(results))
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker([int(s) for s in sys.argv[2].split(",")])
    else:
        main()
