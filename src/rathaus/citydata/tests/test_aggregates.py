"""Hourly and daily aggregates: kept by ingestion batch by batch, in the city's calendar
days, served by the JSON API, rebuilt from observations on demand; charts choose them for
long periods."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from rathaus.citydata import selectors
from rathaus.citydata.models import Aggregate, Datastream

pytestmark = pytest.mark.django_db
API = "/api/v1/citydata"


def send(client: Client, token: str, stream: Datastream, rows: list[list[Any]]) -> None:
    body = [
        {
            "Datastream": {"@iot.id": stream.pk},
            "components": ["phenomenonTime", "result"],
            "dataArray": rows,
        }
    ]
    response = client.post(
        "/api/sta/v1.1/CreateObservations",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content


def buckets(stream: Datastream, period: str) -> dict[str, tuple[int, float, float, float]]:
    return {
        a.start.astimezone(UTC).isoformat(): (a.count, a.mean, a.minimum, a.maximum)
        for a in Aggregate.objects.filter(datastream=stream, period=period)
    }


def test_each_batch_adds_to_its_hours_and_days(
    client: Client, stream: Datastream, token: str
) -> None:
    send(client, token, stream, [["2026-11-26T08:10:00Z", 10], ["2026-11-26T08:40:00Z", 30]])
    send(client, token, stream, [["2026-11-26T08:50:00Z", 20], ["2026-11-26T09:05:00Z", 5]])

    hours = buckets(stream, Aggregate.HOUR)
    assert hours == {
        "2026-11-26T08:00:00+00:00": (3, 20.0, 10.0, 30.0),
        "2026-11-26T09:00:00+00:00": (1, 5.0, 5.0, 5.0),
    }
    # the day is Leipzig's 26 November: it began at 23:00 UTC the evening before
    assert buckets(stream, Aggregate.DAY) == {"2026-11-25T23:00:00+00:00": (4, 16.25, 5.0, 30.0)}


def test_a_reading_after_midnight_in_leipzig_counts_for_the_next_day(
    client: Client, stream: Datastream, token: str
) -> None:
    # 23:30 UTC on 26 November is 00:30 on 27 November in Leipzig
    send(client, token, stream, [["2026-11-26T22:30:00Z", 1], ["2026-11-26T23:30:00Z", 3]])

    days = buckets(stream, Aggregate.DAY)
    assert days == {
        "2026-11-25T23:00:00+00:00": (1, 1.0, 1.0, 1.0),
        "2026-11-26T23:00:00+00:00": (1, 3.0, 3.0, 3.0),
    }


def test_the_day_the_clocks_go_back_has_25_hours(
    client: Client, stream: Datastream, token: str
) -> None:
    # 25 October 2026 in Leipzig: 22:00 UTC the day before until 23:00 UTC
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    rows = [[(start + timedelta(hours=h)).isoformat(), 1] for h in range(25)]
    send(client, token, stream, rows)

    assert buckets(stream, Aggregate.DAY) == {"2026-10-24T22:00:00+00:00": (25, 1.0, 1.0, 1.0)}


def test_the_api_serves_hourly_and_daily_buckets(
    client: Client, stream: Datastream, token: str
) -> None:
    send(client, token, stream, [["2026-11-26T08:10:00Z", 10], ["2026-11-26T08:40:00Z", 30]])

    response = client.get(
        f"{API}/datastreams/{stream.pk}/aggregates",
        {"start": "2026-11-26T00:00:00+01:00", "end": "2026-11-27T00:00:00+01:00"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "hour"
    assert body["unit"] == "1"
    assert [(b["start"], b["count"], b["mean"], b["min"], b["max"]) for b in body["buckets"]] == [
        ("2026-11-26T08:00:00Z", 2, 20.0, 10.0, 30.0)
    ]
    daily = client.get(
        f"{API}/datastreams/{stream.pk}/aggregates",
        {"start": "2026-11-01T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00", "period": "day"},
    ).json()
    assert [b["count"] for b in daily["buckets"]] == [2]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"start": "2026-11-26T00:00:00", "end": "2026-11-27T00:00:00Z"}, 422, "Zeitzone"),
        ({"start": "gestern", "end": "2026-11-27T00:00:00Z"}, 422, "ISO 8601"),
        ({"start": "2026-11-27T00:00:00Z", "end": "2026-11-26T00:00:00Z"}, 422, "nach"),
        (
            {"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z", "period": "week"},
            422,
            "",
        ),
        ({"end": "2026-11-27T00:00:00Z"}, 422, ""),
    ],
)
def test_bad_periods_get_clear_errors(
    client: Client, stream: Datastream, params: dict[str, str], status: int, fragment: str
) -> None:
    response = client.get(f"{API}/datastreams/{stream.pk}/aggregates", params)

    assert response.status_code == status
    body = response.json()
    assert fragment in body["messages"]["de"]
    assert body["messages"]["en"]


def test_an_unknown_datastream_is_not_found(client: Client, db: None) -> None:
    response = client.get(
        f"{API}/datastreams/999999/aggregates",
        {"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"},
    )
    assert response.status_code == 404


def test_the_latest_value_of_every_datastream(
    client: Client, stream: Datastream, token: str, django_assert_max_num_queries: Any
) -> None:
    send(client, token, stream, [["2026-11-26T09:40:00Z", 30], ["2026-11-26T08:10:00Z", 10]])
    send(client, token, stream, [["2026-11-25T08:10:00Z", 5]])  # late: not the latest

    with django_assert_max_num_queries(3):
        body = client.get(f"{API}/latest").json()

    assert body == [
        {
            "datastream": stream.pk,
            "name": stream.name,
            "thing": stream.thing_id,
            "observed_property": "Fahrräder je Stunde",
            "unit": "1",
            "time": "2026-11-26T09:40:00Z",
            "result": 30.0,
        }
    ]


def test_long_periods_are_drawn_from_aggregates(
    client: Client, stream: Datastream, token: str
) -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    send(
        client,
        token,
        stream,
        [[(start + timedelta(hours=h)).isoformat(), h] for h in range(24 * 90)],
    )

    day = selectors.series_get(datastream=stream, start=start, end=start + timedelta(days=1))
    month = selectors.series_get(datastream=stream, start=start, end=start + timedelta(days=30))
    quarter = selectors.series_get(datastream=stream, start=start, end=start + timedelta(days=90))

    assert (day.resolution, len(day.points)) == ("raw", 24)
    assert (month.resolution, len(month.points)) == ("hour", 720)
    assert quarter.resolution == "day"
    assert len(quarter.points) in (90, 91)  # Leipzig's days begin at 22:00 or 23:00 UTC
    assert sum(p.count for p in quarter.points) == 24 * 90
    assert month.points[5].value == 5.0


def test_the_command_rebuilds_aggregates_from_observations(
    client: Client, stream: Datastream, token: str
) -> None:
    send(client, token, stream, [["2026-11-26T08:10:00Z", 10], ["2026-11-26T08:40:00Z", 30]])
    Aggregate.objects.all().delete()

    call_command("rebuild-aggregates")

    assert buckets(stream, Aggregate.HOUR) == {"2026-11-26T08:00:00+00:00": (2, 20.0, 10.0, 30.0)}
