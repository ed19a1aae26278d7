"""Sensor data ingestion (issue 8, first figures): observations per second written through the
SensorThings API's DataArray extension (``POST /api/sta/v1.1/CreateObservations``, 10,000
rows per request, gunicorn with one worker, one request after the other) on PostgreSQL, next
to a same-run baseline of single-row INSERTs of the same observations, each committed on its
own (the way a per-row ingestion path works). Target: at least 50,000 observations/s in bulk.

MQTT: a Mosquitto of our own (it must queue 100,000 messages: max_queued_messages 0) holds
N observations published while the subscriber is away, one message per observation on
``v1.1/Datastreams(id)/Observations`` and again as DataArray messages of 1,000 rows on
``v1.1/CreateObservations``; then ``rathaus ingest-mqtt --max-messages`` takes them in and
reports its time (connect, check, write in batches, acknowledge), on the same PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
MQTT_MESSAGES = int(os.environ.get("BENCH_CITYDATA_MQTT_MESSAGES", "100000"))
MQTT_ROWS_PER_ARRAY = 1000


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
    mqtt = bench_mqtt(stream)
    print(
        f"citydata ingestion (PostgreSQL): DataArray over HTTP {bulk:,.0f} observations/s "
        f"({REQUESTS} requests of {ROWS_PER_REQUEST:,}; target >= 50,000); single-row INSERTs "
        f"{single:,.0f}/s ({SINGLE_ROWS:,} rows); ratio {bulk / single:.1f}x",
        flush=True,
    )
    if mqtt:
        print(
            f"citydata ingestion over MQTT (PostgreSQL, Mosquitto, QoS 1, one subscriber): "
            f"one observation per message {mqtt['mqtt_single_per_s']:,.0f} observations/s, "
            f"DataArray messages of {MQTT_ROWS_PER_ARRAY:,} rows {mqtt['mqtt_array_per_s']:,.0f}/s "
            f"({MQTT_MESSAGES:,} observations each; target >= 50,000); same-run HTTP "
            f"DataArray {bulk:,.0f}/s, single-row INSERTs {single:,.0f}/s",
            flush=True,
        )
    return {"postgresql": {"bulk_per_s": bulk, "single_per_s": single, **mqtt}}


@contextmanager
def mosquitto() -> Iterator[int | None]:
    """A Mosquitto of our own on a free port that queues without limit (its default keeps
    1,000 messages per absent subscriber); None without the binary."""
    from bench.run import WORK, free_port

    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )
    if binary is None:
        yield None
        return
    port = free_port()
    WORK.mkdir(parents=True, exist_ok=True)
    conf = WORK / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\n"
    )
    broker = subprocess.Popen(  # noqa: S603 - our binary, our config
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(0.5)
        yield port
    finally:
        broker.terminate()
        broker.wait(10)


def publish(port: int, messages: list[tuple[str, str]]) -> None:
    """QoS 1, waiting for every PUBACK: the broker holds them all."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = []
    for i, (topic, payload) in enumerate(messages):
        if i >= 20_000:  # packet ids are 16 bits
            infos[i - 20_000].wait_for_publish(120)
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def ingest_mqtt(env: dict[str, str], messages: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "rathaus"),
            "ingest-mqtt",
            "--json",
            "--progress",
            "3600",
            *(["--max-messages", str(messages)] if messages else ["--seconds", "3"]),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_mqtt(stream: int) -> dict[str, float]:
    with mosquitto() as port:
        if port is None:
            say("citydata: no mosquitto binary (apt-get install mosquitto), MQTT not measured")
            return {}
        env = {
            **os.environ,
            "DATABASE_URL": POSTGRES_URL,
            "RATHAUS_LOG_LEVEL": "WARNING",
            "RATHAUS_MQTT_URL": f"mqtt://127.0.0.1:{port}",
            "RATHAUS_MQTT_CLIENT_ID": "bench-ingest",
        }
        ingest_mqtt(env, 0)  # the session: the broker keeps what comes while we are away
        start = datetime(2022, 1, 1, tzinfo=UTC)
        topic = f"v1.1/Datastreams({stream})/Observations"
        publish(
            port,
            [
                (
                    topic,
                    json.dumps(
                        {
                            "phenomenonTime": (start + timedelta(seconds=i)).isoformat(),
                            "result": float(i % 97),
                        }
                    ),
                )
                for i in range(MQTT_MESSAGES)
            ],
        )
        single = ingest_mqtt(env, MQTT_MESSAGES)
        if single["written"] != MQTT_MESSAGES:
            raise SystemExit(f"MQTT: {single['written']} of {MQTT_MESSAGES} written")
        start = datetime(2023, 1, 1, tzinfo=UTC)
        arrays = MQTT_MESSAGES // MQTT_ROWS_PER_ARRAY
        publish(
            port,
            [
                (
                    "v1.1/CreateObservations",
                    json.dumps(
                        [
                            {
                                "Datastream": {"@iot.id": stream},
                                "components": ["phenomenonTime", "result"],
                                "dataArray": [
                                    [
                                        (
                                            start + timedelta(seconds=m * MQTT_ROWS_PER_ARRAY + i)
                                        ).isoformat(),
                                        float(i % 97),
                                    ]
                                    for i in range(MQTT_ROWS_PER_ARRAY)
                                ],
                            }
                        ]
                    ),
                )
                for m in range(arrays)
            ],
        )
        array = ingest_mqtt(env, arrays)
        if array["written"] != arrays * MQTT_ROWS_PER_ARRAY:
            raise SystemExit(f"MQTT DataArray: {array['written']} written")
    return {
        "mqtt_single_per_s": MQTT_MESSAGES / single["seconds"],
        "mqtt_array_per_s": arrays * MQTT_ROWS_PER_ARRAY / array["seconds"],
        "mqtt_single_batches": single["batches"],
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["setup"]:
        setup_worker()
    elif sys.argv[1:2] == ["single"]:
        single_rows_worker(int(sys.argv[2]))
    else:
        main()
