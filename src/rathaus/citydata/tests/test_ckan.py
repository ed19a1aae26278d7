"""The CKAN Action API subset, driven by the real ``ckanapi`` client against a live server,
plus the shape of its answers and errors and the number of queries of its lists."""

from __future__ import annotations

import json
from typing import Any

import ckanapi
import pytest
from django.test import Client

from rathaus.citydata.models import Dataset
from rathaus.citydata.tests import catalogue_fixtures

# the shared fixtures of the catalogue tests
environment_office = catalogue_fixtures.environment_office
open_data_storage = catalogue_fixtures.open_data_storage
small_catalogue = catalogue_fixtures.small_catalogue
station = catalogue_fixtures.station
traffic_office = catalogue_fixtures.traffic_office

live = pytest.mark.django_db(transaction=True)
SQE = "Search Query Error"


@pytest.fixture
def ckan(live_server: Any, small_catalogue: dict[str, Dataset]) -> Any:
    with ckanapi.RemoteCKAN(live_server.url) as remote:
        yield remote


# ---- with ckanapi ---------------------------------------------------------------------------


@live
def test_ckanapi_lists_and_shows_datasets(ckan: Any, small_catalogue: dict[str, Dataset]) -> None:
    assert ckan.action.package_list() == ["baumkataster", "radverkehr"]
    assert ckan.action.package_list(limit=1, offset=1) == ["radverkehr"]
    package = ckan.action.package_show(id="baumkataster")
    trees = small_catalogue["trees"]
    assert package["id"] == str(trees.uuid)
    assert package["name"] == "baumkataster" and package["title"] == "Baumkataster"
    assert package["notes"].startswith("Alle Straßenbäume")
    assert package["license_id"] == "http://dcat-ap.de/def/licenses/cc-by/4.0"  # as GovData
    assert package["license_title"].startswith("Creative Commons Namensnennung")
    assert package["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert package["isopen"] is True
    assert package["organization"]["title"] == "Amt für Umweltschutz"
    assert package["organization"]["name"] == "amt-fur-umweltschutz"
    assert package["owner_org"] == package["organization"]["id"]
    assert [t["name"] for t in package["tags"]] == ["Bäume", "Stadtgrün"]
    assert [g["name"] for g in package["groups"]] == ["envi"]
    (resource,) = package["resources"]
    assert resource["url"] == "https://daten.leipzig.example/baeume.csv"
    assert resource["format"] == "CSV" and resource["mimetype"] == "text/csv"
    assert resource["size"] == 123456
    assert resource["last_modified"] == "2025-01-15T09:30:00.000000"
    assert resource["package_id"] == package["id"]
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert json.loads(extras["contributorID"]) == [
        "http://dcat-ap.de/def/contributors/stadtLeipzig"
    ]
    assert extras["temporal_start"] == "2020-01-01"
    assert json.loads(extras["spatial"])["type"] == "Polygon"
    assert package["metadata_modified"] and package["metadata_created"]
    assert ckan.action.package_show(id=str(trees.uuid))["name"] == "baumkataster"


@live
def test_ckanapi_searches_with_q_fq_rows_start_and_facets(ckan: Any) -> None:
    everything = ckan.action.package_search()
    assert everything["count"] == 2 and len(everything["results"]) == 2
    assert ckan.action.package_search(q="*:*")["count"] == 2
    found = ckan.action.package_search(q="straßenbäume")
    assert [p["name"] for p in found["results"]] == ["baumkataster"]
    by_org = ckan.action.package_search(fq="organization:verkehrs-und-tiefbauamt")
    assert [p["name"] for p in by_org["results"]] == ["radverkehr"]
    assert ckan.action.package_search(fq='tags:"Bäume"')["count"] == 1
    assert ckan.action.package_search(fq="groups:tran AND res_format:JSON")["count"] == 1
    assert ckan.action.package_search(fq="license_id:cc-by/4.0")["count"] == 1
    assert ckan.action.package_search(fq="-groups:envi")["count"] == 1
    assert ckan.action.package_search(fq="+dataset_type:dataset")["count"] == 2
    assert (
        ckan.action.package_search(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")["count"] == 2
    )
    assert ckan.action.package_search(q="tags:Radverkehr")["count"] == 1
    page = ckan.action.package_search(rows=1, start=1, sort="name asc")
    assert page["count"] == 2 and [p["name"] for p in page["results"]] == ["radverkehr"]
    assert ckan.action.package_search(rows=0)["results"] == []
    faceted = ckan.action.package_search(
        **{"facet.field": json.dumps(["organization", "groups", "res_format", "license_id"])}
    )
    assert faceted["facets"]["groups"] == {"envi": 1, "tran": 1, "regi": 1}
    assert faceted["facets"]["res_format"] == {"CSV": 1, "JSON": 1}
    items = faceted["search_facets"]["organization"]["items"]
    assert {i["display_name"] for i in items} == {
        "Amt für Umweltschutz",
        "Verkehrs- und Tiefbauamt",
    }


@live
def test_ckanapi_lists_organizations_groups_licences_and_status(ckan: Any) -> None:
    assert ckan.action.organization_list() == ["amt-fur-umweltschutz", "verkehrs-und-tiefbauamt"]
    orgs = ckan.action.organization_list(all_fields=True)
    assert orgs[0]["title"] == "Amt für Umweltschutz" and orgs[0]["package_count"] == 1
    assert orgs[1]["package_count"] == 1  # the draft is not counted
    assert ckan.action.group_list() == ["envi", "regi", "tran"]
    assert ckan.action.tag_list(query="rad") == ["Radverkehr"]
    assert "http://dcat-ap.de/def/licenses/dl-by-de/2.0" in {
        lic["id"] for lic in ckan.action.license_list()
    }
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.10") and status["locale_default"] == "de"
    assert status["site_url"] == "https://rathaus.example.org"


@live
def test_ckanapi_raises_its_errors_for_bad_requests(ckan: Any) -> None:
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="gibt-es-nicht")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="entwurf")  # unpublished: as if it did not exist
    with pytest.raises(ckanapi.ValidationError) as missing:
        ckan.action.package_show()
    assert missing.value.error_dict["id"] == ["Missing value"]
    with pytest.raises(ckanapi.ValidationError) as huge:
        ckan.action.package_search(rows=10**9)
    assert huge.value.error_dict["rows"] == ["Must be at most 1000"]
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows="viele")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(start=-1)
    with pytest.raises(ckanapi.SearchQueryError, match="expected field:value"):
        ckan.action.package_search(fq="organization:(a OR b")
    with pytest.raises(ckanapi.SearchQueryError, match="unknown field 'colour'"):
        ckan.action.package_search(fq="colour:red")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(sort="random()")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="metadata_modified:[gestern TO *]")
    with pytest.raises(ckanapi.CKANAPIError):
        ckan.action.package_create(name="neu")  # read-only: not an action here


# ---- answers as HTTP ------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_and_post_give_ckans_response_shape(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    response = client.get("/api/3/action/package_search", {"q": "Radverkehr", "rows": "5"})
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"help", "success", "result"} and body["success"] is True
    assert body["help"].endswith("/api/3/action/help_show?name=package_search")
    assert body["result"]["count"] == 1
    posted = client.post(
        "/api/3/action/package_show",
        data=json.dumps({"id": "radverkehr"}),
        content_type="application/json",
    )
    assert posted.json()["result"]["name"] == "radverkehr"
    assert client.get("/api/3").json() == {"version": 3}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "kwargs", "status", "kind"),
    [
        ("/api/3/action/package_show?id=nope", {}, 404, "Not Found Error"),
        ("/api/3/action/package_search?rows=1000000000", {}, 409, "Validation Error"),
        ("/api/3/action/package_search?start=abc", {}, 409, "Validation Error"),
        ("/api/3/action/package_search?fq=name:%22open", {}, 400, "Search Query Error"),
        ("/api/3/action/package_search?fq=" + "tags:a%20" * 30, {}, 400, "Search Query Error"),
        ("/api/3/action/package_search?facet.field=organization", {}, 409, "Validation Error"),
        ("/api/3/action/package_search?facet.field=[%22notes%22]", {}, 400, "Search Query Error"),
        ("/api/3/action/drop_everything", {}, 400, "Bad Request"),
        # regression: impossible dates were a 500
        ("/api/3/action/package_search?fq=metadata_modified:[2024-02-30 TO *]", {}, 400, SQE),
        (
            "/api/3/action/package_search?fq=metadata_modified:[2024-13-45T00:00:00Z TO *]",
            {},
            400,
            SQE,
        ),
        (
            "/api/3/action/package_search?fq=metadata_modified:[2024-01-01T00:00:00%2B99:00 TO *]",
            {},
            400,
            SQE,
        ),
        (
            "/api/3/action/package_search?fq=metadata_created:[* TO 9999-12-31T23:00:00-05:00]",
            {},
            400,
            SQE,
        ),
        ("/api/3/action/organization_show?id=nope", {}, 404, "Not Found Error"),
        ("/api/3/action/group_show?id=weather", {}, 404, "Not Found Error"),
    ],
)
def test_bad_requests_get_ckans_error_shape(
    client: Client, db: None, path: str, kwargs: dict[str, Any], status: int, kind: str
) -> None:
    response = client.get(path, **kwargs)
    body = response.json()
    assert response.status_code == status
    assert body["success"] is False and "result" not in body
    assert body["error"]["__type"] == kind and body["error"]["message"]


@pytest.mark.django_db
def test_post_with_a_body_that_is_not_a_json_object_is_a_bad_request(client: Client) -> None:
    for data in ("{not json", "[1, 2]"):
        response = client.post(
            "/api/3/action/package_search", data=data, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["__type"] == "Bad Request"


@pytest.mark.django_db
def test_api_is_rate_limited(
    client: Client, settings: Any, small_catalogue: dict[str, Dataset]
) -> None:
    settings.RATELIMIT_OPEN_DATA = "3/m"
    for _ in range(3):
        assert client.get("/api/3/action/package_list").status_code == 200
    response = client.get("/api/3/action/package_list")
    assert response.status_code == 429
    assert response.json()["success"] is False


@pytest.mark.django_db
def test_lists_take_a_fixed_number_of_queries(
    client: Client, small_catalogue: dict[str, Dataset], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        assert client.get("/api/3/action/package_list").status_code == 200
    facets = json.dumps(["organization", "groups", "tags", "res_format", "license_id"])
    # count, page, keywords, distributions, offices (names), one per facet
    with django_assert_max_num_queries(10):
        response = client.get("/api/3/action/package_search", {"rows": 1000, "facet.field": facets})
    assert response.status_code == 200
    assert response.json()["result"]["count"] == 2
    with django_assert_max_num_queries(2):
        orgs = client.get("/api/3/action/organization_list", {"all_fields": "true"})
    assert orgs.status_code == 200 and len(orgs.json()["result"]) == 2


# ---- what harvesters send -------------------------------------------------------------------


def _search(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/3/action/package_search", params)
    assert response.status_code == 200, response.content
    return response.json()["result"]


@pytest.mark.django_db
def test_ckan_harvester_query_pages_by_id_and_filters_by_organizations(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    """Regression: ckanext-harvest's CKANHarvester got a 400 for its sort and its OR."""
    from datetime import UTC, datetime, timedelta

    orgs = "organization:amt-fur-umweltschutz OR organization:verkehrs-und-tiefbauamt"
    found = _search(client, fq=orgs, sort="id asc", rows="100", start="0")
    ids = [p["id"] for p in found["results"]]
    assert found["count"] == 2 and ids == sorted(ids)
    assert [p["id"] for p in _search(client, sort="id desc")["results"]] == ids[::-1]
    # the incremental harvest: changes since the last run (naive UTC) less an hour, + "Z"
    since = (datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)).isoformat()
    found = _search(
        client, fq=f"{orgs} metadata_modified:[{since}Z TO *]", sort="id asc", rows="100"
    )
    assert found["count"] == 2
    later = (datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)).isoformat()
    assert _search(client, fq=f"{orgs} metadata_modified:[{later}Z TO *]")["count"] == 0
    only_one = _search(client, fq="organization:verkehrs-und-tiefbauamt OR organization:nobody")
    assert [p["name"] for p in only_one["results"]] == ["radverkehr"]
    assert _search(client, fq="groups:(envi OR regi)")["count"] == 2
    assert _search(client, fq='-tags:("Bäume" OR Radverkehr)')["count"] == 0


@pytest.mark.django_db
def test_organization_and_group_show_answer_by_name_or_id(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    """ckanext-harvest's remote_orgs=create asks organization_show for the owner_org."""
    package = client.get("/api/3/action/package_show", {"id": "radverkehr"}).json()["result"]
    for key in (package["owner_org"], "verkehrs-und-tiefbauamt"):
        org = client.get("/api/3/action/organization_show", {"id": key}).json()["result"]
        assert org["name"] == "verkehrs-und-tiefbauamt" and org["package_count"] == 1
    with_datasets = client.get(
        "/api/3/action/organization_show",
        {"id": "verkehrs-und-tiefbauamt", "include_datasets": "true"},
    ).json()["result"]
    assert [p["name"] for p in with_datasets["packages"]] == ["radverkehr"]
    group = client.get("/api/3/action/group_show", {"id": "tran"}).json()["result"]
    assert group["title"] == "Verkehr" and group["package_count"] == 1
    by_id = client.get("/api/3/action/group_show", {"id": group["id"]}).json()["result"]
    assert by_id["name"] == "tran"


@pytest.mark.django_db
def test_q_falls_back_to_text_for_what_is_not_a_known_field(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    assert _search(client, q="https://daten.leipzig.example/x")["count"] == 0
    assert _search(client, q="title:Baum")["count"] == 1
    assert _search(client, q="tags:Radverkehr Zählstellen")["count"] == 1
    assert _search(client, q="tags:Radverkehr Leipzig")["count"] == 0
    assert _search(client, q="tags:Radverkehr")["count"] == 1  # known fields still filter


@pytest.mark.django_db
def test_license_id_is_govdatas_uri_and_fq_takes_uri_or_code(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    uri = "http://dcat-ap.de/def/licenses/cc-by/4.0"
    assert _search(client, fq=f'license_id:"{uri}"')["count"] == 1
    assert _search(client, fq="license_id:cc-by/4.0")["count"] == 1
    faceted = _search(client, **{"facet.field": '["license_id"]'})
    assert faceted["facets"]["license_id"][uri] == 1


@pytest.mark.django_db
def test_negated_no_op_finds_nothing_and_form_posts_work(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    assert _search(client, fq="-dataset_type:dataset")["count"] == 0
    assert _search(client, fq="dataset_type:dataset")["count"] == 2
    posted = client.post("/api/3/action/package_search", {"q": "Radverkehr", "rows": "1"})
    assert posted.status_code == 200 and posted.json()["result"]["count"] == 1
