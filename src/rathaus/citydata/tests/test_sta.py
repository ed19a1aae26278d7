"""The SensorThings API's read part on the real Saxon air-quality data: entity sets, entities,
navigation, query options, paging, and the errors of what is not (yet) implemented."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from rathaus.citydata.models import (
    Datastream,
    Location,
    Observation,
    ObservedProperty,
    Sensor,
    Thing,
)
from rathaus.citydata.services import air_quality_load

pytestmark = pytest.mark.django_db
BASE = "/api/sta/v1.1"


@pytest.fixture(scope="module")
def stations(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The Saxon stations, loaded once for the module (committed) and removed afterwards."""
    with django_db_blocker.unblock():
        report = air_quality_load()
    yield report
    with django_db_blocker.unblock():
        Thing.objects.all().delete()  # with their datastreams and observations
        Location.objects.all().delete()
        Sensor.objects.all().delete()
        ObservedProperty.objects.all().delete()


def get(client: Client, path: str, **params: str) -> tuple[int, Any]:
    response = client.get(BASE + path, params)
    return response.status_code, response.json()


def test_the_stations_are_loaded_once(stations: Any) -> None:
    assert stations.things == 29
    mitte = Thing.objects.get(name="Luftmessstation Leipzig-Mitte")
    names = sorted(mitte.datastreams.values_list("observed_property__name", flat=True))
    assert names == ["Benzol", "NO", "NO2", "PM10", "PM2.5", "SO2"]
    no2 = mitte.datastreams.get(observed_property__name="NO2")
    assert no2.observations.count() == 235  # hours with a reading; 0 means "not measured"
    assert no2.phenomenon_start is not None and no2.phenomenon_end is not None
    again = air_quality_load()
    assert (again.things, again.observations) == (0, 0)
    assert again.kept == stations.observations


def test_the_service_root_lists_the_entity_sets(client: Client) -> None:
    status, body = get(client, "/")

    assert status == 200
    assert [item["name"] for item in body["value"]] == [
        "Things",
        "Locations",
        "HistoricalLocations",
        "Sensors",
        "ObservedProperties",
        "Datastreams",
        "Observations",
        "FeaturesOfInterest",
    ]
    assert body["value"][0]["url"] == "http://testserver/api/sta/v1.1/Things"


def test_a_collection_is_paged_with_a_count_and_a_next_link(client: Client, stations: Any) -> None:
    status, first = get(client, "/Things", **{"$top": "10", "$count": "true", "$orderby": "name"})

    assert status == 200
    assert first["@iot.count"] == 29 and len(first["value"]) == 10
    assert first["value"][0]["name"] == "Luftmessstation Annaberg-Buchholz"
    seen = [thing["name"] for thing in first["value"]]
    link = first["@iot.nextLink"]
    while link:
        page = client.get(link.replace("http://testserver", "")).json()
        seen += [thing["name"] for thing in page["value"]]
        link = page.get("@iot.nextLink")
    assert len(seen) == 29 and seen == sorted(seen)


def test_an_entity_has_its_links_and_navigation_works(client: Client, stations: Any) -> None:
    mitte = Thing.objects.get(name="Luftmessstation Leipzig-Mitte")

    status, thing = get(client, f"/Things({mitte.pk})")
    assert status == 200
    assert thing["@iot.id"] == mitte.pk
    assert thing["@iot.selfLink"] == f"http://testserver{BASE}/Things({mitte.pk})"
    assert thing["Datastreams@iot.navigationLink"].endswith(f"/Things({mitte.pk})/Datastreams")

    status, streams = get(client, f"/Things({mitte.pk})/Datastreams", **{"$orderby": "name"})
    assert [s["name"] for s in streams["value"]][:2] == ["Benzol Leipzig-Mitte", "NO Leipzig-Mitte"]
    assert streams["value"][0]["unitOfMeasurement"]["symbol"] == "µg/m³"

    status, places = get(client, f"/Things({mitte.pk})/Locations")
    assert places["value"][0]["location"]["type"] == "Point"

    no2 = Datastream.objects.get(thing=mitte, observed_property__name="NO2")
    status, latest = get(
        client,
        f"/Datastreams({no2.pk})/Observations",
        **{"$orderby": "phenomenonTime desc", "$top": "1"},
    )
    newest = Observation.objects.filter(datastream=no2).order_by("-phenomenon_time").first()
    assert newest is not None
    assert latest["value"][0]["result"] == newest.result_number
    assert latest["value"][0]["phenomenonTime"] == newest.phenomenon_time.isoformat().replace(
        "+00:00", "Z"
    )

    status, back = get(client, f"/Observations({newest.pk})/Datastream")
    assert status == 200 and back["@iot.id"] == no2.pk
    status, name = get(client, f"/Things({mitte.pk})/name")
    assert name == {"name": "Luftmessstation Leipzig-Mitte"}


def test_select_gives_only_the_named_properties(client: Client, stations: Any) -> None:
    status, body = get(client, "/Things", **{"$select": "id,name", "$top": "1"})

    assert status == 200
    assert set(body["value"][0]) == {"@iot.id", "@iot.selfLink", "name"}


LEIPZIG = "POLYGON((12.25 51.30, 12.50 51.30, 12.50 51.40, 12.25 51.40, 12.25 51.30))"
MITTE_HOLE = "(12.36 51.33, 12.39 51.33, 12.39 51.35, 12.36 51.35, 12.36 51.33)"
DRESDEN = "((13.70 51.02, 13.76 51.02, 13.76 51.07, 13.70 51.07, 13.70 51.02))"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (f"st_within(location, geography'{LEIPZIG}')", ["Lützner", "Mitte", "Thekla", "West"]),
        (f"geo.intersects(location, geography'{LEIPZIG}')", ["Lützner", "Mitte", "Thekla", "West"]),
        (  # a hole in the polygon around the city centre
            f"st_within(location, geography'{LEIPZIG[:-1]}, {MITTE_HOLE})')",
            ["Lützner", "Thekla", "West"],
        ),
        (  # a triangle: its long side passes between Mitte and Thekla
            "st_within(location, geography'POLYGON((12.25 51.30, 12.50 51.30, 12.25 51.40, "
            "12.25 51.30))') eq true",
            ["Lützner", "Mitte", "West"],
        ),
        (
            f"st_within(location, geography'MULTIPOLYGON({LEIPZIG[7:]}, {DRESDEN})')"
            " and not startswith(description, 'Leipzig')",
            ["Bergstr.", "Nord", "Wickelmannstr"],
        ),
        ("geo.distance(location, geography'POINT(12.377 51.344)') lt 0.01", ["Mitte"]),
        (
            "st_equals(location, geography'POINT(12.377150085913854 51.34416689213637)')",
            ["Mitte"],
        ),
    ],
)
def test_geospatial_filters_find_the_stations_in_an_area(
    client: Client, stations: Any, condition: str, expected: list[str]
) -> None:
    status, body = get(client, "/Locations", **{"$filter": condition, "$select": "id"})

    assert status == 200, body
    names = [Thing.objects.get(locations__pk=item["@iot.id"]).name for item in body["value"]]
    places = [unicodedata.normalize("NFC", n).split("-")[-1].split()[0] for n in names]
    assert sorted(places) == expected


def test_disjoint_is_everything_outside(client: Client, stations: Any) -> None:
    status, body = get(
        client,
        "/Locations",
        **{"$filter": f"st_disjoint(location, geography'{LEIPZIG}')", "$count": "true"},
    )
    assert status == 200 and body["@iot.count"] == 29 - 4


@pytest.mark.parametrize(
    ("path", "params", "status", "english"),
    [
        (
            "/Locations",
            {"$filter": "geo.length(location) lt 1"},
            501,
            "not yet implemented",
        ),
        (
            "/Locations",
            {"$filter": "st_within(location, geography'POLYGON((12 51, 13 51, 13 52))')"},
            400,
            "the last equal to the first",
        ),
        (
            "/Locations",
            {"$filter": "st_within(location, geography'POINT(512 12)')"},
            400,
            "outside the earth",
        ),
        ("/Locations", {"$filter": "st_within(location, geography'CIRCLE(1)')"}, 400, "WKT"),
        (
            "/Things",
            {"$filter": "geo.distance(location, geography'POINT(12 51)') lt 1"},
            400,
            "not a location property",
        ),
        (
            "/Locations",
            {"$filter": "st_within(location, location)"},
            400,
            "needs a location property and a geometry",
        ),
        ("/Things", {"$filter": "name eq"}, 400, "$filter is malformed"),
        ("/Things", {"$filter": "colour eq 'blau'"}, 400, "does not know the property"),
        (
            "/Things",
            {"$filter": "((((((((((((((((((((((name eq 'x'))))))))))))))))))))))"},
            400,
            "nested too deep",
        ),
        ("/Things", {"$filter": "x" * 3000}, 400, "longer than"),
        ("/Things", {"$resultFormat": "dataArray"}, 400, "only for Observations"),
        ("/Observations", {"$resultFormat": "csv"}, 400, "only dataArray"),
        ("/Things", {"$expand": "Sensors"}, 400, "no navigation"),
        ("/Things", {"$expand": "Datastreams($top=1"}, 400, "open parenthesis"),
        (
            "/Things",
            {"$expand": "Datastreams/Observations/Datastream/Thing"},
            400,
            "at most 3 levels",
        ),
        ("/Things", {"$frobnicate": "1"}, 400, "Unknown query option"),
        ("/Things", {"$top": "-1"}, 400, "whole number"),
        ("/Things", {"$orderby": "colour desc"}, 400, "cannot be sorted"),
        ("/Things", {"$select": "colour"}, 400, "no property"),
        ("/Things(99999999)", {}, 404, "does not exist"),
        ("/Unicorns", {}, 404, "does not exist"),
        ("/Things(1)/Datastreams(2)/Observations/x", {}, 400, "too deep"),
        ("/Things({first})/$value", {}, 400, "follows a property"),
    ],
)
def test_bad_requests_get_the_standard_error_shape(
    client: Client, stations: Any, path: str, params: dict[str, str], status: int, english: str
) -> None:
    first = Thing.objects.order_by("pk").first()
    assert first is not None
    got, body = get(client, path.replace("{first}", str(first.pk)), **params)

    assert got == status
    assert body["code"] == status and body["type"] == "error"
    assert english in body["message"]
    assert body["messages"]["de"] != body["messages"]["en"]


def test_a_billion_is_not_a_page(client: Client, stations: Any) -> None:
    status, body = get(client, "/Observations", **{"$top": "1000000000"})

    assert status == 200
    assert len(body["value"]) == 1000  # bounded work per request; the rest follows by link
    assert "%24skip=1000" in body["@iot.nextLink"]


def _names(client: Client, path: str, condition: str) -> list[str]:
    status, body = get(client, path, **{"$filter": condition, "$orderby": "name", "$top": "1000"})
    assert status == 200, body
    return [item.get("name") for item in body["value"]]


def test_filter_compares_combines_and_calls_functions(client: Client, stations: Any) -> None:
    leipzig = sorted(Thing.objects.filter(name__contains="Leipzig-").values_list("name", flat=True))
    assert len(leipzig) == 4
    assert _names(client, "/Things", "substringof('Leipzig-', name)") == leipzig
    assert _names(client, "/Things", "startswith(name, 'Luftmessstation Leipzig')") == leipzig
    assert _names(
        client, "/Things", "endswith(name, 'Mitte') and not contains(name, 'Chemnitz')"
    ) == ["Luftmessstation Leipzig-Mitte"]
    assert _names(
        client, "/Things", "name eq 'Luftmessstation Borna' or name eq 'Luftmessstation Freiberg'"
    ) == ["Luftmessstation Borna", "Luftmessstation Freiberg"]
    assert len(_names(client, "/Things", "tolower(name) ne 'luftmessstation borna'")) == 28
    assert _names(client, "/ObservedProperties", "length(name) eq 5") == ["PM2.5"]


def test_filter_on_observations_by_time_result_and_datastream(
    client: Client, stations: Any
) -> None:
    mitte = Thing.objects.get(name="Luftmessstation Leipzig-Mitte")
    no2 = Datastream.objects.get(thing=mitte, observed_property__name="NO2")
    first = no2.observations.order_by("phenomenon_time").first()
    assert first is not None
    day = first.phenomenon_time.date()
    start, end = f"{day}T00:00:00Z", f"{day}T23:59:59Z"
    condition = (
        f"Datastream/id eq {no2.pk} and phenomenonTime ge {start} "
        f"and phenomenonTime le {end} and result gt 10"
    )
    status, body = get(client, "/Observations", **{"$filter": condition, "$count": "true"})

    expected = no2.observations.filter(
        phenomenon_time__gte=start, phenomenon_time__lte=end, result_number__gt=10
    )
    assert status == 200
    assert body["@iot.count"] == expected.count() > 0
    assert all(item["result"] > 10 for item in body["value"])
    # arithmetic and date parts: the same hours in another spelling
    status, same = get(
        client,
        "/Observations",
        **{
            "$filter": f"Datastream/id eq {no2.pk} and year(phenomenonTime) eq {day.year} and "
            f"month(phenomenonTime) eq {day.month} and day(phenomenonTime) eq {day.day} "
            "and result sub 10 gt 0",
            "$count": "true",
        },
    )
    assert same["@iot.count"] == expected.count()
    status, streams = get(
        client,
        "/Datastreams",
        **{"$filter": "Thing/name eq 'Luftmessstation Leipzig-Mitte'", "$count": "true"},
    )
    assert streams["@iot.count"] == 6


def test_expand_gives_related_entities_with_their_own_options(
    client: Client, stations: Any
) -> None:
    mitte = Thing.objects.get(name="Luftmessstation Leipzig-Mitte")
    status, thing = get(
        client,
        f"/Things({mitte.pk})",
        **{
            "$expand": "Locations,Datastreams($orderby=name;$top=2;$select=name;$expand=ObservedProperty($select=name))"
        },
    )

    assert status == 200
    assert thing["Locations"][0]["location"]["type"] == "Point"
    assert [d["name"] for d in thing["Datastreams"]] == ["Benzol Leipzig-Mitte", "NO Leipzig-Mitte"]
    assert thing["Datastreams"][0]["ObservedProperty"] == {"name": "Benzol"}
    assert "Datastreams@iot.nextLink" in thing  # four more


def test_the_latest_value_of_each_datastream_in_one_request(client: Client, stations: Any) -> None:
    mitte = Thing.objects.get(name="Luftmessstation Leipzig-Mitte")
    status, body = get(
        client,
        f"/Things({mitte.pk})/Datastreams",
        **{"$expand": "Observations($orderby=phenomenonTime desc;$top=1)", "$orderby": "name"},
    )

    assert status == 200
    for stream in body["value"]:
        newest = (
            Observation.objects.filter(datastream_id=stream["@iot.id"])
            .order_by("-phenomenon_time")
            .first()
        )
        assert newest is not None
        assert [o["result"] for o in stream["Observations"]] == [newest.result_number]
    # a path: the options belong to its last step
    status, things = get(
        client,
        "/Things",
        **{
            "$filter": "name eq 'Luftmessstation Leipzig-Mitte'",
            "$expand": "Datastreams/ObservedProperty($select=name)",
        },
    )
    names = sorted(d["ObservedProperty"]["name"] for d in things["value"][0]["Datastreams"])
    assert names == ["Benzol", "NO", "NO2", "PM10", "PM2.5", "SO2"]
