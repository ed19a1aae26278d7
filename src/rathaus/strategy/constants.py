"""Choices of the strategy pillar: strategies and EU projects, their measures, milestones and
key performance indicators (KPIs)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StrategyKind(models.TextChoices):
    STRATEGY = "strategy", _("Strategie")
    EU_PROJECT = "eu_project", _("EU-Projekt")


class StrategyStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("strategy status", "Entwurf")
    ADOPTED = "adopted", _("vom Stadtrat beschlossen")


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("geplant")
    RUNNING = "running", _("läuft")
    DONE = "done", pgettext_lazy("measure status", "abgeschlossen")
    STOPPED = "stopped", _("gestoppt")
    DELAYED = "delayed", _("verzögert")


# a measure in one of these is finished: it is not flagged as stale
CLOSED_STATUSES = frozenset({MeasureStatus.DONE, MeasureStatus.STOPPED})


class TrafficLight(models.TextChoices):
    """Shown with its word and a symbol, never by colour alone."""

    GREEN = "green", _("im Plan")
    YELLOW = "yellow", _("gefährdet")
    RED = "red", _("kritisch")


class ProgressMode(models.TextChoices):
    ENTERED = "entered", _("eingetragen")
    ROLLED_UP = "rolled_up", _("aus den Teilmaßnahmen nach Gewicht")


class LinkKind(models.TextChoices):
    """What else on the platform a measure links to (by id, through that pillar's selectors)."""

    EVENT = "event", _("Veranstaltung")
    COMPETITION = "competition", _("Wettbewerb")
    DATASET = "dataset", _("Offener Datensatz")


class MilestoneStatus(models.TextChoices):
    OPEN = "open", _("offen")
    DONE = "done", _("erreicht")
    CANCELLED = "cancelled", _("entfallen")


class Direction(models.TextChoices):
    HIGHER = "higher", _("höher ist besser")
    LOWER = "lower", _("niedriger ist besser")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("monatlich")
    QUARTERLY = "quarterly", _("vierteljährlich")
    YEARLY = "yearly", _("jährlich")


class AutoSource(models.TextChoices):
    """Platform data an indicator can take its values from (``services.kpis``)."""

    CATALOG_ONLINE_SHARE = (
        "catalog_online_share",
        _("Anteil der Leistungen des Katalogs online ab Reifegrad 3 (%)"),
    )
    CASE_MEDIAN_DAYS = "case_median_days", _("Median der Bearbeitungszeit der Vorgänge (Tage)")
    DIRECTORY_ORGANISATIONS = (
        "directory_organisations",
        _("Organisationen im Verzeichnis der Digitalwirtschaft (Anzahl)"),
    )
    SENSOR_DATASTREAMS = "sensor_datastreams", _("Veröffentlichte Sensor-Datenströme (Anzahl)")


class ObservationSource(models.TextChoices):
    MANUAL = "manual", _("eingetragen")
    IMPORT = "import", _("importiert")
    AUTOMATIC = "automatic", _("automatisch aus Plattformdaten")
