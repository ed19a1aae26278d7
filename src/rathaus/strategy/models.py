"""Strategies (Leipzig.digital) and EU smart-city projects (Triangulum) with their fields of
action (a tree), measures and sub-measures, milestones, key performance indicators (KPIs) with
their observations, and the published states the public sees (docs/strategy.md).

Every write goes through ``strategy.services``; the public pages read a ``Publication`` (a
snapshot taken when staff publish), never the draft."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import TimeStampedModel
from rathaus.strategy.constants import (
    AutoSource,
    Direction,
    Frequency,
    LinkKind,
    MeasureStatus,
    MilestoneStatus,
    ObservationSource,
    ProgressMode,
    StrategyKind,
    StrategyStatus,
    TrafficLight,
)


class Strategy(TimeStampedModel):
    """A strategy of the city or an EU project: the measures of several run side by side, and
    a measure can belong to more than one."""

    name = models.CharField(_("Name"), max_length=200)
    slug = models.SlugField(_("Kürzel"), max_length=80, unique=True)
    version = models.CharField(_("Version oder Jahr"), max_length=40, blank=True)
    kind = models.CharField(
        _("Art"), max_length=20, choices=StrategyKind.choices, default=StrategyKind.STRATEGY
    )
    description = models.TextField(_("Beschreibung"), blank=True)
    status = models.CharField(
        _("Status"), max_length=20, choices=StrategyStatus.choices, default=StrategyStatus.DRAFT
    )
    council_decision_number = models.CharField(
        _("Beschlussnummer des Stadtrats"), max_length=60, blank=True
    )
    council_decision_date = models.DateField(_("Beschlossen am"), null=True, blank=True)

    class Meta:
        verbose_name = _("Strategie")
        verbose_name_plural = _("Strategien")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=StrategyStatus.ADOPTED)
                | (~Q(council_decision_number="") & Q(council_decision_date__isnull=False)),
                name="strategy_adopted_has_decision",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class FieldOfAction(TimeStampedModel):
    """A field of action (Handlungsfeld) of one strategy; fields nest (``parent``)."""

    strategy = models.ForeignKey(
        Strategy, on_delete=models.CASCADE, related_name="fields", verbose_name=_("Strategie")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("gehört zu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("Nummer"), max_length=20)
    title = models.CharField(_("Titel"), max_length=300)
    description = models.TextField(_("Beschreibung"), blank=True)
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    class Meta:
        verbose_name = _("Handlungsfeld")
        verbose_name_plural = _("Handlungsfelder")
        ordering = ["strategy", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "code"], name="strategy_field_code_once")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Measure(TimeStampedModel):
    """A measure of one or more strategies, or a sub-measure of another measure (``parent``,
    one level deep). Its progress is entered, or rolled up from its sub-measures by weight
    (kept by the services)."""

    strategies = models.ManyToManyField(
        Strategy, related_name="measures", verbose_name=_("Strategien")
    )
    fields_of_action = models.ManyToManyField(
        FieldOfAction, related_name="measures", verbose_name=_("Handlungsfelder"), blank=True
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("Teilmaßnahme von"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    weight = models.PositiveSmallIntegerField(
        _("Gewicht (%)"),
        null=True,
        blank=True,
        help_text=_("Anteil am Fortschritt der übergeordneten Maßnahme."),
    )
    code = models.CharField(_("Kürzel"), max_length=40, unique=True)
    # the key of the department's own spreadsheets (CSV import)
    external_id = models.CharField(
        _("Externe Kennung"), max_length=100, unique=True, null=True, blank=True
    )
    title = models.CharField(_("Titel"), max_length=300)
    description = models.TextField(_("Beschreibung"), blank=True)
    # core.themes.Theme as a bit mask: what the measure is about (for matching funding calls)
    themes_mask = models.PositiveIntegerField(_("Themen"), default=0)
    office = models.ForeignKey(
        "accounts.Office",
        verbose_name=_("Verantwortliche Stelle"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Verantwortliche Person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    areas = models.ManyToManyField(
        "core.Area", verbose_name=_("Stadtbezirke und Ortsteile"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("Status"), max_length=20, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED
    )
    traffic_light = models.CharField(
        _("Ampel"), max_length=10, choices=TrafficLight.choices, default=TrafficLight.GREEN
    )
    status_reason = models.TextField(
        _("Begründung"), blank=True, help_text=_("Pflicht, wenn die Ampel nicht grün ist.")
    )
    progress = models.PositiveSmallIntegerField(_("Fortschritt (%)"), default=0)
    progress_mode = models.CharField(
        _("Fortschritt"),
        max_length=20,
        choices=ProgressMode.choices,
        default=ProgressMode.ENTERED,
    )
    planned_start = models.DateField(_("Geplanter Beginn"), null=True, blank=True)
    planned_end = models.DateField(_("Geplantes Ende"), null=True, blank=True)
    actual_start = models.DateField(_("Tatsächlicher Beginn"), null=True, blank=True)
    actual_end = models.DateField(_("Tatsächliches Ende"), null=True, blank=True)
    planned_budget = models.DecimalField(
        _("Geplantes Budget (€)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    spent_budget = models.DecimalField(
        _("Ausgegebenes Budget (€)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    # when the responsible person last updated or confirmed the entry (stale check), and when
    # they were last reminded of it
    reviewed_at = models.DateTimeField(_("Zuletzt geprüft"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Maßnahme")
        verbose_name_plural = _("Maßnahmen")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["status", "code"]),
            models.Index(fields=["office", "code"]),
            models.Index(fields=["parent", "code"]),
            models.Index(fields=["reviewed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="strategy_measure_progress_max"
            ),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__lte=100),
                name="strategy_measure_weight_max",
            ),
            models.CheckConstraint(
                condition=Q(traffic_light=TrafficLight.GREEN) | ~Q(status_reason=""),
                name="strategy_measure_reason_unless_green",
            ),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_start__lte=F("planned_end")),
                name="strategy_measure_planned_period",
            ),
            models.CheckConstraint(
                condition=Q(actual_start__isnull=True)
                | Q(actual_end__isnull=True)
                | Q(actual_start__lte=F("actual_end")),
                name="strategy_measure_actual_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class MeasurePartner(TimeStampedModel):
    """A partner organisation of a measure: an organisation of the directory (economy), by id."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="partners")
    organisation_id = models.PositiveIntegerField(_("Organisation"))
    role = models.CharField(_("Rolle"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Partnerorganisation")
        verbose_name_plural = _("Partnerorganisationen")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "organisation_id"], name="strategy_partner_once"
            )
        ]
        indexes = [models.Index(fields=["organisation_id"])]


class MeasureLink(TimeStampedModel):
    """A link from a measure to an event, a competition or an open dataset of the platform, by
    the other pillar's id (read through its selectors)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("Art"), max_length=20, choices=LinkKind.choices)
    target_id = models.PositiveIntegerField(_("Kennung"))

    class Meta:
        verbose_name = _("Verknüpfung")
        verbose_name_plural = _("Verknüpfungen")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "kind", "target_id"], name="strategy_link_once"
            )
        ]
        indexes = [models.Index(fields=["kind", "target_id"])]


class Milestone(TimeStampedModel):
    """A milestone of a measure. ``baseline_date`` is the first planned date: a later planned
    date, or an actual date after the planned one, is a slip and needs a reason."""

    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("Maßnahme")
    )
    title = models.CharField(_("Titel"), max_length=300)
    planned_date = models.DateField(_("Geplant am"))
    baseline_date = models.DateField(_("Ursprünglich geplant am"))
    actual_date = models.DateField(_("Erreicht am"), null=True, blank=True)
    status = models.CharField(
        _("Status"),
        max_length=20,
        choices=MilestoneStatus.choices,
        default=MilestoneStatus.OPEN,
    )
    slip_reason = models.TextField(
        _("Grund der Verschiebung"),
        blank=True,
        help_text=_("Pflicht, wenn der Meilenstein später liegt als ursprünglich geplant."),
    )
    evidence_url = models.URLField(_("Nachweis (Link)"), max_length=500, blank=True)
    evidence_file = models.FileField(
        _("Nachweis (Dokument)"), upload_to="strategy/evidence/%Y/", blank=True
    )

    class Meta:
        verbose_name = _("Meilenstein")
        verbose_name_plural = _("Meilensteine")
        ordering = ["measure", "planned_date", "pk"]
        indexes = [models.Index(fields=["measure", "planned_date"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(planned_date__lte=F("baseline_date"))
                    & (Q(actual_date__isnull=True) | Q(actual_date__lte=F("planned_date")))
                )
                | ~Q(slip_reason=""),
                name="strategy_milestone_slip_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def slipped(self) -> bool:
        return self.planned_date > self.baseline_date or bool(
            self.actual_date and self.actual_date > self.planned_date
        )


class Indicator(TimeStampedModel):
    """A key performance indicator of a strategy, measured as a time series; it may take its
    values automatically from platform data (``auto_source``)."""

    strategy = models.ForeignKey(
        Strategy, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("Strategie")
    )
    field_of_action = models.ForeignKey(
        FieldOfAction,
        verbose_name=_("Handlungsfeld"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="indicators",
    )
    measures = models.ManyToManyField(
        Measure, related_name="indicators", verbose_name=_("Maßnahmen"), blank=True
    )
    code = models.CharField(_("Kürzel"), max_length=40)
    external_id = models.CharField(
        _("Externe Kennung"), max_length=100, unique=True, null=True, blank=True
    )
    name = models.CharField(_("Name"), max_length=300)
    definition = models.TextField(_("Definition"))
    unit = models.CharField(_("Einheit"), max_length=40)
    direction = models.CharField(
        _("Richtung"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    baseline_value = models.DecimalField(
        _("Ausgangswert"), null=True, blank=True, max_digits=18, decimal_places=4
    )
    baseline_date = models.DateField(_("Ausgangswert vom"), null=True, blank=True)
    target_value = models.DecimalField(
        _("Zielwert"), null=True, blank=True, max_digits=18, decimal_places=4
    )
    target_date = models.DateField(_("Ziel bis"), null=True, blank=True)
    frequency = models.CharField(
        _("Erhebung"), max_length=20, choices=Frequency.choices, default=Frequency.YEARLY
    )
    data_source = models.CharField(_("Datenquelle"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Verantwortlich"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    auto_source = models.CharField(
        _("Automatisch aus"), max_length=40, choices=AutoSource.choices, blank=True
    )
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    class Meta:
        verbose_name = _("Kennzahl")
        verbose_name_plural = _("Kennzahlen")
        ordering = ["strategy", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "code"], name="strategy_indicator_code_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class IndicatorObservation(TimeStampedModel):
    """The value of an indicator for one period (``period`` is the period's first day). A
    correction keeps the value it replaced (``ObservationCorrection``)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="observations")
    period = models.DateField(_("Zeitraum ab"))
    value = models.DecimalField(_("Wert"), max_digits=18, decimal_places=4)
    provisional = models.BooleanField(_("vorläufig"), default=False)
    note = models.TextField(_("Anmerkung"), blank=True)
    source = models.CharField(
        _("Herkunft"),
        max_length=20,
        choices=ObservationSource.choices,
        default=ObservationSource.MANUAL,
    )

    class Meta:
        verbose_name = _("Messwert")
        verbose_name_plural = _("Messwerte")
        ordering = ["indicator", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], name="strategy_observation_once_per_period"
            )
        ]


class ObservationCorrection(models.Model):
    """What an observation said before a correction, who changed it, when and why."""

    observation = models.ForeignKey(
        IndicatorObservation, on_delete=models.CASCADE, related_name="corrections"
    )
    value_before = models.DecimalField(_("Wert vorher"), max_digits=18, decimal_places=4)
    provisional_before = models.BooleanField(_("vorher vorläufig"))
    note_before = models.TextField(_("Anmerkung vorher"), blank=True)
    value_after = models.DecimalField(_("Wert nachher"), max_digits=18, decimal_places=4)
    reason = models.TextField(_("Grund"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("Geändert am"))

    class Meta:
        verbose_name = _("Korrektur")
        verbose_name_plural = _("Korrekturen")
        ordering = ["observation", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.value_before} -> {self.value_after}"


class Publication(models.Model):
    """A published state of a strategy: the snapshot (``data``) of its fields of action,
    measures, milestones and KPIs that the public pages show, with its date. Never changed
    after it is written; the newest one is the public state."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="publications")
    number = models.PositiveIntegerField(_("Stand"))
    published_at = models.DateTimeField(_("Veröffentlicht am"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("Was sich geändert hat"), blank=True)
    data = models.JSONField()

    class Meta:
        verbose_name = _("Veröffentlichter Stand")
        verbose_name_plural = _("Veröffentlichte Stände")
        ordering = ["strategy", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "number"], name="strategy_publication_number_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.strategy_id} #{self.number}"
