"""Hourly and daily aggregates (count, sum, min, max; mean = sum / count) of each datastream's
numeric results, kept beside the observations (models.Aggregate).

Ingestion adds each batch's buckets with one upsert per bucket that increments what is there
(``aggregates_add``), in the batch's transaction: no re-reading of observations. Deleting or
changing observations rebuilds the days they fall in from the observations
(``aggregates_rebuild``). An hour starts at a full hour in UTC; a day is a day in the city's
time zone (settings.TIME_ZONE), so a chart of days matches the calendar people read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from rathaus.citydata.models import Aggregate, Observation

# (datastream id, period, bucket start) -> [count, total, minimum, maximum]
Buckets = dict[tuple[int, str, datetime], list[float]]


def city_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(moment: datetime) -> datetime:
    """Midnight of the city's calendar day that ``moment`` falls in."""
    local = moment.astimezone(city_zone())
    return datetime(local.year, local.month, local.day, tzinfo=city_zone())


def next_day(start: datetime) -> datetime:
    local = start.astimezone(city_zone()) + timedelta(days=1, hours=3)  # past any DST change
    return datetime(local.year, local.month, local.day, tzinfo=city_zone())


def buckets_of(values: Iterable[tuple[int, datetime, float | None]]) -> Buckets:
    """The hour and day buckets of (datastream id, time, value) triples (None is skipped)."""
    hours: dict[tuple[int, int], list[float]] = {}
    for stream, moment, value in values:
        if value is None:
            continue
        stamp = int(moment.timestamp())
        key = (stream, stamp - stamp % 3600)
        bucket = hours.get(key)
        if bucket is None:
            hours[key] = [1, value, value, value]
        else:
            bucket[0] += 1
            bucket[1] += value
            if value < bucket[2]:
                bucket[2] = value
            if value > bucket[3]:
                bucket[3] = value
    result: Buckets = {}
    days: dict[int, datetime] = {}  # hour -> the city's day it belongs to
    for (stream, stamp), (count, total, low, high) in hours.items():
        hour = datetime.fromtimestamp(stamp, UTC)
        result[(stream, Aggregate.HOUR, hour)] = [count, total, low, high]
        day = days.get(stamp)
        if day is None:
            day = days[stamp] = day_start(hour)
        bucket = result.get((stream, Aggregate.DAY, day))
        if bucket is None:
            result[(stream, Aggregate.DAY, day)] = [count, total, low, high]
        else:
            bucket[0] += count
            bucket[1] += total
            bucket[2] = min(bucket[2], low)
            bucket[3] = max(bucket[3], high)
    return result


def aggregates_add(values: Iterable[tuple[int, datetime, float | None]]) -> int:
    """Adds observations to their buckets (inside the caller's transaction). Returns the
    number of buckets touched."""
    return aggregates_store(buckets_of(values))


def aggregates_store(buckets: Buckets) -> int:
    """Adds buckets (from ``buckets_of``) to those stored: one upsert per bucket."""
    if not buckets:
        return 0
    table = connection.ops.quote_name(Aggregate._meta.db_table)
    q = connection.ops.quote_name
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    sql = (
        f"INSERT INTO {table} (datastream_id, period, {q('start')}, {q('count')}, total, "  # noqa: S608 - names are ours
        "minimum, maximum) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT (datastream_id, period, {q('start')}) DO UPDATE SET "
        f"{q('count')} = {table}.{q('count')} + excluded.{q('count')}, "
        f"total = {table}.total + excluded.total, "
        f"minimum = {least}({table}.minimum, excluded.minimum), "
        f"maximum = {greatest}({table}.maximum, excluded.maximum)"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (stream, period, adapt(start), int(count), total, low, high)
                for (stream, period, start), (count, total, low, high) in buckets.items()
            ],
        )
    return len(buckets)


def aggregates_rebuild(
    *, datastream_id: int, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Recomputes a datastream's buckets from its observations: the days from ``start`` to
    ``end`` (widened to whole days of the city) after observations there were changed or
    deleted, or every bucket without a period (``rathaus rebuild-aggregates``). Runs in the
    caller's transaction."""
    buckets = Aggregate.objects.filter(datastream_id=datastream_id)
    observations = Observation.objects.filter(
        datastream_id=datastream_id, result_number__isnull=False
    )
    if start is not None and end is not None:
        low, high = day_start(start), next_day(day_start(end))
        buckets = buckets.filter(start__gte=low, start__lt=high)
        observations = observations.filter(phenomenon_time__gte=low, phenomenon_time__lt=high)
    buckets.delete()
    return aggregates_add(
        observations.values_list("datastream_id", "phenomenon_time", "result_number").iterator(
            chunk_size=5000
        )
    )
