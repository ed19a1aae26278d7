"""Forms and their versions. A draft is editable; a published version never changes, and every
draft and submission points to the version it was made with."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rathaus.catalog.models import Service
from rathaus.core.models import TimeStampedModel
from rathaus.forms.constants import VersionStatus


class Form(TimeStampedModel):
    slug = models.SlugField(_("Kurzname"), max_length=100, unique=True)
    title = models.CharField(_("Titel"), max_length=300)
    services = models.ManyToManyField(
        Service, verbose_name=_("Leistungen"), blank=True, related_name="forms"
    )

    class Meta:
        verbose_name = _("Formular")
        verbose_name_plural = _("Formulare")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class FormVersion(TimeStampedModel):
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("Version"))
    status = models.CharField(
        _("Status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    definition = models.JSONField(_("Definition"))
    json_schema = models.JSONField(_("JSON Schema"))
    source = models.CharField(_("Quelle"), max_length=200, blank=True)
    import_report = models.JSONField(_("Importbericht"), null=True, blank=True)
    published_at = models.DateTimeField(_("veröffentlicht am"), null=True, blank=True)

    class Meta:
        verbose_name = _("Formularversion")
        verbose_name_plural = _("Formularversionen")
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="forms_version_number_once"),
            models.UniqueConstraint(
                fields=["form"], condition=Q(status="draft"), name="forms_one_draft_per_form"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="forms_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number} ({self.status})"


class FormDraft(TimeStampedModel):
    """What a person has filled in so far, encrypted at rest (core.crypto). Belongs to the
    browser session that started it (by ``token``) and, when logged in, to the account."""

    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="drafts")
    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="form_drafts"
    )
    data_encrypted = models.TextField()  # ciphertext: PostgreSQL stores it uncompressed (0004)
    step_reached = models.PositiveSmallIntegerField(default=1)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Formular-Entwurf")
        verbose_name_plural = _("Formular-Entwürfe")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"draft {self.pk} of {self.version}"


class Upload(TimeStampedModel):
    """A file a person attached, stored outside the web root under a random name."""

    token = models.CharField(max_length=64, unique=True)
    draft = models.ForeignKey(
        FormDraft, null=True, blank=True, on_delete=models.CASCADE, related_name="uploads"
    )
    field_id = models.CharField(max_length=200)
    filename = models.CharField(max_length=200)  # sanitised, for display only
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("Hochgeladene Datei")
        verbose_name_plural = _("Hochgeladene Dateien")

    def __str__(self) -> str:
        return self.filename


class PostalPlace(models.Model):
    """A German postcode and a place it belongs to (one postcode can serve several places,
    one place can have many postcodes). Loaded by ``rathaus import-postcodes``; the postcode
    field of a form fills in its place from here."""

    postcode = models.CharField(_("Postleitzahl"), max_length=5, db_index=True)
    place = models.CharField(_("Ort"), max_length=100)

    class Meta:
        verbose_name = _("Postleitzahl")
        verbose_name_plural = _("Postleitzahlen")
        ordering = ["postcode", "place"]
        constraints = [
            models.UniqueConstraint(fields=["postcode", "place"], name="forms_postal_place_unique")
        ]

    def __str__(self) -> str:
        return f"{self.postcode} {self.place}"
