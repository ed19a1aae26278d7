"""`make bench`: every benchmark, one line per figure, each next to a baseline measured in the
same run (these machines are noisy; ratios hold, absolute numbers do not).

1. Home page under load (wrk against gunicorn), next to a bare Django view returning "ok"
   served by the same processes: requests/s and p99 latency, and the ratio.
2. Catalogue search (bench/search.py): p50/p95 through the search service and the HTTP API
   on SQLite and PostgreSQL, next to name__icontains; import time; same results on both.
3. Forms (bench/forms.py): FIM import time; validation of a complete Gewerbeanmeldung with the
   compiled validator next to uncompiled jsonschema; rendering of its largest step.
4. Submissions (bench/submissions.py): complete Gewerbeanmeldung submissions under load on
   SQLite and PostgreSQL next to a bare inserting view; the receipt PDF next to WeasyPrint.
5. Cases (bench/cases.py): the back office's inbox (first page, filtered, overdue, name and
   reference search) at 100,000 and 1,000,000 cases on PostgreSQL and 100,000 on SQLite, with
   queries per request, next to a bare ORM read of 25 cases.
6. Transit (bench/transit.py): the Ulm GTFS feed's import, departures and 1,000 journeys
   in-process and through the HTTP API next to straightforward pure-Python versions, and the
   ÖV-Güteklassen of the whole network, on SQLite and PostgreSQL.
7. City data (bench/citydata.py): observations per second through the SensorThings DataArray
   extension over HTTP and over MQTT (one observation per message and DataArray messages) on
   PostgreSQL, next to single-row INSERTs; at 10 million observations (bench/citydata_queries.py)
   the latest value of every datastream and a one-month hourly aggregate, next to the same
   answers computed from the raw observations.
8. Digital economy (bench/economy.py): directory search, map data and relation walks at 10,000
   organisations and 50,000 relations next to unindexed queries, and registrations per second
   for one popular event from 8 threads next to one, with the overbooked seats counted (0).
9. Innovation competitions (bench/innovation.py): the ranking of a phase and the staff's
   progress page data at 2,000 entries, 60 evaluators and 4 evaluations per entry, next to a
   naive computation with a query per entry, evaluation and evaluator.
10. Funding register (bench/funding.py): the deadline calendar (first page, the iCal feed) and
   the matching of calls at 5,000 programmes, 20,000 calls and 2,000 applications on
   PostgreSQL and SQLite, next to a naive version that filters and sorts in Python.
11. Strategy dashboard (bench/strategy.py): the public dashboard of a strategy with 500
   measures, 3,000 milestones and 200 KPIs with 10 years of monthly values (first page,
   filtered, a later KPI page, a measure's and a KPI's page) with queries per request, on
   PostgreSQL and SQLite, next to a naive dashboard that reads the live tables with a query per
   measure and per KPI and renders the same template.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "bench"
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "8")


def say(text: str) -> None:
    print(text, flush=True)


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing the load generator wrk (apt-get) ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("make bench needs the load generator wrk: sudo apt-get install wrk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_fresh(url: str) -> bool:
    """Drop and create the database of ``url`` (empty for a benchmark); False when no
    PostgreSQL answers."""
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(
            admin.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return False
    return True


def on_both_databases(
    name: str,
    script: str,
    postgres_url: str,
    table: Callable[[dict[str, Any]], list[str]],
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``script worker`` on a fresh PostgreSQL database (when one answers) and on a fresh
    SQLite file, each in its own process that prints its figures as JSON on its last line;
    print each database's ``table`` and keep the figures in ``WORK/<name>-results.json``."""

    def run(label: str, url: str) -> dict[str, Any]:
        print(f"{name}: filling {label} ...", file=sys.stderr, flush=True)
        worker_env = {
            **os.environ,
            "DATABASE_URL": url,
            "RATHAUS_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "rathaus.settings",
            **(env or {}),
        }
        out = subprocess.run(
            [sys.executable, script, "worker"], env=worker_env, capture_output=True, text=True
        )
        sys.stderr.write(out.stderr)
        out.check_returncode()
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    results: dict[str, Any] = {}
    if postgres_fresh(postgres_url):
        results["postgresql"] = run("PostgreSQL", postgres_url)
    else:
        print(f"{name}: PostgreSQL not reachable, skipped", file=sys.stderr, flush=True)
    folder = WORK / f"{name}-sqlite"
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f"{name}.sqlite3*"):
        leftover.unlink()
    results["sqlite"] = run("SQLite", f"sqlite:///{folder / f'{name}.sqlite3'}")
    for figures in results.values():
        for line in table(figures):
            print(line, file=sys.stderr, flush=True)
    (WORK / f"{name}-results.json").write_text(json.dumps(results))
    return results


def prepare_database(env: dict[str, str]) -> None:
    say("preparing the benchmark database (SQLite, Leipzig demo city) ...")
    rathaus = str(VENV_BIN / "rathaus")
    subprocess.run([rathaus, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    subprocess.run(
        [rathaus, "seed-demo", "--allow-outside-demo"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"server at {url} did not come up")


@contextmanager
def gunicorn(env: dict[str, str], workers: int | str) -> Iterator[str]:
    """A gunicorn serving rathaus.wsgi with ``env`` on a free local port: its base address."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "rathaus.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/healthz")
        yield base
    finally:
        server.terminate()
        server.wait(15)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(
    wrk: str, url: str, script: Path | None = None, *, warm_up: bool = True, duration: str = ""
) -> dict[str, float]:
    extra = ["-s", str(script)] if script else []
    if warm_up:
        subprocess.run(
            [wrk, "-t1", f"-c{CONNECTIONS}", "-d2s", *extra, url],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    out = subprocess.run(
        [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{duration or DURATION}", "--latency", *extra, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else float("nan"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def bench_home_page(wrk: str) -> dict[str, object]:
    WORK.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
        "RATHAUS_VAR_DIR": str(WORK),
        "RATHAUS_DEMO": "0",
    }
    prepare_database(env)
    workers = str(os.cpu_count() or 2)
    with gunicorn(env, workers) as base:
        baseline = run_wrk(wrk, base + "/bench/ok")
        home = run_wrk(wrk, base + "/")
    return {"home": home, "baseline_ok": baseline, "workers": workers}


def main() -> None:
    wrk = ensure_wrk()
    started = time.monotonic()
    result = bench_home_page(wrk)
    home, ok = result["home"], result["baseline_ok"]
    assert isinstance(home, dict) and isinstance(ok, dict)
    say(
        f"home page: {home['rps']:.0f} req/s, p99 {home['p99_ms']:.1f} ms | "
        f"baseline bare view 'ok': {ok['rps']:.0f} req/s, p99 {ok['p99_ms']:.1f} ms | "
        f"ratio home/ok {home['rps'] / ok['rps']:.2f} (gunicorn {result['workers']} workers, "
        f"wrk 1 thread {CONNECTIONS} connections {DURATION}, non-2xx {home['non_2xx']:.0f})"
    )
    (WORK / "results.json").write_text(json.dumps(result, indent=2))
    sys.path.insert(0, str(ROOT))  # bench/ is a package of the repository, not installed
    from bench import search

    searched = search.main()
    from bench import forms

    forms.main()
    from bench import submissions

    submitted = submissions.main(wrk)
    from bench import cases

    inboxes = cases.main()
    from bench import transit

    transport = transit.main()
    from bench import citydata

    sensors = citydata.main()
    from bench import citydata_queries

    sensor_queries = citydata_queries.main()
    from bench import economy

    ecosystem = economy.main()
    from bench import innovation

    competitions = innovation.main()
    from bench import funding

    funds = funding.main()
    from bench import strategy

    progress = strategy.main()
    runs = (
        searched,
        submitted,
        inboxes,
        transport,
        sensors,
        sensor_queries,
        ecosystem,
        competitions,
        funds,
        progress,
    )
    skipped = sum(0 if "postgresql" in r else 1 for r in runs)
    say(
        f"bench: {2 + sum(len(r) for r in runs)} benchmark runs done, "
        f"{skipped} skipped"
        f"{' (PostgreSQL not reachable)' if skipped else ''}, 0 rejected, "
        f"in {time.monotonic() - started:.0f} s (details in {WORK})"
    )


if __name__ == "__main__":
    main()
