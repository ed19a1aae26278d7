"""Reading a GTFS zip into checked rows, database-free.

Real feeds are messy; every row that cannot be used is skipped and counted in the report under
a reason, with a few examples, and the import goes on. Only a file that is not GTFS at all
(not a zip, a required file missing, a required column missing) stops it: ``GtfsError``.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from rathaus.transit import realtime

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
OPTIONAL_FILES = (
    "calendar.txt",
    "calendar_dates.txt",
    "shapes.txt",
    "frequencies.txt",
    "transfers.txt",
    "feed_info.txt",
)
REQUIRED_COLUMNS = {
    "agency.txt": ("agency_name", "agency_timezone"),
    "stops.txt": ("stop_id",),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_id", "stop_sequence"),
    "calendar.txt": ("service_id", "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "shapes.txt": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers.txt": ("from_stop_id", "to_stop_id"),
    "feed_info.txt": (),
}
KNOWN_COLUMNS = {
    "agency.txt": "agency_id agency_name agency_url agency_timezone agency_lang agency_phone "
    "agency_fare_url agency_email cemv_support",
    "stops.txt": "stop_id stop_code stop_name tts_stop_name stop_desc stop_lat stop_lon zone_id "
    "stop_url location_type parent_station stop_timezone wheelchair_boarding level_id "
    "platform_code stop_access",
    "routes.txt": "route_id agency_id route_short_name route_long_name route_desc route_type "
    "route_url route_color route_text_color route_sort_order continuous_pickup "
    "continuous_drop_off network_id cemv_support",
    "trips.txt": "route_id service_id trip_id trip_headsign trip_short_name direction_id block_id "
    "shape_id wheelchair_accessible bikes_allowed cars_allowed",
    "stop_times.txt": "trip_id arrival_time departure_time stop_id location_group_id location_id "
    "stop_sequence stop_headsign start_pickup_drop_off_window end_pickup_drop_off_window "
    "pickup_type drop_off_type continuous_pickup continuous_drop_off shape_dist_traveled "
    "timepoint pickup_booking_rule_id drop_off_booking_rule_id",
    "calendar.txt": "service_id monday tuesday wednesday thursday friday saturday sunday "
    "start_date end_date",
    "calendar_dates.txt": "service_id date exception_type",
    "shapes.txt": "shape_id shape_pt_lat shape_pt_lon shape_pt_sequence shape_dist_traveled",
    "frequencies.txt": "trip_id start_time end_time headway_secs exact_times",
    "transfers.txt": "from_stop_id to_stop_id from_route_id to_route_id from_trip_id to_trip_id "
    "transfer_type min_transfer_time",
    "feed_info.txt": "feed_publisher_name feed_publisher_url feed_lang default_lang "
    "feed_start_date feed_end_date feed_version feed_contact_email feed_contact_url",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DOWNLOAD = 1024**3  # 1 GiB: the largest national feeds are a few hundred MB
MAX_UNCOMPRESSED = 8 * 1024**3  # a zip that claims more is refused (zip bomb)
MAX_ID = 100  # ids are stored in columns of this length
MAX_TIME = 7 * 86_400  # GTFS times past a week are errors, not timetables
MAX_INT = 2**31 - 1
EXAMPLES = 5


class GtfsError(Exception):
    """The source cannot be imported at all; the message is German / English."""


@dataclass
class Problem:
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Counts per file and the reasons rows were skipped (German / English, with examples)."""

    read: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    imported: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, Problem] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def skip(self, file: str, reason: str, example: str) -> None:
        problem = self.skipped.setdefault(f"{file}: {reason}", Problem())
        problem.count += 1
        if len(problem.examples) < EXAMPLES:
            problem.examples.append(example)

    @property
    def skipped_total(self) -> int:
        return sum(p.count for p in self.skipped.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "read": dict(self.read),
            "imported": dict(self.imported),
            "skipped": {
                k: {"count": p.count, "examples": p.examples} for k, p in self.skipped.items()
            },
            "notes": self.notes,
        }


# ---- reading the source ----------------------------------------------------------------------


def fetch(source: str, *, timeout: float = 30.0, max_bytes: int = MAX_DOWNLOAD) -> bytes:
    """The zip's bytes from a path or an http(s) URL (the same careful fetching as the
    real-time data: only http(s), bounded in time and size)."""
    try:
        return realtime.realtime_fetch(source, timeout=timeout, max_bytes=max_bytes)
    except realtime.RealtimeError as exc:
        raise GtfsError(str(exc)) from None


class Archive:
    """The GTFS files inside a zip (at its root or in one folder)."""

    def __init__(self, data: bytes) -> None:
        if data[:1] == b"<" or data.lstrip()[:1] == b"<":
            raise GtfsError(
                "Die Quelle liefert HTML statt einer GTFS-ZIP-Datei / "
                "the source returned HTML, not a GTFS zip"
            )
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise GtfsError("Keine ZIP-Datei / not a zip file") from None
        if sum(info.file_size for info in self.zip.infolist()) > MAX_UNCOMPRESSED:
            raise GtfsError("ZIP-Datei entpackt zu groß / zip too large when unpacked")
        self.names: dict[str, str] = {}
        for info in self.zip.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if base.endswith(".txt") and not info.is_dir():
                self.names.setdefault(base, info.filename)
        missing = [name for name in REQUIRED_FILES if name not in self.names]
        if "calendar.txt" not in self.names and "calendar_dates.txt" not in self.names:
            missing.append("calendar.txt / calendar_dates.txt")
        if missing:
            raise GtfsError(
                "Keine gültige GTFS-Datei, es fehlen / not a valid GTFS feed, missing: "
                + ", ".join(missing)
            )

    def has(self, name: str) -> bool:
        return name in self.names

    def rows(self, name: str, report: Report) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, row with stripped values) of one file; columns checked."""
        if name not in self.names:
            return
        encoding = self._encoding(name, report)
        with self.zip.open(self.names[name]) as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                report.notes.append(f"{name}: leer / empty")
                return
            header = [column.strip().lstrip("\ufeff") for column in header]
            missing = [c for c in REQUIRED_COLUMNS[name] if c not in header]
            if missing:
                raise GtfsError(f"{name}: Spalten fehlen / columns missing: {', '.join(missing)}")
            unknown = [c for c in header if c and c not in KNOWN_COLUMNS[name].split()]
            if unknown:
                report.notes.append(
                    f"{name}: unbekannte Spalten ignoriert / unknown columns ignored: "
                    + ", ".join(unknown[:10])
                )
            width = len(header)
            ids = [
                i
                for i, column in enumerate(header)
                if column.endswith("_id") or column == "parent_station"
            ]
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:  # one broken row, not the rest of the file
                    report.read[name] += 1
                    report.skip(name, "CSV-Fehler / CSV error", f"line {reader.line_num}: {exc}")
                    continue
                if not values or values == [""]:
                    continue
                report.read[name] += 1
                line = reader.line_num
                if len(values) < width:
                    values = values + [""] * (width - len(values))
                if any(len(values[i].strip()) > MAX_ID for i in ids):
                    report.skip(
                        name,
                        f"ID länger als {MAX_ID} Zeichen / id longer than {MAX_ID}",
                        f"line {line}",
                    )
                    continue
                yield line, {k: v.strip() for k, v in zip(header, values, strict=False)}

    def _encoding(self, name: str, report: Report) -> str:
        """UTF-8 as the reference wants it; a file that is not is read as Windows-1252 (what
        such files usually are) and said so in the report."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        with self.zip.open(self.names[name]) as raw:
            try:
                while chunk := raw.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                report.notes.append(
                    f"{name}: nicht UTF-8, als Windows-1252 gelesen / "
                    "not UTF-8, read as Windows-1252"
                )
                return "cp1252"
        return "utf-8-sig"


# ---- value parsing -----------------------------------------------------------------------------


def parse_time(value: str) -> int | None:
    """GTFS time H:MM:SS (hours may pass 24) -> seconds; '' -> None; bad -> ValueError."""
    if not value:
        return None
    parts = value.split(":")
    if len(parts) != 3:
        raise ValueError(value)
    hours, minutes, seconds = (int(p) for p in parts)
    if hours < 0 or not (0 <= minutes < 60 and 0 <= seconds < 61):
        raise ValueError(value)
    total = hours * 3600 + minutes * 60 + seconds
    if total > MAX_TIME:
        raise ValueError(value)
    return total


def format_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def parse_date(value: str) -> date:
    if len(value) != 8 or not value.isdigit():
        raise ValueError(value)
    return date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _int(value: str, default: int = 0) -> int:
    """A whole number that fits the database's integer columns."""
    number = int(value) if value else default
    if not 0 <= number <= MAX_INT:
        raise ValueError(value)
    return number


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))


# ---- the checked content -----------------------------------------------------------------------


@dataclass
class StopRow:
    stop_id: str
    code: str
    name: str
    lat: float | None
    lon: float | None
    location_type: int
    parent_id: str
    platform_code: str
    wheelchair_boarding: int


@dataclass
class TripRow:
    trip_id: str
    route_id: str
    service_id: str
    headsign: str
    short_name: str
    direction_id: int | None
    shape_id: str
    wheelchair_accessible: int
    bikes_allowed: int
    frequency_trip_id: str = ""


# (stop_id, stop_sequence, arrival, departure, interpolated, pickup, drop_off, headsign)
StopTimeRow = tuple[str, int, int, int, bool, int, int, str]


@dataclass
class Feed:
    agencies: list[dict[str, str]] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)
    stops: dict[str, StopRow] = field(default_factory=dict)
    trips: dict[str, TripRow] = field(default_factory=dict)
    stop_times: dict[str, list[StopTimeRow]] = field(default_factory=dict)
    service_days: dict[str, set[date]] = field(default_factory=dict)
    shapes: dict[str, list[list[float]]] = field(default_factory=dict)
    frequencies: list[tuple[str, int, int, int, bool]] = field(default_factory=list)
    transfers: list[tuple[str, str, int, int | None]] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    report: Report = field(default_factory=Report)

    @property
    def stop_time_count(self) -> int:
        return sum(len(rows) for rows in self.stop_times.values())


def read_feed(data: bytes, *, progress: Callable[[str], None] | None = None) -> Feed:
    """Check and read a whole feed; see the module doc for what is skipped."""
    archive = Archive(data)
    feed = Feed()
    say = progress or (lambda message: None)
    _read_agencies(archive, feed)
    _read_stops(archive, feed)
    say(f"stops: {len(feed.stops)}")
    _read_routes(archive, feed)
    _read_calendar(archive, feed)
    _read_trips(archive, feed)
    say(f"trips: {len(feed.trips)}")
    _read_stop_times(archive, feed, say)
    _read_frequencies(archive, feed)
    _read_shapes(archive, feed)
    _read_transfers(archive, feed)
    for _line, row in archive.rows("feed_info.txt", feed.report):
        feed.info = row
        feed.report.imported["feed_info.txt"] = 1
        break
    return feed


def _read_agencies(archive: Archive, feed: Feed) -> None:
    seen: set[str] = set()
    for line, row in archive.rows("agency.txt", feed.report):
        agency_id = row.get("agency_id", "")
        if agency_id in seen:
            feed.report.skip(
                "agency.txt", "doppelte ID / duplicate id", f"line {line}: {agency_id}"
            )
            continue
        if not row["agency_name"] or not row["agency_timezone"]:
            feed.report.skip(
                "agency.txt", "Name oder Zeitzone fehlt / name or timezone missing", f"line {line}"
            )
            continue
        seen.add(agency_id)
        feed.agencies.append(row)
    if not feed.agencies:
        raise GtfsError("agency.txt: kein gültiger Betreiber / no valid agency")


def _read_stops(archive: Archive, feed: Feed) -> None:
    report = feed.report
    for line, row in archive.rows("stops.txt", report):
        stop_id = row["stop_id"]
        example = f"line {line}: {stop_id}"
        if not stop_id:
            report.skip("stops.txt", "stop_id leer / stop_id empty", example)
            continue
        if stop_id in feed.stops:
            report.skip("stops.txt", "doppelte ID / duplicate id", example)
            continue
        try:
            location_type = _int(row.get("location_type", ""))
            lat = float(row["stop_lat"]) if row.get("stop_lat") else None
            lon = float(row["stop_lon"]) if row.get("stop_lon") else None
            wheelchair = _int(row.get("wheelchair_boarding", ""))
        except ValueError:
            report.skip("stops.txt", "Zahl ungültig / invalid number", example)
            continue
        if location_type <= 2 and (
            lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180)
        ):
            report.skip(
                "stops.txt",
                "Koordinaten fehlen oder ungültig / coordinates missing or invalid",
                example,
            )
            continue
        feed.stops[stop_id] = StopRow(
            stop_id=stop_id,
            code=row.get("stop_code", ""),
            name=row.get("stop_name", ""),
            lat=lat,
            lon=lon,
            location_type=location_type if 0 <= location_type <= 4 else 0,
            parent_id=row.get("parent_station", ""),
            platform_code=row.get("platform_code", ""),
            wheelchair_boarding=wheelchair if wheelchair in (0, 1, 2) else 0,
        )
    for stop in feed.stops.values():
        if stop.parent_id and stop.parent_id not in feed.stops:
            report.skip(
                "stops.txt",
                "übergeordnete Station fehlt, Haltepunkt ohne Station übernommen / "
                "parent station missing, stop kept without it",
                f"{stop.stop_id} -> {stop.parent_id}",
            )
            stop.parent_id = ""
        elif stop.parent_id == stop.stop_id:
            stop.parent_id = ""


def _read_routes(archive: Archive, feed: Feed) -> None:
    agencies = {a.get("agency_id", "") for a in feed.agencies}
    only_agency = feed.agencies[0].get("agency_id", "") if len(feed.agencies) == 1 else None
    seen: set[str] = set()
    for line, row in archive.rows("routes.txt", feed.report):
        route_id = row["route_id"]
        example = f"line {line}: {route_id}"
        if not route_id or route_id in seen:
            feed.report.skip("routes.txt", "ID leer oder doppelt / id empty or duplicate", example)
            continue
        try:
            route_type = _int(row["route_type"], -1)
            if route_type > 9999:
                raise ValueError(route_type)
        except ValueError:
            feed.report.skip("routes.txt", "route_type ungültig / invalid route_type", example)
            continue
        agency_id = row.get("agency_id", "")
        if agency_id not in agencies:
            if only_agency is None or agency_id:
                feed.report.skip("routes.txt", "Betreiber unbekannt / unknown agency", example)
                continue
            agency_id = only_agency
        if not (row.get("route_short_name") or row.get("route_long_name")):
            feed.report.skip("routes.txt", "Name fehlt / name missing", example)
            continue
        seen.add(route_id)
        feed.routes.append(
            {
                "route_id": route_id,
                "agency_id": agency_id,
                "short_name": row.get("route_short_name", ""),
                "long_name": row.get("route_long_name", ""),
                "route_type": route_type,
                "color": _color(row.get("route_color", "")),
                "text_color": _color(row.get("route_text_color", "")),
            }
        )


def _color(value: str) -> str:
    value = value.lstrip("#")
    return (
        value.upper()
        if len(value) == 6 and all(c in "0123456789abcdefABCDEF" for c in value)
        else ""
    )


def _read_calendar(archive: Archive, feed: Feed) -> None:
    days = feed.service_days
    for line, row in archive.rows("calendar.txt", feed.report):
        try:
            start, end = parse_date(row["start_date"]), parse_date(row["end_date"])
            flags = [row.get(name, "0") == "1" for name in WEEKDAYS]
        except ValueError:
            feed.report.skip("calendar.txt", "Datum ungültig / invalid date", f"line {line}")
            continue
        if (end - start).days > 3 * 366:
            end = start + timedelta(days=3 * 366)
            feed.report.notes.append(
                f"calendar.txt line {line}: Zeitraum auf 3 Jahre gekürzt / "
                f"period cut to 3 years (until {end.isoformat()})"
            )
        dates = days.setdefault(row["service_id"], set())
        feed.report.imported["calendar.txt"] += 1
        if any(flags):
            current = start
            while current <= end:
                if flags[current.weekday()]:
                    dates.add(current)
                current += timedelta(days=1)
    for line, row in archive.rows("calendar_dates.txt", feed.report):
        try:
            day = parse_date(row["date"])
            kind = int(row["exception_type"])
            if kind not in (1, 2):
                raise ValueError(kind)
        except ValueError:
            feed.report.skip(
                "calendar_dates.txt",
                "Datum oder Art ungültig / invalid date or type",
                f"line {line}",
            )
            continue
        dates = days.setdefault(row["service_id"], set())
        feed.report.imported["calendar_dates.txt"] += 1
        if kind == 1:
            dates.add(day)
        else:
            dates.discard(day)
    if not any(days.values()):
        raise GtfsError(
            "calendar.txt/calendar_dates.txt: an keinem Tag Verkehr / no day with service"
        )


def _read_trips(archive: Archive, feed: Feed) -> None:
    routes = {r["route_id"] for r in feed.routes}
    for line, row in archive.rows("trips.txt", feed.report):
        trip_id = row["trip_id"]
        example = f"line {line}: {trip_id}"
        if not trip_id or trip_id in feed.trips:
            feed.report.skip("trips.txt", "ID leer oder doppelt / id empty or duplicate", example)
            continue
        if row["route_id"] not in routes:
            feed.report.skip("trips.txt", "Linie unbekannt / unknown route", example)
            continue
        if not feed.service_days.get(row["service_id"]):
            feed.report.skip("trips.txt", "Verkehrstage fehlen / service has no day", example)
            continue
        try:
            direction = int(row["direction_id"]) if row.get("direction_id") else None
            wheelchair = _int(row.get("wheelchair_accessible", ""))
            bikes = _int(row.get("bikes_allowed", ""))
        except ValueError:
            feed.report.skip("trips.txt", "Zahl ungültig / invalid number", example)
            continue
        feed.trips[trip_id] = TripRow(
            trip_id=trip_id,
            route_id=row["route_id"],
            service_id=row["service_id"],
            headsign=row.get("trip_headsign", ""),
            short_name=row.get("trip_short_name", ""),
            direction_id=direction if direction in (0, 1) else None,
            shape_id=row.get("shape_id", ""),
            wheelchair_accessible=wheelchair if wheelchair in (0, 1, 2) else 0,
            bikes_allowed=bikes if bikes in (0, 1, 2) else 0,
        )


# (line, sequence, stop_id, arrival, departure, pickup, drop_off, headsign, timepoint)
_RawStopTime = tuple[int, int, str, int | None, int | None, int, int, str]


def _read_stop_times(archive: Archive, feed: Feed, say: Callable[[str], None]) -> None:
    report = feed.report
    raw: dict[str, list[_RawStopTime]] = defaultdict(list)
    stops = feed.stops
    for line, row in archive.rows("stop_times.txt", report):
        trip_id, stop_id = row["trip_id"], row["stop_id"]
        example = f"line {line}: {trip_id}/{stop_id}"
        if trip_id not in feed.trips:
            report.skip("stop_times.txt", "Fahrt unbekannt / unknown trip", example)
            continue
        stop = stops.get(stop_id)
        if stop is None:
            report.skip("stop_times.txt", "Haltestelle fehlt / stop missing", example)
            continue
        if stop.location_type not in (0, 4):
            report.skip(
                "stop_times.txt",
                "Halt an einer Station statt Haltepunkt / stop is a station",
                example,
            )
            continue
        try:
            sequence = _int(row["stop_sequence"], -1)
            arrival = parse_time(row.get("arrival_time", ""))
            departure = parse_time(row.get("departure_time", ""))
            pickup = _int(row.get("pickup_type", ""))
            drop_off = _int(row.get("drop_off_type", ""))
        except ValueError:
            report.skip(
                "stop_times.txt", "Zeit oder Zahl ungültig / invalid time or number", example
            )
            continue
        if arrival is None:
            arrival = departure
        if departure is None:
            departure = arrival
        if arrival is not None and departure is not None and departure < arrival:
            report.skip("stop_times.txt", "Abfahrt vor Ankunft / departure before arrival", example)
            continue
        raw[trip_id].append(
            (
                line,
                sequence,
                stop_id,
                arrival,
                departure,
                pickup,
                drop_off,
                row.get("stop_headsign", ""),
            )
        )
        if report.read["stop_times.txt"] % 500_000 == 0:
            say(f"stop_times: {report.read['stop_times.txt']} read")
    for trip_id in list(feed.trips):
        rows = _trip_stop_times(trip_id, raw.pop(trip_id, []), feed)
        if len(rows) < 2:
            report.skip(
                "trips.txt",
                "weniger als zwei nutzbare Halte / fewer than two usable stops",
                trip_id,
            )
            del feed.trips[trip_id]
            continue
        feed.stop_times[trip_id] = rows


def _trip_stop_times(trip_id: str, rows: list[_RawStopTime], feed: Feed) -> list[StopTimeRow]:
    """One trip's stop times in order: duplicates and time travel dropped, times of
    non-timepoints interpolated by distance between the timed stops around them."""
    report = feed.report
    rows.sort(key=lambda r: r[1])
    kept: list[_RawStopTime] = []
    for row in rows:
        if kept and kept[-1][1] == row[1]:
            report.skip(
                "stop_times.txt",
                "stop_sequence doppelt / duplicate stop_sequence",
                f"line {row[0]}: {trip_id}",
            )
            continue
        kept.append(row)
    # drop untimed ends: nothing to interpolate from
    while kept and kept[0][3] is None:
        report.skip(
            "stop_times.txt",
            "erster Halt ohne Zeit / first stop without time",
            f"line {kept[0][0]}: {trip_id}",
        )
        kept.pop(0)
    while kept and kept[-1][3] is None:
        report.skip(
            "stop_times.txt",
            "letzter Halt ohne Zeit / last stop without time",
            f"line {kept[-1][0]}: {trip_id}",
        )
        kept.pop()
    timed: list[_RawStopTime] = []
    last_departure = -1
    for row in kept:
        if row[3] is not None and row[4] is not None:
            if row[3] < last_departure:
                report.skip(
                    "stop_times.txt",
                    "Zeit früher als am vorigen Halt / time earlier than at the previous stop",
                    f"line {row[0]}: {trip_id}",
                )
                continue
            last_departure = row[4]
        timed.append(row)
    while timed and timed[-1][3] is None:
        report.skip(
            "stop_times.txt",
            "letzter Halt ohne Zeit / last stop without time",
            f"line {timed[-1][0]}: {trip_id}",
        )
        timed.pop()
    result: list[StopTimeRow] = []
    index = 0
    while index < len(timed):
        row = timed[index]
        if row[3] is not None and row[4] is not None:
            result.append((row[2], row[1], row[3], row[4], False, row[5], row[6], row[7]))
            index += 1
            continue
        # a run of untimed rows between result[-1] and the next timed row
        end = index
        while timed[end][3] is None:
            end += 1
        previous, following = result[-1], timed[end]
        following_arrival = following[3] or 0  # timed: the loop above stopped at it
        chain = [previous[0]] + [r[2] for r in timed[index:end]] + [following[2]]
        legs = [_stop_distance(feed, a, b) for a, b in zip(chain, chain[1:], strict=False)]
        total = sum(legs)
        start, span = previous[3], following_arrival - previous[3]
        walked = 0.0
        for offset, untimed in enumerate(timed[index:end]):
            walked += legs[offset]
            share = walked / total if total > 0 else (offset + 1) / (len(legs))
            moment = start + round(span * share)
            result.append(
                (untimed[2], untimed[1], moment, moment, True, untimed[5], untimed[6], untimed[7])
            )
        index = end
    return result


def _stop_distance(feed: Feed, a: str, b: str) -> float:
    first, second = feed.stops[a], feed.stops[b]
    if first.lat is None or first.lon is None or second.lat is None or second.lon is None:
        return 0.0
    return distance_m(first.lat, first.lon, second.lat, second.lon)


def _read_frequencies(archive: Archive, feed: Feed) -> None:
    """Trips of frequencies.txt become one trip per run; their stop_times give the pattern."""
    templates: dict[str, list[tuple[int, int, int, bool]]] = defaultdict(list)
    for line, row in archive.rows("frequencies.txt", feed.report):
        example = f"line {line}: {row['trip_id']}"
        if row["trip_id"] not in feed.stop_times:
            feed.report.skip("frequencies.txt", "Fahrt unbekannt / unknown trip", example)
            continue
        try:
            start, end = parse_time(row["start_time"]), parse_time(row["end_time"])
            headway = _int(row["headway_secs"])
            exact = row.get("exact_times", "") == "1"
        except ValueError:
            feed.report.skip(
                "frequencies.txt", "Zeit oder Takt ungültig / invalid time or headway", example
            )
            continue
        if start is None or end is None or headway <= 0 or end <= start:
            feed.report.skip(
                "frequencies.txt",
                "Zeitraum oder Takt ungültig / invalid period or headway",
                example,
            )
            continue
        if (end - start) // headway > 2000:
            feed.report.skip(
                "frequencies.txt", "mehr als 2000 Fahrten / more than 2000 runs", example
            )
            continue
        templates[row["trip_id"]].append((start, end, headway, exact))
        feed.frequencies.append((row["trip_id"], start, end, headway, exact))
    for trip_id, periods in templates.items():
        template = feed.trips.pop(trip_id)
        pattern = feed.stop_times.pop(trip_id)
        origin = pattern[0][3]
        for start, end, headway, _exact in periods:
            for moment in range(start, end, headway):
                run_id = f"{trip_id}@{format_time(moment)}"
                run = TripRow(
                    **{**template.__dict__, "trip_id": run_id, "frequency_trip_id": trip_id}
                )
                feed.trips[run_id] = run
                shift = moment - origin
                feed.stop_times[run_id] = [
                    (s, q, a + shift, d + shift, i, p, o, h) for s, q, a, d, i, p, o, h in pattern
                ]


def _read_shapes(archive: Archive, feed: Feed) -> None:
    points: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for line, row in archive.rows("shapes.txt", feed.report):
        try:
            lat, lon = float(row["shape_pt_lat"]), float(row["shape_pt_lon"])
            sequence = float(row["shape_pt_sequence"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180 and math.isfinite(sequence)):
                raise ValueError(row["shape_pt_lat"])
        except ValueError:
            feed.report.skip("shapes.txt", "Zahl ungültig / invalid number", f"line {line}")
            continue
        points[row["shape_id"]].append((sequence, lat, lon))
    for shape_id, rows in points.items():
        rows.sort()
        feed.shapes[shape_id] = [[round(lat, 6), round(lon, 6)] for _s, lat, lon in rows]


def _read_transfers(archive: Archive, feed: Feed) -> None:
    for line, row in archive.rows("transfers.txt", feed.report):
        example = f"line {line}: {row['from_stop_id']} -> {row['to_stop_id']}"
        if row["from_stop_id"] not in feed.stops or row["to_stop_id"] not in feed.stops:
            feed.report.skip("transfers.txt", "Haltestelle fehlt / stop missing", example)
            continue
        try:
            kind = _int(row.get("transfer_type", ""))
            seconds = _int(row["min_transfer_time"]) if row.get("min_transfer_time") else None
        except ValueError:
            feed.report.skip("transfers.txt", "Zahl ungültig / invalid number", example)
            continue
        feed.transfers.append((row["from_stop_id"], row["to_stop_id"], kind, seconds))
