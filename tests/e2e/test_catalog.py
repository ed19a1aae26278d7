"""Citizen journey through the catalogue in Chromium: search, result, service, location."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.accounts.tests.factories import OfficeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_catalogue() -> None:
    from rathaus.catalog.models import LifeSituation, Location, Service
    from rathaus.catalog.services import service_search_reindex, synonyms_load_defaults

    situation = LifeSituation.objects.create(name="Wohnen & Umzug", slug="wohnen-umzug")
    office = OfficeFactory(name="Ordnungsamt")
    location = Location.objects.create(
        office=office,
        name="Bürgeramt Otto-Schill-Straße",
        street="Otto-Schill-Straße 2",
        postal_code="04109",
        city="Leipzig",
        opening_hours="Mo 08:00–12:00\nDi 09:00–18:00",
        latitude="51.337100",
        longitude="12.369400",
    )
    for key, name in [
        ("99115005104000", "Wohnsitz Anmeldung"),
        ("99115005070000", "Wohnsitz Abmeldung"),
    ]:
        service = Service.objects.create(
            leika_key=key, name=name, life_situation=situation, leika_type="2/3"
        )
        service.offices.add(office)
        service.locations.add(location)
    synonyms_load_defaults()
    service_search_reindex()


@pytest.mark.usefixtures("small_catalogue")
def test_citizen_searches_in_own_words_and_finds_where_to_go(
    page: Any, live_server: Any, axe: Any
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Bürgerservice"
    ).click()
    axe.check()
    page.get_by_label("Wonach suchen Sie?").fill("Ummeldung")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/leistungen/suche/**")
    axe.check()
    page.get_by_role("link", name="Wohnsitz Anmeldung").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Wohnsitz Anmeldung"
    assert page.get_by_text("Ordnungsamt").first.is_visible()
    axe.check()
    page.get_by_role("link", name="Bürgeramt Otto-Schill-Straße").first.click()
    assert page.get_by_text("Otto-Schill-Straße 2").first.is_visible()
    assert page.get_by_text("Di 09:00–18:00").is_visible()
    axe.check()


@pytest.mark.usefixtures("small_catalogue")
def test_search_and_filters_work_without_javascript(browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.goto(live_server.url + "/leistungen/")
    page.get_by_label("Wonach suchen Sie?").fill("wohnsitz")
    page.get_by_role("button", name="Suchen").click()
    assert page.get_by_role("link", name="Wohnsitz Abmeldung").is_visible()
    context.close()
