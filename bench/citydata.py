"""Sensor data ingestion (issue 8, first figures): observations per second written through the
SensorThings API's DataArray extension (``POST /api/sta/v1.1/CreateObservations``, 10,000
rows per request, gunicorn with one worker, one request after the other) on PostgreSQL, next
to a same-run baseline of single-row INSERTs of the same observations, each committed on its
own (the way a per-row ingestion path works). Target: at least 50,000 observations/s in bulk.
MQTT ingestion and the 10-million-row queries are still to come.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_CITYDATA_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_citydata"
)
ROWS_PER_REQUEST = 10_000
REQUESTS = int(os.environ.get("BENCH_CITYDATA_REQUESTS", "20"))
SINGLE_ROWS = int(os.environ.get("BENCH_CITYDATA_SINGLE_ROWS", "3000"))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup(database_url: str) -> tuple[int, str]:
    """Migrate, create one datastream and a write token; (datastream id, token)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }
    out = subprocess.run(
        [sys.executable, __file__, "setup"], env=env, check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return int(data["datastream"]), str(data["token"])


def setup_worker() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from rathaus.citydata.ingest import write_token_create
    from rathaus.citydata.models import Datastream, ObservedProperty, Sensor, Thing

    call_command("migrate", "--no-input", "-v", "0")
    stream = Datastream.objects.create(
        name="bench",
        unit_of_measurement={"name": "Anzahl", "symbol": "1", "definition": ""},
        thing=Thing.objects.create(name="bench"),
        sensor=Sensor.objects.create(name="bench"),
        observed_property=ObservedProperty.objects.create(name="bench", definition="x"),
    )
    print(
        json.dumps(
            {"datastream": stream.pk, "token": write_token_create(name="bench", actor=None)[1]}
        )
    )


def single_rows_worker(stream: int) -> None:
    """The baseline: one INSERT per observation, each its own transaction."""
    import django

    django.setup()
    from rathaus.citydata.models import Observation

    start = datetime(2020, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for i in range(SINGLE_ROWS):
        Observation.objects.create(
            datastream_id=stream, phenomenon_time=start + timedelta(seconds=i), result_number=i
        )
    print(json.dumps({"per_s": SINGLE_ROWS / (time.perf_counter() - began)}))


def main() -> dict[str, Any]:
    from bench.run import gunicorn, postgres_fresh

    if not postgres_fresh(POSTGRES_URL):
        say("citydata: PostgreSQL not reachable, skipped")
        return {}
    stream, token = setup(POSTGRES_URL)
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "RATHAUS_SECRET_KEY": "bench-citydata",
        "ALLOWED_HOSTS": "127.0.0.1",
        "RATHAUS_MAX_REQUEST_BYTES": str(50 * 1024 * 1024),
    }
    start = datetime(2021, 1, 1, tzinfo=UTC)
    bodies = []
    for r in range(REQUESTS):
        rows = [
            [(start + timedelta(seconds=r * ROWS_PER_REQUEST + i)).isoformat(), float(i % 97)]
            for i in range(ROWS_PER_REQUEST)
        ]
        bodies.append(
            json.dumps(
                [
                    {
                        "Datastream": {"@iot.id": stream},
                        "components": ["phenomenonTime", "result"],
                        "dataArray": rows,
                    }
                ]
            ).encode()
        )
    with gunicorn(env, 1) as base:
        began = time.perf_counter()
        for body in bodies:
            request = urllib.request.Request(
                f"{base}/api/sta/v1.1/CreateObservations",
                data=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - localhost
                answer = json.loads(response.read())
                if response.status != 201 or "error" in answer:
                    raise SystemExit(f"CreateObservations failed: {response.status}")
        bulk = REQUESTS * ROWS_PER_REQUEST / (time.perf_counter() - began)
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }
    out = subprocess.run(
        [sys.executable, __file__, "single", str(stream)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    single = float(json.loads(out.stdout.strip().splitlines()[-1])["per_s"])
    print(
        f"citydata ingestion (PostgreSQL): DataArray over HTTP {bulk:,.0f} observations/s "
        f"({REQUESTS} requests of {ROWS_PER_REQUEST:,}; target >= 50,000); single-row INSERTs "
        f"{single:,.0f}/s ({SINGLE_ROWS:,} rows); ratio {bulk / single:.1f}x",
        flush=True,
    )
    return {"postgresql": {"bulk_per_s": bulk, "single_per_s": single}}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["setup"]:
        setup_worker()
    elif sys.argv[1:2] == ["single"]:
        single_rows_worker(int(sys.argv[2]))
    else:
        main()
