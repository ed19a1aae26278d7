"""The open-data catalogue in Chromium: find a dataset by search and filter, read its page,
download a generated file; keyboard alone; without JavaScript; axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.citydata.models import Dataset, Thing
from rathaus.citydata.publishing import publish_open_data
from rathaus.citydata.tests import catalogue_fixtures

# the shared fixtures of the catalogue tests
environment_office = catalogue_fixtures.environment_office
open_data_storage = catalogue_fixtures.open_data_storage
small_catalogue = catalogue_fixtures.small_catalogue
station = catalogue_fixtures.station
traffic_office = catalogue_fixtures.traffic_office

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(small_catalogue: dict[str, Dataset], station: Thing) -> None:
    report = publish_open_data(only=["sensors"])
    assert not report.rejected, report.rejected


@pytest.mark.usefixtures("catalogue")
def test_someone_finds_air_quality_data_and_downloads_it(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Offene Daten"
    ).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Offene Daten"
    assert page.get_by_role("heading", name="3 Datensätze").is_visible()
    axe.check()
    page.get_by_label("Kategorie").select_option(label="Umwelt (2)")
    page.get_by_label("Suchbegriff").fill("Luftmessstation")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/offene-daten/?*")
    assert page.get_by_role("heading", name="1 Datensatz").is_visible()
    axe.check()
    page.get_by_role("link", name="Messwerte: Luftmessstation Leipzig-Mitte").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Messwerte: Luftmessstation Leipzig-Mitte"
    )
    table = page.get_by_role("region", name="Daten")
    licence = "Datenlizenz Deutschland – Namensnennung – Version 2.0"
    assert table.get_by_role("link", name=licence).first.is_visible()
    axe.check()
    with page.expect_download() as download_info:
        table.get_by_role("link", name="NO2 Leipzig-Mitte 2014 (µg/m³)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("no2-") and download.suggested_filename.endswith(
        "-2014.csv"
    )
    with open(download.path(), encoding="utf-8") as handle:
        assert handle.readline().strip() == "phenomenonTime,result"
    assert not console_errors


@pytest.mark.usefixtures("catalogue")
def test_filters_work_by_keyboard(page: Any, live_server: Any, axe: Any) -> None:
    page.goto(live_server.url + "/offene-daten/")
    page.get_by_label("Lizenz").focus()
    page.get_by_label("Lizenz").select_option(
        label="Creative Commons Namensnennung – 4.0 International (CC BY 4.0) (1)"
    )
    page.keyboard.press("Tab")  # to "Suchen"
    assert page.get_by_role("button", name="Suchen").evaluate("b => b === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**lizenz=cc-by*")
    assert page.get_by_role("link", name="Baumkataster").is_visible()
    assert page.get_by_role("link", name="Radverkehrszählung").count() == 0
    page.get_by_role("link", name="Baumkataster").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == "Baumkataster"
    axe.check()


@pytest.mark.usefixtures("catalogue")
def test_search_and_filters_work_without_javascript(browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.goto(live_server.url + "/offene-daten/")
    page.get_by_label("Herausgeber").select_option(label="Verkehrs- und Tiefbauamt (1)")
    page.get_by_role("button", name="Suchen").click()
    assert page.get_by_role("link", name="Radverkehrszählung").is_visible()
    assert page.get_by_role("link", name="Baumkataster").count() == 0
    context.close()
