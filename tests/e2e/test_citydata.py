"""Sensor data in Chromium: the map of the stations with its legend and table, choosing a
component and a period with the keyboard alone, a station's charts with their tables, and
the pages without JavaScript; axe-core on every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stations(settings: Any) -> dict[str, int]:
    from rathaus.citydata.ingest import observations_write, row_from
    from rathaus.citydata.models import ObservedProperty
    from rathaus.citydata.tests.test_pages import (
        BENZENE_URI,
        NO2_URI,
        PM10_URI,
        station,
        stream_of,
    )

    # no map tiles from the internet in tests: the maps draw on an empty background
    settings.TILE_URL = "/static/core/favicon.svg?{z}{x}{y}"
    no2 = ObservedProperty.objects.create(name="NO2", definition=NO2_URI)
    pm10 = ObservedProperty.objects.create(name="PM10", definition=PM10_URI)
    benzene = ObservedProperty.objects.create(name="Benzol", definition=BENZENE_URI)
    mitte = station("Leipzig-Mitte", "Leipziger Str./Hauptbahnhof", 51.3441, 12.3775)
    west = station("Leipzig-West", "Nikolai-Rumjanzew-Str.", 51.3177, 12.2975)
    end = datetime(2014, 11, 3, 18, tzinfo=UTC)
    rows = []
    for thing, observed, base in [
        (mitte, no2, 35.0),
        (mitte, pm10, 20.0),
        (mitte, benzene, 0.5),
        (west, no2, 8.0),
    ]:
        stream = stream_of(thing, observed)
        rows += [
            row_from(
                datastream=stream,
                phenomenon_time=(end - timedelta(hours=h)).isoformat(),
                result=base + (h % 12),
            )
            for h in range(40 * 24)
        ]
    observations_write(rows)
    return {"mitte": mitte.pk, "west": west.pk, "pm10": pm10.pk}


def test_citizen_reads_the_station_map_and_chooses_a_component_by_keyboard(
    page: Any, live_server: Any, axe: Any, stations: dict[str, int], console_errors: list[str]
) -> None:
    page.goto(live_server.url + "/mobilitaet/")
    page.get_by_role("link", name="Luftqualität und andere Messwerte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messstellen und Messwerte")
    expect(page.get_by_text("Die Messwerte sind nicht aktuell.")).to_be_visible()
    map_region = page.get_by_role(
        "region", name="Karte der Messstellen mit dem letzten Wert von NO2"
    )
    expect(map_region).to_be_visible()
    # a marker per station, named with its value and band in words, reachable by keyboard
    marker = page.get_by_role("button", name="Luftmessstation Leipzig-Mitte: NO2 35 µg/m³, mäßig")
    expect(marker).to_be_visible()
    expect(marker).to_have_text("35")
    expect(page.get_by_role("heading", name="Legende: NO2")).to_be_visible()
    table = page.get_by_role("region", name="Alle Messstellen mit ihrem letzten Messwert")
    expect(table.get_by_role("link", name="Luftmessstation Leipzig-West")).to_be_visible()
    axe.check()

    page.get_by_label("Messgröße auf der Karte").focus()
    page.keyboard.press("ArrowDown")  # NO2 -> PM10 (the choices in the table's order)
    expect(page.get_by_label("Messgröße auf der Karte")).to_have_value(str(stations["pm10"]))
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Legende: PM10")).to_be_visible()
    expect(
        page.get_by_role("button", name="Luftmessstation Leipzig-Mitte: PM10 20 µg/m³, gut")
    ).to_be_visible()
    axe.check()
    assert not console_errors  # nothing refused by the CSP, no script error


def test_citizen_chooses_a_period_on_a_station_page_by_keyboard(
    page: Any, live_server: Any, axe: Any, stations: dict[str, int], console_errors: list[str]
) -> None:
    page.goto(live_server.url + f"/stadtdaten/messstellen/{stations['mitte']}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Luftmessstation Leipzig-Mitte")
    expect(page.get_by_text("Gezeigt: 28.10.2014 bis 03.11.2014")).to_be_visible()
    expect(page.get_by_text("Koordinaten: Breite 51,34410, Länge 12,37750")).to_be_visible()
    expect(page.get_by_role("region", name="Karte mit der Lage von")).to_be_visible()
    expect(page.get_by_role("img", name="NO2 vom 28.10.2014 bis 03.11.2014")).to_be_visible()
    expect(
        page.get_by_text("Auflösung: Stundenmittel mit Minimum und Maximum je Stunde.").first
    ).to_be_visible()
    axe.check()

    # the table with the same numbers, opened with the keyboard
    summary = page.get_by_text("Werte von NO2 als Tabelle")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Werte von NO2", exact=True)).to_be_visible()
    axe.check()

    # a preset link, then a period typed into the form
    page.get_by_role("link", name="letzte 30 Tage der Daten").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Gezeigt: 05.10.2014 bis 03.11.2014")).to_be_visible()
    # the date fields hold the period shown; a new one, sent with Enter from the field
    page.get_by_label("Von", exact=True).fill("2014-01-01")
    page.get_by_label("Bis", exact=True).fill("2014-12-31")
    page.get_by_label("Bis", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the form from the field
    expect(page.get_by_text("Gezeigt: 01.01.2014 bis 31.12.2014")).to_be_visible()
    expect(
        page.get_by_text("Auflösung: Tagesmittel mit Minimum und Maximum je Tag.").first
    ).to_be_visible()
    axe.check()

    # a wrong period: a clear message, linked to the field
    page.goto(
        live_server.url
        + f"/stadtdaten/messstellen/{stations['mitte']}/?von=2014-11-03&bis=2014-11-01"
    )
    expect(page.get_by_role("alert")).to_contain_text("„Bis“ darf nicht vor „Von“ liegen.")
    axe.check()
    assert not console_errors


def test_the_pages_work_without_javascript(
    browser: Any, live_server: Any, stations: dict[str, int]
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.goto(live_server.url + "/stadtdaten/")
    table = page.get_by_role("region", name="Alle Messstellen mit ihrem letzten Messwert")
    expect(table).to_be_visible()
    page.get_by_label("Messgröße auf der Karte").select_option(label="PM10")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_role("heading", name="Legende: PM10")).to_be_visible()
    table.get_by_role("link", name="Luftmessstation Leipzig-Mitte").click()
    expect(page.get_by_role("img", name="PM10 vom 28.10.2014 bis 03.11.2014")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="PM10 im gezeigten Zeitraum als CSV herunterladen").click()
    assert download.value.suggested_filename == (
        "luftmessstation-leipzig-mitte-pm10_2014-10-28_2014-11-03.csv"
    )
    context.close()
