"""Choices of the transit app."""

from typing import TypeAlias

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

StrOrPromise: TypeAlias = str | Promise


class VersionStatus(models.TextChoices):
    LOADING = "loading", _("wird geladen")
    ACTIVE = "active", _("aktiv")
    SUPERSEDED = "superseded", _("ersetzt")
    FAILED = "failed", _("fehlgeschlagen")


class LocationType(models.IntegerChoices):
    STOP = 0, _("Haltepunkt")
    STATION = 1, _("Station")
    ENTRANCE = 2, _("Eingang")
    GENERIC_NODE = 3, _("Knoten")
    BOARDING_AREA = 4, _("Einstiegsbereich")


class Accessibility(models.IntegerChoices):
    """wheelchair_boarding / wheelchair_accessible of GTFS."""

    UNKNOWN = 0, _("keine Angabe")
    YES = 1, _("barrierefrei")
    NO = 2, _("nicht barrierefrei")


# GTFS route_type (basic and the extended Hierarchical Vehicle Types) -> a German mode name.
ROUTE_MODES: dict[int, StrOrPromise] = {
    0: _("Straßenbahn"),
    1: _("U-Bahn"),
    2: _("Zug"),
    3: _("Bus"),
    4: _("Fähre"),
    5: _("Kabelstraßenbahn"),
    6: _("Seilbahn"),
    7: _("Standseilbahn"),
    11: _("Oberleitungsbus"),
    12: _("Einschienenbahn"),
}


# the extended types by hundreds (100 railway, 200 coach, 400 urban railway, 700 bus, 900 tram)
ROUTE_BANDS: dict[int, StrOrPromise] = {
    1: _("Zug"),
    2: _("Bus"),
    4: _("S-Bahn"),
    7: _("Bus"),
    9: _("Straßenbahn"),
}


def route_mode(route_type: int) -> StrOrPromise:
    if route_type in ROUTE_MODES:
        return ROUTE_MODES[route_type]
    return ROUTE_BANDS.get(route_type // 100, _("Verkehrsmittel"))
