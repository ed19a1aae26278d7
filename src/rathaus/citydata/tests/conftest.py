"""Shared fixtures of the citydata tests: a datastream of bicycle counts and a write token."""

from __future__ import annotations

import pytest

from rathaus.citydata.ingest import write_token_create
from rathaus.citydata.models import Datastream, ObservedProperty, Sensor, Thing


@pytest.fixture
def stream(db: None) -> Datastream:
    return Datastream.objects.create(
        name="Zählstelle Jahnallee, Fahrräder",
        unit_of_measurement={"name": "Anzahl", "symbol": "1", "definition": ""},
        thing=Thing.objects.create(name="Zählstelle Jahnallee"),
        sensor=Sensor.objects.create(name="Induktionsschleife"),
        observed_property=ObservedProperty.objects.create(
            name="Fahrräder je Stunde", definition="https://example.org/bikes"
        ),
    )


@pytest.fixture
def token(db: None) -> str:
    return write_token_create(name="Verkehrszählung", actor=None)[1]
