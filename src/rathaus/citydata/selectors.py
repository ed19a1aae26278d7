"""Every read of sensor data that pages and the JSON API need: the latest value of each
datastream (the map), a datastream's time series at a resolution that fits the period
(raw, hourly or daily: charts over months read aggregates, not every observation), and the
aggregates themselves. Sensor data is public; writing is what needs a token (ingest.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse

from rathaus.citydata.aggregates import day_start
from rathaus.citydata.models import Aggregate, Dataset, Datastream, Observation, Thing

MAX_BUCKETS = 10_000  # per request: a bit more than a year of hours
MAX_RAW = 10_000  # raw observations in one series
RAW_UP_TO = timedelta(days=2)  # longer periods are drawn from hourly aggregates,
HOURS_UP_TO = timedelta(days=62)  # and longer still from daily ones
RAW, HOUR, DAY = "raw", Aggregate.HOUR, Aggregate.DAY


@dataclass(frozen=True)
class Point:
    time: datetime
    value: float  # the value, or the mean of a bucket
    minimum: float
    maximum: float
    count: int


@dataclass(frozen=True)
class Series:
    datastream: Datastream
    resolution: str  # raw, hour or day
    start: datetime
    end: datetime
    points: list[Point]
    truncated: bool  # more than MAX_RAW / MAX_BUCKETS points: the first ones are shown


def latest_observations() -> QuerySet[Datastream]:
    """Every datastream with its latest observation's time and numeric result
    (``latest_time``, ``latest_result``: kept on the datastream by ingestion, so this is one
    row per datastream however many observations there are)."""
    return Datastream.objects.all()


def things_for_map() -> list[Thing]:
    """Things with their locations and datastreams, each datastream with its latest value
    (``latest_time``, ``latest_result``) and observed property: three queries."""
    streams = latest_observations().select_related("observed_property").order_by("name")
    return list(
        Thing.objects.prefetch_related("locations", Prefetch("datastreams", queryset=streams))
        .order_by("name")
        .all()
    )


def thing_get(*, thing_id: int) -> Thing:
    """A Thing for its public page, with its locations and datastreams (latest values)."""
    streams = latest_observations().select_related("observed_property").order_by("name")
    thing = (
        Thing.objects.prefetch_related("locations", Prefetch("datastreams", queryset=streams))
        .filter(pk=thing_id)
        .first()
    )
    if thing is None:
        raise Http404
    return thing


def datastream_get(*, datastream_id: int) -> Datastream:
    stream = (
        Datastream.objects.select_related("thing", "observed_property")
        .filter(pk=datastream_id)
        .first()
    )
    if stream is None:
        raise Http404
    return stream


def aggregates_list(
    *, datastream_id: int, period: str, start: datetime, end: datetime
) -> list[Aggregate]:
    """The buckets of one period that overlap ``start`` (inclusive) to ``end`` (exclusive),
    oldest first, at most MAX_BUCKETS."""
    if period == Aggregate.DAY:
        start = day_start(start)
    else:
        start = start.replace(minute=0, second=0, microsecond=0)
    return list(
        Aggregate.objects.filter(
            datastream_id=datastream_id, period=period, start__gte=start, start__lt=end
        ).order_by("start")[:MAX_BUCKETS]
    )


def resolution_for(start: datetime, end: datetime) -> str:
    span = end - start
    return RAW if span <= RAW_UP_TO else HOUR if span <= HOURS_UP_TO else DAY


def series_get(
    *, datastream: Datastream, start: datetime, end: datetime, resolution: str = ""
) -> Series:
    """A datastream's numeric results from ``start`` to ``end``: every observation for up
    to two days, hourly means (with min and max) up to two months, daily means beyond."""
    resolution = resolution or resolution_for(start, end)
    points: list[Point]
    if resolution == RAW:
        rows = list(
            Observation.objects.filter(
                datastream=datastream,
                phenomenon_time__gte=start,
                phenomenon_time__lt=end,
                result_number__isnull=False,
            )
            .order_by("phenomenon_time")
            .values_list("phenomenon_time", "result_number")[: MAX_RAW + 1]
        )
        points = [Point(t, v, v, v, 1) for t, v in rows[:MAX_RAW] if v is not None]
        truncated = len(rows) > MAX_RAW
    else:
        buckets = aggregates_list(
            datastream_id=datastream.pk, period=resolution, start=start, end=end
        )
        points = [Point(b.start, b.mean, b.minimum, b.maximum, b.count) for b in buckets]
        truncated = len(buckets) >= MAX_BUCKETS
    return Series(datastream, resolution, start, end, points, truncated)


def series_rows(series: Series) -> list[dict[str, Any]]:
    """The series as rows for tables and CSV (the same numbers the chart draws)."""
    return [
        {
            "time": p.time,
            "value": p.value,
            "minimum": p.minimum,
            "maximum": p.maximum,
            "count": p.count,
        }
        for p in series.points
    ]


# ---- what other pillars read (the strategy links a measure to open datasets) ---------------


def dataset_refs(*, dataset_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{id: (title, page path)}`` of the published datasets of the catalogue among
    ``dataset_ids``, in one query."""
    ids = [pk for pk in {int(i) for i in dataset_ids} if 0 < pk < 2**63]
    if not ids:
        return {}
    return {
        pk: (title, reverse("opendata:dataset", kwargs={"slug": slug}))
        for pk, title, slug in Dataset.objects.filter(pk__in=ids, published=True).values_list(
            "pk", "title", "slug"
        )
    }


def dataset_link_choices() -> list[tuple[int, str]]:
    """``(id, title)`` of every published dataset of the catalogue, by title."""
    return list(
        Dataset.objects.filter(published=True).order_by("title", "pk").values_list("pk", "title")
    )


def datastream_published_count() -> int:
    """How many sensor datastreams the platform publishes (strategy KPIs). Every datastream is
    public: the SensorThings API serves all of them to anyone, without an account."""
    return Datastream.objects.count()
