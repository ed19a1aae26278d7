from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from rathaus.accounts.tests.factories import OfficeFactory
from rathaus.catalog.models import Location, RequiredDocument, Service
from rathaus.core.tests.s3server import s3_storage  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("leika_catalogue")]


@pytest.fixture
def dog_tax() -> Service:
    service = Service.objects.get(leika_key="99102013000000")
    office = OfficeFactory(name="Stadtkämmerei")
    service.offices.add(office)
    Location.objects.create(
        office=office,
        name="Neues Rathaus",
        street="Martin-Luther-Ring 4",
        postal_code="04109",
        city="Leipzig",
        opening_hours="Di 09:00–18:00",
        latitude="51.336500",
        longitude="12.371100",
    )
    RequiredDocument.objects.create(service=service, name="Personalausweis")
    Service.objects.filter(pk=service.pk).update(
        fee_min="0", fee_max="120.00", fee_regulation="Hundesteuersatzung"
    )
    return Service.objects.get(pk=service.pk)


def test_start_page_has_search_and_life_situations(client: Client) -> None:
    html = client.get("/leistungen/").content.decode()
    assert 'role="search"' in html
    assert '<label class="kern-label" for="id_q">' in html
    assert "Wohnen &amp; Umzug" in html


def test_result_list_shows_what_was_found(client: Client) -> None:
    html = client.get("/leistungen/suche/", {"q": "Ummeldung"}).content.decode()
    assert "Wohnsitz Anmeldung" in html
    assert "Leistungen gefunden" in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a" * 10_000},
        {"q": '" * NEAR : & | !'},
        {"lebenslage": "gibt-es-nicht"},
        {"amt": "abc"},
        {"seite": "-3"},
        {"seite": "99999"},
        {"online": "vielleicht"},
    ],
)
def test_odd_search_parameters_give_a_normal_page(client: Client, params: dict[str, str]) -> None:
    response = client.get("/leistungen/suche/", params)
    assert response.status_code == 200
    assert "Leistungen finden" in response.content.decode()


def test_service_page_shows_everything_and_json_ld(client: Client, dog_tax: Service) -> None:
    html = client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()
    for text in (
        "Hundesteuer",
        "Personalausweis",
        "Stadtkämmerei",
        "Martin-Luther-Ring 4",
        "Hundesteuersatzung",
        "99102013000000",
        "Tierhaltung",
        "1 – Informationen online",
        "0,00 € bis 120,00 €",
    ):
        assert text in html, text
    assert "Online beantragen" not in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    )  # type: ignore[union-attr]
    assert data["@type"] == "GovernmentService"
    assert data["identifier"] == "urn:de:fim:leika:leistung:99102013000000"
    assert data["provider"][0]["name"] == "Stadtkämmerei"


def test_online_button_appears_once_a_form_exists(client: Client, dog_tax: Service) -> None:
    Service.objects.filter(pk=dog_tax.pk).update(form_url="/formulare/hundesteuer/")
    html = client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()
    assert 'href="/formulare/hundesteuer/"' in html and "Online beantragen" in html


def test_catalogue_text_cannot_break_out_of_the_json_ld(client: Client, dog_tax: Service) -> None:
    Service.objects.filter(pk=dog_tax.pk).update(
        short_description="</script><script>alert(1)</script>"
    )
    html = client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()
    assert "</script><script>alert(1)" not in html


def test_unknown_service_is_404(client: Client) -> None:
    assert client.get("/leistungen/99000000000000/").status_code == 404
    assert client.get("/leistungen/abc/").status_code == 404


def test_office_and_location_pages_give_the_address_as_text(
    client: Client, dog_tax: Service
) -> None:
    office = dog_tax.offices.get()
    office_html = client.get(f"/leistungen/stellen/{office.pk}/").content.decode()
    assert "Neues Rathaus" in office_html and "Hundesteuer" in office_html
    location = Location.objects.get(name="Neues Rathaus")
    html = client.get(f"/leistungen/standorte/{location.pk}/").content.decode()
    assert "Martin-Luther-Ring 4" in html and "Di 09:00–18:00" in html
    assert 'data-lat="51.336500"' in html and "Karte mit der Lage" in html


def test_api_searches_filters_and_pages(client: Client, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(9):
        response = client.get("/api/v1/services", {"q": "hund anmelden", "limit": 20})
    body = response.json()
    assert body["items"][0]["leika_key"] == "99102013000000"
    assert body["count"] >= 3
    page2 = client.get("/api/v1/services", {"q": "hund anmelden", "limit": 3, "offset": 3}).json()
    first_three = [i["leika_key"] for i in body["items"][:3]]
    second_three = [i["leika_key"] for i in body["items"][3:6]]
    assert [i["leika_key"] for i in page2["items"]] == second_three
    assert set(second_three).isdisjoint(first_three)
    filtered = client.get("/api/v1/services", {"lebenslage": "tierhaltung", "limit": 100}).json()
    assert filtered["count"] == Service.objects.filter(life_situation__slug="tierhaltung").count()


def test_api_one_service_and_404(client: Client) -> None:
    body = client.get("/api/v1/services/99108001001000").json()
    assert body["name"] == "Bewohnerparkausweis Erteilung"
    assert body["urn"].endswith("99108001001000")
    missing = client.get("/api/v1/services/99000000000000")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_api_exports_the_whole_catalogue(client: Client) -> None:
    body = client.get("/api/v1/catalog/export").json()
    assert len(body["services"]) == Service.objects.count() >= 4813


def test_the_plain_listing_pages_through_the_whole_catalogue(client: Client) -> None:
    last = client.get("/api/v1/services", {"limit": 5, "offset": 4810}).json()
    assert last["count"] == Service.objects.count()
    assert len(last["items"]) == Service.objects.count() - 4810


def test_a_bad_filter_value_drops_only_itself(client: Client) -> None:
    Service.objects.filter(leika_key="99102013000000").update(
        online_form=True, online_submission=True
    )
    html = client.get(
        "/leistungen/suche/", {"q": "Hundesteuer", "lebenslage": "gibt-es-nicht", "online": "on"}
    ).content.decode()
    assert "1 Leistung gefunden" in html


def test_a_page_beyond_the_end_shows_the_last_page(client: Client) -> None:
    html = client.get("/leistungen/suche/", {"q": "Hundesteuer", "seite": "40"}).content.decode()
    assert "Hundesteuer" in html and "Keine Leistung gefunden" not in html


def test_a_fee_from_zero_up_is_shown_as_a_range_and_a_minimum_as_from(
    client: Client, dog_tax: Service
) -> None:
    Service.objects.filter(pk=dog_tax.pk).update(fee_min="0", fee_max=None)
    assert "ab 0,00 €" in client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()


def test_the_export_is_rate_limited(client: Client, settings: Any) -> None:
    settings.RATELIMIT_EXPORT = "1/h"
    assert client.get("/api/v1/catalog/export").status_code == 200
    again = client.get("/api/v1/catalog/export")
    assert again.status_code == 429 and again.json()["error"] == "too_many_requests"


def _with_official_form(service: Service) -> Service:
    from django.core.files.base import ContentFile

    service.official_form.save("hundesteuer.pdf", ContentFile(b"%PDF-1.7 Anmeldung"), save=True)
    return service


def test_the_official_form_is_downloaded_through_the_service_page(
    client: Client, dog_tax: Service
) -> None:
    page = client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()
    assert "formular.pdf" not in page  # no form, no link
    _with_official_form(dog_tax)
    page = client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()
    link = f"/leistungen/{dog_tax.leika_key}/formular.pdf"
    assert f'href="{link}"' in page
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"%PDF-1.7 Anmeldung"  # type: ignore[attr-defined]


def test_a_service_without_official_form_or_a_lost_file_gives_404(
    client: Client, dog_tax: Service
) -> None:
    assert client.get(f"/leistungen/{dog_tax.leika_key}/formular.pdf").status_code == 404
    _with_official_form(dog_tax)
    dog_tax.official_form.storage.delete(dog_tax.official_form.name)
    assert client.get(f"/leistungen/{dog_tax.leika_key}/formular.pdf").status_code == 404


def test_with_object_storage_the_form_comes_from_the_bucket_through_our_link(
    client: Client, dog_tax: Service, request: pytest.FixtureRequest
) -> None:
    bucket = request.getfixturevalue("s3_storage")
    _with_official_form(dog_tax)
    assert any(key.endswith(".pdf") for key in bucket.keys())  # stored in the bucket
    page = client.get(f"/leistungen/{dog_tax.leika_key}/").content.decode()
    assert "X-Amz-Signature" not in page and "127.0.0.1:" not in page  # no storage URL
    response = client.get(f"/leistungen/{dog_tax.leika_key}/formular.pdf")
    assert b"".join(response.streaming_content) == b"%PDF-1.7 Anmeldung"  # type: ignore[attr-defined]
