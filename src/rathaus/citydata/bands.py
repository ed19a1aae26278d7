"""Bands (Stufen) for the latest value of an air pollutant, shown on the sensor map, in its
legend and in the table as text; the colour only repeats what the text says.

Source: the air-quality index of the German Federal Environment Agency (Umweltbundesamt,
"Luftqualitätsindex", revised with the WHO guidelines of 2021),
https://www.umweltbundesamt.de/berechnungsgrundlagen-luftqualitaetsindex (English:
https://www.umweltbundesamt.de/en/node/73614). It classifies *hourly means* in µg/m³ into five
classes, which is what our stations send (the European index of the EEA uses 24-hour running
means for particulate matter, which a single latest value cannot show). Its table, in µg/m³:

    class          PM10    PM2.5   O3        NO2     SO2
    sehr gut       0-9     0-5     0-24      0-10    0-10
    gut            10-27   6-15    25-72     11-30   11-30
    mäßig          28-54   16-30   73-144    31-60   31-60
    schlecht       55-90   31-50   145-240   61-100  61-100
    sehr schlecht  > 90    > 50    > 240     > 100   > 100

(The source writes O3 "gut" as 24-72; 24 is counted as "sehr gut" here, as its first line
says.) The index publishes whole numbers, so a value is rounded to the nearest whole number
before it is classified. NO and benzene have no class in the index: they are shown without
one ("keine Einstufung"), as is any other observed property.

Pollutants are recognised by the EEA/Eionet pollutant URI of their ObservedProperty's
``definition`` (what ``rathaus import-air-quality`` writes), or else by the name, and only
when the datastream's unit is µg/m³."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

UG_M3 = ("µg/m³", "µg/m3", "ug/m3", "μg/m³")  # micro sign and Greek mu both occur


@dataclass(frozen=True)
class Band:
    key: str  # CSS class suffix and sort order: "1" (best) .. "5" (worst), "none"
    label: Promise
    low: int | None  # whole µg/m³, inclusive
    high: int | None  # whole µg/m³, inclusive; None: no upper end


LABELS: list[tuple[str, Promise]] = [
    ("1", _("sehr gut")),
    ("2", _("gut")),
    ("3", _("mäßig")),
    ("4", _("schlecht")),
    ("5", _("sehr schlecht")),
]
NO_BAND = Band("none", _("keine Einstufung"), None, None)

# upper ends (inclusive, whole µg/m³) of the classes "sehr gut" to "schlecht"
_UPPER: dict[str, tuple[int, int, int, int]] = {
    "PM10": (9, 27, 54, 90),
    "PM2.5": (5, 15, 30, 50),
    "O3": (24, 72, 144, 240),
    "NO2": (10, 30, 60, 100),
    "SO2": (10, 30, 60, 100),
}
_BY_DEFINITION = {
    "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5": "PM10",
    "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001": "PM2.5",
    "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/7": "O3",
    "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8": "NO2",
    "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/1": "SO2",
}
_BY_NAME = {name.casefold(): name for name in _UPPER} | {"pm25": "PM2.5", "pm2,5": "PM2.5"}


def pollutant_of(*, definition: str, name: str, unit_symbol: str) -> str | None:
    """The index's pollutant an observed property measures, or None."""
    if unit_symbol.strip() not in UG_M3:
        return None
    return _BY_DEFINITION.get(definition.strip()) or _BY_NAME.get(name.strip().casefold())


def bands_of(pollutant: str | None) -> list[Band]:
    """The legend of a pollutant: its five classes with their ranges (empty for none)."""
    if pollutant not in _UPPER:
        return []
    uppers = _UPPER[pollutant]
    result = []
    low = 0
    for (key, label), high in zip(LABELS, (*uppers, None), strict=True):
        result.append(Band(key, label, low, high))
        if high is not None:
            low = high + 1
    return result


def band_for(pollutant: str | None, value: float | None) -> Band:
    """The class of one value (rounded half up to a whole µg/m³)."""
    if value is None or pollutant not in _UPPER:
        return NO_BAND
    whole = int(value + 0.5) if value >= 0 else 0
    for band in bands_of(pollutant):
        if band.high is None or whole <= band.high:
            return band
    return NO_BAND  # not reached: the last class has no upper end
