"""The service catalogue: LeiKa services, Lebenslagen, Themenfelder, locations, synonyms.

Offices (the tree of Organisationseinheiten) are ``accounts.Office``; this app adds the
services they are responsible for and the places where people can go.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office
from rathaus.catalog.constants import LEIKA_URN_PREFIX, OzgMaturity
from rathaus.core.models import TimeStampedModel

leika_key_validator = RegexValidator(
    r"^99\d{12}$", _("Ein LeiKa-Schlüssel hat 14 Ziffern und beginnt mit 99.")
)


# The "Online beantragen" button: a path of this site or an https address, never javascript:
# or a protocol-relative //host that could send citizens elsewhere unnoticed.
form_url_validator = RegexValidator(
    r"^(/(?!/)[^\s]*|https://[^\s/]+(/[^\s]*)?)$",
    _("Bitte eine Adresse dieser Website (beginnend mit /) oder eine https-Adresse angeben."),
)


class NamedCategory(TimeStampedModel):
    """A category of services known by its name, with a slug for addresses and filters."""

    name = models.CharField(_("Name"), max_length=200, unique=True)
    slug = models.SlugField(_("Kurzname"), max_length=200, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LifeSituation(NamedCategory):
    """A Lebenslage (e.g. "Wohnen & Umzug"): how citizens think about what they need."""

    class Meta:
        verbose_name = _("Lebenslage")
        verbose_name_plural = _("Lebenslagen")
        ordering = ["name"]


class Topic(NamedCategory):
    """A Themenfeld of the OZG (e.g. "Bauen & Wohnen")."""

    class Meta:
        verbose_name = _("Themenfeld")
        verbose_name_plural = _("Themenfelder")
        ordering = ["name"]


class Location(TimeStampedModel):
    """A place where an office serves people: address, opening hours, accessibility."""

    office = models.ForeignKey(
        Office,
        verbose_name=_("Organisationseinheit"),
        on_delete=models.CASCADE,
        related_name="locations",
    )
    name = models.CharField(_("Name"), max_length=200)
    street = models.CharField(_("Straße und Hausnummer"), max_length=200)
    postal_code = models.CharField(_("Postleitzahl"), max_length=5)
    city = models.CharField(_("Ort"), max_length=100)
    opening_hours = models.TextField(
        _("Öffnungszeiten"), blank=True, help_text=_("Eine Zeile je Tag, z. B. „Mo 08:00–12:00“.")
    )
    accessibility = models.TextField(_("Barrierefreiheit des Gebäudes"), blank=True)
    phone = models.CharField(_("Telefon"), max_length=50, blank=True)
    email = models.EmailField(_("E-Mail"), blank=True)
    latitude = models.DecimalField(
        _("Breitengrad"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("Längengrad"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    class Meta:
        verbose_name = _("Standort")
        verbose_name_plural = _("Standorte")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="catalog_location_both_coordinates_or_none",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def opening_hours_lines(self) -> list[str]:
        return [line.strip() for line in self.opening_hours.splitlines() if line.strip()]


class Service(TimeStampedModel):
    """One service of the LeiKa catalogue as this city offers it."""

    leika_key = models.CharField(
        _("LeiKa-Schlüssel"), max_length=14, unique=True, validators=[leika_key_validator]
    )
    name = models.CharField(_("Name"), max_length=300)
    short_description = models.TextField(_("Kurzbeschreibung"), blank=True)
    description = models.TextField(_("Beschreibung"), blank=True)
    leika_type = models.CharField(_("LeiKa-Typisierung"), max_length=10, blank=True)
    ozg_id = models.CharField(_("OZG-Leistung (ID)"), max_length=10, blank=True)
    ozg_name = models.CharField(_("OZG-Leistung"), max_length=300, blank=True)
    life_situation = models.ForeignKey(
        LifeSituation,
        verbose_name=_("Lebenslage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("Themenfeld"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    legal_basis = models.TextField(_("Rechtsgrundlage"), blank=True)
    law_shortcuts = models.CharField(_("Gesetze (Kürzel)"), max_length=300, blank=True)
    fee_min = models.DecimalField(
        _("Gebühr ab (EUR)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    fee_max = models.DecimalField(
        _("Gebühr bis (EUR)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    fee_regulation = models.CharField(_("Gebührenordnung"), max_length=300, blank=True)
    processing_time = models.CharField(_("Bearbeitungsdauer"), max_length=200, blank=True)
    processing_days = models.PositiveSmallIntegerField(
        _("Bearbeitungsfrist in Arbeitstagen"),
        null=True,
        blank=True,
        help_text=_("Daraus wird das Fälligkeitsdatum eines Vorgangs berechnet."),
    )
    keywords = models.TextField(
        _("Suchbegriffe"),
        blank=True,
        help_text=_("Wörter, mit denen Menschen diese Leistung suchen, durch Komma getrennt."),
    )
    offices = models.ManyToManyField(
        Office,
        verbose_name=_("zuständige Organisationseinheiten"),
        blank=True,
        related_name="services",
    )
    locations = models.ManyToManyField(
        Location, verbose_name=_("Standorte"), blank=True, related_name="services"
    )
    # OZG maturity: each criterion builds on the one before; the first unmet one decides.
    online_information = models.BooleanField(_("Informationen online"), default=True)
    online_form = models.BooleanField(_("Formular online"), default=False)
    online_submission = models.BooleanField(_("Online-Antrag mit Nachweisen"), default=False)
    online_decision = models.BooleanField(_("Bescheid digital"), default=False)
    ozg_maturity = models.GeneratedField(
        expression=Case(
            When(online_information=False, then=Value(0)),
            When(online_form=False, then=Value(1)),
            When(online_submission=False, then=Value(2)),
            When(online_decision=False, then=Value(3)),
            default=Value(4),
        ),
        output_field=models.PositiveSmallIntegerField(_("OZG-Reifegrad")),
        db_persist=True,
    )
    form_url = models.CharField(
        _("Online-Formular (Adresse)"),
        max_length=300,
        blank=True,
        validators=[form_url_validator],
        help_text=_("Eine Adresse dieser Website (/formulare/...) oder eine https-Adresse."),
    )
    official_form = models.FileField(
        _("Amtliches Formular (PDF)"), upload_to="catalog/forms/", blank=True
    )
    official_form_mapping = models.JSONField(
        _("Zuordnung zum amtlichen Formular"),
        default=dict,
        blank=True,
        help_text=_(
            "Welches Feld des Online-Formulars in welches Feld des PDF-Formulars kommt: "
            '{"PDF-Feldname": "Feld-ID"}.'
        ),
    )
    last_checked = models.DateField(_("zuletzt geprüft"), null=True, blank=True)
    retention_days = models.PositiveIntegerField(
        _("Aufbewahrungsfrist (Tage)"),
        null=True,
        blank=True,
        help_text=_(
            "So lange bleiben Anträge nach dem letzten Bearbeitungsschritt gespeichert. Leer: "
            "die Voreinstellung der Installation."
        ),
    )
    retention_anonymise = models.BooleanField(
        _("nach Ablauf anonymisieren statt löschen"),
        default=False,
        help_text=_(
            "Die Angaben, Anlagen und die Eingangsbestätigung werden gelöscht; Aktenzeichen, "
            "Daten und Stand bleiben für die Statistik."
        ),
    )

    class Meta:
        verbose_name = _("Leistung")
        verbose_name_plural = _("Leistungen")
        ordering = ["name", "leika_key"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["leika_type"]),
            models.Index(fields=["ozg_maturity"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_min__isnull=True)
                | Q(fee_max__isnull=True)
                | Q(fee_max__gte=models.F("fee_min")),
                name="catalog_service_fee_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def urn(self) -> str:
        return f"{LEIKA_URN_PREFIX}{self.leika_key}"

    @property
    def ozg_maturity_label(self) -> str:
        return str(OzgMaturity(self.ozg_maturity).label)

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.split(",") if k.strip()]


class RequiredDocument(TimeStampedModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="documents")
    name = models.CharField(_("Unterlage"), max_length=300)
    note = models.CharField(_("Hinweis"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    class Meta:
        verbose_name = _("erforderliche Unterlage")
        verbose_name_plural = _("erforderliche Unterlagen")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Synonym(TimeStampedModel):
    """Words people use for the same thing ("Anwohnerparkausweis, Bewohnerparkausweis"):
    searching for one finds the others. Edited by the department."""

    terms = models.TextField(
        _("gleichbedeutende Begriffe"),
        help_text=_("Durch Komma getrennt; ein Begriff darf aus mehreren Wörtern bestehen."),
    )
    note = models.CharField(_("Anmerkung"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("Synonym")
        verbose_name_plural = _("Synonyme")
        ordering = ["terms"]

    def __str__(self) -> str:
        return self.terms[:80]

    @property
    def term_list(self) -> list[str]:
        return [t.strip() for t in self.terms.split(",") if t.strip()]
