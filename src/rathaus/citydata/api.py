"""Sensor data in Rathaus' own JSON API (beside the SensorThings API at /api/sta/v1.1/,
which has no aggregates): each datastream's latest value, and its hourly and daily
aggregates. Public, limited per client with the SensorThings API's limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from rathaus.citydata import selectors
from rathaus.citydata.models import Aggregate
from rathaus.core.errors import api_error_body, message_format
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

router = Router(tags=["citydata"])


def _limited(request: HttpRequest) -> None:
    if ratelimit_exceeded(scope="sta", key=client_address(request), rate="600/m"):
        raise HttpError(429, "too many requests")


class BadInput(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _moment(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            message_format(
                _("„%(field)s“ ist keine Zeit nach ISO 8601 (z. B. 2014-10-01T00:00:00Z)."),
                {"field": name},
            )
        ) from None
    if timezone.is_naive(moment):
        raise BadInput(
            message_format(
                _("„%(field)s“ braucht eine Zeitzone (z. B. 2014-10-01T00:00:00Z)."),
                {"field": name},
            )
        )
    if not 1900 <= moment.year <= 2200:
        raise BadInput(
            message_format(_("„%(field)s“ liegt nicht zwischen 1900 und 2200."), {"field": name})
        )
    return moment


class LatestOut(Schema):
    datastream: int
    name: str
    thing: int
    observed_property: str
    unit: str
    time: datetime | None
    result: float | None


@router.get("/citydata/latest", response=list[LatestOut])
def latest(request: HttpRequest) -> Any:
    """The latest numeric value of every datastream (null where it has none yet)."""
    _limited(request)
    streams = selectors.latest_observations().select_related("observed_property").order_by("pk")
    return [
        {
            "datastream": s.pk,
            "name": s.name,
            "thing": s.thing_id,
            "observed_property": s.observed_property.name,
            "unit": str(s.unit_of_measurement.get("symbol", "")),
            "time": s.latest_time,
            "result": s.latest_result,
        }
        for s in streams
    ]


class BucketOut(Schema):
    start: datetime
    count: int
    mean: float
    min: float
    max: float


class AggregatesOut(Schema):
    datastream: int
    period: str
    unit: str
    buckets: list[BucketOut]
    truncated: bool


@router.get(
    "/citydata/datastreams/{datastream_id}/aggregates",
    response={200: AggregatesOut},
)
def aggregates(
    request: HttpRequest,
    datastream_id: int,
    start: str = Query(..., max_length=40),  # type: ignore[type-arg]
    end: str = Query(..., max_length=40),  # type: ignore[type-arg]
    period: str = Query("hour", pattern="^(hour|day)$"),  # type: ignore[type-arg]
) -> Any:
    """Hourly or daily count, mean, minimum and maximum of a datastream's numeric results:
    the buckets that overlap ``start`` (inclusive) to ``end`` (exclusive), both ISO 8601
    with a zone. A day is a
    calendar day in the city's time zone. At most 10,000 buckets (``truncated``)."""
    _limited(request)
    if not 0 < datastream_id < 2**63:
        raise HttpError(404, "not found")
    stream = selectors.datastream_get(datastream_id=datastream_id)  # 404 before the times
    try:
        low, high = _moment(start, "start"), _moment(end, "end")
        if high <= low:
            raise BadInput(_("„end“ muss nach „start“ liegen."))
    except BadInput as exc:
        return JsonResponse(api_error_body("bad_time", exc.message), status=422)
    buckets = selectors.aggregates_list(datastream_id=stream.pk, period=period, start=low, end=high)
    return {
        "datastream": stream.pk,
        "period": period if period in (Aggregate.HOUR, Aggregate.DAY) else Aggregate.HOUR,
        "unit": str(stream.unit_of_measurement.get("symbol", "")),
        "buckets": [
            {"start": b.start, "count": b.count, "mean": b.mean, "min": b.minimum, "max": b.maximum}
            for b in buckets
        ],
        "truncated": len(buckets) >= selectors.MAX_BUCKETS,
    }
