"""The transit pages: finding a stop, its board (live fragment, reload link, kiosk view), the
journey planner and the planners' ÖV-Güteklassen page with its exports."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings

from rathaus.transit import quality, selectors
from rathaus.transit.services import feed_import
from rathaus.transit.tests.conftest import MINI, gtfs_zip

pytestmark = pytest.mark.django_db


def test_a_stop_is_found_despite_a_typo(client: Client, mini: Any) -> None:
    page = client.get("/mobilitaet/", {"q": "Christuskirsche"}).content.decode()

    assert 'href="/mobilitaet/haltestellen/C/"' in page
    assert "1 Haltestelle gefunden" in page


def test_stops_near_a_position_are_listed_with_their_distance(client: Client, mini: Any) -> None:
    page = client.get("/mobilitaet/", {"nahe": "51.3001,12.3001"}).content.decode()

    assert "Anger" in page and "(13 m)" in page


def test_the_stop_page_has_its_board_a_reload_link_and_the_headways(
    client: Client, mini: Any
) -> None:
    page = client.get("/mobilitaet/haltestellen/B/").content.decode()

    assert 'data-board-url="/mobilitaet/tafel/?halt=B"' in page  # board.js reloads it
    assert 'href="/mobilitaet/haltestellen/B/">Abfahrten aktualisieren' in page
    assert "Fahrplandaten" in page
    # headways: the bus leaves three times between 6 and 20 on the busiest weekday
    assert "Takt je Linie" in page and "Elsterbrücke" in page
    assert "Stufenloser Zugang: ja" in page  # wheelchair_boarding of the station


def test_the_kiosk_view_is_the_board_alone(client: Client, mini: Any) -> None:
    page = client.get("/mobilitaet/haltestellen/A/", {"ansicht": "kiosk"}).content.decode()

    assert 'data-board-url="/mobilitaet/tafel/?halt=A"' in page  # refreshed with JavaScript
    assert 'href="/mobilitaet/haltestellen/A/?ansicht=kiosk">Abfahrten aktualisieren' in page
    assert "rh-header" not in page  # no navigation on a screen at the stop


def test_an_unknown_stop_is_a_clear_404(client: Client, mini: Any) -> None:
    response = client.get("/mobilitaet/haltestellen/XYZ/")

    assert response.status_code == 404
    assert "XYZ" in response.content.decode()


def test_the_planner_finds_a_journey_by_stop_names(client: Client, mini: Any) -> None:
    page = client.get(
        "/mobilitaet/verbindungen/",
        {
            "von": "Anger",
            "nach": "Dorfplatz",
            "datum": "2026-03-02",
            "zeit": "07:50",
            "ankunft": "0",
        },
    ).content.decode()

    assert "08:00 ab Anger: Linie 1 Richtung Dorfplatz" in page
    assert "an Dorfplatz 08:15" in page
    assert 'id="journey-data"' in page  # the map's data; the text above says the same


def test_the_planner_says_which_place_it_cannot_find(client: Client, mini: Any) -> None:
    response = client.get(
        "/mobilitaet/verbindungen/",
        {"von": "Anger", "nach": "Quxxyz", "datum": "2026-03-02", "zeit": "07:50", "ankunft": "0"},
    )
    page = response.content.decode()

    assert response.status_code == 200
    assert "Keine Haltestelle und keine Adresse gefunden für „Quxxyz“" in page
    assert 'aria-invalid="true"' in page and 'href="#reise_nach"' in page


DENSE = {
    **MINI,
    "frequencies.txt": MINI["frequencies.txt"] + "T1-0800,06:00:00,20:00:00,300\n",
}


@pytest.fixture
def dense(db: None) -> Any:
    """A tram every five minutes from Anger to Dorfplatz, 06:00 to 20:00."""
    return feed_import(source="dense.zip", slug="dense", data=gtfs_zip(DENSE))


def test_quality_classes_follow_the_method(dense: Any) -> None:
    report = selectors.quality_report()
    by_name = {r.stop.name: r for r in report.ratings}

    anger = by_name["Anger"]
    assert (anger.stop.group, anger.stop.departures, anger.category) == ("B", 168, "I")
    assert anger.interval_minutes == pytest.approx(5.0)
    # the station's platforms are summed: 167 trams (the last leaves at 20:00) and 3 buses
    assert by_name["Bahnhof"].stop.departures == 170
    rated = [r for r in report.ratings if r.category]
    # 200 m from Anger: A; about 600 m: B; 2 km from every stop: nothing
    points = [(51.3018, 12.3), (51.2946, 12.3), (51.28, 12.27)]
    assert quality.classify_points(points, rated) == ["A", "B", None]


def test_the_quality_page_has_a_map_a_legend_and_tables(client: Client, dense: Any) -> None:
    page = client.get("/mobilitaet/qualitaet/").content.decode()

    assert 'id="quality-map"' in page and 'id="quality-data"' in page
    assert "Legende und Fläche je Klasse" in page
    assert 'href="/mobilitaet/haltestellen/A/">Anger</a>' in page
    assert "Fläche (km²)" in page


def test_the_exports_are_geojson_and_csv(client: Client, dense: Any) -> None:
    geo = json.loads(client.get("/mobilitaet/qualitaet/gueteklassen.geojson").content)
    rows = list(
        csv.reader(
            io.StringIO(client.get("/mobilitaet/qualitaet/gueteklassen.csv").content.decode())
        )
    )

    assert geo["type"] == "FeatureCollection"
    classes = {f["properties"].get("quality_class") for f in geo["features"]}
    assert {"A", "B"} <= classes
    assert any(row[1] == "Anger" and row[-1] == "I" for row in rows[1:])
    assert client.get("/mobilitaet/qualitaet/gueteklassen.ortsteile").status_code == 404


def test_areas_and_population_give_a_table_per_ortsteil(
    client: Client, dense: Any, tmp_path: Path
) -> None:
    areas = tmp_path / "ortsteile.geojson"
    areas.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Zentrum"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [12.29, 51.295],
                                    [12.31, 51.295],
                                    [12.31, 51.315],
                                    [12.29, 51.315],
                                    [12.29, 51.295],
                                ]
                            ],
                        },
                    }
                ],
            }
        )
    )
    people = tmp_path / "einwohner.csv"
    people.write_text("lat,lon,population\n51.3018,12.3,100\n51.28,12.27,50\n")

    with override_settings(TRANSIT_AREAS_FILE=str(areas), TRANSIT_POPULATION_FILE=str(people)):
        page = client.get("/mobilitaet/qualitaet/").content.decode()
        ortsteile = client.get("/mobilitaet/qualitaet/gueteklassen.ortsteile").content.decode()

    assert "Je Ortsteil" in page and ">Zentrum</th>" in page
    assert "Zentrum" in ortsteile
    # two thirds of the people live where class A applies, one third without a class
    population = page[page.index("Legende und Fläche") : page.index("Je Ortsteil")]
    assert "66,7 %" in population and "33,3 %" in population  # German decimal comma


def test_a_board_for_another_time_and_a_hint_when_the_timetable_does_not_cover_today(
    client: Client, mini: Any
) -> None:
    page = client.get("/mobilitaet/haltestellen/A/", {"zeit": "2026-03-02T07:55"}).content.decode()
    assert '<time datetime="2026-03-02T08:00:00+01:00">08:00</time>' in page

    files = {name: text.replace("2026", "2019") for name, text in MINI.items()}
    feed_import(source="old.zip", slug="mini", data=gtfs_zip(files))
    page = client.get("/mobilitaet/haltestellen/A/").content.decode()
    assert "Der geladene Fahrplan gilt vom 1. Januar 2019 bis 31. Dezember 2019" in page
    assert "?zeit=2019-" in page


def test_an_address_of_the_city_is_found_among_its_own_places(client: Client, mini: Any) -> None:
    from rathaus.accounts.tests.factories import OfficeFactory
    from rathaus.catalog.models import Location

    Location.objects.create(
        office=OfficeFactory(name="Bürgeramt"),
        name="Bürgeramt am Anger",
        street="Angerstraße 2",
        postal_code="04177",
        city="Leipzig",
        latitude="51.300500",
        longitude="12.300500",
    )
    page = client.get(
        "/mobilitaet/verbindungen/",
        {
            "von": "Angerstr. 2",
            "nach": "Dorfplatz",
            "datum": "2026-03-02",
            "zeit": "07:50",
            "ankunft": "0",
        },
    ).content.decode()

    assert "Von Angerstraße 2, 04177 Leipzig nach Dorfplatz" in page
    assert "zu Fuß von Angerstraße 2, 04177 Leipzig nach Anger" in page


class _Nominatim(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)["q"][0]
        found = (
            [{"lat": "51.3399", "lon": "12.3001", "display_name": "Dorfstraße 7, Leipzig"}]
            if query.startswith("Dorfstraße 7")
            else []
        )
        body = json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_other_addresses_go_to_the_configured_geocoder(
    client: Client, mini: Any, settings: Any
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Nominatim)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        params = {"von": "Anger", "datum": "2026-03-02", "zeit": "07:50", "ankunft": "0"}
        found = client.get("/mobilitaet/verbindungen/", {**params, "nach": "Dorfstraße 7"})
        missing = client.get("/mobilitaet/verbindungen/", {**params, "nach": "Nirgendweg 99"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

    assert "Von Anger nach Dorfstraße 7, Leipzig" in found.content.decode()
    assert (
        "Keine Haltestelle und keine Adresse gefunden für „Nirgendweg 99“"
        in missing.content.decode()
    )
