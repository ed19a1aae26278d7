"""Ingestion over MQTT (issue 8): a subscriber to the SensorThings topics on a configured
broker, writing what it receives in batches through ``ingest.observations_write``.

Topics (under ``RATHAUS_MQTT_TOPIC_PREFIX``, ``v1.1`` by default):

- ``v1.1/Datastreams(<id>)/Observations``: one Observation (``phenomenonTime``, ``result``,
  optional ``resultTime``), as the SensorThings standard has it;
- ``v1.1/Observations``: one Observation naming its ``Datastream`` (``{"@iot.id": <id>}``);
- ``v1.1/CreateObservations``: a DataArray body as for HTTP ``POST /CreateObservations``
  (our extension: many observations in one message).

Every message is checked with the rules of the HTTP API (``ingest.row_from``). What we
promise: a message is acknowledged to the broker (PUBACK, paho's manual acknowledgement) only
after the batch holding it is committed, or after it was counted as rejected. Until then the
broker keeps it in our persistent session (a stable client id, clean start off, a session
expiry) and delivers it again after a crash, a lost connection or a failed commit. A
redelivered message carries MQTT's DUP flag; for those, and only those, an observation that is
already stored (same datastream, phenomenon time, result) is not stored again, so a commit
whose acknowledgements were lost does not double the data: at least once on the wire,
effectively once in the database.

Flow control: MQTT 5's Receive Maximum tells the broker how many unacknowledged messages it
may send us; the in-memory queue holds at most that many (and at most ``QUEUE_BYTES``), so a
flood waits at the broker, not in our memory.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, connection
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from rathaus.citydata import ingest
from rathaus.citydata.models import Observation
from rathaus.core.errors import message_format

logger = logging.getLogger(__name__)

QUEUE_BYTES = 64 * 1024 * 1024  # payloads held in memory at most, whatever their number
# a batch is full at batch_size messages or at this much payload, whichever comes first: 25
# DataArray messages of 1,000 rows are a batch, not a wait for batch_ms
BATCH_BYTES = 1024 * 1024
_STREAM_TOPIC = re.compile(r"Datastreams\((\d{1,18})\)")


@dataclass(frozen=True)
class MqttConfig:
    host: str
    port: int
    tls: bool
    username: str
    password: str
    client_id: str
    topic_prefix: str
    batch_size: int
    batch_ms: int
    receive_maximum: int
    max_payload_bytes: int
    session_expiry: int
    ca_file: str = ""
    keepalive: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.receive_maximum <= 65535:
            raise ImproperlyConfigured("RATHAUS_MQTT_RECEIVE_MAXIMUM must be 1..65535")
        if not 1 <= self.batch_size <= self.receive_maximum:
            # acknowledged only after the commit: the broker never sends more than
            # receive_maximum unacknowledged messages, so a larger batch could never fill
            raise ImproperlyConfigured(
                "RATHAUS_MQTT_BATCH_SIZE must be between 1 and RATHAUS_MQTT_RECEIVE_MAXIMUM"
            )
        if self.batch_ms < 1 or self.max_payload_bytes < 1 or self.session_expiry < 0:
            raise ImproperlyConfigured(
                "RATHAUS_MQTT_BATCH_MS and RATHAUS_MQTT_MAX_PAYLOAD_BYTES must be positive, "
                "RATHAUS_MQTT_SESSION_EXPIRY not negative"
            )
        if not self.client_id or not self.topic_prefix.strip("/"):
            raise ImproperlyConfigured(
                "RATHAUS_MQTT_CLIENT_ID and RATHAUS_MQTT_TOPIC_PREFIX must not be empty"
            )
        if any(sign in self.topic_prefix for sign in "+#"):
            raise ImproperlyConfigured("RATHAUS_MQTT_TOPIC_PREFIX must not contain + or #")

    @property
    def topics(self) -> list[str]:
        prefix = self.topic_prefix.rstrip("/")
        return [
            f"{prefix}/+/Observations",
            f"{prefix}/Observations",
            f"{prefix}/CreateObservations",
        ]

    def with_changes(self, **changes: Any) -> MqttConfig:
        return MqttConfig(**{**self.__dict__, **changes})


def parse_mqtt_url(url: str) -> dict[str, Any]:
    """``mqtt://user:password@host:1883`` (``mqtts://`` for TLS, port 8883 unless given)."""
    parts = urlsplit(url)
    if parts.scheme not in {"mqtt", "mqtts"}:
        raise ImproperlyConfigured(f"RATHAUS_MQTT_URL scheme {parts.scheme!r} is not mqtt or mqtts")
    if not parts.hostname:
        raise ImproperlyConfigured("RATHAUS_MQTT_URL names no host")
    return {
        "host": parts.hostname,
        "port": parts.port or (8883 if parts.scheme == "mqtts" else 1883),
        "tls": parts.scheme == "mqtts",
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }


def config_from_settings() -> MqttConfig | None:
    """The subscriber's configuration, or None without RATHAUS_MQTT_URL (HTTP only)."""
    url = getattr(settings, "MQTT_URL", "")
    if not url:
        return None
    return MqttConfig(
        **parse_mqtt_url(url),
        client_id=settings.MQTT_CLIENT_ID,
        topic_prefix=settings.MQTT_TOPIC_PREFIX,
        batch_size=settings.MQTT_BATCH_SIZE,
        batch_ms=settings.MQTT_BATCH_MS,
        receive_maximum=settings.MQTT_RECEIVE_MAXIMUM,
        max_payload_bytes=settings.MQTT_MAX_PAYLOAD_BYTES,
        session_expiry=settings.MQTT_SESSION_EXPIRY,
        ca_file=settings.MQTT_CA_FILE,
    )


@dataclass
class Stats:
    received: int = 0  # messages taken from the broker
    acknowledged: int = 0  # messages acknowledged (written or rejected)
    written: int = 0  # observations committed
    rejected: int = 0  # messages or DataArray rows refused, with their reasons below
    duplicates: int = 0  # redelivered observations already stored, not stored again
    batches: int = 0
    retries: int = 0  # failed commits tried again
    peak_queue: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        return (
            f"{self.received} messages, {self.written} observations written in "
            f"{self.batches} batches, {self.rejected} rejected, {self.duplicates} duplicates "
            f"skipped, {self.retries} retries, largest queue {self.peak_queue}"
        )


@dataclass
class _Message:
    generation: int
    mid: int
    qos: int
    dup: bool
    topic: str
    payload: bytes


class _GiveUp(Exception):
    """The database stayed unavailable while we were asked to stop: nothing of the batch is
    acknowledged, the broker delivers it again."""


class Subscriber:
    """Runs until ``stop`` is set (or a limit of ``run``), then writes what it holds,
    acknowledges it and disconnects. The network is paho's thread; the checking and writing
    happen in the thread calling ``run`` (which owns the database connection)."""

    def __init__(
        self,
        config: MqttConfig,
        *,
        stop: threading.Event | None = None,
        progress: Callable[[Stats], None] | None = None,
        progress_seconds: float = 10.0,
    ) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.stats = Stats()
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed the subscriptions
        self._progress = progress
        self._progress_seconds = progress_seconds
        self._queue: deque[_Message] = deque()
        self._queued_bytes = 0
        self._cond = threading.Condition()
        self._accepting = True
        self._generation = 0
        self._topics: dict[str, tuple[str, int | None] | None] = {}
        self._client = self._make_client()

    # ---- network (paho's thread) -------------------------------------------------------
    def _make_client(self) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
        )
        if self.config.username:
            client.username_pw_set(self.config.username, self.config.password or None)
        if self.config.tls:
            client.tls_set(ca_certs=self.config.ca_file or None)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.config.session_expiry
        properties.ReceiveMaximum = self.config.receive_maximum
        # the broker drops (and logs) larger packets instead of filling our memory; those
        # between max_payload_bytes and this are received, counted and rejected
        properties.MaximumPacketSize = max(1024 * 1024, 2 * self.config.max_payload_bytes)
        return properties

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.error("mqtt connection refused", extra={"reason": str(reason)})
            return
        with self._cond:
            self._generation += 1
            if flags.session_present:
                # the broker still has our session and sends every unacknowledged message
                # again; the copies we hold would be written twice
                kept = deque(m for m in self._queue if m.generation == self._generation)
                self._queued_bytes = sum(len(m.payload) for m in kept)
                self._queue = kept
            self._cond.notify_all()
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
        client.subscribe([(topic, options) for topic in self.config.topics])
        logger.info(
            "mqtt connected",
            extra={
                "host": self.config.host,
                "client_id": self.config.client_id,
                "session_present": flags.session_present,
            },
        )
        self.connected.set()

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [str(reason) for reason in reasons if reason.is_failure]
        if refused:
            logger.error("mqtt subscription refused", extra={"reasons": refused})
        else:
            self.subscribed.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self._accepting:
            logger.warning("mqtt connection lost, reconnecting", extra={"reason": str(reason)})

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if not self._accepting:
            return  # stopping: not acknowledged, delivered again after the restart
        with self._cond:
            # MQTT 5 flow control keeps the queue at receive_maximum; waiting here (no more
            # reading from the socket) is the safety net for a broker that ignores it
            while self._accepting and (
                len(self._queue) >= self.config.receive_maximum or self._queued_bytes > QUEUE_BYTES
            ):
                self._cond.notify_all()
                self._cond.wait(0.5)
            if not self._accepting:
                return
            self._queue.append(
                _Message(
                    self._generation,
                    message.mid,
                    message.qos,
                    bool(message.dup),
                    message.topic,
                    bytes(message.payload),
                )
            )
            self._queued_bytes += len(message.payload)
            size = len(self._queue)
            if size > self.stats.peak_queue:
                self.stats.peak_queue = size
            if size >= self.config.batch_size or self._queued_bytes >= BATCH_BYTES:
                self._cond.notify_all()

    # ---- the writing loop (the caller's thread) ------------------------------------------
    def run(
        self,
        *,
        seconds: float | None = None,
        max_messages: int | None = None,
        idle_seconds: float | None = None,
    ) -> Stats:
        """Until ``stop`` is set, ``seconds`` have passed, ``max_messages`` are handled or no
        message came for ``idle_seconds`` (after connecting). Returns the counts."""
        started = time.monotonic()
        last_message = started
        last_progress = started
        self._client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self._client.loop_start()
        try:
            while not self.stop.is_set():
                batch = self._take(self.config.batch_size)
                now = time.monotonic()
                if batch:
                    last_message = now
                    self._handle(batch)
                if self._progress and now - last_progress >= self._progress_seconds:
                    last_progress = now
                    self._progress(self.stats)
                if (
                    (seconds is not None and now - started >= seconds)
                    or (max_messages is not None and self.stats.acknowledged >= max_messages)
                    or (
                        idle_seconds is not None
                        and self.connected.is_set()
                        and not batch
                        and now - last_message >= idle_seconds
                    )
                ):
                    break
            self._drain()
        except _GiveUp:
            logger.warning("mqtt subscriber stopped with a batch not written; the broker keeps it")
        finally:
            self._accepting = False
            with self._cond:
                self._cond.notify_all()
            # acknowledgements were queued before the DISCONNECT, paho sends them in order
            self._client.disconnect()
            self._client.loop_stop()
            connection.close()
        return self.stats

    def _drain(self) -> None:
        """On stop: take no more messages, write and acknowledge those we hold."""
        self._accepting = False
        with self._cond:
            self._cond.notify_all()
        while True:
            with self._cond:
                batch = self._pop(self.config.batch_size)
            if not batch:
                return
            self._handle(batch)

    def _pop(self, most: int) -> list[_Message]:
        batch: list[_Message] = []
        while self._queue and len(batch) < most:
            message = self._queue.popleft()
            self._queued_bytes -= len(message.payload)
            batch.append(message)
        return batch

    def _take(self, most: int) -> list[_Message]:
        """Up to ``most`` messages, once that many (or BATCH_BYTES of payload) are there or
        the oldest waited batch_ms."""
        wait = self.config.batch_ms / 1000
        with self._cond:
            if not self._queue:
                self._cond.wait(wait)
            if self._queue and len(self._queue) < most:
                oldest = time.monotonic()
                while (
                    len(self._queue) < most
                    and self._queued_bytes < BATCH_BYTES
                    and not self.stop.is_set()
                ):
                    left = oldest + wait - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            batch = self._pop(most)
            self._cond.notify_all()
        return batch

    def _handle(self, batch: list[_Message]) -> None:
        began = time.monotonic()
        self.stats.received += len(batch)
        rows, reasons = self._check(batch)
        rows = self._without_stored(rows)
        refused = self._commit_isolating([row for row, _message in rows])
        for reason in refused:
            reasons.append(("", reason))
        self.stats.written += len(rows) - len(refused)
        self.stats.batches += 1
        if reasons:
            self.stats.rejected += len(reasons)
            counted = Counter(reason for _topic, reason in reasons)
            self.stats.reasons.update(counted)
            for reason, count in counted.items():
                topic = next(t for t, r in reasons if r == reason)
                logger.warning(
                    "mqtt observations rejected",
                    extra={"count": count, "reason": reason, "topic": topic[:200]},
                )
        self._ack(batch)
        logger.debug(
            "mqtt batch written",
            extra={
                "messages": len(batch),
                "rows": len(rows),
                "ms": round((time.monotonic() - began) * 1000, 1),
            },
        )

    def _ack(self, batch: Iterable[_Message]) -> None:
        """In the order received (MQTT asks for it); not for messages of an earlier
        connection, which the broker delivers again."""
        generation = self._generation
        for message in batch:
            if message.qos and message.generation == generation:
                self._client.ack(message.mid, message.qos)
            self.stats.acknowledged += 1

    # ---- checking ----------------------------------------------------------------------
    def _topic(self, topic: str) -> tuple[str, int | None] | None:
        """("one", datastream id or None) or ("array", None); None for a topic we refuse."""
        if topic in self._topics:
            return self._topics[topic]
        prefix = self.config.topic_prefix.rstrip("/") + "/"
        rest = topic[len(prefix) :] if topic.startswith(prefix) else ""
        kind: tuple[str, int | None] | None = None
        if rest == "Observations":
            kind = ("one", None)
        elif rest == "CreateObservations":
            kind = ("array", None)
        elif rest.endswith("/Observations"):
            match = _STREAM_TOPIC.fullmatch(rest[: -len("/Observations")])
            kind = ("one", int(match.group(1))) if match else None
        if len(self._topics) > 100_000:
            self._topics.clear()
        self._topics[topic] = kind
        return kind

    def _check(
        self, batch: Sequence[_Message]
    ) -> tuple[list[tuple[ingest.Row, _Message]], list[tuple[str, str]]]:
        """The rows to write (with their message) and the reasons of those refused (with the
        topic, for the log: never the payload)."""
        reasons: list[tuple[str, str]] = []
        singles: list[tuple[_Message, int | None, dict[str, Any]]] = []
        arrays: list[tuple[_Message, Any]] = []
        limit = self.config.max_payload_bytes
        for message in batch:
            kind = self._topic(message.topic)
            if kind is None:
                reasons.append((message.topic, str(_REASON_TOPIC)))
                continue
            if len(message.payload) > limit:
                reasons.append(
                    (message.topic, str(message_format(_REASON_SIZE, {"max": str(limit)})))
                )
                continue
            try:
                body = json.loads(message.payload)
            except (ValueError, UnicodeDecodeError):
                reasons.append((message.topic, str(_REASON_JSON)))
                continue
            if kind[0] == "array":
                arrays.append((message, body))
            elif not isinstance(body, dict):
                reasons.append((message.topic, str(_REASON_OBJECT)))
            else:
                stream_id = kind[1]
                if stream_id is None:
                    stream_id = _body_stream_id(body)
                singles.append((message, stream_id, body))
        wanted = {stream_id for _m, stream_id, _b in singles if stream_id is not None}
        streams = ingest.datastreams_by_id(wanted) if wanted else {}
        rows: list[tuple[ingest.Row, _Message]] = []
        for message, stream_id, body in singles:
            stream = streams.get(stream_id) if stream_id is not None else None
            try:
                if stream is None:
                    raise ingest.RowError(
                        message_format(_REASON_STREAM, {"id": str(stream_id)[:20]})
                    )
                rows.append(
                    (
                        ingest.row_from(
                            datastream=stream,
                            phenomenon_time=body.get("phenomenonTime"),
                            result=body.get("result"),
                            result_time=body.get("resultTime"),
                        ),
                        message,
                    )
                )
            except ingest.RowError as exc:
                reasons.append((message.topic, str(exc.message)))
            except (ValueError, TypeError, OverflowError):
                # e.g. a result of 1e400 written as an integer: float() overflows
                reasons.append((message.topic, str(_REASON_RESULT)))
        for message, body in arrays:
            try:
                found, why = ingest.data_array_rows(body)
            except ingest.RowError as exc:
                reasons.append((message.topic, str(exc.message)))
                continue
            except (ValueError, TypeError, OverflowError, AttributeError):
                reasons.append((message.topic, str(_REASON_RESULT)))
                continue
            for row, reason in zip(found, why, strict=True):
                if row is None:
                    reasons.append((message.topic, reason))
                else:
                    rows.append((row, message))
        return rows, reasons

    def _without_stored(
        self, rows: list[tuple[ingest.Row, _Message]]
    ) -> list[tuple[ingest.Row, _Message]]:
        """Rows of redelivered messages (DUP) that are already stored: left out. Messages
        seen for the first time are not looked up: no query in the common case."""
        again = [row for row, message in rows if message.dup]
        if not again:
            return rows
        stored: set[tuple[object, ...]] = set()
        for start in range(0, len(again), 1000):
            part = again[start : start + 1000]
            found = Observation.objects.filter(
                datastream_id__in={row.datastream_id for row in part},
                phenomenon_time__in={row.phenomenon_time for row in part},
            ).values_list(
                "datastream_id",
                "phenomenon_time",
                "phenomenon_time_end",
                "result_number",
                "result_json",
            )
            for stream_id, moment, end, number, value in found:
                stored.add(_key(stream_id, moment, end, value if number is None else number))
        kept = []
        for row, message in rows:
            key = _key(row.datastream_id, row.phenomenon_time, row.phenomenon_end, row.result)
            if message.dup and key in stored:
                self.stats.duplicates += 1
            else:
                kept.append((row, message))
        return kept

    # ---- writing -----------------------------------------------------------------------
    def _commit_isolating(self, rows: Sequence[ingest.Row]) -> list[str]:
        """Write ``rows`` (in parts of at most ingest.MAX_ROWS); the reasons of rows the
        database refused. One bad row (a value PostgreSQL cannot store) must not hold up the
        others forever: a refused part is halved until the row is found."""
        refused: list[str] = []
        for start in range(0, len(rows), ingest.MAX_ROWS):
            self._bisect(rows[start : start + ingest.MAX_ROWS], refused)
        return refused

    def _bisect(self, rows: Sequence[ingest.Row], refused: list[str]) -> None:
        if not rows:
            return
        try:
            self._commit(rows)
        except (DataError, IntegrityError) as exc:
            if len(rows) == 1:
                logger.warning(
                    "mqtt observation refused by the database",
                    extra={"error": type(exc).__name__, "datastream": rows[0].datastream_id},
                )
                refused.append(str(_REASON_DATABASE))
                return
            half = len(rows) // 2
            self._bisect(rows[:half], refused)
            self._bisect(rows[half:], refused)

    def _commit(self, rows: Sequence[ingest.Row]) -> None:
        """One ``observations_write`` (one transaction), tried again with a growing pause
        while the database is unreachable; nothing is acknowledged meanwhile."""
        delay = 0.5
        while True:
            try:
                ingest.observations_write(rows)
                return
            except (OperationalError, InterfaceError) as exc:
                self.stats.retries += 1
                logger.warning(
                    "mqtt batch not committed, trying again",
                    extra={"error": type(exc).__name__, "rows": len(rows), "wait": delay},
                )
                connection.close()
                if self.stop.wait(delay):
                    raise _GiveUp from exc
                delay = min(delay * 2, 30.0)


def _body_stream_id(body: dict[str, Any]) -> int | None:
    stream = body.get("Datastream")
    if isinstance(stream, dict):
        value = stream.get("@iot.id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _key(stream_id: int, moment: object, end: object, result: object) -> tuple[object, ...]:
    if isinstance(result, int | float) and not isinstance(result, bool):
        return (stream_id, moment, end, float(result))
    return (stream_id, moment, end, json.dumps(result, sort_keys=True))


def session_forget(config: MqttConfig) -> None:
    """End the broker's session of ``config.client_id`` (and drop what it holds for us):
    for taking a subscriber out of service, and for tests."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=config.client_id, protocol=paho.MQTTv5
    )
    if config.username:
        client.username_pw_set(config.username, config.password or None)
    if config.tls:
        client.tls_set(ca_certs=config.ca_file or None)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0
    client.connect(config.host, config.port, clean_start=True, properties=properties)
    client.loop_start()
    try:
        deadline = time.monotonic() + 5
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        client.disconnect()
        client.loop_stop()


_REASON_TOPIC: Promise = _(
    "Dieses Topic nimmt Rathaus nicht an (Datastreams(<id>)/Observations, Observations, "
    "CreateObservations)."
)
_REASON_STREAM = _("Datastream %(id)s gibt es nicht.")
_REASON_SIZE = _("Die Nachricht ist größer als %(max)s Bytes.")
_REASON_JSON = _("Der Inhalt ist kein JSON.")
_REASON_OBJECT = _("Eine Observation ist ein JSON-Objekt.")
_REASON_RESULT = _("Die Beobachtung ist ungültig.")
_REASON_DATABASE = _("Die Datenbank hat diese Beobachtung abgelehnt.")
