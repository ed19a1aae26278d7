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

`python bench/cases.py worker SIZE` is the per-database part (one process per database and
size). BENCH_CASES_SIZES overrides the sizes (e.g. "20000,100000" for a quick look);
BENCH_CASES_KEEP=1 keeps the seeded databases of an earlier run and measures them again
(seeding a million cases takes about half an hour on a small machine).
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


def worker(size: int) -> None:
    """In a process whose DATABASE_URL is the database to measure: seed it up to ``size``
    cases (a database kept from an earlier run may have them already), measure, and print
    one JSON line on stdout."""
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
    seeded = Case.objects.count()
    started = time.perf_counter()
    if seeded < size:
        seed_cases(
            count=size - seeded, batch=5000, seed=size + seeded, progress=_progress(seeded, size)
        )
    else:
        say(f"  {seeded:,} cases there already (kept from an earlier run)")
    seed_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
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
    ) or worker.pk  # nobody has cases yet: filter by the caseworker all the same
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
        "open_in_office": Case.objects.filter(office_id=office_id, is_open=1).count(),
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


def run_database(label: str, database_url: str, size: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_VAR_DIR": str(WORK / f"cases-{label}"),
        "RATHAUS_DEMO": "1",
        "RATHAUS_DEBUG": "0",
        "RATHAUS_INPROCESS_WORKER": "0",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    say(f"cases inbox ({label}, {size:,} cases): preparing ...")
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "worker", str(size)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    for line in lines(label, result):
        print(line, flush=True)
    return result


def postgres_database(size: int) -> str | None:
    """The benchmark database for ``size`` cases: kept as it is with BENCH_CASES_KEEP=1 (its
    cases are reused), else dropped and created empty; None when no PostgreSQL answers."""
    import psycopg

    parts = urllib.parse.urlsplit(POSTGRES_URL)
    name = f"{parts.path.lstrip('/')}_{size}"
    admin_url = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not (exists and os.environ.get("BENCH_CASES_KEEP") == "1"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"cases inbox (postgresql): skipped: {type(exc).__name__}: no PostgreSQL")
        return None
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


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
    results: dict[str, list[dict[str, Any]]] = {"postgresql": [], "sqlite": []}
    for size in sizes:
        database = postgres_database(size)
        if database is None:
            break
        results["postgresql"].append(run_database("postgresql", database, size))
    sqlite_file = WORK / "cases-sqlite" / f"cases-{sizes[0]}.sqlite3"
    if os.environ.get("BENCH_CASES_KEEP") != "1":
        for leftover in WORK.glob(f"cases-sqlite/cases-{sizes[0]}.sqlite3*"):
            leftover.unlink()
    results["sqlite"].append(run_database("sqlite", f"sqlite:///{sqlite_file}", sizes[0]))
    if len(results["postgresql"]) > 1:
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
    return {label: runs for label, runs in results.items() if runs}


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(int(sys.argv[2]))
    else:
        main()
