"""Every write of the citydata app (first slice: loading the Saxon air-quality readings)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import transaction

from rathaus.citydata.aggregates import aggregates_add
from rathaus.citydata.entities import time_range_refresh
from rathaus.citydata.models import (
    Datastream,
    Location,
    Observation,
    ObservedProperty,
    Sensor,
    Thing,
)

DATA = Path(__file__).resolve().parent / "data"
STATIONS_FILE = DATA / "saxony-measuring-stations.json"
READINGS_FILE = DATA / "saxony-air-quality-2014.json.gz"
UG_M3 = {
    "name": "Mikrogramm pro Kubikmeter",
    "symbol": "µg/m³",
    "definition": "http://unitsofmeasure.org/ucum.html#para-30",
}
# the source's component codes: (name, definition)
COMPONENTS = {
    "no": ("NO", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/38"),
    "no2": ("NO2", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8"),
    "o3": ("O3", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/7"),
    "so2": ("SO2", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/1"),
    "pm10": ("PM10", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5"),
    "pm25": ("PM2.5", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001"),
    "ben": ("Benzol", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/20"),
}


@dataclass
class LoadReport:
    things: int = 0
    datastreams: int = 0
    observations: int = 0
    kept: int = 0
    rejected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"air quality: {self.things} stations, {self.datastreams} datastreams, "
            f"{self.observations} observations created, {self.kept} already there, "
            f"{len(self.rejected)} readings rejected"
        )


def air_quality_load(
    *, stations: Path = STATIONS_FILE, readings: Path = READINGS_FILE
) -> LoadReport:
    """The Saxon measuring stations as Things at their Locations, one Datastream per station
    and measured component, the hourly readings as Observations. A 0 in the source means "not
    measured" and is left out. Idempotent: stations are matched by their slug, readings by
    datastream and time."""
    report = LoadReport()
    station_rows = json.loads(stations.read_text(encoding="utf-8"))
    reading_rows = json.loads(gzip.decompress(readings.read_bytes()))
    by_station: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in reading_rows:
        fields = row["fields"]
        points = fields.get("measuring_point") or []
        if not points:
            report.rejected.append(f"{row.get('pk')}: no station")
            continue
        by_station[str(points[0])].append(fields)
    sensor, _ = Sensor.objects.get_or_create(
        name="Luftmessstation (LfULG Sachsen)",
        defaults={
            "description": "Messnetz des Landesamts für Umwelt, Landwirtschaft und Geologie",
            "metadata": "https://www.umwelt.sachsen.de/umwelt/klima/luft.html",
        },
    )
    properties = {
        code: ObservedProperty.objects.get_or_create(
            name=name, defaults={"definition": definition}
        )[0]
        for code, (name, definition) in COMPONENTS.items()
    }
    with transaction.atomic():
        for station in station_rows:
            fields = station["fields"]
            readings_of = by_station.get(fields["name"], [])
            thing = Thing.objects.filter(properties__slug=fields["slug"]).first()
            if thing is None:
                lat_text, lon_text = str(fields["position"]).split(",")
                lat, lon = float(lat_text), float(lon_text)
                thing = Thing.objects.create(
                    name=f"Luftmessstation {fields['name']}",
                    description=f"{fields['city']}, {fields['location']}",
                    properties={"slug": fields["slug"], "altitude_m": fields.get("amsl")},
                )
                place = Location.objects.create(
                    name=fields["location"] or fields["name"],
                    description=fields["city"],
                    location={"type": "Point", "coordinates": [lon, lat]},
                    lat=lat,
                    lon=lon,
                )
                thing.locations.add(place)
                report.things += 1
            for code, observed in properties.items():
                values = [
                    (_utc(str(r["date_created"])), float(str(r[code])))
                    for r in readings_of
                    if r.get(code) not in (None, 0, 0.0)
                ]
                if not values:
                    continue
                stream, created = Datastream.objects.get_or_create(
                    thing=thing,
                    observed_property=observed,
                    defaults={
                        "name": f"{observed.name} {fields['name']}",
                        "description": f"{observed.name}, Stundenmittel",
                        "unit_of_measurement": UG_M3,
                        "sensor": sensor,
                    },
                )
                report.datastreams += created
                known = set(stream.observations.values_list("phenomenon_time", flat=True))
                new = [
                    Observation(datastream=stream, phenomenon_time=t, result_number=v)
                    for t, v in values
                    if t not in known
                ]
                report.kept += len(values) - len(new)
                Observation.objects.bulk_create(new, batch_size=2000)
                aggregates_add((stream.pk, o.phenomenon_time, o.result_number) for o in new)
                report.observations += len(new)
                time_range_refresh(stream)
    return report


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
