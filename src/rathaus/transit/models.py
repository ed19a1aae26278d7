"""The timetables of the city's transport operators (GTFS) and their live data (GTFS-RT).

A ``Feed`` is one operator's or region's publication (e.g. LVB); each import writes a new
``FeedVersion`` beside the active one and then switches ``Feed.active_version`` in one
transaction, so readers never see a half-loaded timetable. Every timetable row hangs on its
version (deleted with it). GTFS ids stay text as the feed has them; joins use our integer keys.
Times are GTFS times: seconds after "noon minus 12 h" of the service day, may exceed 24:00.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import TimeStampedModel
from rathaus.transit.constants import Accessibility, LocationType, VersionStatus


class Feed(TimeStampedModel):
    slug = models.SlugField(
        _("Kürzel"),
        max_length=40,
        unique=True,
        help_text=_("Steht vor den Haltestellen-IDs, wenn mehrere Feeds geladen sind."),
    )
    name = models.CharField(_("Name"), max_length=200)
    source = models.CharField(_("Quelle (Datei oder URL)"), max_length=500, blank=True)
    realtime_url = models.CharField(_("GTFS-Realtime-Quelle"), max_length=500, blank=True)
    active_version = models.ForeignKey(
        "FeedVersion",
        verbose_name=_("aktive Version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Fahrplan-Feed")
        verbose_name_plural = _("Fahrplan-Feeds")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name or self.slug


class FeedVersion(TimeStampedModel):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="versions")
    status = models.CharField(max_length=20, choices=VersionStatus.choices)
    source = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    report = models.JSONField(default=dict)
    publisher = models.CharField(max_length=200, blank=True)
    version_label = models.CharField(max_length=200, blank=True)
    first_date = models.DateField(null=True, blank=True)
    last_date = models.DateField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Feed-Version")
        verbose_name_plural = _("Feed-Versionen")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.feed_id}#{self.pk} ({self.status})"


class Agency(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    agency_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200)
    url = models.CharField(max_length=500, blank=True)
    timezone = models.CharField(max_length=64)
    lang = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=50, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "agency_id"], name="transit_agency_once")
        ]

    def __str__(self) -> str:
        return self.name


class Route(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    route_id = models.CharField(max_length=100)
    agency = models.ForeignKey(Agency, null=True, on_delete=models.CASCADE)
    short_name = models.CharField(max_length=50, blank=True)
    long_name = models.CharField(max_length=200, blank=True)
    route_type = models.PositiveIntegerField()
    color = models.CharField(max_length=6, blank=True)
    text_color = models.CharField(max_length=6, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "route_id"], name="transit_route_once")
        ]

    def __str__(self) -> str:
        return self.short_name or self.long_name

    @property
    def label(self) -> str:
        return self.short_name or self.long_name


class Stop(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    stop_id = models.CharField(max_length=100)
    code = models.CharField(max_length=50, blank=True)
    name = models.CharField(max_length=200, blank=True)
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    location_type = models.PositiveSmallIntegerField(
        choices=LocationType.choices, default=LocationType.STOP
    )
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="children")
    platform_code = models.CharField(max_length=50, blank=True)
    wheelchair_boarding = models.PositiveSmallIntegerField(
        choices=Accessibility.choices, default=Accessibility.UNKNOWN
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "stop_id"], name="transit_stop_once")
        ]
        indexes = [
            models.Index(fields=["version", "lat"]),
            models.Index(fields=["version", "name"]),
        ]

    def __str__(self) -> str:
        return self.name or self.stop_id


class ServiceDay(models.Model):
    """One date on which a service_id runs: calendar.txt and calendar_dates.txt resolved at
    import, so that "trips on a date" is one indexed join."""

    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    service_id = models.CharField(max_length=100)
    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "date", "service_id"], name="transit_service_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.date}"


class Trip(models.Model):
    """A run of a vehicle. Trips of frequencies.txt are stored once per run, their id then
    carries the start time (``trip_id@HH:MM:SS``) and ``frequency_trip_id`` the original."""

    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    trip_id = models.CharField(max_length=120)
    route = models.ForeignKey(Route, on_delete=models.CASCADE)
    service_id = models.CharField(max_length=100)
    headsign = models.CharField(max_length=200, blank=True)  # else the last stop's name
    short_name = models.CharField(max_length=50, blank=True)
    direction_id = models.PositiveSmallIntegerField(null=True)
    shape_id = models.CharField(max_length=100, blank=True)
    wheelchair_accessible = models.PositiveSmallIntegerField(
        choices=Accessibility.choices, default=Accessibility.UNKNOWN
    )
    bikes_allowed = models.PositiveSmallIntegerField(default=0)
    frequency_trip_id = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "trip_id"], name="transit_trip_once")
        ]
        indexes = [models.Index(fields=["version", "service_id"])]

    def __str__(self) -> str:
        return self.trip_id


class StopTime(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="stop_times")
    stop = models.ForeignKey(Stop, on_delete=models.CASCADE, related_name="+")
    stop_sequence = models.PositiveIntegerField()
    arrival = models.PositiveIntegerField()
    departure = models.PositiveIntegerField()
    interpolated = models.BooleanField(default=False)
    pickup_type = models.PositiveSmallIntegerField(default=0)
    drop_off_type = models.PositiveSmallIntegerField(default=0)
    headsign = models.CharField(max_length=200, blank=True)
    last = models.BooleanField(default=False)  # the trip ends here: an arrival only

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trip", "stop_sequence"], name="transit_stop_time_once"
            ),
            models.CheckConstraint(
                condition=Q(departure__gte=models.F("arrival")),
                name="transit_stop_time_departs_after_arrival",
            ),
        ]
        indexes = [models.Index(fields=["stop", "departure"])]

    def __str__(self) -> str:
        return f"{self.trip_id}#{self.stop_sequence}"


class Shape(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    shape_id = models.CharField(max_length=100)
    points = models.JSONField(default=list)  # [[lat, lon], ...] in shape_pt_sequence order

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "shape_id"], name="transit_shape_once")
        ]

    def __str__(self) -> str:
        return self.shape_id


class Frequency(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    trip_id = models.CharField(max_length=100)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    headway = models.PositiveIntegerField()
    exact_times = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.trip_id} every {self.headway} s"


class Transfer(models.Model):
    version = models.ForeignKey(FeedVersion, on_delete=models.CASCADE)
    from_stop = models.ForeignKey(Stop, on_delete=models.CASCADE, related_name="+")
    to_stop = models.ForeignKey(Stop, on_delete=models.CASCADE, related_name="+")
    transfer_type = models.PositiveSmallIntegerField(default=0)
    min_transfer_time = models.PositiveIntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.from_stop_id} -> {self.to_stop_id}"


class RealtimeState(TimeStampedModel):
    """The last GTFS-Realtime snapshot of a feed (transit.realtime.Snapshot as JSON)."""

    feed = models.OneToOneField(Feed, on_delete=models.CASCADE, related_name="realtime")
    fetched_at = models.DateTimeField(null=True)
    feed_timestamp = models.BigIntegerField(null=True)
    snapshot = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    errored_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"realtime {self.feed_id}"
