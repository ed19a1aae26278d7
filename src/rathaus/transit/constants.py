"""Choices of the transit app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
