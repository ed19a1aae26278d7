"""GTFS-Realtime, database-free: fetching a feed, reading it into a snapshot, applying it.

A feed is read once into a ``Snapshot`` of plain values (trip updates keyed by trip and service
day, service alerts) that survives a JSON round trip, so it can be stored in a JSONField and
applied later without protobuf. ``expected_times`` applies one trip's update to its scheduled
stop times following the propagation rules of the GTFS-Realtime reference.

Only a source that is unusable as a whole raises ``RealtimeError`` (German / English message).
Single malformed entities are skipped, counted in ``Snapshot.skipped`` and a few are described
in ``Snapshot.problems``: one bad trip must not hide the rest of the network.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from http.client import HTTPException, HTTPMessage
from pathlib import Path
from typing import IO, Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from google.transit import gtfs_realtime_pb2

__all__ = [
    "Alert",
    "ExpectedStop",
    "RealtimeError",
    "ScheduledStop",
    "Snapshot",
    "StopUpdate",
    "TripRealtime",
    "alerts_for",
    "expected_times",
    "is_stale",
    "realtime_fetch",
    "realtime_parse",
    "trip_key",
]

MAX_BYTES = 20_000_000
JSON_FORMAT = 1  # bump when the stored shape changes; older snapshots then fail to load
PROBLEM_EXAMPLES = 10
_CHUNK = 64 * 1024

_TRIP = gtfs_realtime_pb2.TripDescriptor
_STU = gtfs_realtime_pb2.TripUpdate.StopTimeUpdate
# DUPLICATED names the *original* trip in trip_id (the copy's id is in trip_properties); keying
# it by trip_id would move the original trip, so such updates are skipped.
_UNSUPPORTED_TRIPS = {_TRIP.DUPLICATED}
_CANCELLED_TRIPS = {_TRIP.CANCELED, _TRIP.DELETED}


class RealtimeError(Exception):
    """The source cannot be used at all; the message is German / English.

    ``code`` says why, for callers that react differently (e.g. retry on "timeout"): one of
    "scheme", "not_found", "timeout", "http_status", "unreachable", "too_big", "empty", "html",
    "not_protobuf", "not_feed", "differential", "stored".
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# ---- the snapshot ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StopUpdate:
    """One StopTimeUpdate. Delays in seconds, times absolute POSIX seconds; None = not given."""

    stop_sequence: int | None
    stop_id: str | None
    arrival_delay: int | None = None
    departure_delay: int | None = None
    arrival_time: int | None = None
    departure_time: int | None = None
    skipped: bool = False
    no_data: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> StopUpdate:
        return cls(
            stop_sequence=_opt_int(d["stop_sequence"]),
            stop_id=None if d["stop_id"] is None else str(d["stop_id"]),
            arrival_delay=_opt_int(d["arrival_delay"]),
            departure_delay=_opt_int(d["departure_delay"]),
            arrival_time=_opt_int(d["arrival_time"]),
            departure_time=_opt_int(d["departure_time"]),
            skipped=bool(d["skipped"]),
            no_data=bool(d["no_data"]),
        )


@dataclass(frozen=True)
class TripRealtime:
    """The realtime state of one trip on one service day.

    ``schedule_relationship`` is the TripDescriptor's (SCHEDULED, CANCELED, ADDED, NEW, ...);
    ``cancelled`` is true for CANCELED and DELETED.
    """

    cancelled: bool
    delay: int | None = None
    stops: list[StopUpdate] = field(default_factory=list)
    schedule_relationship: str = "SCHEDULED"

    def to_json(self) -> dict[str, Any]:
        return {
            "cancelled": self.cancelled,
            "delay": self.delay,
            "stops": [s.to_json() for s in self.stops],
            "schedule_relationship": self.schedule_relationship,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TripRealtime:
        return cls(
            cancelled=bool(d["cancelled"]),
            delay=_opt_int(d["delay"]),
            stops=[StopUpdate.from_json(s) for s in d["stops"]],
            schedule_relationship=str(d.get("schedule_relationship", "SCHEDULED")),
        )


@dataclass(frozen=True)
class Alert:
    """A service alert. ``header``/``description``/``url`` are German when the feed has a 'de'
    translation, else its first one, else ''; ``header_en``/``description_en`` are English or ''.
    ``active_periods`` are (start, end) POSIX seconds, None = open; no period = always active.
    ``effect``/``cause`` are the enum names (e.g. "DETOUR", "STRIKE").
    """

    id: str
    header: str
    description: str = ""
    header_en: str = ""
    description_en: str = ""
    active_periods: list[tuple[int | None, int | None]] = field(default_factory=list)
    route_ids: list[str] = field(default_factory=list)
    stop_ids: list[str] = field(default_factory=list)
    trip_ids: list[str] = field(default_factory=list)
    effect: str = "UNKNOWN_EFFECT"
    cause: str = "UNKNOWN_CAUSE"
    url: str = ""
    agency_ids: list[str] = field(default_factory=list)

    def is_active(self, now: int) -> bool:
        """Whether ``now`` lies in an active period (start inclusive, end exclusive)."""
        if not self.active_periods:
            return True
        return any(
            (start is None or start <= now) and (end is None or now < end)
            for start, end in self.active_periods
        )

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["active_periods"] = [[start, end] for start, end in self.active_periods]
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Alert:
        return cls(
            id=str(d["id"]),
            header=str(d["header"]),
            description=str(d["description"]),
            header_en=str(d["header_en"]),
            description_en=str(d["description_en"]),
            active_periods=[(_opt_int(s), _opt_int(e)) for s, e in d["active_periods"]],
            route_ids=[str(x) for x in d["route_ids"]],
            stop_ids=[str(x) for x in d["stop_ids"]],
            trip_ids=[str(x) for x in d["trip_ids"]],
            effect=str(d["effect"]),
            cause=str(d["cause"]),
            url=str(d["url"]),
            agency_ids=[str(x) for x in d.get("agency_ids", [])],
        )


@dataclass(frozen=True)
class Snapshot:
    """A whole feed at one moment. ``timestamp`` is the header's (POSIX seconds) or None.

    ``trips`` is keyed by ``trip_key``; look trips up with ``trip_for``, which falls back to
    the key without date for updates that did not name a start_date.
    """

    timestamp: int | None
    trips: dict[str, TripRealtime] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def trip_for(self, trip_id: str, service_date: date | None) -> TripRealtime | None:
        """The update for ``trip_id`` on ``service_date``, else a dateless one, else None."""
        if service_date is not None:
            found = self.trips.get(trip_key(trip_id, service_date))
            if found is not None:
                return found
        return self.trips.get(trip_key(trip_id, None))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": JSON_FORMAT,
            "timestamp": self.timestamp,
            "trips": {key: trip.to_json() for key, trip in self.trips.items()},
            "alerts": [alert.to_json() for alert in self.alerts],
            "skipped": self.skipped,
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Snapshot:
        """Rebuild from ``to_json``'s output; RealtimeError (code "stored") if unreadable."""
        try:
            if d.get("format") != JSON_FORMAT:
                raise ValueError(f"format {d.get('format')!r}")
            return cls(
                timestamp=_opt_int(d["timestamp"]),
                trips={str(k): TripRealtime.from_json(v) for k, v in d["trips"].items()},
                alerts=[Alert.from_json(a) for a in d["alerts"]],
                skipped=int(d["skipped"]),
                problems=[str(p) for p in d["problems"]],
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise RealtimeError(
                f"Gespeicherter Echtzeitstand unlesbar / stored realtime snapshot unreadable ({exc})",
                code="stored",
            ) from None


def trip_key(trip_id: str, service_date: date | None) -> str:
    """``"trip_id|YYYYMMDD"``, or ``"trip_id|"`` without a service date."""
    return f"{trip_id}|{service_date.strftime('%Y%m%d') if service_date else ''}"


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


# ---- fetching --------------------------------------------------------------------------------


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s); a feed must not send us to ftp:// or file://."""

    def http_error_302(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
    ) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urllib.parse.urljoin(req.full_url, location)
            if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
                fp.close()
                raise RealtimeError(
                    f"{req.full_url}: Weiterleitung nach {target} abgelehnt / "
                    f"redirect to {target} refused (only http(s))",
                    code="scheme",
                )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand rather than with build_opener() so that no file:// or ftp:// handler exists.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _HttpOnlyRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def realtime_fetch(source: str, *, timeout: float = 10.0, max_bytes: int = MAX_BYTES) -> bytes:
    """The feed's bytes from an http(s) URL or a local file path.

    ``timeout`` bounds connecting and the whole download (checked between chunks); at most
    ``max_bytes`` are accepted. Any other URL scheme (file://, ftp://) is refused.
    """
    try:
        scheme = urllib.parse.urlsplit(source).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme in ("http", "https"):
        data = _fetch_url(source, timeout=timeout, max_bytes=max_bytes)
    elif "://" in source:
        raise RealtimeError(
            f"{source}: nur Dateien und http(s)-URLs / only files and http(s) URLs",
            code="scheme",
        )
    else:
        data = _read_file(source, max_bytes=max_bytes)
    if not data:
        raise RealtimeError(f"{source}: leere Antwort / empty response", code="empty")
    return data


def _too_big(source: str, max_bytes: int) -> RealtimeError:
    return RealtimeError(
        f"{source}: größer als {max_bytes} Bytes / larger than {max_bytes} bytes", code="too_big"
    )


def _timed_out(source: str, timeout: float) -> RealtimeError:
    return RealtimeError(
        f"{source}: keine Antwort in {timeout:g} s / no answer within {timeout:g} s",
        code="timeout",
    )


def _fetch_url(source: str, *, timeout: float, max_bytes: int) -> bytes:
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    try:
        request = urllib.request.Request(  # noqa: S310 - scheme checked by the caller
            source,
            headers={
                "User-Agent": "Rathaus GTFS-Realtime",
                "Accept": "application/x-protobuf, application/octet-stream;q=0.9, */*;q=0.1",
            },
        )
        with _opener().open(request, timeout=timeout) as response:
            if response.status != 200:
                raise RealtimeError(
                    f"{source}: HTTP {response.status} statt 200 / instead of 200",
                    code="http_status",
                )
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise _too_big(source, max_bytes)
            # Read in chunks so that a server trickling bytes cannot hold us beyond the timeout
            # and a huge answer is cut off after max_bytes + 1 bytes.
            while size <= max_bytes:
                chunk = response.read(min(_CHUNK, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise _timed_out(source, timeout)
    except TimeoutError:
        raise _timed_out(source, timeout) from None
    except urllib.error.HTTPError as exc:
        exc.close()
        raise RealtimeError(
            f"{source}: HTTP {exc.code} statt 200 / instead of 200", code="http_status"
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _timed_out(source, timeout) from None
        raise RealtimeError(
            f"{source}: nicht erreichbar / unreachable ({exc.reason})", code="unreachable"
        ) from None
    except (HTTPException, OSError, ValueError) as exc:
        raise RealtimeError(
            f"{source}: nicht erreichbar / unreachable ({exc})", code="unreachable"
        ) from None
    if size > max_bytes:
        raise _too_big(source, max_bytes)
    return b"".join(chunks)


def _read_file(source: str, *, max_bytes: int) -> bytes:
    path = Path(source)
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise RealtimeError(
            f"{source}: Datei nicht gefunden / file not found", code="not_found"
        ) from None
    except OSError as exc:
        raise RealtimeError(
            f"{source}: kann nicht gelesen werden / cannot be read ({exc.strerror})",
            code="not_found",
        ) from None
    if len(data) > max_bytes:
        raise _too_big(source, max_bytes)
    return data


# ---- parsing ---------------------------------------------------------------------------------


def realtime_parse(data: bytes, *, max_bytes: int = MAX_BYTES) -> Snapshot:
    """Read a GTFS-Realtime FeedMessage (binary protobuf, optionally gzip-compressed).

    Trip updates and alerts are kept; vehicle positions and other entities are ignored.
    Raises RealtimeError for input that is not a full-dataset FeedMessage at all.
    """
    if not data:
        raise RealtimeError("Leerer Echtzeit-Feed / empty realtime feed", code="empty")
    if len(data) > max_bytes:
        raise _too_big("GTFS-RT", max_bytes)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, max_bytes=max_bytes)
    _refuse_text(data)
    message = gtfs_realtime_pb2.FeedMessage()
    try:
        message.ParseFromString(data)
    except DecodeError:
        raise RealtimeError(
            "Kein Protobuf, kein GTFS-Realtime-Feed / not protobuf, not a GTFS-Realtime feed",
            code="not_protobuf",
        ) from None
    header = message.header
    if not message.HasField("header") or not header.gtfs_realtime_version:
        # Arbitrary bytes can happen to decode as unknown fields; a real feed always has a
        # header with its version (both are required by the specification).
        raise RealtimeError(
            "Keine GTFS-Realtime-FeedMessage (Kopf fehlt) / "
            "not a GTFS-Realtime FeedMessage (header missing)",
            code="not_feed",
        )
    if header.incrementality == gtfs_realtime_pb2.FeedHeader.DIFFERENTIAL:
        raise RealtimeError(
            "Differentielle Feeds werden nicht unterstützt, nur FULL_DATASET / "
            "DIFFERENTIAL feeds are not supported, only FULL_DATASET",
            code="differential",
        )
    return _Reader().read(message)


def _gunzip(data: bytes, *, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error:
        raise RealtimeError(
            "Beschädigte gzip-Daten / corrupt gzip data", code="not_protobuf"
        ) from None
    if len(out) > max_bytes:
        raise _too_big("GTFS-RT (gzip)", max_bytes)
    if not inflater.eof:
        raise RealtimeError("Unvollständige gzip-Daten / truncated gzip data", code="not_protobuf")
    if not out:
        raise RealtimeError("Leerer Echtzeit-Feed / empty realtime feed", code="empty")
    return out


def _refuse_text(data: bytes) -> None:
    # A misconfigured URL usually answers with an error page, JSON or a plain message; say so
    # instead of "corrupt protobuf". Binary protobuf has control bytes (field tags such as 0x08,
    # 0x10, lengths) within its first bytes; text has none besides whitespace.
    head = data[:512]
    if any(byte < 0x20 and byte not in b"\t\r\n" for byte in head):
        return
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        raise RealtimeError(
            "Die Quelle liefert HTML/XML statt GTFS-Realtime (Protobuf) / "
            "the source returned HTML/XML, not GTFS-Realtime protobuf",
            code="html",
        )
    kind = "JSON" if start in (b"{", b"[") else "Text"
    raise RealtimeError(
        f"Die Quelle liefert {kind} statt GTFS-Realtime (Protobuf) / "
        f"the source returned {kind.replace('Text', 'text')}, not GTFS-Realtime protobuf",
        code="not_protobuf",
    )


class _Malformed(Exception):
    pass


class _Reader:
    def __init__(self) -> None:
        self.trips: dict[str, TripRealtime] = {}
        self.alerts: list[Alert] = []
        self.skipped = 0
        self.problems: list[str] = []

    def read(self, message: gtfs_realtime_pb2.FeedMessage) -> Snapshot:
        for entity in message.entity:
            if entity.is_deleted:
                continue  # only meaningful in DIFFERENTIAL feeds
            try:
                if entity.HasField("trip_update"):
                    self._trip_update(entity.trip_update)
                if entity.HasField("alert"):
                    self.alerts.append(self._alert(entity.id, entity.alert))
            except _Malformed as exc:
                self.skipped += 1
                if len(self.problems) < PROBLEM_EXAMPLES:
                    self.problems.append(f"{entity.id or '?'}: {exc}")
        timestamp = message.header.timestamp if message.header.HasField("timestamp") else None
        return Snapshot(
            timestamp=timestamp or None,
            trips=self.trips,
            alerts=self.alerts,
            skipped=self.skipped,
            problems=self.problems,
        )

    def _trip_update(self, update: gtfs_realtime_pb2.TripUpdate) -> None:
        trip = update.trip
        if not update.HasField("trip") or not trip.trip_id:
            raise _Malformed("TripUpdate ohne trip_id / TripUpdate without trip_id")
        relationship = trip.schedule_relationship
        if relationship in _UNSUPPORTED_TRIPS:
            name = _TRIP.ScheduleRelationship.Name(relationship)
            raise _Malformed(f"{trip.trip_id}: {name} nicht unterstützt / not supported")
        service_date = _start_date(trip.start_date) if trip.start_date else None
        key = trip_key(trip.trip_id, service_date)
        if key in self.trips:
            raise _Malformed(f"{trip.trip_id}: doppelt / duplicate")
        stops = [_stop_update(trip.trip_id, stu) for stu in update.stop_time_update]
        self.trips[key] = TripRealtime(
            cancelled=relationship in _CANCELLED_TRIPS,
            delay=update.delay if update.HasField("delay") else None,
            stops=stops,
            schedule_relationship=_TRIP.ScheduleRelationship.Name(relationship),
        )

    def _alert(self, entity_id: str, alert: gtfs_realtime_pb2.Alert) -> Alert:
        headers = _translations(alert.header_text)
        descriptions = _translations(alert.description_text)
        if not headers and not descriptions:
            raise _Malformed("Meldung ohne Text / alert without text")
        if not alert.informed_entity:
            raise _Malformed("Meldung betrifft nichts / alert without informed entity")
        # One informing only an agency or a route_type is kept; alerts_for() never matches it.
        route_ids: list[str] = []
        stop_ids: list[str] = []
        trip_ids: list[str] = []
        agency_ids: list[str] = []
        for informed in alert.informed_entity:
            for value, target in (
                (informed.route_id, route_ids),
                (informed.stop_id, stop_ids),
                (informed.trip.trip_id if informed.HasField("trip") else "", trip_ids),
                (informed.agency_id, agency_ids),
            ):
                if value and value not in target:
                    target.append(value)
        return Alert(
            id=entity_id,
            header=_german(headers),
            description=_german(descriptions),
            header_en=_language(headers, "en") or "",
            description_en=_language(descriptions, "en") or "",
            active_periods=[
                (
                    period.start if period.HasField("start") and period.start else None,
                    period.end if period.HasField("end") and period.end else None,
                )
                for period in alert.active_period
            ],
            route_ids=route_ids,
            stop_ids=stop_ids,
            trip_ids=trip_ids,
            agency_ids=agency_ids,
            effect=gtfs_realtime_pb2.Alert.Effect.Name(alert.effect),
            cause=gtfs_realtime_pb2.Alert.Cause.Name(alert.cause),
            url=_german(_translations(alert.url)),
        )


def _start_date(value: str) -> date:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise _Malformed(f"start_date {value!r} ungültig / invalid")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise _Malformed(f"start_date {value!r} ungültig / invalid") from None


def _stop_update(trip_id: str, stu: gtfs_realtime_pb2.TripUpdate.StopTimeUpdate) -> StopUpdate:
    # A stop update that cannot be placed makes the whole trip update unusable: applying the
    # rest would propagate delays across the wrong stops.
    sequence = stu.stop_sequence if stu.HasField("stop_sequence") else None
    stop_id = stu.stop_id or None
    if sequence is None and stop_id is None:
        raise _Malformed(
            f"{trip_id}: Halt ohne stop_sequence und stop_id / stop without stop_sequence and stop_id"
        )
    arrival = stu.arrival if stu.HasField("arrival") else None
    departure = stu.departure if stu.HasField("departure") else None
    return StopUpdate(
        stop_sequence=sequence,
        stop_id=stop_id,
        arrival_delay=arrival.delay if arrival and arrival.HasField("delay") else None,
        departure_delay=departure.delay if departure and departure.HasField("delay") else None,
        arrival_time=arrival.time if arrival and arrival.HasField("time") else None,
        departure_time=departure.time if departure and departure.HasField("time") else None,
        skipped=stu.schedule_relationship == _STU.SKIPPED,
        no_data=stu.schedule_relationship == _STU.NO_DATA,
    )


def _translations(text: gtfs_realtime_pb2.TranslatedString) -> list[tuple[str, str]]:
    return [(t.language.lower(), t.text) for t in text.translation if t.text]


def _language(translations: list[tuple[str, str]], language: str) -> str | None:
    for tag, text in translations:
        if tag == language or tag.startswith((f"{language}-", f"{language}_")):
            return text
    return None


def _german(translations: list[tuple[str, str]]) -> str:
    found = _language(translations, "de")
    if found is not None:
        return found
    return translations[0][1] if translations else ""


# ---- applying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledStop:
    """A scheduled stop time in seconds after the service day's reference (noon minus 12 h)."""

    stop_sequence: int
    stop_id: str
    arrival: int
    departure: int


@dataclass(frozen=True)
class ExpectedStop:
    """A stop with its realtime prediction, in the same GTFS-time scale as ``ScheduledStop``.

    ``arrival``/``departure`` are None when no prediction applies (no update, NO_DATA, skipped,
    cancelled); then the schedule stands (or the stop is not served: ``skipped``/``cancelled``).
    ``realtime`` is true exactly when a predicted time is present.
    """

    stop_sequence: int
    stop_id: str
    scheduled_arrival: int
    scheduled_departure: int
    arrival: int | None
    departure: int | None
    skipped: bool = False
    cancelled: bool = False
    realtime: bool = False

    @property
    def arrival_delay(self) -> int | None:
        return None if self.arrival is None else self.arrival - self.scheduled_arrival

    @property
    def departure_delay(self) -> int | None:
        return None if self.departure is None else self.departure - self.scheduled_departure


def expected_times(
    *,
    stop_times: Sequence[ScheduledStop],
    realtime: TripRealtime | None,
    service_midnight: int,
) -> list[ExpectedStop]:
    """Apply a trip's realtime update to its scheduled stops; one result per stop, same order.

    The rules of the GTFS-Realtime reference:

    - A StopTimeUpdate matches by stop_sequence, else by stop_id (the first occurrence not yet
      matched, preferring those after the previous match, for trips visiting a stop twice).
    - An absolute ``time`` wins over ``delay``; an arrival without departure implies the same
      departure delay; a departure is never before the arrival. A departure without arrival
      takes the arrival delay from upstream (or its own), never later than the departure.
    - The resulting departure delay propagates to later stops until the next update.
    - SKIPPED: marked, no prediction, propagation continues past it.
    - NO_DATA: no prediction and propagation stops.
    - The trip-level delay applies wherever no stop update (own or propagated) applies,
      including stops before the first update; without it those stops have no prediction.
    - A cancelled trip: every stop ``cancelled``, no predictions.
    """
    order = sorted(range(len(stop_times)), key=lambda i: stop_times[i].stop_sequence)
    scheduled = [stop_times[i] for i in order]
    cancelled = realtime is not None and realtime.cancelled
    updates = _match(scheduled, realtime.stops) if realtime and not cancelled else {}
    trip_delay = realtime.delay if realtime and not cancelled else None

    results: list[ExpectedStop | None] = [None] * len(stop_times)
    propagated: int | None = None
    for position, stop in enumerate(scheduled):
        update = updates.get(position)
        arrival_delay: int | None = None
        departure_delay: int | None = None
        skipped = False
        if cancelled:
            pass
        elif update is not None and update.no_data:
            propagated = None
        elif update is not None and update.skipped:
            skipped = True
        else:
            own = _own_delays(update, stop, service_midnight) if update else None
            if own is not None:
                arrival_delay, departure_delay = _event_delays(
                    own, stop, upstream=propagated if propagated is not None else trip_delay
                )
                propagated = departure_delay
            else:
                delay = propagated if propagated is not None else trip_delay
                arrival_delay = departure_delay = delay
        arrival_at = None if arrival_delay is None else stop.arrival + arrival_delay
        departure_at = None if departure_delay is None else stop.departure + departure_delay
        results[order[position]] = ExpectedStop(
            stop_sequence=stop.stop_sequence,
            stop_id=stop.stop_id,
            scheduled_arrival=stop.arrival,
            scheduled_departure=stop.departure,
            arrival=arrival_at,
            departure=departure_at,
            skipped=skipped,
            cancelled=cancelled,
            realtime=arrival_at is not None or departure_at is not None,
        )
    return [r for r in results if r is not None]


def _own_delays(
    update: StopUpdate, stop: ScheduledStop, service_midnight: int
) -> tuple[int | None, int | None] | None:
    """(arrival delay, departure delay) the update itself gives; None if it gives neither."""
    if update.arrival_time is not None:
        arrival: int | None = update.arrival_time - service_midnight - stop.arrival
    else:
        arrival = update.arrival_delay
    if update.departure_time is not None:
        departure: int | None = update.departure_time - service_midnight - stop.departure
    else:
        departure = update.departure_delay
    if arrival is None and departure is None:
        return None
    return arrival, departure


def _event_delays(
    own: tuple[int | None, int | None], stop: ScheduledStop, *, upstream: int | None
) -> tuple[int, int]:
    """(arrival delay, departure delay) at a stop with its own update; the vehicle cannot leave
    before it arrives, and the departure delay after that correction is what propagates."""
    arrival_delay, departure_delay = own
    if arrival_delay is None:
        assert departure_delay is not None  # noqa: S101 - _own_delays returns None otherwise
        departure = stop.departure + departure_delay
        arrival_guess = upstream if upstream is not None else departure_delay
        arrival = min(stop.arrival + arrival_guess, departure)
    else:
        arrival = stop.arrival + arrival_delay
        implied = departure_delay if departure_delay is not None else arrival_delay
        departure = max(stop.departure + implied, arrival)
    return arrival - stop.arrival, departure - stop.departure


def _match(
    scheduled: Sequence[ScheduledStop], updates: Sequence[StopUpdate]
) -> dict[int, StopUpdate]:
    """Position in ``scheduled`` -> the StopUpdate that applies there."""
    by_sequence = {stop.stop_sequence: i for i, stop in enumerate(scheduled)}
    matched: dict[int, StopUpdate] = {}
    last = -1
    for update in updates:
        position = (
            by_sequence.get(update.stop_sequence) if update.stop_sequence is not None else None
        )
        if position is not None and position in matched:
            continue  # a second update for the same stop: the first one stands
        if position is None and update.stop_id is not None:
            candidates = [
                i
                for i, stop in enumerate(scheduled)
                if stop.stop_id == update.stop_id and i not in matched
            ]
            later = [i for i in candidates if i > last]
            if later or candidates:
                position = (later or candidates)[0]
        if position is None:
            continue  # the stop is not on this trip (static and realtime feeds disagree)
        matched[position] = update
        last = position
    return matched


# ---- using the snapshot ----------------------------------------------------------------------


def is_stale(snapshot: Snapshot, *, now: int, max_age: int) -> bool:
    """Whether the snapshot is too old to show: no timestamp, or older than ``max_age`` s."""
    return snapshot.timestamp is None or now - snapshot.timestamp > max_age


def alerts_for(
    snapshot: Snapshot,
    *,
    now: int,
    stop_ids: Collection[str] = (),
    route_ids: Collection[str] = (),
    trip_ids: Collection[str] = (),
) -> list[Alert]:
    """Alerts active at ``now`` that inform any of the given stops, routes or trips.

    Informed entities are matched one field at a time: an alert for "route 10 at stop A"
    also matches stop A alone and route 10 alone (the flattened lists keep no combination).
    """
    stops, routes, trips = set(stop_ids), set(route_ids), set(trip_ids)
    return [
        alert
        for alert in snapshot.alerts
        if alert.is_active(now)
        and (
            not stops.isdisjoint(alert.stop_ids)
            or not routes.isdisjoint(alert.route_ids)
            or not trips.isdisjoint(alert.trip_ids)
        )
    ]
