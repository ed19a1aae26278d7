"""The funding register (docs/funding.md): funding programmes of the EU, the Bund, the Länder,
municipalities and foundations with their calls and each call's deadlines; the city's own
applications to those calls with their consortium, documents, budget lines per year and
reporting duties.

Deadlines and amounts are fields, not prose: a call's deadlines are rows (``CallDeadline``)
with the instant and the time zone the funder gave it in; amounts are decimals in euros.
Organisations of the directory (economy) and measures of the strategy are kept as ids
(``organisation_id``, ``ApplicationMeasure.measure_id``) and read through those apps'
selectors, as the architecture asks for links between pillars."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import TimeStampedModel
from rathaus.funding.constants import (
    ApplicationStatus,
    CallStatus,
    DeadlineModel,
    DocumentKind,
    DutyKind,
    FundingType,
    GoDecision,
    Level,
    Role,
)


def default_reminder_days() -> int:
    """Days before a duty is due that its reminder goes out (``RATHAUS_FUNDING_REMINDER_DAYS``)."""
    return int(settings.FUNDING_REMINDER_DAYS)


PERCENT_RANGE = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class Programme(TimeStampedModel):
    """A funding programme ("Digital Europe Programme", "Modellprojekte Smart Cities")."""

    name = models.CharField(_("Name"), max_length=250)
    code = models.CharField(
        _("Programmkürzel"),
        max_length=60,
        unique=True,
        help_text=_("Eindeutig, z. B. DIGITAL oder MPSC; Schlüssel für den CSV-Import"),
    )
    funder = models.CharField(_("Fördergeber"), max_length=200)
    level = models.CharField(_("Ebene"), max_length=20, choices=Level.choices)
    funding_type = models.CharField(
        _("Förderart"), max_length=10, choices=FundingType.choices, default=FundingType.GRANT
    )
    description = models.TextField(_("Beschreibung"), blank=True)
    # bit masks (core.themes): Theme, ApplicantType, Region
    themes_mask = models.PositiveIntegerField(_("Themen"), default=0)
    applicant_types_mask = models.PositiveIntegerField(_("Antragsberechtigte"), default=0)
    regions_mask = models.PositiveIntegerField(_("Förderregion"), default=0)
    rate_max = models.DecimalField(
        _("Förderquote höchstens (%)"),
        null=True,
        blank=True,
        max_digits=5,
        decimal_places=2,
        validators=PERCENT_RANGE,
    )
    amount_min = models.DecimalField(
        _("Mindestbetrag (€)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    amount_max = models.DecimalField(
        _("Höchstbetrag (€)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    legal_basis = models.CharField(_("Rechtsgrundlage"), max_length=300, blank=True)
    source_url = models.URLField(_("Quelle"), max_length=500, blank=True)
    last_checked = models.DateField(_("Zuletzt geprüft"), null=True, blank=True)

    class Meta:
        verbose_name = _("Förderprogramm")
        verbose_name_plural = _("Förderprogramme")
        ordering = ["name"]
        indexes = [models.Index(fields=["level", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_min__isnull=True)
                | Q(amount_max__isnull=True)
                | Q(amount_min__lte=models.F("amount_max")),
                name="funding_programme_amount_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Call(TimeStampedModel):
    """A call of a programme ("DIGITAL-2026-CLOUD-AI-09") with its deadlines.

    ``final_deadline`` is the last of the call's deadlines, kept by ``services.programmes``
    whenever the deadlines change: the matching query asks it "still open for applications?"
    without joining the deadlines."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="calls", verbose_name=_("Programm")
    )
    identifier = models.CharField(_("Kennung"), max_length=120, unique=True)
    title = models.CharField(_("Titel"), max_length=300)
    status = models.CharField(
        _("Status"), max_length=20, choices=CallStatus.choices, default=CallStatus.FORTHCOMING
    )
    opens_on = models.DateField(_("Öffnet am"), null=True, blank=True)
    deadline_model = models.CharField(
        _("Fristmodell"),
        max_length=20,
        choices=DeadlineModel.choices,
        default=DeadlineModel.SINGLE,
    )
    budget = models.DecimalField(
        _("Budget des Aufrufs (€)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    expected_grants = models.PositiveIntegerField(
        _("Erwartete Zahl der Förderungen"), null=True, blank=True
    )
    url = models.URLField(_("Link zum Aufruf"), max_length=500, blank=True)
    notes = models.TextField(_("Hinweise"), blank=True)
    final_deadline = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Förderaufruf")
        verbose_name_plural = _("Förderaufrufe")
        ordering = ["final_deadline", "identifier"]
        indexes = [models.Index(fields=["status", "final_deadline"])]

    def __str__(self) -> str:
        return f"{self.identifier}: {self.title}"


class CallDeadline(models.Model):
    """One deadline of a call: the only one, a stage of a two-stage call, or one cut-off.
    ``due_at`` is the instant; ``timezone`` the zone the funder stated it in (an IANA name,
    e.g. ``Europe/Brussels`` for "17:00 Brussels time"), for showing it as announced."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="deadlines")
    position = models.PositiveSmallIntegerField(default=1)
    label = models.CharField(_("Bezeichnung"), max_length=120, blank=True)
    due_at = models.DateTimeField(_("Frist"))
    timezone = models.CharField(_("Zeitzone"), max_length=64, default="Europe/Berlin")

    class Meta:
        verbose_name = _("Frist")
        verbose_name_plural = _("Fristen")
        ordering = ["call", "position"]
        indexes = [models.Index(fields=["due_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "position"], name="funding_deadline_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.label} {self.due_at:%Y-%m-%d %H:%M}"


class Application(TimeStampedModel):
    """An application of the city (as coordinator or partner) to a call, from the first idea to
    the last report. Status changes go through ``services.applications.application_transition``
    (checked against its table, audited)."""

    call = models.ForeignKey(
        Call, on_delete=models.PROTECT, related_name="applications", verbose_name=_("Aufruf")
    )
    title = models.CharField(_("Projekttitel"), max_length=300)
    acronym = models.CharField(_("Akronym"), max_length=40, blank=True)
    summary = models.TextField(_("Kurzbeschreibung"), blank=True)
    role = models.CharField(
        _("Rolle der Stadt"), max_length=20, choices=Role.choices, default=Role.COORDINATOR
    )
    status = models.CharField(
        _("Status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.IDEA,
    )
    office = models.ForeignKey(
        "accounts.Office",
        verbose_name=_("Federführende Stelle"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Verantwortlich"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    total_cost = models.DecimalField(
        _("Gesamtkosten (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    requested_funding = models.DecimalField(
        _("Beantragte Förderung (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    own_share = models.DecimalField(
        _("Eigenanteil (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    own_share_budget_line = models.CharField(
        _("Haushaltsstelle des Eigenanteils"), max_length=120, blank=True
    )
    decision = models.CharField(
        _("Interne Entscheidung"),
        max_length=10,
        choices=GoDecision.choices,
        default=GoDecision.PENDING,
    )
    decision_on = models.DateField(_("Entschieden am"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Entschieden von"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField(_("Begründung der Entscheidung"), blank=True)
    submitted_on = models.DateField(_("Eingereicht am"), null=True, blank=True)
    result_score = models.CharField(_("Bewertung"), max_length=60, blank=True)
    result_note = models.TextField(_("Ergebnis"), blank=True)
    granted_amount = models.DecimalField(
        _("Bewilligte Förderung (€)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    grant_agreement_number = models.CharField(
        _("Nummer der Finanzhilfevereinbarung / des Bescheids"), max_length=120, blank=True
    )
    project_start = models.DateField(_("Projektbeginn"), null=True, blank=True)
    project_end = models.DateField(_("Projektende"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("Förderantrag")
        verbose_name_plural = _("Förderanträge")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "call"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(project_start__isnull=True)
                | Q(project_end__isnull=True)
                | Q(project_start__lte=models.F("project_end")),
                name="funding_application_period",
            )
        ]

    def __str__(self) -> str:
        return self.acronym or self.title


class ApplicationMeasure(models.Model):
    """A measure of the strategy (``strategy.Measure`` id) that an application funds."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="measure_links"
    )
    measure_id = models.PositiveBigIntegerField(_("Maßnahme"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "measure_id"], name="funding_measure_link_unique"
            )
        ]
        indexes = [models.Index(fields=["measure_id"])]

    def __str__(self) -> str:
        return f"{self.application_id} -> {self.measure_id}"


class ConsortiumMember(models.Model):
    """A member of an application's consortium with its budget share. The city itself is a
    member with ``is_city``; the others are organisations of the directory
    (``organisation_id``) or, for partners not in the directory, a name."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="consortium"
    )
    position = models.PositiveSmallIntegerField(default=1)
    is_city = models.BooleanField(default=False)
    organisation_id = models.PositiveBigIntegerField(_("Organisation"), null=True, blank=True)
    name = models.CharField(_("Name"), max_length=250, blank=True)
    role = models.CharField(_("Rolle"), max_length=20, choices=Role.choices, default=Role.PARTNER)
    budget_share = models.DecimalField(
        _("Budgetanteil (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )

    class Meta:
        verbose_name = _("Konsortialpartner")
        verbose_name_plural = _("Konsortium")
        ordering = ["application", "position"]
        indexes = [models.Index(fields=["organisation_id"])]

    def __str__(self) -> str:
        return self.name or str(self.organisation_id or "")


class ApplicationDocument(TimeStampedModel):
    """A file of an application (the application, the result letter, the grant agreement, a
    report), checked and stored encrypted like a form upload."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("Art"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("Titel"), max_length=250)
    file_name = models.CharField(max_length=250)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    storage_path = models.CharField(max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("Dokument")
        verbose_name_plural = _("Dokumente")
        ordering = ["application", "-created_at"]


class BudgetLine(TimeStampedModel):
    """An application's money in one budget year: planned, spent and funded, and the city's own
    share in that year's budget."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="budget_lines"
    )
    year = models.PositiveSmallIntegerField(
        _("Haushaltsjahr"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    planned = models.DecimalField(
        _("Geplant (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    spent = models.DecimalField(
        _("Ausgegeben (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    funded = models.DecimalField(
        _("Fördermittel erhalten (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    own_share = models.DecimalField(
        _("Eigenanteil der Stadt (€)"), default=Decimal(0), max_digits=14, decimal_places=2
    )
    note = models.CharField(_("Anmerkung"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("Haushaltsansatz")
        verbose_name_plural = _("Haushaltsansätze")
        ordering = ["application", "year"]
        constraints = [
            models.UniqueConstraint(fields=["application", "year"], name="funding_budget_year")
        ]


class Duty(TimeStampedModel):
    """A reporting obligation of a granted application (an interim or final report, a proof of
    use, an audit) with its due date; the responsible person is reminded through the outbox
    ``remind_days_before`` days before it is due, once (``reminded_at``)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="duties")
    kind = models.CharField(_("Art"), max_length=20, choices=DutyKind.choices)
    title = models.CharField(_("Bezeichnung"), max_length=250, blank=True)
    due_on = models.DateField(_("Fällig am"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Verantwortlich"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    remind_days_before = models.PositiveSmallIntegerField(
        _("Erinnerung (Tage vorher)"), default=default_reminder_days
    )
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_on = models.DateField(_("Erledigt am"), null=True, blank=True)
    note = models.TextField(_("Anmerkung"), blank=True)

    class Meta:
        verbose_name = _("Berichtspflicht")
        verbose_name_plural = _("Berichtspflichten")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"])]
