"""Every write of the transit app: importing a feed version and switching to it."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from rathaus.core.services import audit_entry_create
from rathaus.transit import gtfs, realtime, timetable
from rathaus.transit.constants import VersionStatus
from rathaus.transit.models import (
    Agency,
    Feed,
    FeedVersion,
    Frequency,
    RealtimeState,
    Route,
    ServiceDay,
    Shape,
    Stop,
    StopTime,
    Transfer,
    Trip,
)

logger = logging.getLogger(__name__)
BATCH = 5000


def feed_slug_for(source: str) -> str:
    """A feed's default short name: the file name of its source (``lvb.zip`` -> ``lvb``)."""
    stem = source.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    stem = stem[:-4] if stem.lower().endswith(".zip") else stem
    return slugify(stem)[:40] or "feed"


def feed_import(
    *,
    source: str,
    slug: str = "",
    name: str = "",
    actor: AbstractBaseUser | None = None,
    progress: Callable[[str], None] | None = None,
    data: bytes | None = None,
) -> FeedVersion:
    """Load a GTFS zip (path or URL) as a new version of feed ``slug`` and make it the active
    one in the same transaction that removes the previous version: departures and journeys
    see the old timetable or the new one, never a half-loaded one. If the source cannot be
    used, a failed version with the reason is recorded, ``GtfsError`` is raised and the
    previous version stays active."""
    say = progress or (lambda message: None)
    slug = slug or feed_slug_for(source)
    feed, _created = Feed.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    if name and feed.name != name:
        feed.name = name
        feed.save(update_fields=["name", "updated_at"])
    digest = ""
    try:
        if data is None:
            say(f"reading {source}")
            data = gtfs.fetch(source)
        digest = hashlib.sha256(data).hexdigest()
        parsed = gtfs.read_feed(data, progress=say)
        with transaction.atomic():
            # one import per feed at a time: a second waits here and then replaces the first
            feed = Feed.objects.select_for_update().get(pk=feed.pk)
            version = _write(feed, parsed, source=source, digest=digest, say=say)
            _activate(feed, version, actor=actor, report=parsed.report)
        timetable.forget()  # this process at once; others within seconds (active_versions)
        _statistics_refresh()
    except gtfs.GtfsError as exc:
        _failed(feed, source, digest, str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the old version stays and it is said
        logger.exception("gtfs import failed", extra={"feed": feed.slug})
        message = (
            f"Import abgebrochen, der bisherige Fahrplan bleibt aktiv / import aborted, the "
            f"previous timetable stays active ({type(exc).__name__}: {str(exc)[:300]})"
        )
        _failed(feed, source, digest, message)
        raise gtfs.GtfsError(message) from exc
    return version


def _statistics_refresh() -> None:
    """PostgreSQL plans queries from table statistics; after replacing a whole timetable they
    describe the old one (or none) until autovacuum comes by, and boards would be planned as
    if the tables were empty. SQLite plans without them."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in _VERSION_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")  # noqa: S608 - table names are ours


def _failed(feed: Feed, source: str, digest: str, message: str) -> None:
    FeedVersion.objects.create(
        feed=feed,
        status=VersionStatus.FAILED,
        source=source[:500],
        sha256=digest,
        report={"error": message},
    )


def _write(
    feed: Feed, parsed: gtfs.Feed, *, source: str, digest: str, say: Callable[[str], None]
) -> FeedVersion:
    all_days = [day for days in parsed.service_days.values() for day in days]
    info = parsed.info
    version = FeedVersion.objects.create(
        feed=feed,
        status=VersionStatus.LOADING,
        source=source[:500],
        sha256=digest,
        publisher=info.get("feed_publisher_name", "")[:200],
        version_label=info.get("feed_version", "")[:200],
        first_date=min(all_days, default=None),
        last_date=max(all_days, default=None),
    )
    report = parsed.report
    agencies = Agency.objects.bulk_create(
        Agency(
            version=version,
            agency_id=row.get("agency_id", ""),
            name=row["agency_name"][:200],
            url=row.get("agency_url", "")[:500],
            timezone=row["agency_timezone"][:64],
            lang=row.get("agency_lang", "")[:20],
            phone=row.get("agency_phone", "")[:50],
        )
        for row in parsed.agencies
    )
    agency_pk = {a.agency_id: a.pk for a in agencies}
    report.imported["agency.txt"] = len(agencies)
    Route.objects.bulk_create(
        (
            Route(
                version=version,
                route_id=row["route_id"][:100],
                agency_id=agency_pk.get(row["agency_id"]),
                short_name=row["short_name"][:50],
                long_name=row["long_name"][:200],
                route_type=max(0, row["route_type"]),
                color=row["color"],
                text_color=row["text_color"],
            )
            for row in parsed.routes
        ),
        batch_size=BATCH,
    )
    route_pk = dict(Route.objects.filter(version=version).values_list("route_id", "pk"))
    report.imported["routes.txt"] = len(route_pk)
    Stop.objects.bulk_create(
        (
            Stop(
                version=version,
                stop_id=stop.stop_id[:100],
                code=stop.code[:50],
                name=stop.name[:200],
                lat=stop.lat,
                lon=stop.lon,
                location_type=stop.location_type,
                platform_code=stop.platform_code[:50],
                wheelchair_boarding=stop.wheelchair_boarding,
            )
            for stop in parsed.stops.values()
        ),
        batch_size=BATCH,
    )
    stop_pk = dict(Stop.objects.filter(version=version).values_list("stop_id", "pk"))
    children: dict[int, list[int]] = {}
    for stop in parsed.stops.values():
        if stop.parent_id:
            children.setdefault(stop_pk[stop.parent_id], []).append(stop_pk[stop.stop_id])
    for parent, kids in children.items():
        for start in range(0, len(kids), 500):
            Stop.objects.filter(pk__in=kids[start : start + 500]).update(parent_id=parent)
    report.imported["stops.txt"] = len(stop_pk)
    say(f"stops written: {len(stop_pk)}")
    ServiceDay.objects.bulk_create(
        (
            ServiceDay(version=version, service_id=service_id[:100], date=day)
            for service_id, days in parsed.service_days.items()
            for day in days
        ),
        batch_size=BATCH,
    )
    Trip.objects.bulk_create(
        (
            Trip(
                version=version,
                trip_id=trip.trip_id[:120],
                route_id=route_pk[trip.route_id],
                service_id=trip.service_id[:100],
                headsign=(trip.headsign or _last_stop_name(parsed, trip.trip_id))[:200],
                short_name=trip.short_name[:50],
                direction_id=trip.direction_id,
                shape_id=trip.shape_id[:100],
                wheelchair_accessible=trip.wheelchair_accessible,
                bikes_allowed=trip.bikes_allowed,
                frequency_trip_id=trip.frequency_trip_id[:100],
            )
            for trip in parsed.trips.values()
        ),
        batch_size=BATCH,
    )
    trip_pk = dict(Trip.objects.filter(version=version).values_list("trip_id", "pk"))
    report.imported["trips.txt"] = len(trip_pk)
    say(f"trips written: {len(trip_pk)}")
    written = 0
    batch: list[StopTime] = []
    for trip_id, rows in parsed.stop_times.items():
        trip = trip_pk[trip_id]
        final = rows[-1][1]
        for stop_id, sequence, arrival, departure, interpolated, pickup, drop_off, sign in rows:
            batch.append(
                StopTime(
                    version=version,
                    trip_id=trip,
                    stop_id=stop_pk[stop_id],
                    stop_sequence=sequence,
                    arrival=arrival,
                    departure=departure,
                    interpolated=interpolated,
                    pickup_type=pickup if 0 <= pickup <= 3 else 0,
                    drop_off_type=drop_off if 0 <= drop_off <= 3 else 0,
                    headsign=sign[:200],
                    last=sequence == final,
                )
            )
        if len(batch) >= BATCH:
            StopTime.objects.bulk_create(batch)
            written += len(batch)
            batch = []
            if written % 100_000 < BATCH:
                say(f"stop_times written: {written}")
    StopTime.objects.bulk_create(batch)
    written += len(batch)
    report.imported["stop_times.txt"] = written
    Shape.objects.bulk_create(
        (
            Shape(version=version, shape_id=shape_id[:100], points=points)
            for shape_id, points in parsed.shapes.items()
        ),
        batch_size=200,
    )
    report.imported["shapes.txt"] = len(parsed.shapes)
    Frequency.objects.bulk_create(
        Frequency(
            version=version,
            trip_id=trip_id[:100],
            start=start,
            end=end,
            headway=headway,
            exact_times=exact,
        )
        for trip_id, start, end, headway, exact in parsed.frequencies
    )
    report.imported["frequencies.txt"] = len(parsed.frequencies)
    Transfer.objects.bulk_create(
        Transfer(
            version=version,
            from_stop_id=stop_pk[a],
            to_stop_id=stop_pk[b],
            transfer_type=kind if 0 <= kind <= 5 else 0,
            min_transfer_time=seconds if seconds is None or seconds >= 0 else None,
        )
        for a, b, kind, seconds in parsed.transfers
    )
    report.imported["transfers.txt"] = len(parsed.transfers)
    version.report = report.as_json()
    version.save(update_fields=["report", "updated_at"])
    return version


def _last_stop_name(parsed: gtfs.Feed, trip_id: str) -> str:
    """A trip without headsign is signed with where it ends (the station's name if any)."""
    rows = parsed.stop_times.get(trip_id)
    if not rows:
        return ""
    stop = parsed.stops[rows[-1][0]]
    parent = parsed.stops.get(stop.parent_id) if stop.parent_id else None
    return stop.name or (parent.name if parent else "")


def _activate(
    feed: Feed,
    version: FeedVersion,
    *,
    actor: AbstractBaseUser | None,
    report: gtfs.Report,
) -> None:
    previous = feed.active_version
    feed.active_version = version
    feed.save(update_fields=["active_version", "updated_at"])
    version.status = VersionStatus.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at", "updated_at"])
    if previous is not None:
        _version_delete(previous.pk)
    FeedVersion.objects.filter(feed=feed, status=VersionStatus.FAILED).exclude(
        created_at__gte=version.created_at
    ).delete()
    audit_entry_create(
        actor=actor,
        action="transit.import",
        object_type="transit.feed",
        object_id=feed.pk,
        before={"version": previous.pk if previous else None},
        after={
            "version": version.pk,
            "source": version.source,
            "stop_times": report.imported.get("stop_times.txt", 0),
            "skipped": report.skipped_total,
        },
    )


# Dependents first; one statement per table instead of the ORM's collector, which would load
# every stop and trip of the old version into memory to cascade.
_VERSION_TABLES = (StopTime, Transfer, Frequency, Shape, ServiceDay, Trip, Route, Agency, Stop)


def _version_delete(version_pk: int) -> None:
    with connection.cursor() as cursor:
        for model in _VERSION_TABLES:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} "  # noqa: S608 - table names are ours
                "WHERE version_id = %s",
                [version_pk],
            )
    FeedVersion.objects.filter(pk=version_pk).delete()


def realtime_refresh(*, feed: Feed, source: str = "") -> RealtimeState:
    """Fetch and store the feed's GTFS-Realtime data (``source`` or the feed's URL). A source
    that fails leaves the last good snapshot in place (departures then judge it by its age)
    and records the error."""
    state, _created = RealtimeState.objects.get_or_create(feed=feed)
    try:
        data = realtime.realtime_fetch(source or feed.realtime_url)
        snapshot = realtime.realtime_parse(data)
    except realtime.RealtimeError as exc:
        state.error = str(exc)[:2000]
        state.errored_at = timezone.now()
        state.save(update_fields=["error", "errored_at", "updated_at"])
        logger.warning("realtime refresh failed", extra={"feed": feed.slug, "error": str(exc)})
        raise
    state.snapshot = snapshot.to_json()
    state.feed_timestamp = snapshot.timestamp
    state.fetched_at = timezone.now()
    state.error = ""
    state.save()
    timetable.forget_snapshots()  # this process at once; others within two seconds
    return state


def realtime_poll_all() -> int:
    """Refresh every feed that has a real-time source; the worker calls it periodically."""
    done = 0
    for feed in Feed.objects.exclude(realtime_url=""):
        try:
            realtime_refresh(feed=feed)
            done += 1
        except realtime.RealtimeError:
            continue
    return done
