"""Fixtures of the open-data catalogue tests (test_catalogue, test_dcat, test_ckan): a small
catalogue entered by staff, platform data for the generators, files in a temporary storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rathaus.accounts.tests.factories import OfficeFactory
from rathaus.citydata.catalogue import dataset_create, distribution_create
from rathaus.citydata.models import (
    Dataset,
    Datastream,
    Location,
    Observation,
    ObservedProperty,
    Sensor,
    Thing,
)


@pytest.fixture(autouse=True)
def open_data_storage(settings: Any) -> Path:
    """Where generated files go: the test's own MEDIA_ROOT (root conftest.py)."""
    settings.SITE_URL = "https://rathaus.example.org"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def environment_office(db: None) -> Any:
    return OfficeFactory(
        name="Amt für Umweltschutz",
        uri="http://leipzig-data.de/Data/StadtLeipzig/AmtfuerUmweltschutz",
        email="umweltschutz@leipzig.example",
    )


@pytest.fixture
def traffic_office(db: None) -> Any:
    return OfficeFactory(name="Verkehrs- und Tiefbauamt", email="vta@leipzig.example")


@pytest.fixture
def small_catalogue(environment_office: Any, traffic_office: Any) -> dict[str, Dataset]:
    """Two published datasets by two offices and one draft."""
    trees = dataset_create(
        actor=None,
        slug="baumkataster",
        title="Baumkataster",
        description="Alle Straßenbäume mit Art, Pflanzjahr und Kronendurchmesser.",
        title_en="Street trees",
        publisher=environment_office,
        themes=["ENVI"],
        keywords=["Bäume", "Stadtgrün"],
        license="cc-by/4.0",
        license_attribution="Stadt Leipzig, Amt für Umweltschutz",
        accrual_periodicity="ANNUAL",
        temporal_start=date(2020, 1, 1),
        temporal_end=date(2024, 12, 31),
        political_geocoding_uri="http://dcat-ap.de/def/politicalGeocoding/municipalityKey/14713000",
        political_geocoding_level_uri="http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
        bbox_west=12.24,
        bbox_south=51.24,
        bbox_east=12.54,
        bbox_north=51.45,
        contact_name="Team Stadtgrün",
        contact_email="stadtgruen@leipzig.example",
        published=True,
    )
    distribution_create(
        actor=None,
        dataset=trees,
        title="Baumkataster 2024 (CSV)",
        format="CSV",
        access_url="https://daten.leipzig.example/baeume.csv",
        download_url="https://daten.leipzig.example/baeume.csv",
        byte_size=123456,
        modified=datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
    )
    bikes = dataset_create(
        actor=None,
        slug="radverkehr",
        title="Radverkehrszählung",
        description="Stündliche Zählwerte der Dauerzählstellen für den Radverkehr.",
        publisher=traffic_office,
        themes=["TRAN", "REGI"],
        keywords=["Radverkehr", "Zählstellen"],
        license="dl-by-de/2.0",
        accrual_periodicity="DAILY",
        published=True,
    )
    distribution_create(
        actor=None,
        dataset=bikes,
        title="Zählwerte (JSON)",
        format="JSON",
        access_url="https://daten.leipzig.example/rad.json",
    )
    draft = dataset_create(
        actor=None,
        slug="entwurf",
        title="Unveröffentlichter Entwurf",
        description="Noch nicht freigegeben.",
        publisher=traffic_office,
        themes=["TRAN"],
        published=False,
    )
    return {"trees": trees, "bikes": bikes, "draft": draft}


@pytest.fixture
def station(db: None) -> Thing:
    """An air-quality station with one datastream of three hourly NO2 readings."""
    thing = Thing.objects.create(name="Luftmessstation Leipzig-Mitte", description="Leipzig")
    place = Location.objects.create(
        name="Leipzig-Mitte",
        location={"type": "Point", "coordinates": [12.3807, 51.3440]},
        lat=51.3440,
        lon=12.3807,
    )
    thing.locations.add(place)
    start = datetime(2014, 10, 1, 6, 0, tzinfo=UTC)
    stream = Datastream.objects.create(
        name="NO2 Leipzig-Mitte",
        description="NO2, Stundenmittel",
        unit_of_measurement={"name": "Mikrogramm pro Kubikmeter", "symbol": "µg/m³"},
        thing=thing,
        sensor=Sensor.objects.create(name="Luftmessstation"),
        observed_property=ObservedProperty.objects.create(
            name="NO2", definition="http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8"
        ),
        phenomenon_start=start,
        phenomenon_end=start + timedelta(hours=2),
    )
    Observation.objects.bulk_create(
        Observation(datastream=stream, phenomenon_time=start + timedelta(hours=i), result_number=v)
        for i, v in enumerate([31.5, 28.0, 40.25])
    )
    return thing
