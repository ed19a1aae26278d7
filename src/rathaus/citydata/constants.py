"""Vocabularies of the open-data catalogue, as DCAT-AP.de 2.0 and GovData use them.

- Licences: the DCAT-AP.de licence list, ``http://dcat-ap.de/def/licenses/<code>``; the code is
  also the CKAN ``license_id`` (GovData's CKAN does the same).
- Themes: the EU data-theme authority table,
  ``http://publications.europa.eu/resource/authority/data-theme/<CODE>``; CKAN groups are the
  codes in lower case, as on GovData.
- Frequencies: the EU frequency authority table (``.../authority/frequency/<CODE>``).
- Formats: the EU file-type authority table (``.../authority/file-type/<CODE>``).
- Political geocoding: ``http://dcat-ap.de/def/politicalGeocoding/<kind>Key/<key>`` and the
  levels ``http://dcat-ap.de/def/politicalGeocoding/Level/<level>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DCATDE = "http://dcat-ap.de/def/dcatde/"
LICENSE_BASE = "http://dcat-ap.de/def/licenses/"
THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE_BASE = "http://publications.europa.eu/resource/authority/file-type/"
LANGUAGE_DEU = "http://publications.europa.eu/resource/authority/language/DEU"
GEOCODING_BASE = "http://dcat-ap.de/def/politicalGeocoding/"
GEOCODING_LEVEL_BASE = GEOCODING_BASE + "Level/"
MEDIA_TYPE_BASE = "http://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class License:
    code: str
    title: str  # the licence's own (German) name; not translated
    url: str  # the licence text
    open: bool = True
    attribution: bool = True  # the user must name the source

    @property
    def uri(self) -> str:
        return LICENSE_BASE + self.code


LICENSES: dict[str, License] = {
    item.code: item
    for item in (
        License(
            "dl-by-de/2.0",
            "Datenlizenz Deutschland – Namensnennung – Version 2.0",
            "https://www.govdata.de/dl-de/by-2-0",
        ),
        License(
            "dl-zero-de/2.0",
            "Datenlizenz Deutschland – Zero – Version 2.0",
            "https://www.govdata.de/dl-de/zero-2-0",
            attribution=False,
        ),
        License(
            "cc-by/4.0",
            "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        License(
            "cc-by-sa/4.0",
            "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0 "
            "International (CC BY-SA 4.0)",
            "https://creativecommons.org/licenses/by-sa/4.0/",
        ),
        License(
            "cc-zero",
            "Creative Commons CC Zero License (CC0 1.0)",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            attribution=False,
        ),
        License(
            "odbl",
            "Open Data Commons Open Database License (ODbL)",
            "https://opendatacommons.org/licenses/odbl/1-0/",
        ),
    )
}
LICENSE_CHOICES = [(code, item.title) for code, item in LICENSES.items()]

THEMES: dict[str, Promise] = {
    "AGRI": _("Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel"),
    "ECON": _("Wirtschaft und Finanzen"),
    "EDUC": _("Bildung, Kultur und Sport"),
    "ENER": _("Energie"),
    "ENVI": _("Umwelt"),
    "GOVE": _("Regierung und öffentlicher Sektor"),
    "HEAL": _("Gesundheit"),
    "INTR": _("Internationale Themen"),
    "JUST": _("Justiz, Rechtssystem und öffentliche Sicherheit"),
    "REGI": _("Regionen und Städte"),
    "SOCI": _("Bevölkerung und Gesellschaft"),
    "TECH": _("Wissenschaft und Technologie"),
    "TRAN": _("Verkehr"),
}
THEME_CHOICES = list(THEMES.items())

FREQUENCIES: dict[str, Promise] = {
    "UPDATE_CONT": _("laufend aktualisiert"),
    "HOURLY": _("stündlich"),
    "DAILY": _("täglich"),
    "WEEKLY": _("wöchentlich"),
    "MONTHLY": _("monatlich"),
    "QUARTERLY": _("vierteljährlich"),
    "ANNUAL": _("jährlich"),
    "IRREG": _("unregelmäßig"),
    "NEVER": _("keine Aktualisierung"),
    "UNKNOWN": _("unbekannt"),
}
FREQUENCY_CHOICES = list(FREQUENCIES.items())


@dataclass(frozen=True)
class FileFormat:
    code: str  # EU file-type code
    label: str  # as CKAN shows it in ``format``
    media_type: str

    @property
    def uri(self) -> str:
        return FILE_TYPE_BASE + self.code


FORMATS: dict[str, FileFormat] = {
    item.code: item
    for item in (
        FileFormat("CSV", "CSV", "text/csv"),
        FileFormat("JSON", "JSON", "application/json"),
        FileFormat("GEOJSON", "GeoJSON", "application/geo+json"),
        FileFormat("XML", "XML", "application/xml"),
        FileFormat("RDF_TURTLE", "Turtle", "text/turtle"),
        FileFormat(
            "XLSX", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
        FileFormat("PDF", "PDF", "application/pdf"),
        FileFormat("ZIP", "ZIP", "application/zip"),
        FileFormat("GTFS", "GTFS", "application/zip"),
        FileFormat("HTML", "HTML", "text/html"),
    )
}
FORMAT_CHOICES = [(code, item.label) for code, item in FORMATS.items()]

GEOCODING_LEVELS: dict[str, Promise] = {
    "federal": _("Bund"),
    "state": _("Land"),
    "administrativeDistrict": _("Landkreis"),
    "municipality": _("Gemeinde"),
}
GEOCODING_LEVEL_CHOICES = [
    (GEOCODING_LEVEL_BASE + level, label) for level, label in GEOCODING_LEVELS.items()
]


def license_get(code: str) -> License | None:
    return LICENSES.get(code)


def format_for_label(label: str) -> FileFormat | None:
    """A format by its CKAN label or its code, in any case ("csv", "GeoJSON")."""
    wanted = label.strip().lower()
    for item in FORMATS.values():
        if wanted in (item.label.lower(), item.code.lower()):
            return item
    return None
