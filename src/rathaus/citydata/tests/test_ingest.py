"""Writing observations through the SensorThings API: one at a time and as DataArray, with a
token; what is acknowledged is stored; bad rows get clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from rathaus.citydata.models import Datastream, Observation

pytestmark = pytest.mark.django_db
BASE = "/api/sta/v1.1"


def post(client: Client, path: str, body: Any, token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        BASE + path, json.dumps(body), content_type="application/json", headers=headers
    )


def test_an_observation_is_created_and_the_datastream_knows_its_time_range(
    client: Client, stream: Datastream, token: str
) -> None:
    response = post(
        client,
        f"/Datastreams({stream.pk})/Observations",
        {"phenomenonTime": "2026-11-27T08:00:00+01:00", "result": 412},
        token,
    )

    assert response.status_code == 201
    stored = Observation.objects.get(datastream=stream)
    assert stored.result_number == 412
    assert response["Location"].endswith(f"/Observations({stored.pk})")
    assert response.json()["phenomenonTime"] == "2026-11-27T07:00:00Z"
    stream.refresh_from_db()
    assert stream.phenomenon_start == stream.phenomenon_end == stored.phenomenon_time


def test_a_data_array_is_written_in_one_go_and_bad_rows_are_marked(
    client: Client, stream: Datastream, token: str
) -> None:
    body = [
        {
            "Datastream": {"@iot.id": stream.pk},
            "components": ["phenomenonTime", "result"],
            "dataArray@iot.count": 4,
            "dataArray": [
                ["2026-11-27T08:00:00Z", 10],
                ["2026-11-27T09:00:00Z", 12.5],
                ["2026-11-27T10:00:00", 13],  # no zone
                ["2026-11-27T11:00:00Z", "viele"],  # not a number
            ],
        }
    ]
    response = post(client, "/CreateObservations", body, token)

    assert response.status_code == 201
    links = response.json()
    assert links[2:] == ["error", "error"]
    assert all(
        link.startswith("http://testserver/api/sta/v1.1/Observations(") for link in links[:2]
    )
    assert sorted(Observation.objects.values_list("result_number", flat=True)) == [10.0, 12.5]
    stream.refresh_from_db()
    assert stream.phenomenon_start.isoformat() == "2026-11-27T08:00:00+00:00"
    assert stream.phenomenon_end.isoformat() == "2026-11-27T09:00:00+00:00"


@pytest.mark.parametrize(
    ("path", "body", "english"),
    [
        (
            "/Observations",
            {
                "phenomenonTime": "2026-11-27T08:00:00Z",
                "result": 1,
                "Datastream": {"@iot.id": 999999},
            },
            "does not exist",
        ),
        (
            "/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00", "result": 1},
            "needs a time zone",
        ),
        ("/Observations", {"phenomenonTime": "gestern", "result": 1}, "not an ISO 8601 time"),
        (
            "/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": "hoch"},
            "expects a number",
        ),
        ("/Observations", [1, 2], "JSON object"),
        (  # an integer no double can hold: refused, not a 500
            "/Observations",
            {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 10**400},
            "expects a number",
        ),
        ("/CreateObservations", {"not": "a list"}, "list of DataArrays"),
        (
            "/CreateObservations",
            [{"Datastream": "7", "components": ["phenomenonTime", "result"], "dataArray": []}],
            "does not exist",
        ),
        ("/Things", {"name": ""}, "name must be text"),
    ],
)
def test_bad_writes_get_clear_errors_and_store_nothing(
    client: Client, stream: Datastream, token: str, path: str, body: Any, english: str
) -> None:
    if isinstance(body, dict) and "Datastream" not in body and path == "/Observations":
        body = {**body, "Datastream": {"@iot.id": stream.pk}}
    response = post(client, path, body, token)

    assert response.status_code in (400, 501)
    assert english in response.json()["message"]
    assert Observation.objects.count() == 0


def test_writing_needs_a_valid_token(client: Client, stream: Datastream, token: str) -> None:
    body = {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 1}
    assert post(client, f"/Datastreams({stream.pk})/Observations", body).status_code == 401
    assert (
        post(client, f"/Datastreams({stream.pk})/Observations", body, "rs_wrong").status_code == 401
    )
    assert Observation.objects.count() == 0


def test_the_command_prints_a_working_token(
    client: Client, stream: Datastream, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create-sensor-token", "Stadtwerke")
    token = capsys.readouterr().out.strip().splitlines()[-1]

    body = {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 3}
    assert post(client, f"/Datastreams({stream.pk})/Observations", body, token).status_code == 201


def test_other_result_types_are_kept_as_they_came(
    client: Client, stream: Datastream, token: str
) -> None:
    stream.observation_type = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation"
    stream.save()
    body = [
        {
            "Datastream": {"@iot.id": stream.pk},
            "components": ["phenomenonTime", "result", "resultTime"],
            "dataArray": [
                ["2026-11-27T08:00:00Z", {"frei": 12, "belegt": 88}, "2026-11-27T08:00:05Z"],
                [
                    "2026-11-27T08:00:00Z/2026-11-27T09:00:00Z",
                    "geschlossen",
                    "2026-11-27T09:00:01Z",
                ],
            ],
        }
    ]
    links = post(client, "/CreateObservations", body, token).json()

    first = client.get(links[0].replace("http://testserver", "")).json()
    second = client.get(links[1].replace("http://testserver", "")).json()
    assert first["result"] == {"frei": 12, "belegt": 88}
    assert first["resultTime"] == "2026-11-27T08:00:05Z"
    assert second["result"] == "geschlossen"
    assert second["phenomenonTime"] == "2026-11-27T08:00:00Z/2026-11-27T09:00:00Z"


def test_deleting_a_datastream_takes_its_observations_and_a_used_feature_is_kept(
    client: Client, stream: Datastream, token: str
) -> None:
    """The references are not foreign keys (migration 0006); deleting works as with them."""
    from django.db.models import ProtectedError

    from rathaus.citydata.models import FeatureOfInterest

    feature = FeatureOfInterest.objects.create(
        name="Jahnallee", encoding_type="application/geo+json", feature={}
    )
    Observation.objects.create(
        datastream=stream,
        phenomenon_time="2026-11-27T08:00:00Z",
        result_number=3,
        feature_of_interest=feature,
    )

    with pytest.raises(ProtectedError):
        feature.delete()
    stream.delete()

    assert Observation.objects.count() == 0
    feature.delete()  # no observation refers to it any more
    assert not FeatureOfInterest.objects.exists()


def test_on_postgresql_the_database_refuses_dangling_references(stream: Datastream) -> None:
    """What a foreign key did, checked once per statement: no observation of a datastream or
    feature that does not exist, no deleting a datastream that observations refer to."""
    from django.db import IntegrityError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the statement-level checks are PostgreSQL's (migration 0006)")
    Observation.objects.create(
        datastream=stream, phenomenon_time="2026-11-27T08:00:00Z", result_number=1
    )
    for statement, params in [
        (
            "INSERT INTO citydata_observation (datastream_id, phenomenon_time) VALUES (%s, now())",
            [stream.pk + 1000],
        ),
        (
            "INSERT INTO citydata_observation (datastream_id, phenomenon_time, "
            "feature_of_interest_id) VALUES (%s, now(), 424242)",
            [stream.pk],
        ),
        ("UPDATE citydata_observation SET datastream_id = datastream_id + 1000", []),
        ("DELETE FROM citydata_datastream WHERE id = %s", [stream.pk]),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    assert Observation.objects.get().datastream_id == stream.pk
    assert Datastream.objects.filter(pk=stream.pk).exists()
