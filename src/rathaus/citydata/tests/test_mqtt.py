"""Ingestion over MQTT against a real Mosquitto: what is published is stored (once), bad
messages are rejected with their reasons without holding up good ones, nothing acknowledged
is lost when the subscriber dies or the database fails, and a flood is taken in completely
with a bounded queue.

The broker: the Mosquitto listening on 127.0.0.1:1883 (this machine, CI), or else one started
here from the mosquitto binary on a free port (RATHAUS_TEST_MQTT_START=1 forces that). Without
either the tests fail, saying how to install it: a skipped tier would go unnoticed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, OperationalError
from django.test import override_settings
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from rathaus.citydata import ingest
from rathaus.citydata import mqtt as citydata_mqtt
from rathaus.citydata.models import Datastream, Observation
from rathaus.citydata.mqtt import (
    MqttConfig,
    Stats,
    Subscriber,
    config_from_settings,
    parse_mqtt_url,
    session_forget,
)

pytestmark = pytest.mark.django_db(transaction=True)

INSTALL = (
    "The MQTT tests need Mosquitto: none listens on 127.0.0.1:1883 and no mosquitto binary "
    "was found to start one. Install it: sudo apt-get install mosquitto"
)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _mosquitto_binary() -> str:
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )
    if binary is None:
        pytest.fail(INSTALL)
    return binary


@contextmanager
def _mosquitto(folder: Path, settings: str = "") -> Iterator[tuple[str, int]]:
    """A Mosquitto of our own on a free port, stopped afterwards."""
    binary = _mosquitto_binary()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{settings}"
    )
    log = folder / "mosquitto.log"
    with log.open("w") as err:
        process = subprocess.Popen(  # noqa: S603 - our own binary and config
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + 10
        while not _listening("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mosquitto did not start: {log.read_text()}")
            time.sleep(0.05)
        yield ("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    if not os.environ.get("RATHAUS_TEST_MQTT_START") and _listening("127.0.0.1", 1883):
        yield ("127.0.0.1", 1883)
        return
    with _mosquitto(tmp_path_factory.mktemp("mosquitto")) as address:
        yield address


@pytest.fixture(scope="session")
def roomy_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A broker that queues what a slow subscriber has not taken yet, as docs/citydata.md
    asks for in production: Mosquitto's default (max_queued_messages 1000) drops messages
    beyond that, which no subscriber can prevent."""
    with _mosquitto(tmp_path_factory.mktemp("mosquitto-roomy"), "max_queued_messages 0\n") as a:
        yield a


@pytest.fixture
def config(broker: tuple[str, int]) -> Iterator[MqttConfig]:
    """A client id and topic prefix of this test alone: runs never see each other's
    messages; the broker's session is ended afterwards."""
    tag = uuid.uuid4().hex[:12]
    settings = MqttConfig(
        host=broker[0],
        port=broker[1],
        tls=False,
        username="",
        password="",
        client_id=f"rathaus-test-{tag}",
        topic_prefix=f"rathaus-test/{tag}/v1.1",
        batch_size=500,
        batch_ms=50,
        receive_maximum=2000,
        max_payload_bytes=4096,
        session_expiry=600,
    )
    yield settings
    session_forget(settings)


class Running:
    """A subscriber in a thread of its own (its own database connection)."""

    def __init__(self, config: MqttConfig, **run: Any) -> None:
        self.subscriber = Subscriber(config)
        self.error: BaseException | None = None
        self.stats: Stats | None = None
        self._run = run
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        try:
            self.stats = self.subscriber.run(**self._run)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def __enter__(self) -> Running:
        self._thread.start()
        deadline = time.monotonic() + 15
        # a subscriber meant to die may do so before the broker confirms the subscription
        while not self.subscriber.subscribed.wait(0.05) and self._thread.is_alive():
            assert time.monotonic() < deadline, "the subscriber did not subscribe"
        return self

    def wait(self, done: Callable[[Stats], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.subscriber.stats):
            if self.error is not None or not self._thread.is_alive():
                break
            assert time.monotonic() < deadline, f"timed out: {self.subscriber.stats}"
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self.subscriber.stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive()


def subscribe_once(config: MqttConfig) -> None:
    """Create the broker's session, so it keeps what is published while nobody runs."""
    with Running(config):
        pass


def publish(
    config: MqttConfig, messages: list[tuple[str, Any]], properties: Properties | None = None
) -> None:
    """Publish at QoS 1 and wait for every PUBACK: the broker has them all."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{config.client_id}-pub",
        protocol=paho.MQTTv5 if properties else paho.MQTTv311,
    )
    client.max_inflight_messages_set(200)
    client.connect(config.host, config.port)
    client.loop_start()
    prefix = config.topic_prefix
    try:
        infos = []
        for i, (topic, body) in enumerate(messages):
            if i >= 20_000:  # packet ids are 16 bits: not too many unacknowledged at once
                infos[i - 20_000].wait_for_publish(60)
            payload = body if isinstance(body, bytes) else json.dumps(body)
            infos.append(client.publish(f"{prefix}/{topic}", payload, qos=1, properties=properties))
        for info in infos:
            info.wait_for_publish(60)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def observation(stream: Datastream, hour: int, result: object = 1.0) -> tuple[str, Any]:
    return (
        f"Datastreams({stream.pk})/Observations",
        {
            "phenomenonTime": f"2026-11-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z",
            "result": result,
        },
    )


def test_observations_published_to_a_datastream_are_stored_and_widen_its_time_range(
    config: MqttConfig, stream: Datastream
) -> None:
    with Running(config) as running:
        publish(
            config,
            [
                (
                    f"Datastreams({stream.pk})/Observations",
                    {"phenomenonTime": "2026-11-27T08:00:00+01:00", "result": 412},
                ),
                (
                    f"Datastreams({stream.pk})/Observations",
                    {
                        "phenomenonTime": "2026-11-27T09:00:00+01:00/2026-11-27T10:00:00+01:00",
                        "result": 380.5,
                        "resultTime": "2026-11-27T10:00:05+01:00",
                    },
                ),
                (
                    "Observations",
                    {
                        "Datastream": {"@iot.id": stream.pk},
                        "phenomenonTime": "2026-11-26T23:00:00Z",
                        "result": 12,
                    },
                ),
                (
                    "CreateObservations",
                    [
                        {
                            "Datastream": {"@iot.id": stream.pk},
                            "components": ["phenomenonTime", "result"],
                            "dataArray": [["2026-11-28T00:00:00Z", 1], ["2026-11-28T01:00:00Z", 2]],
                        }
                    ],
                ),
            ],
        )
        # a publisher speaking MQTT 5 with properties: paho's own decoding, same result
        properties = Properties(PacketTypes.PUBLISH)
        properties.ContentType = "application/json"
        publish(config, [observation(stream, 3, 7)], properties=properties)
        running.wait(lambda stats: stats.acknowledged >= 5)

    assert running.error is None
    stored = Observation.objects.filter(datastream=stream).order_by("phenomenon_time")
    assert [o.result for o in stored] == [7.0, 12.0, 412.0, 380.5, 1.0, 2.0]
    interval = stored.get(result_number=380.5)
    assert interval.phenomenon_time_end is not None and interval.result_time is not None
    stream.refresh_from_db()
    assert stream.phenomenon_start.isoformat() == "2026-11-01T03:00:00+00:00"
    assert stream.phenomenon_end.isoformat() == "2026-11-28T01:00:00+00:00"
    stats = running.subscriber.stats
    assert (stats.written, stats.rejected, stats.duplicates) == (6, 0, 0)


def test_bad_messages_are_rejected_with_their_reasons_and_good_ones_are_stored(
    config: MqttConfig, stream: Datastream
) -> None:
    good = [observation(stream, hour) for hour in range(4)]
    bad: list[tuple[str, Any]] = [
        (
            "Datastreams(999999)/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 1},
        ),
        (
            f"Datastreams({stream.pk})/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": "viel"},
        ),
        (
            f"Datastreams({stream.pk})/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00", "result": 1},
        ),
        (f"Datastreams({stream.pk})/Observations", b"{not json"),
        (
            f"Datastreams({stream.pk})/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 1, "x": "y" * 5000},
        ),
        (
            f"Things({stream.thing_id})/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 1},
        ),
        (
            f"Datastreams({stream.pk})/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": int("9" * 400)},
        ),
        ("Observations", {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 1}),
        (f"Datastreams({stream.pk})/Observations", [1, 2]),
    ]
    mixed = [message for pair in zip(good + good[:1] * 5, bad, strict=False) for message in pair]
    with Running(config) as running:
        publish(config, mixed)
        running.wait(lambda stats: stats.acknowledged >= len(mixed))

    stats = running.subscriber.stats
    assert stats.written == 4 + 5 and stats.rejected == len(bad)
    assert Observation.objects.filter(datastream=stream).count() == 9
    reasons = set(stats.reasons)
    assert "Datastream 999999 gibt es nicht." in reasons
    assert "Datastream None gibt es nicht." in reasons
    assert "Dieser Datastream erwartet eine Zahl als result." in reasons
    assert "phenomenonTime braucht eine Zeitzone (z. B. 2026-11-27T08:00:00Z)." in reasons
    assert "Der Inhalt ist kein JSON." in reasons
    assert "Die Nachricht ist größer als 4096 Bytes." in reasons
    assert any(reason.startswith("Dieses Topic nimmt Rathaus nicht an") for reason in reasons)
    assert "Eine Observation ist ein JSON-Objekt." in reasons
    # rejected messages were acknowledged too: the broker does not send them again
    with Running(config) as again:
        time.sleep(1.5)
    assert again.subscriber.stats.received == 0


def test_a_batch_committed_but_not_acknowledged_is_stored_once_after_a_restart(
    config: MqttConfig, stream: Datastream
) -> None:
    """The subscriber dies between the commit and the acknowledgements: the broker delivers
    the messages again (DUP), and what is stored already is not stored twice."""
    config = config.with_changes(batch_size=100)
    subscribe_once(config)
    publish(config, [observation(stream, hour) for hour in range(300)])

    class Killed(Exception):
        pass

    def die(batch: object) -> None:
        raise Killed

    crashing = Running(config)
    crashing.subscriber._ack = die  # type: ignore[method-assign]
    with crashing:
        crashing.wait(lambda stats: stats.batches >= 1)
    assert isinstance(crashing.error, Killed)
    assert Observation.objects.filter(datastream=stream).count() == 100

    with Running(config) as restarted:
        restarted.wait(lambda stats: stats.acknowledged >= 300)

    stats = restarted.subscriber.stats
    assert (stats.written, stats.duplicates) == (200, 100)
    assert Observation.objects.filter(datastream=stream).count() == 300
    assert (
        Observation.objects.filter(datastream=stream).values("phenomenon_time").distinct().count()
        == 300
    )


def test_a_subscriber_dying_before_the_commit_loses_nothing(
    config: MqttConfig, stream: Datastream, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe_once(config)
    publish(config, [observation(stream, hour) for hour in range(50)])

    def killed(rows: object) -> list[int]:
        raise SystemExit("killed")

    monkeypatch.setattr(citydata_mqtt.ingest, "observations_write", killed)
    with Running(config) as dying:
        dying.wait(lambda stats: dying.error is not None, timeout=30)
    assert isinstance(dying.error, SystemExit)
    assert Observation.objects.filter(datastream=stream).count() == 0
    monkeypatch.undo()

    with Running(config) as restarted:
        restarted.wait(lambda stats: stats.acknowledged >= 50)
    assert Observation.objects.filter(datastream=stream).count() == 50
    assert restarted.subscriber.stats.duplicates == 0


def test_a_failing_database_is_retried_and_nothing_is_acknowledged_before_the_commit(
    config: MqttConfig, stream: Datastream, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest.observations_write
    acknowledged_while_failing: list[int] = []
    running: Running

    def flaky(rows: Any) -> list[int]:
        if len(acknowledged_while_failing) < 2:
            acknowledged_while_failing.append(running.subscriber.stats.acknowledged)
            raise OperationalError("the database is restarting")
        return real(rows)

    monkeypatch.setattr(citydata_mqtt.ingest, "observations_write", flaky)
    running = Running(config)
    with running:
        publish(config, [observation(stream, hour) for hour in range(20)])
        running.wait(lambda stats: stats.acknowledged >= 20)

    assert acknowledged_while_failing == [0, 0]
    assert running.subscriber.stats.retries == 2
    assert Observation.objects.filter(datastream=stream).count() == 20
    with Running(config) as again:
        time.sleep(1)
    assert again.subscriber.stats.received == 0  # all were acknowledged after the commit


def test_an_observation_the_database_refuses_is_rejected_alone(
    config: MqttConfig, stream: Datastream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value the database cannot store (PostgreSQL refuses \\u0000 in jsonb) must not
    block the batch forever: the batch is halved until the one row is found."""
    real = ingest.observations_write

    def refusing(rows: Any) -> list[int]:
        if any(row.result == 13.0 for row in rows):
            raise DataError("unsupported Unicode escape sequence")
        return real(rows)

    monkeypatch.setattr(citydata_mqtt.ingest, "observations_write", refusing)
    with Running(config) as running:
        publish(config, [observation(stream, hour, float(hour)) for hour in range(40)])
        running.wait(lambda stats: stats.acknowledged >= 40)

    assert Observation.objects.filter(datastream=stream).count() == 39
    assert running.subscriber.stats.reasons == {"Die Datenbank hat diese Beobachtung abgelehnt.": 1}


def test_a_flood_is_ingested_completely_with_a_bounded_queue(
    config: MqttConfig, roomy_broker: tuple[str, int], stream: Datastream
) -> None:
    """20,000 messages published as fast as one client can: the subscriber never holds
    more than its Receive Maximum; the rest waits at the broker until there is room."""
    config = config.with_changes(
        host=roomy_broker[0], port=roomy_broker[1], batch_size=1000, receive_maximum=2000
    )
    count = 20_000
    start = datetime(2026, 11, 1, tzinfo=UTC)
    messages = [
        (
            f"Datastreams({stream.pk})/Observations",
            {"phenomenonTime": (start + timedelta(seconds=i)).isoformat(), "result": i},
        )
        for i in range(count)
    ]
    with Running(config) as running:
        publish(config, messages)
        running.wait(lambda stats: stats.acknowledged >= count, timeout=300)

    stats = running.subscriber.stats
    assert stats.written == count and stats.rejected == 0
    assert Observation.objects.filter(datastream=stream).count() == count
    assert stats.peak_queue <= config.receive_maximum
    assert stats.batches < count / 10  # batches, not a transaction per message
    stream.refresh_from_db()
    assert stream.phenomenon_end == start + timedelta(seconds=count - 1)


def test_without_a_broker_url_nothing_mqtt_runs() -> None:
    with override_settings(MQTT_URL=""):
        assert config_from_settings() is None
        with pytest.raises(CommandError, match="RATHAUS_MQTT_URL is not set"):
            call_command("ingest-mqtt", "--once")


def test_the_broker_url_gives_host_port_tls_and_credentials() -> None:
    assert parse_mqtt_url("mqtt://127.0.0.1") == {
        "host": "127.0.0.1",
        "port": 1883,
        "tls": False,
        "username": "",
        "password": "",
    }
    secure = parse_mqtt_url("mqtts://ingest:p%40ss@broker.example.org")
    assert (secure["port"], secure["tls"], secure["username"], secure["password"]) == (
        8883,
        True,
        "ingest",
        "p@ss",
    )
    with pytest.raises(Exception, match="not mqtt or mqtts"):
        parse_mqtt_url("http://broker.example.org")


def test_the_command_ingests_what_the_broker_holds_and_reports_it(
    config: MqttConfig, stream: Datastream, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe_once(config)
    publish(
        config, [observation(stream, hour) for hour in range(10)] + [("Things(1)/Observations", {})]
    )
    with override_settings(
        MQTT_URL=f"mqtt://{config.host}:{config.port}",
        MQTT_CLIENT_ID=config.client_id,
        MQTT_TOPIC_PREFIX=config.topic_prefix,
    ):
        call_command("ingest-mqtt", "--once", "--json")
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["written"], summary["rejected"]) == (10, 1)
    assert "rejected 1x: Dieses Topic nimmt Rathaus nicht an" in out
    assert Observation.objects.filter(datastream=stream).count() == 10
