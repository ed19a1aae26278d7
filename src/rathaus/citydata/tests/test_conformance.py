"""Conformance with the OGC SensorThings API 1.1 (OGC 18-088): the requests of the standard's
examples, one test per entity and query option we implement, checking the responses as the
standard describes them. What we do not implement answers 501 (docs/citydata.md lists it).

The bodies below are the standard's own examples (section 10, "create-update-delete", and
section 9, "sensing core" and "request data"), with the ids replaced by the ones created here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rathaus.citydata.models import (
    Aggregate,
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    Observation,
    Sensor,
    Thing,
)
from rathaus.core.models import AuditEntry

pytestmark = pytest.mark.django_db
BASE = "/api/sta/v1.1"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"

# 10.2 example: a Thing with its Location and a Datastream (with its ObservedProperty and
# Sensor), all created in one request ("deep insert")
THING = {
    "name": "Temperature Monitoring System",
    "description": "Sensor system monitoring area temperature",
    "properties": {
        "Deployment Condition": "Deployed in a third floor balcony",
        "Case Used": "Radiation shield",
    },
    "Locations": [
        {
            "name": "UofC CCIT",
            "description": "University of Calgary, CCIT building",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [-114.133, 51.08]},
        }
    ],
    "Datastreams": [
        {
            "name": "Air Temperature DS",
            "description": "Datastream for recording temperature",
            "observationType": MEASUREMENT,
            "unitOfMeasurement": {
                "name": "Degree Celsius",
                "symbol": "degC",
                "definition": "http://www.qudt.org/qudt/owl/1.0.0/unit/Instances.html#DegreeCelsius",
            },
            "ObservedProperty": {
                "name": "Area Temperature",
                "description": "The degree or intensity of heat present in the area",
                "definition": "http://www.qudt.org/qudt/owl/1.0.0/quantity/Instances.html#AreaTemperature",
            },
            "Sensor": {
                "name": "DHT22",
                "description": "DHT22 temperature sensor",
                "encodingType": "application/pdf",
                "metadata": "https://cdn-shop.adafruit.com/datasheets/DHT22.pdf",
            },
        }
    ],
}


def call(client: Client, method: str, path: str, body: Any = None, token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else ""
    return client.generic(
        method, BASE + path, data, content_type="application/json", headers=headers
    )


@pytest.fixture
def thing(client: Client, token: str) -> Thing:
    response = call(client, "POST", "/Things", THING, token)
    assert response.status_code == 201, response.content
    return Thing.objects.get(pk=response.json()["@iot.id"])


def test_create_a_thing_with_its_location_and_datastream_in_one_request(
    client: Client, token: str
) -> None:
    response = call(client, "POST", "/Things", THING, token)

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"http://testserver{BASE}/Things({body['@iot.id']})"
    assert body["name"] == "Temperature Monitoring System"
    assert body["properties"]["Case Used"] == "Radiation shield"
    assert body["Datastreams@iot.navigationLink"].endswith(
        f"/Things({body['@iot.id']})/Datastreams"
    )
    thing = Thing.objects.get(pk=body["@iot.id"])
    [place] = thing.locations.all()
    assert (place.lat, place.lon) == (51.08, -114.133)
    [stream] = thing.datastreams.all()
    assert stream.sensor.name == "DHT22"
    assert stream.observed_property.name == "Area Temperature"
    assert stream.unit_of_measurement["symbol"] == "degC"
    # req/create-update-delete/historical-location-auto-creation
    [history] = HistoricalLocation.objects.filter(thing=thing)
    assert list(history.locations.all()) == [place]
    assert AuditEntry.objects.filter(action="citydata.things.create", object_id=thing.pk).exists()


def test_create_an_observation_of_an_existing_datastream(
    client: Client, token: str, thing: Thing
) -> None:
    stream = thing.datastreams.get()
    response = call(
        client,
        "POST",
        "/Observations",
        {
            "phenomenonTime": "2017-02-07T18:02:00.000Z",
            "resultTime": "2017-02-07T18:02:05.000Z",
            "result": 21.6,
            "Datastream": {"@iot.id": stream.pk},
        },
        token,
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["phenomenonTime"], body["resultTime"], body["result"]) == (
        "2017-02-07T18:02:00Z",
        "2017-02-07T18:02:05Z",
        21.6,
    )


def test_create_an_observation_with_a_new_feature_of_interest(
    client: Client, token: str, thing: Thing
) -> None:
    stream = thing.datastreams.get()
    response = call(
        client,
        "POST",
        f"/Datastreams({stream.pk})/Observations",
        {
            "phenomenonTime": "2017-02-07T18:02:00.000Z",
            "result": 21.6,
            "parameters": {"battery": "low"},
            "FeatureOfInterest": {
                "name": "UofC CCIT",
                "description": "University of Calgary, CCIT building",
                "encodingType": "application/geo+json",
                "feature": {"type": "Point", "coordinates": [-114.133, 51.08]},
            },
        },
        token,
    )

    assert response.status_code == 201, response.content
    observation = Observation.objects.get(pk=response.json()["@iot.id"])
    assert observation.feature_of_interest is not None
    assert observation.feature_of_interest.name == "UofC CCIT"
    assert observation.parameters == {"battery": "low"}


def test_an_observation_without_a_feature_gets_one_made_from_the_things_location(
    client: Client, token: str, thing: Thing
) -> None:
    stream = thing.datastreams.get()
    first = call(
        client,
        "POST",
        "/Observations",
        {
            "phenomenonTime": "2017-02-07T18:02:00Z",
            "result": 21.6,
            "Datastream": {"@iot.id": stream.pk},
        },
        token,
    ).json()["@iot.id"]
    bulk = [
        {
            "Datastream": {"@iot.id": stream.pk},
            "components": ["phenomenonTime", "result"],
            "dataArray": [["2017-02-07T18:03:00Z", 21.7]],
        }
    ]
    assert call(client, "POST", "/CreateObservations", bulk, token).status_code == 201

    response = call(client, "GET", f"/Observations({first})/FeatureOfInterest")
    assert response.status_code == 200
    feature = response.json()
    assert feature["name"] == "UofC CCIT"
    assert feature["feature"] == {"type": "Point", "coordinates": [-114.133, 51.08]}
    assert set(
        Observation.objects.filter(datastream=stream).values_list("feature_of_interest", flat=True)
    ) == {feature["@iot.id"]}  # one feature per Location, not one per observation
    found = client.get(
        BASE + "/Observations",
        {
            "$filter": "st_within(FeatureOfInterest/feature, geography'POLYGON((-115 51, "
            "-113 51, -113 52, -115 52, -115 51))')",
            "$count": "true",
        },
    ).json()
    assert found["@iot.count"] == 2
    near = client.get(
        BASE + "/FeaturesOfInterest",
        {"$filter": "geo.distance(feature, geography'POINT(-114.13 51.08)') lt 0.01"},
    ).json()
    assert [f["name"] for f in near["value"]] == ["UofC CCIT"]


def test_create_a_location_linked_to_a_thing_records_its_history(
    client: Client, token: str, thing: Thing
) -> None:
    response = call(
        client,
        "POST",
        f"/Things({thing.pk})/Locations",
        {
            "name": "Leipzig, Neues Rathaus",
            "description": "Martin-Luther-Ring 4-6",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [12.3731, 51.3358]},
        },
        token,
    )

    assert response.status_code == 201
    assert thing.locations.count() == 2
    latest = HistoricalLocation.objects.filter(thing=thing).order_by("-time", "-pk").first()
    assert latest is not None and latest.locations.count() == 2


def test_create_linked_entities_of_every_kind(client: Client, token: str, thing: Thing) -> None:
    stream = thing.datastreams.get()
    sensor = call(
        client,
        "POST",
        "/Sensors",
        {
            "name": "SDS011",
            "description": "Feinstaubsensor",
            "encodingType": "application/pdf",
            "metadata": "https://example.org/sds011.pdf",
        },
        token,
    )
    observed = call(
        client,
        "POST",
        "/ObservedProperties",
        {"name": "PM10", "definition": "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5"},
        token,
    )
    feature = call(
        client,
        "POST",
        "/FeaturesOfInterest",
        {
            "name": "Augustusplatz",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [12.381, 51.339]},
        },
        token,
    )
    assert {sensor.status_code, observed.status_code, feature.status_code} == {201}
    linked = call(
        client,
        "POST",
        f"/Things({thing.pk})/Datastreams",
        {
            "name": "PM10 Augustusplatz",
            "observationType": MEASUREMENT,
            "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": ""},
            "Sensor": {"@iot.id": sensor.json()["@iot.id"]},
            "ObservedProperty": {"@iot.id": observed.json()["@iot.id"]},
            "Observations": [
                {"phenomenonTime": "2026-11-27T08:00:00Z", "result": 17.5},
                {"phenomenonTime": "2026-11-27T09:00:00Z", "result": 19.5},
            ],
        },
        token,
    )
    assert linked.status_code == 201, linked.content
    created = Datastream.objects.get(pk=linked.json()["@iot.id"])
    assert created.thing == thing and created.sensor.name == "SDS011"
    assert created.observations.count() == 2
    assert created.phenomenon_end is not None and created.phenomenon_end.hour == 9
    history = call(
        client,
        "POST",
        "/HistoricalLocations",
        {
            "time": "2026-11-01T00:00:00Z",
            "Thing": {"@iot.id": thing.pk},
            "Locations": [{"@iot.id": thing.locations.get().pk}],
        },
        token,
    )
    assert history.status_code == 201
    assert stream.pk != created.pk


def test_patch_changes_only_what_is_given(client: Client, token: str, thing: Thing) -> None:
    response = call(
        client, "PATCH", f"/Things({thing.pk})", {"description": "This thing is an oven."}, token
    )

    assert response.status_code == 200
    assert response.json()["description"] == "This thing is an oven."
    thing.refresh_from_db()
    assert thing.name == "Temperature Monitoring System"
    assert thing.properties["Case Used"] == "Radiation shield"
    assert AuditEntry.objects.filter(action="citydata.things.update").exists()


def test_patching_a_thing_to_another_location_records_its_history(
    client: Client, token: str, thing: Thing
) -> None:
    other = Location.objects.create(
        name="Neues Rathaus",
        location={"type": "Point", "coordinates": [12.3731, 51.3358]},
        lat=51.3358,
        lon=12.3731,
    )

    response = call(
        client, "PATCH", f"/Things({thing.pk})", {"Locations": [{"@iot.id": other.pk}]}, token
    )

    assert response.status_code == 200
    assert list(thing.locations.all()) == [other]
    assert HistoricalLocation.objects.filter(thing=thing, locations=other).exists()


def test_put_replaces_the_entity(client: Client, token: str, thing: Thing) -> None:
    place = thing.locations.get()
    response = call(
        client,
        "PUT",
        f"/Locations({place.pk})",
        {
            "name": "Leipzig",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [12.37, 51.34]},
        },
        token,
    )

    assert response.status_code == 200
    place.refresh_from_db()
    assert (place.name, place.description, place.lat, place.lon) == ("Leipzig", "", 51.34, 12.37)
    incomplete = call(client, "PUT", f"/Locations({place.pk})", {"name": "Leipzig"}, token)
    assert incomplete.status_code == 400
    assert "needs encodingType" in incomplete.json()["messages"]["en"]


def test_changing_and_deleting_observations_keeps_aggregates_and_time_range_right(
    client: Client, token: str, thing: Thing
) -> None:
    stream = thing.datastreams.get()
    ids = [
        call(
            client,
            "POST",
            "/Observations",
            {"phenomenonTime": t, "result": r, "Datastream": {"@iot.id": stream.pk}},
            token,
        ).json()["@iot.id"]
        for t, r in (("2026-11-27T08:10:00Z", 10), ("2026-11-27T08:20:00Z", 30))
    ]

    assert (
        call(client, "PATCH", f"/Observations({ids[0]})", {"result": 20}, token).status_code == 200
    )
    hour = Aggregate.objects.get(datastream=stream, period="hour")
    assert (hour.count, hour.mean, hour.minimum) == (2, 25.0, 20.0)

    assert call(client, "DELETE", f"/Observations({ids[1]})", None, token).status_code == 200
    hour = Aggregate.objects.get(datastream=stream, period="hour")
    assert (hour.count, hour.mean) == (1, 20.0)
    stream.refresh_from_db()
    assert stream.phenomenon_end is not None and stream.phenomenon_end.minute == 10
    assert stream.latest_time == stream.phenomenon_end and stream.latest_result == 20


def test_delete_removes_what_belongs_to_the_entity(
    client: Client, token: str, thing: Thing
) -> None:
    stream = thing.datastreams.get()
    call(
        client,
        "POST",
        "/Observations",
        {
            "phenomenonTime": "2026-11-27T08:00:00Z",
            "result": 1,
            "Datastream": {"@iot.id": stream.pk},
        },
        token,
    )
    sensor = stream.sensor

    response = call(client, "DELETE", f"/Sensors({sensor.pk})", None, token)

    assert response.status_code == 200
    assert not Sensor.objects.filter(pk=sensor.pk).exists()
    assert not Datastream.objects.filter(pk=stream.pk).exists()  # a Sensor's Datastreams go
    assert not Observation.objects.filter(datastream_id=stream.pk).exists()
    assert call(client, "DELETE", f"/Things({thing.pk})", None, token).status_code == 200
    assert call(client, "GET", f"/Things({thing.pk})").status_code == 404
    assert AuditEntry.objects.filter(action="citydata.things.delete", object_id=thing.pk).exists()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "english"),
    [
        ("POST", "/Things", {"description": "no name"}, 400, "Things needs name"),
        ("POST", "/Things", {"name": "x", "colour": "blau"}, 400, "does not know colour"),
        ("POST", "/Things", [1, 2], 400, "expects a JSON object"),
        (
            "POST",
            "/Locations",
            {
                "name": "x",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [200, 51]},
            },
            400,
            "outside the earth",
        ),
        (
            "POST",
            "/Locations",
            {"name": "x", "encodingType": "text/plain", "location": {"type": "Point"}},
            400,
            "encodingType must be application/geo+json",
        ),
        (
            "POST",
            "/Datastreams",
            {
                "name": "x",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": {"name": "", "symbol": "", "definition": ""},
                "Thing": {"@iot.id": 999999999},
                "Sensor": {"@iot.id": 1},
                "ObservedProperty": {"@iot.id": 1},
            },
            404,
            "does not exist",
        ),
        ("POST", "/Unicorns", {"name": "x"}, 404, "does not exist"),
        ("PATCH", "/Things", {"name": "x"}, 400, "need an entity with an id"),
        ("DELETE", "/Things(999999999)", None, 404, "does not exist"),
        ("PATCH", "/Things({thing})", {"@iot.id": 5}, 400, "cannot be changed"),
    ],
)
def test_bad_writes_get_the_standard_error_and_change_nothing(
    client: Client,
    token: str,
    thing: Thing,
    method: str,
    path: str,
    body: Any,
    status: int,
    english: str,
) -> None:
    before = (Thing.objects.count(), Location.objects.count(), Datastream.objects.count())

    response = call(client, method, path.replace("{thing}", str(thing.pk)), body, token)

    assert response.status_code == status
    answer = response.json()
    assert answer["code"] == status and answer["type"] == "error"
    assert english in answer["messages"]["en"], answer
    after = (Thing.objects.count(), Location.objects.count(), Datastream.objects.count())
    assert after == before


def test_a_deep_insert_that_fails_halfway_creates_nothing(client: Client, token: str) -> None:
    broken = json.loads(json.dumps(THING))
    broken["Datastreams"][0]["Sensor"].pop("metadata")

    response = call(client, "POST", "/Things", broken, token)

    assert response.status_code == 400
    assert "Sensors needs metadata" in response.json()["messages"]["en"]
    assert not Thing.objects.exists() and not Location.objects.exists()


def test_writing_without_a_token_is_refused(client: Client, thing: Thing) -> None:
    for method, path, body in (
        ("POST", "/Things", THING),
        ("PATCH", f"/Things({thing.pk})", {"name": "x"}),
        ("DELETE", f"/Things({thing.pk})", None),
    ):
        response = call(client, method, path, body, token="rs_wrong")
        assert response.status_code == 401
    assert Thing.objects.get(pk=thing.pk).name == THING["name"]


# --- request data (section 9.3): the query options on the standard's examples ------------


@pytest.fixture
def readings(client: Client, token: str, thing: Thing) -> Datastream:
    stream = thing.datastreams.get()
    body = [
        {
            "Datastream": {"@iot.id": stream.pk},
            "components": ["phenomenonTime", "result"],
            "dataArray": [[f"2017-02-07T18:0{i}:00Z", 20 + i] for i in range(8)],
        }
    ]
    assert call(client, "POST", "/CreateObservations", body, token).status_code == 201
    return stream


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("/Things", lambda b: b["value"][0]["name"] == THING["name"]),
        ("/Things?$expand=Datastreams", lambda b: len(b["value"][0]["Datastreams"]) == 1),
        (
            "/Things?$expand=Datastreams/ObservedProperty",
            lambda b: (
                b["value"][0]["Datastreams"][0]["ObservedProperty"]["name"] == "Area Temperature"
            ),
        ),
        (
            "/Things?$select=name,description",
            lambda b: set(b["value"][0]) == {"name", "description"},
        ),
        ("/Observations?$orderby=result desc&$top=1", lambda b: b["value"][0]["result"] == 27),
        ("/Observations?$top=5", lambda b: len(b["value"]) == 5 and "@iot.nextLink" in b),
        ("/Observations?$skip=6", lambda b: [o["result"] for o in b["value"]] == [26, 27]),
        ("/Observations?$count=true&$top=1", lambda b: b["@iot.count"] == 8),
        ("/Observations?$filter=result gt 25", lambda b: len(b["value"]) == 2),
        ("/Observations?$filter=result add 5 eq 30", lambda b: b["value"][0]["result"] == 25),
        (
            "/Observations?$filter=phenomenonTime ge 2017-02-07T18:06:00Z",
            lambda b: len(b["value"]) == 2,
        ),
        (
            "/Things?$filter=startswith(name, 'Temperature')",
            lambda b: len(b["value"]) == 1,
        ),
        ("/Observations?$filter=minute(phenomenonTime) eq 3", lambda b: len(b["value"]) == 1),
        (
            "/Locations?$filter=geo.intersects(location, geography'POLYGON((-115 51, -113 51, "
            "-113 52, -115 52, -115 51))')",
            lambda b: b["value"][0]["name"] == "UofC CCIT",
        ),
        (
            "/Locations?$filter=geo.distance(location, geography'POINT(-114.13 51.08)') lt 0.01",
            lambda b: len(b["value"]) == 1,
        ),
        (
            "/Datastreams?$expand=Observations($orderby=phenomenonTime desc;$top=1)",
            lambda b: b["value"][0]["Observations"][0]["result"] == 27,
        ),
        ("/Datastreams({stream})/Observations?$top=2", lambda b: len(b["value"]) == 2),
        ("/Datastreams({stream})/Thing", lambda b: b["name"] == THING["name"]),
        (
            "/Datastreams({stream})/unitOfMeasurement",
            lambda b: b["unitOfMeasurement"]["symbol"] == "degC",
        ),
    ],
)
def test_the_query_options_answer_as_the_standard_shows(
    client: Client, readings: Datastream, query: str, check: Any
) -> None:
    path, _sep, params = query.replace("{stream}", str(readings.pk)).partition("?")
    response = client.get(BASE + path + ("?" + params.replace(" ", "%20") if params else ""))

    assert response.status_code == 200, response.content
    assert check(response.json()), response.json()


def test_observations_as_data_arrays(client: Client, readings: Datastream) -> None:
    response = client.get(
        BASE + f"/Datastreams({readings.pk})/Observations",
        {"$resultFormat": "dataArray", "$top": "3", "$orderby": "phenomenonTime"},
    )

    assert response.status_code == 200
    body = response.json()
    [block] = body["value"]
    assert block["Datastream@iot.navigationLink"].endswith(f"/Datastreams({readings.pk})")
    assert block["components"] == ["id", "phenomenonTime", "resultTime", "result"]
    assert block["dataArray@iot.count"] == 3
    assert [row[1:] for row in block["dataArray"]] == [
        ["2017-02-07T18:00:00Z", None, 20.0],
        ["2017-02-07T18:01:00Z", None, 21.0],
        ["2017-02-07T18:02:00Z", None, 22.0],
    ]
    assert "@iot.nextLink" in body
    chosen = client.get(
        BASE + "/Observations",
        {"$resultFormat": "dataArray", "$select": "result,phenomenonTime", "$top": "1"},
    ).json()
    assert chosen["value"][0]["components"] == ["result", "phenomenonTime"]


def test_a_property_alone_with_value(client: Client, thing: Thing) -> None:
    response = client.get(BASE + f"/Things({thing.pk})/name/$value")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "Temperature Monitoring System"


def test_what_is_not_implemented_answers_501(client: Client, thing: Thing) -> None:
    query = "/Locations?$filter=st_touches(location, geography'POINT(1 1)')"
    path, _sep, params = query.partition("?")
    response = client.get(BASE + path + "?" + params.replace(" ", "%20"))

    assert response.status_code == 501
    assert "docs/citydata.md" in response.json()["messages"]["en"]


def test_feature_of_interest_needs_a_geometry(client: Client, token: str) -> None:
    response = call(
        client,
        "POST",
        "/FeaturesOfInterest",
        {"name": "x", "encodingType": "application/geo+json", "feature": {"type": "Blob"}},
        token,
    )
    assert response.status_code == 400
    assert not FeatureOfInterest.objects.exists()
