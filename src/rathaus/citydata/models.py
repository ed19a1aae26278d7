"""Sensor data as the OGC SensorThings API 1.1 models it: a Thing (a measuring station) at
Locations, with Datastreams, each observing one ObservedProperty with one Sensor, holding
Observations (of a FeatureOfInterest). Names follow the standard so that the API is a thin
mapping (citydata/sta.py)."""

from __future__ import annotations

from django.db import models

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
    properties = models.JSONField(default=dict, blank=True)

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
    properties = models.JSONField(default=dict, blank=True)
    thing = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="datastreams")
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="datastreams")
    observed_property = models.ForeignKey(
        ObservedProperty, on_delete=models.PROTECT, related_name="datastreams"
    )

    def __str__(self) -> str:
        return self.name


class Observation(models.Model):
    datastream = models.ForeignKey(
        Datastream, on_delete=models.CASCADE, related_name="observations"
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
