"""Bus and tram in Chromium: find a stop, read its board, plan a journey by keyboard, read
the planners' quality map and tables; axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dense_feed(settings: Any) -> None:
    from rathaus.transit import selectors, timetable
    from rathaus.transit.services import feed_import
    from rathaus.transit.tests.conftest import gtfs_zip
    from rathaus.transit.tests.test_pages import DENSE

    # no map tiles from the internet in tests: the maps draw on an empty background
    settings.TILE_URL = "/static/core/favicon.svg?{z}{x}{y}"
    feed_import(source="dense.zip", slug="dense", data=gtfs_zip(DENSE))
    timetable.forget()
    selectors.search_forget()  # ids of an earlier test's feed may come again


@pytest.mark.usefixtures("dense_feed")
def test_citizen_finds_a_stop_and_its_departures(page: Any, live_server: Any, axe: Any) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Mobilität & Stadtdaten"
    ).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bus und Bahn"
    axe.check()
    page.get_by_label("Haltestelle", exact=True).fill("Banhof")
    page.get_by_role("button", name="Haltestelle suchen").click()
    page.get_by_role("link", name="Bahnhof").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bahnhof"
    assert page.get_by_text("Fahrplandaten").first.is_visible()
    assert page.get_by_role("region", name="Takt je Linie und Richtung").is_visible()
    pause = page.get_by_role("button", name="Automatische Aktualisierung anhalten")
    pause.click()  # the board stops refreshing itself (WCAG 2.2.2)
    resume = page.get_by_role("button", name="Automatische Aktualisierung fortsetzen")
    assert resume.get_attribute("aria-pressed") == "true"
    axe.check()
    page.get_by_role("link", name="Anzeige für Bildschirm und Druck").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bahnhof"
    axe.check()


@pytest.mark.usefixtures("dense_feed")
def test_journey_planned_with_the_keyboard_alone(page: Any, live_server: Any, axe: Any) -> None:
    page.goto(live_server.url + "/mobilitaet/verbindungen/")
    axe.check()
    page.get_by_label("Von").focus()
    page.keyboard.type("Anger")
    page.keyboard.press("Tab")
    page.keyboard.type("Dorfplatz")
    page.get_by_label("Datum").fill("2026-03-02")
    page.get_by_label("Uhrzeit").fill("07:50")
    page.get_by_label("Nur barrierefreie Fahrten und Haltestellen").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    results = page.get_by_role("heading", name="Von Anger nach Dorfplatz")
    assert results.is_visible()
    assert page.get_by_text("07:50 ab Anger: Linie 1 Richtung Dorfplatz").is_visible()
    assert page.get_by_role(
        "region", name="Karte der Verbindung; die Fahrt steht links als Text."
    ).is_visible()
    axe.check()


@pytest.mark.usefixtures("dense_feed")
def test_planner_reads_the_quality_map_and_the_same_as_tables(
    page: Any, live_server: Any, axe: Any
) -> None:
    page.goto(live_server.url + "/mobilitaet/qualitaet/")
    assert page.get_by_role(
        "region", name="Karte der Güteklassen; dieselben Angaben stehen in den Tabellen."
    ).is_visible()
    assert page.get_by_role("region", name="Legende und Fläche je Klasse").is_visible()
    assert page.get_by_role("link", name="Anger").is_visible()
    axe.check()
