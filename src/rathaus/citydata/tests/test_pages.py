"""The public sensor-data pages: the map of the stations with the latest values as a table,
a station's page with a chart and a data table per datastream for a chosen period, and the
CSV download of that period; bad input gets a clear message or a 404, never a 500."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings

from rathaus.citydata import bands, charts, selectors
from rathaus.citydata.ingest import observations_write, row_from
from rathaus.citydata.models import Datastream, Location, ObservedProperty, Sensor, Thing

pytestmark = pytest.mark.django_db

UG_M3 = {"name": "Mikrogramm pro Kubikmeter", "symbol": "µg/m³", "definition": ""}
NO2_URI = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8"
PM10_URI = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5"
BENZENE_URI = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/20"
# the last reading of the demo data's kind: autumn 2014, Leipzig time is UTC+1 then
LAST = datetime(2014, 11, 3, 18, tzinfo=UTC)


def station(name: str, place: str, lat: float, lon: float) -> Thing:
    thing = Thing.objects.create(
        name=f"Luftmessstation {name}",
        description=f"Leipzig, {place}",
        properties={"altitude_m": 111},
    )
    thing.locations.add(
        Location.objects.create(
            name=place,
            description="Leipzig",
            location={"type": "Point", "coordinates": [lon, lat]},
            lat=lat,
            lon=lon,
        )
    )
    return thing


def stream_of(thing: Thing, observed: ObservedProperty) -> Datastream:
    sensor, _ = Sensor.objects.get_or_create(name="Luftmessstation")
    return Datastream.objects.create(
        name=f"{observed.name} {thing.name}",
        unit_of_measurement=UG_M3,
        thing=thing,
        sensor=sensor,
        observed_property=observed,
    )


def hourly(stream: Datastream, values: list[float], *, end: datetime = LAST) -> None:
    """Hourly readings ending at ``end``, through the ingestion (aggregates included)."""
    start = end - timedelta(hours=len(values) - 1)
    observations_write(
        [
            row_from(
                datastream=stream,
                phenomenon_time=(start + timedelta(hours=i)).isoformat(),
                result=value,
            )
            for i, value in enumerate(values)
        ]
    )


@pytest.fixture
def air(db: None) -> dict[str, Any]:
    """Leipzig-Mitte (NO2, PM10, benzene) and Leipzig-West (NO2 only), 10 days of hours."""
    no2 = ObservedProperty.objects.create(name="NO2", definition=NO2_URI)
    pm10 = ObservedProperty.objects.create(name="PM10", definition=PM10_URI)
    benzene = ObservedProperty.objects.create(name="Benzol", definition=BENZENE_URI)
    mitte = station("Leipzig-Mitte", "Leipziger Str./Hauptbahnhof", 51.3441, 12.3775)
    west = station("Leipzig-West", "Nikolai-Rumjanzew-Str.", 51.3177, 12.2975)
    streams = {
        "mitte_no2": stream_of(mitte, no2),
        "mitte_pm10": stream_of(mitte, pm10),
        "mitte_benzene": stream_of(mitte, benzene),
        "west_no2": stream_of(west, no2),
    }
    hours = 10 * 24
    hourly(streams["mitte_no2"], [20.0 + (i % 24) for i in range(hours - 1)] + [38.0])
    hourly(streams["mitte_pm10"], [12.0] * (hours - 1) + [61.4])
    hourly(streams["mitte_benzene"], [0.7] * 5)
    hourly(streams["west_no2"], [9.6] * 3, end=LAST - timedelta(hours=1))
    return {"mitte": mitte, "west": west, "no2": no2, "pm10": pm10, **streams}


# ---- the bands and the chart's geometry --------------------------------------------------


def test_bands_follow_the_federal_environment_agency_index() -> None:
    no2 = bands.pollutant_of(definition=NO2_URI, name="NO2", unit_symbol="µg/m³")
    assert no2 == "NO2"
    assert [str(bands.band_for(no2, v).label) for v in (10.4, 10.5, 30, 60, 100, 100.6)] == [
        "sehr gut",
        "gut",
        "gut",
        "mäßig",
        "schlecht",
        "sehr schlecht",
    ]
    assert str(bands.band_for("PM10", 61.4).label) == "schlecht"
    # benzene has no class in the index, nor has anything in another unit
    assert bands.band_for(
        bands.pollutant_of(definition=BENZENE_URI, name="Benzol", unit_symbol="µg/m³"), 3
    ) == (bands.NO_BAND)
    assert bands.pollutant_of(definition=NO2_URI, name="NO2", unit_symbol="ppb") is None
    legend = bands.bands_of("O3")
    assert [(b.low, b.high) for b in legend] == [
        (0, 24),
        (25, 72),
        (73, 144),
        (145, 240),
        (241, None),
    ]


def test_nice_scale_has_round_steps_from_zero() -> None:
    assert charts.nice_scale(3.2, 61.4) == (0, 70, 10)
    assert charts.nice_scale(-4, 9) == (-4, 10, 2)
    assert charts.nice_scale(5, 5) == (0, 5, 1)


def test_a_gap_in_the_data_breaks_the_line(stream: Datastream) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    times = [0, 1, 2, 10, 11]  # hours: nothing from 3 to 9
    observations_write(
        [
            row_from(
                datastream=stream,
                phenomenon_time=(start + timedelta(hours=h)).isoformat(),
                result=float(h),
            )
            for h in times
        ]
    )
    series = selectors.series_get(datastream=stream, start=start, end=start + timedelta(days=1))
    chart = charts.chart_of(series)

    assert series.resolution == selectors.RAW
    assert chart.line.count("M") == 2  # two pieces of line, none across the gap
    assert chart.band == ""  # raw values have no min-max band


# ---- the map page ----------------------------------------------------------------------


def test_the_map_page_shows_every_station_with_its_latest_values_as_a_table(
    client: Client, air: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        response = client.get("/stadtdaten/")
    page = response.content.decode()

    assert response.status_code == 200
    assert 'role="region" aria-labelledby="stations-heading"' in page
    assert (
        f'href="/stadtdaten/messstellen/{air["mitte"].pk}/">Luftmessstation Leipzig-Mitte' in page
    )
    assert "Leipziger Str./Hauptbahnhof, Leipzig" in page
    # each component's latest value with its unit, band as text, and time (19:00 in Leipzig)
    assert "38 µg/m³</span><br>mäßig<br>" in page
    assert "61,4 µg/m³</span><br>schlecht<br>" in page
    assert "9,6 µg/m³</span><br>sehr gut<br>" in page
    assert "0,7 µg/m³</span><br><span" in page  # benzene: a value, no band
    assert "03.11.2014 19:00" in page
    assert "nicht gemessen" in page  # Leipzig-West has no PM10
    # the data is old, and the page says so
    assert "Die Messwerte sind nicht aktuell." in page
    assert "Letzte Messung: 03.11.2014, 19:00 Uhr." in page


def test_the_map_shows_no2_by_default_with_its_legend_as_text(
    client: Client, air: dict[str, Any]
) -> None:
    response = client.get("/stadtdaten/")
    page = response.content.decode()
    data = response.context["map_data"]

    assert data["property"] == "NO2"
    mitte = next(s for s in data["stations"] if s["name"].endswith("Mitte"))
    assert (mitte["value"], mitte["unit"], mitte["band"], mitte["band_label"]) == (
        "38",
        "µg/m³",
        "3",
        "mäßig",
    )
    assert mitte["url"] == f"/stadtdaten/messstellen/{air['mitte'].pk}/"
    assert "Legende: NO2" in page
    assert "<strong>sehr gut</strong>: 0 bis 10 µg/m³" in page
    assert "<strong>sehr schlecht</strong>: ab 101 µg/m³" in page
    assert 'id="stations-map" data-tiles="' in page
    assert '<label class="kern-label" for="id_messgroesse">Messgröße auf der Karte</label>' in page


def test_choosing_pm10_puts_its_values_on_the_map(client: Client, air: dict[str, Any]) -> None:
    response = client.get("/stadtdaten/", {"messgroesse": air["pm10"].pk})
    data = response.context["map_data"]

    assert data["property"] == "PM10"
    values = {s["name"]: (s["value"], s["band_label"]) for s in data["stations"]}
    assert values == {
        "Luftmessstation Leipzig-Mitte": ("61,4", "schlecht"),
        "Luftmessstation Leipzig-West": ("–", "kein Messwert"),
    }
    assert "Legende: PM10" in response.content.decode()


def test_an_unknown_observed_property_is_a_form_error_not_a_500(
    client: Client, air: dict[str, Any]
) -> None:
    response = client.get("/stadtdaten/", {"messgroesse": "999999"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "Diese Messgröße gibt es nicht." in page
    assert response.context["map_data"]["property"] == "NO2"  # the map still shows something


def test_the_map_page_without_stations_says_so(client: Client, db: None) -> None:
    page = client.get("/stadtdaten/").content.decode()

    assert "Es sind noch keine Messstellen eingetragen." in page
    assert "Es liegen noch keine Messwerte vor." in page


def test_the_map_page_reads_the_same_number_of_queries_for_more_stations(
    client: Client, air: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for index in range(10):
        thing = station(f"Ort {index}", "Straße", 51.3 + index / 100, 12.3)
        hourly(stream_of(thing, air["no2"]), [float(index)])
    with django_assert_max_num_queries(6):
        response = client.get("/stadtdaten/")
    assert len(response.context["map_data"]["stations"]) == 12


# ---- a station's page ------------------------------------------------------------------


def test_the_station_page_shows_the_last_7_days_of_its_data_by_default(
    client: Client, air: dict[str, Any]
) -> None:
    response = client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/")
    page = response.content.decode()

    assert response.status_code == 200
    assert '<h1 class="kern-heading-large">Luftmessstation Leipzig-Mitte</h1>' in page
    assert "Leipzig, Leipziger Str./Hauptbahnhof" in page
    assert "Koordinaten: Breite 51,34410, Länge 12,37750 (WGS 84)" in page
    assert 'data-lat="51.3441" data-lon="12.3775"' in page
    assert "111 m über dem Meeresspiegel" in page
    # not the last 7 days of today, but of the data (which ends on 3 November 2014)
    assert "Gezeigt: 28.10.2014 bis 03.11.2014" in page
    assert 'value="2014-10-28"' in page and 'value="2014-11-03"' in page
    assert "Auflösung: Stundenmittel mit Minimum und Maximum je Stunde." in page
    # the latest values with their bands as text
    assert "38 µg/m³" in page and "mäßig" in page and "61,4 µg/m³" in page
    assert "Die Messwerte sind nicht aktuell." in page


def test_each_chart_is_an_svg_image_with_a_table_of_the_same_numbers(
    client: Client, air: dict[str, Any]
) -> None:
    response = client.get(
        f"/stadtdaten/messstellen/{air['mitte'].pk}/", {"von": "2014-11-03", "bis": "2014-11-03"}
    )
    page = response.content.decode()
    no2 = next(s for s in response.context["sections"] if s["stream"] == air["mitte_no2"])

    # one day: every measured value, no band
    assert no2["series"].resolution == selectors.RAW
    assert "Auflösung: alle Messwerte." in page
    assert f'aria-labelledby="chart-title-{air["mitte_no2"].pk} chart-desc-' in page
    assert 'role="img"' in page
    assert "NO2 vom 03.11.2014 bis 03.11.2014</title>" in page
    assert no2["chart"].line.startswith("M") and no2["chart"].band == ""
    # 3 November in Leipzig: 00:00 to 19:00, 20 values
    assert len(no2["rows"]) == 20
    assert "20 Werte zwischen 24 und 42 µg/m³." in page
    assert (
        '<th class="kern-table__cell" scope="row">03.11.2014 19:00</th>'
        '<td class="kern-table__cell">38</td></tr>'
    ) in page
    assert 'role="region" aria-label="Werte von NO2"' in page
    # the y axis is labelled with round numbers, the x axis with times
    assert [t.label for t in no2["chart"].y_ticks] == ["0", "10", "20", "30", "40", "50"]
    assert "00:00" not in [t.label for t in no2["chart"].x_ticks]  # midnight shows the date
    assert "03.11." in [t.label for t in no2["chart"].x_ticks]


def test_a_long_period_is_drawn_from_daily_means_with_their_range(
    client: Client, air: dict[str, Any]
) -> None:
    response = client.get(
        f"/stadtdaten/messstellen/{air['mitte'].pk}/", {"von": "2014-01-01", "bis": "2014-12-31"}
    )
    page = response.content.decode()
    pm10 = next(s for s in response.context["sections"] if s["stream"] == air["mitte_pm10"])

    assert pm10["series"].resolution == selectors.DAY
    assert "Auflösung: Tagesmittel mit Minimum und Maximum je Tag." in page
    assert pm10["chart"].band.startswith("M")  # the min-max band is drawn
    last = pm10["rows"][-1]
    assert (last["minimum"], last["maximum"], last["count"]) == (12.0, 61.4, 20)
    assert '<th class="kern-table__header" scope="col">Minimum</th>' in page
    assert "01/2014" in [t.label for t in pm10["chart"].x_ticks]


def test_the_presets_count_back_from_the_last_day_of_data(
    client: Client, air: dict[str, Any]
) -> None:
    page = client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/").content.decode()

    assert 'href="?von=2014-11-03&amp;bis=2014-11-03">letzter Tag der Daten (24 Stunden)' in page
    assert 'href="?von=2014-10-28&amp;bis=2014-11-03" aria-current="true">letzte 7 Tage' in page
    assert 'href="?von=2014-10-05&amp;bis=2014-11-03">letzte 30 Tage' in page
    assert 'href="?von=2013-11-04&amp;bis=2014-11-03">letztes Jahr der Daten' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"von": "gestern", "bis": "2014-11-03"}, "Bitte ein Datum angeben, z. B. 24.10.2014."),
        ({"von": "2014-11-03", "bis": "2014-11-01"}, "„Bis“ darf nicht vor „Von“ liegen."),
        ({"von": "2000-01-01", "bis": "2014-11-03"}, "höchstens 10 Jahre lang"),
        ({"von": "0001-01-01", "bis": "2014-11-03"}, "zwischen 1900 und 2200"),
        ({"von": "2014-11-03"}, "Bitte den letzten Tag des Zeitraums angeben."),
        ({"von": "2014-02-30", "bis": "2014-11-03"}, "Bitte ein Datum angeben"),
    ],
)
def test_a_wrong_period_is_a_clear_form_error(
    client: Client, air: dict[str, Any], query: dict[str, str], message: str
) -> None:
    response = client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/", query)
    page = response.content.decode()

    assert response.status_code == 200
    assert "Bitte prüfen Sie Ihre Angaben" in page and message in page
    assert "Gezeigt: 28.10.2014 bis 03.11.2014" in page  # the default period instead


def test_german_dates_are_understood(client: Client, air: dict[str, Any]) -> None:
    page = client.get(
        f"/stadtdaten/messstellen/{air['mitte'].pk}/", {"von": "01.11.2014", "bis": "03.11.2014"}
    ).content.decode()

    assert "Gezeigt: 01.11.2014 bis 03.11.2014" in page


@pytest.mark.parametrize("path", ["999999/", "0/", "99999999999999999999/", "abc/"])
def test_an_unknown_station_is_a_404(client: Client, air: dict[str, Any], path: str) -> None:
    assert client.get(f"/stadtdaten/messstellen/{path}").status_code == 404


def test_the_pages_are_in_english_too(client: Client, air: dict[str, Any]) -> None:
    response = client.get(
        f"/stadtdaten/messstellen/{air['mitte'].pk}/", headers={"accept-language": "en"}
    )
    assert response.status_code == 200


# ---- CSV --------------------------------------------------------------------------------


def read_csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_csv_has_the_hourly_means_of_the_period(client: Client, air: dict[str, Any]) -> None:
    stream = air["mitte_pm10"]
    response = client.get(
        f"/stadtdaten/messstellen/{air['mitte'].pk}/{stream.pk}.csv",
        {"von": "2014-11-01", "bis": "2014-11-03"},
    )
    rows = read_csv(response)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="luftmessstation-leipzig-mitte-pm10_2014-11-01_2014-11-03.csv"'
    )
    assert rows[0] == ["time", "value", "minimum", "maximum", "count"]
    assert rows[1] == ["2014-11-01T00:00:00+01:00", "12.0", "12.0", "12.0", "1"]
    assert rows[-1] == ["2014-11-03T19:00:00+01:00", "61.4", "61.4", "61.4", "1"]
    assert len(rows) == 1 + 24 + 24 + 20


def test_the_csv_of_one_day_has_the_raw_observations(client: Client, air: dict[str, Any]) -> None:
    stream = air["mitte_no2"]
    rows = read_csv(
        client.get(
            f"/stadtdaten/messstellen/{air['mitte'].pk}/{stream.pk}.csv",
            {"von": "2014-11-03", "bis": "2014-11-03"},
        )
    )

    assert rows[0] == ["phenomenonTime", "result"]
    assert rows[-1] == ["2014-11-03T19:00:00+01:00", "38.0"]


def test_the_csv_link_of_the_page_has_the_period_shown(client: Client, air: dict[str, Any]) -> None:
    page = client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/").content.decode()

    stream = air["mitte_no2"]
    assert (
        f'href="/stadtdaten/messstellen/{air["mitte"].pk}/{stream.pk}.csv'
        '?von=2014-10-28&amp;bis=2014-11-03" download>NO2 im gezeigten Zeitraum'
    ) in page


def test_no_csv_cell_can_start_a_formula(client: Client, stream: Datastream) -> None:
    # a name that a spreadsheet would run, and negative values
    Thing.objects.filter(pk=stream.thing_id).update(name="=HYPERLINK(evil)")
    start = datetime(2026, 3, 2, tzinfo=UTC)
    observations_write(
        [
            row_from(datastream=stream, phenomenon_time=start.isoformat(), result=-3.5),
            row_from(
                datastream=stream,
                phenomenon_time=(start + timedelta(hours=1)).isoformat(),
                result=2,
            ),
        ]
    )
    response = client.get(
        f"/stadtdaten/messstellen/{stream.thing_id}/{stream.pk}.csv",
        {"von": "2026-03-02", "bis": "2026-03-02"},
    )
    rows = read_csv(response)

    assert rows == [
        ["phenomenonTime", "result"],
        ["2026-03-02T01:00:00+01:00", "-3.5"],
        ["2026-03-02T02:00:00+01:00", "2.0"],
    ]
    for row in rows[1:]:
        datetime.fromisoformat(row[0])
        float(row[1])  # numbers, never text
    assert (
        'filename="hyperlinkevil-fahrrader-je-stunde_2026-03-02_2026-03-02.csv"'
        in (response["Content-Disposition"])
    )


def test_a_datastream_of_another_station_is_a_404(client: Client, air: dict[str, Any]) -> None:
    other = air["west_no2"]
    response = client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/{other.pk}.csv")

    assert response.status_code == 404
    assert "Diese Messreihe gibt es an dieser Messstelle nicht." in response.content.decode()
    assert client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/999999.csv").status_code == 404
    assert client.get(f"/stadtdaten/messstellen/999999/{other.pk}.csv").status_code == 404


def test_a_wrong_period_for_the_csv_is_a_400_with_the_reason(
    client: Client, air: dict[str, Any]
) -> None:
    stream = air["mitte_no2"]
    response = client.get(
        f"/stadtdaten/messstellen/{air['mitte'].pk}/{stream.pk}.csv",
        {"von": "2014-11-03", "bis": "2014-11-01"},
    )

    assert response.status_code == 400
    assert "„Bis“ darf nicht vor „Von“ liegen." in response.content.decode()


@override_settings(RATELIMIT_CITYDATA="2/m")
def test_the_csv_download_is_rate_limited(client: Client, air: dict[str, Any]) -> None:
    url = f"/stadtdaten/messstellen/{air['mitte'].pk}/{air['mitte_no2'].pk}.csv"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    # the pages are counted apart from the downloads
    assert client.get(f"/stadtdaten/messstellen/{air['mitte'].pk}/").status_code == 200


# ---- the demo city's data --------------------------------------------------------------


def test_the_demo_stations_of_leipzig_are_on_the_map_and_have_pages(
    client: Client, db: None
) -> None:
    from rathaus.citydata.services import air_quality_load

    air_quality_load()
    page = client.get("/stadtdaten/").content.decode()

    assert "Luftmessstation Leipzig-Mitte" in page and "Luftmessstation Leipzig-West" in page
    assert "Die Messwerte sind nicht aktuell." in page
    mitte = Thing.objects.get(name="Luftmessstation Leipzig-Mitte")
    response = client.get(f"/stadtdaten/messstellen/{mitte.pk}/")
    assert response.status_code == 200
    assert any(s["rows"] for s in response.context["sections"])
