"""Sensor data as the OGC SensorThings API 1.1 models it: a Thing (a measuring station) at
Locations, with Datastreams, each observing one ObservedProperty with one Sensor, holding
Observations (of a FeatureOfInterest). Names follow the standard so that the API is a thin
mapping (citydata/sta.py)."""

from __future__ import annotations

import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rathaus.citydata.constants import FORMAT_CHOICES, FREQUENCY_CHOICES, LICENSE_CHOICES
from rathaus.core.models import TimeStampedModel

GEOJSON = "application/geo+json"


class Location(TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=100, default=GEOJSON)
    location = models.JSONField()  # GeoJSON geometry
    lat = models.FloatField(null=True)  # of a Point, for queries near a place
    lon = models.FloatField(null=True)
    properties = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class Thing(TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)
    locations = models.ManyToManyField(Location, related_name="things", blank=True)

    def __str__(self) -> str:
        return self.name


class HistoricalLocation(models.Model):
    thing = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="historical_locations")
    time = models.DateTimeField()
    locations = models.ManyToManyField(Location, related_name="historical_locations")

    class Meta:
        indexes = [models.Index(fields=["thing", "-time"])]

    def __str__(self) -> str:
        return f"{self.thing_id} at {self.time.isoformat()}"


class Sensor(TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=100, default="text/html")
    metadata = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class ObservedProperty(TimeStampedModel):
    name = models.CharField(max_length=200)
    definition = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class FeatureOfInterest(TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=100, default=GEOJSON)
    feature = models.JSONField()
    lat = models.FloatField(null=True)  # of a Point, for $filter's geospatial functions
    lon = models.FloatField(null=True)
    properties = models.JSONField(default=dict, blank=True)
    # made by the service from this Location, for observations that came without a feature
    location = models.OneToOneField(
        Location,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feature_of_interest",
    )

    def __str__(self) -> str:
        return self.name


class Datastream(TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    observation_type = models.CharField(
        max_length=200,
        default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
    )
    unit_of_measurement = models.JSONField(default=dict)  # name, symbol, definition
    observed_area = models.JSONField(null=True, blank=True)
    phenomenon_start = models.DateTimeField(null=True, blank=True)
    phenomenon_end = models.DateTimeField(null=True, blank=True)
    result_start = models.DateTimeField(null=True, blank=True)
    result_end = models.DateTimeField(null=True, blank=True)
    # the newest observation's time and numeric result, kept by ingestion per batch: the map
    # of every datastream's latest value reads one row per datastream
    latest_time = models.DateTimeField(null=True, blank=True)
    latest_result = models.FloatField(null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    thing = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="datastreams")
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="datastreams")
    observed_property = models.ForeignKey(
        ObservedProperty, on_delete=models.PROTECT, related_name="datastreams"
    )

    def __str__(self) -> str:
        return self.name


class Observation(models.Model):
    # Both references are checked by the database once per statement, not per row (migration
    # 0006): a foreign key's row trigger cost PostgreSQL as much as writing the row did. The
    # index on (datastream, -phenomenon_time) serves lookups by datastream.
    datastream = models.ForeignKey(
        Datastream,
        on_delete=models.CASCADE,
        related_name="observations",
        db_index=False,
        db_constraint=False,
    )
    phenomenon_time = models.DateTimeField()
    phenomenon_time_end = models.DateTimeField(null=True, blank=True)  # an interval's end
    result_time = models.DateTimeField(null=True, blank=True)
    result_number = models.FloatField(null=True, blank=True)  # numeric results (measurements)
    result_json = models.JSONField(null=True, blank=True)  # any other result
    result_quality = models.JSONField(null=True, blank=True)
    parameters = models.JSONField(null=True, blank=True)
    feature_of_interest = models.ForeignKey(
        FeatureOfInterest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="observations",
        db_constraint=False,
    )

    class Meta:
        # the latest value of a datastream and a datastream's time range: one index range
        indexes = [models.Index(fields=["datastream", "-phenomenon_time"])]

    def __str__(self) -> str:
        return f"{self.datastream_id} @ {self.phenomenon_time.isoformat()}"

    @property
    def result(self) -> object:
        return self.result_number if self.result_json is None else self.result_json


class WriteToken(TimeStampedModel):
    """A token of a sensor operator's software for writing observations (Bearer). Only its
    SHA-256 is stored; ``prefix`` names it in lists and for revoking."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Aggregate(models.Model):
    """Hourly and daily min/max/mean/count of a datastream's numeric results, kept by the
    ingestion per batch (``ingest.observations_write``): charts over months read a few
    hundred of these instead of every observation. A day is a day in the city's time zone
    (settings.TIME_ZONE); an hour starts at a full hour in UTC."""

    HOUR = "hour"
    DAY = "day"
    PERIODS = [(HOUR, "hour"), (DAY, "day")]

    datastream = models.ForeignKey(Datastream, on_delete=models.CASCADE, related_name="aggregates")
    period = models.CharField(max_length=4, choices=PERIODS)
    start = models.DateTimeField()
    count = models.PositiveIntegerField()
    total = models.FloatField()  # the sum; mean = total / count
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["datastream", "period", "start"], name="citydata_aggregate_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.datastream_id} {self.period} {self.start.isoformat()}"

    @property
    def mean(self) -> float:
        return self.total / self.count


# ---- the open-data catalogue (DCAT-AP.de, CKAN API; see citydata/catalogue.py) ---------------

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9_-]{2,100}$",
    _("Nur Kleinbuchstaben, Ziffern, - und _ (2 bis 100 Zeichen)."),
)


class Dataset(TimeStampedModel):
    """A dataset of the open-data catalogue (dcat:Dataset, a CKAN package). ``source`` names
    the generator of a dataset made from platform data (``catalog:services``,
    ``citydata:thing:12``): regenerating updates that row instead of adding another."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.CharField(
        _("Kurzname"),
        max_length=100,
        unique=True,
        validators=[SLUG_VALIDATOR],
        help_text=_("Teil der Adresse und Name in der CKAN-Schnittstelle."),
    )
    title = models.CharField(_("Titel"), max_length=300)
    title_en = models.CharField(_("Titel (englisch)"), max_length=300, blank=True)
    description = models.TextField(_("Beschreibung"))
    description_en = models.TextField(_("Beschreibung (englisch)"), blank=True)
    publisher = models.ForeignKey(
        "accounts.Office",
        verbose_name=_("Herausgeber"),
        on_delete=models.PROTECT,
        related_name="open_datasets",
    )
    contact_name = models.CharField(_("Kontakt"), max_length=200, blank=True)
    contact_email = models.EmailField(_("Kontakt (E-Mail)"), blank=True)
    license = models.CharField(
        _("Lizenz"), max_length=30, choices=LICENSE_CHOICES, default="dl-by-de/2.0"
    )
    license_attribution = models.CharField(
        _("Namensnennung"),
        max_length=300,
        blank=True,
        help_text=_("Wie Nutzende die Quelle nennen sollen, z. B. „Stadt Leipzig“."),
    )
    themes = models.CharField(
        _("Kategorien"), max_length=200, blank=True
    )  # EU data-theme codes, separated by spaces ("ENVI TRAN")
    temporal_start = models.DateField(_("Zeitraum von"), null=True, blank=True)
    temporal_end = models.DateField(_("Zeitraum bis"), null=True, blank=True)
    political_geocoding_uri = models.URLField(
        _("Verwaltungsgebiet (URI)"), max_length=300, blank=True
    )
    political_geocoding_level_uri = models.URLField(
        _("Ebene des Verwaltungsgebiets"), max_length=300, blank=True
    )
    bbox_west = models.FloatField(_("Westgrenze (Länge)"), null=True, blank=True)
    bbox_south = models.FloatField(_("Südgrenze (Breite)"), null=True, blank=True)
    bbox_east = models.FloatField(_("Ostgrenze (Länge)"), null=True, blank=True)
    bbox_north = models.FloatField(_("Nordgrenze (Breite)"), null=True, blank=True)
    accrual_periodicity = models.CharField(
        _("Aktualisierung"), max_length=20, choices=FREQUENCY_CHOICES, blank=True
    )
    issued = models.DateTimeField(_("veröffentlicht am"), null=True, blank=True)
    modified = models.DateTimeField(_("Daten geändert am"), null=True, blank=True)
    landing_page = models.URLField(_("Webseite"), max_length=500, blank=True)
    source = models.CharField(_("erzeugt von"), max_length=200, blank=True, editable=False)
    published = models.BooleanField(_("veröffentlicht"), default=False)
    # title, descriptions and keywords folded (core.search.fold): the same search on SQLite
    # and PostgreSQL, umlauts and case ignored
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("Datensatz")
        verbose_name_plural = _("Datensätze")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=~models.Q(source=""),
                name="citydata_dataset_one_per_source",
            ),
            models.CheckConstraint(
                condition=models.Q(temporal_start__isnull=True)
                | models.Q(temporal_end__isnull=True)
                | models.Q(temporal_start__lte=models.F("temporal_end")),
                name="citydata_dataset_temporal_order",
            ),
        ]
        indexes = [
            models.Index(fields=["published", "title"]),
            models.Index(fields=["published", "-updated_at"]),
            models.Index(fields=["publisher", "published"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def theme_list(self) -> list[str]:
        return [code for code in self.themes.split() if code]

    @property
    def has_bbox(self) -> bool:
        return None not in (self.bbox_west, self.bbox_south, self.bbox_east, self.bbox_north)


class DatasetKeyword(models.Model):
    """A keyword (dcat:keyword, a CKAN tag) of a dataset: a row each, so that lists filter
    and count by keyword through an index."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="keywords")
    name = models.CharField(_("Schlagwort"), max_length=100)

    class Meta:
        verbose_name = _("Schlagwort")
        verbose_name_plural = _("Schlagwörter")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="citydata_keyword_once")
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Distribution(TimeStampedModel):
    """One way to get a dataset (dcat:Distribution, a CKAN resource): a file Rathaus serves
    itself at ``/offene-daten/<slug>/<file_name>`` (kept in ``file`` by the generator), or an
    address elsewhere (``access_url``)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="distributions")
    title = models.CharField(_("Titel"), max_length=300)
    description = models.TextField(_("Beschreibung"), blank=True)
    file_name = models.CharField(
        _("Dateiname"),
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")],
    )
    file = models.FileField(_("Datei"), max_length=300, blank=True, editable=False)
    access_url = models.URLField(_("Zugriffsadresse"), max_length=500, blank=True)
    download_url = models.URLField(_("Download-Adresse"), max_length=500, blank=True)
    format = models.CharField(_("Format"), max_length=20, choices=FORMAT_CHOICES)
    media_type = models.CharField(_("Medientyp"), max_length=100, blank=True)
    license = models.CharField(
        _("Lizenz"),
        max_length=30,
        choices=LICENSE_CHOICES,
        blank=True,
        help_text=_("Leer: die Lizenz des Datensatzes."),
    )
    byte_size = models.PositiveBigIntegerField(_("Größe (Bytes)"), null=True, blank=True)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    modified = models.DateTimeField(_("geändert am"), null=True, blank=True)
    source_version = models.CharField(max_length=200, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    class Meta:
        verbose_name = _("Distribution")
        verbose_name_plural = _("Distributionen")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "file_name"],
                condition=~models.Q(file_name=""),
                name="citydata_distribution_file_once",
            ),
            # a file Rathaus serves or an address elsewhere: never a link to nowhere
            models.CheckConstraint(
                condition=~models.Q(file="") | ~models.Q(access_url=""),
                name="citydata_distribution_has_address",
                violation_error_message=_(
                    "Bitte eine Zugriffsadresse angeben: wo es die Daten gibt."
                ),
            ),
        ]
        indexes = [models.Index(fields=["format"])]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_license(self) -> str:
        return self.license or self.dataset.license
