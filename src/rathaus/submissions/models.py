"""Submitted applications. The answers, the citizen's e-mail address, the status code and every
file are encrypted at rest (core.crypto); what stays readable is what the office needs to find
and route a submission: its reference number, form version, service, office and dates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office
from rathaus.catalog.models import Service
from rathaus.core.models import TimeStampedModel
from rathaus.forms.models import FormVersion
from rathaus.submissions.constants import SubmissionStatus


class IssuedReference(models.Model):
    """Every reference number ever given out. Never deleted (retention deletes submissions,
    not this list), so a number is never given twice."""

    value = models.CharField(max_length=32, primary_key=True)
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vergebenes Aktenzeichen")
        verbose_name_plural = _("vergebene Aktenzeichen")

    def __str__(self) -> str:
        return self.value


class Submission(TimeStampedModel):
    reference = models.CharField(_("Aktenzeichen"), max_length=32, unique=True)
    version = models.ForeignKey(
        FormVersion,
        verbose_name=_("Formularversion"),
        on_delete=models.PROTECT,
        related_name="submissions",
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("Leistung"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    # office and user: no index of their own, the indexes in Meta lead with them (each index
    # is written with every submission)
    office = models.ForeignKey(
        Office,
        verbose_name=_("zuständige Stelle"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
        db_index=False,
    )
    status = models.CharField(
        _("Status"),
        max_length=20,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.RECEIVED,
    )
    submitted_at = models.DateTimeField(_("eingegangen am"), default=timezone.now)
    language = models.CharField(max_length=8, default="de")
    data_encrypted = models.TextField()  # ciphertext: PostgreSQL stores it uncompressed (0006)
    email_encrypted = models.TextField(blank=True)
    status_code_encrypted = models.TextField()  # the secret in the status link, for the receipt
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True)  # what the key was used for
    receipt_token = models.CharField(max_length=64, blank=True)  # the stored receipt PDF
    anonymised_at = models.DateTimeField(null=True, blank=True)  # retention kept only the frame
    fetched_at = models.DateTimeField(null=True, blank=True)  # first fetched by the pull API
    acknowledged_at = models.DateTimeField(null=True, blank=True)  # the office's system has it

    class Meta:
        verbose_name = _("Antrag")
        verbose_name_plural = _("Anträge")
        indexes = [
            models.Index(fields=["office", "status", "submitted_at"]),
            models.Index(fields=["user", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.reference


class Attachment(models.Model):
    """A file of a submission (taken over from the draft's uploads, still encrypted)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    field_id = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True)
    filename = models.CharField(max_length=200)  # sanitised, for display only
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("Anlage")
        verbose_name_plural = _("Anlagen")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class StatusEvent(models.Model):
    """One entry of the citizen's timeline: a status reached, with an optional message."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=SubmissionStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    message_encrypted = models.TextField(blank=True)  # a message from the office to the citizen

    class Meta:
        verbose_name = _("Statusereignis")
        verbose_name_plural = _("Statusereignisse")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.status}"


class ReleasedDocument(models.Model):
    """A document the office released to the citizen (a decision, a permit), stored encrypted."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("Titel"), max_length=200)
    filename = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("freigegebenes Dokument")
        verbose_name_plural = _("freigegebene Dokumente")
        ordering = ["released_at", "pk"]

    def __str__(self) -> str:
        return self.title


class Destination(models.Model):
    """Where an office wants its submissions announced or delivered: a webhook (signed with
    HMAC-SHA256) or, through the FIT-Connect plugin, a FIT-Connect destination."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        FITCONNECT = "fitconnect", _("FIT-Connect")

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="destinations")
    kind = models.CharField(_("Art"), max_length=20, choices=Kind.choices)
    url = models.URLField(_("Adresse"), max_length=500)
    # webhook: the shared HMAC secret; FIT-Connect: the destination's public JWK (encryption)
    secret_encrypted = models.TextField(blank=True)
    public_key = models.JSONField(null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True)  # FIT-Connect destinationId
    active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Übergabeziel")
        verbose_name_plural = _("Übergabeziele")

    def __str__(self) -> str:
        return f"{self.office_id} {self.kind} {self.url}"


class ApiToken(models.Model):
    """A token of an office's own software for the pull API. Only its SHA-256 is stored; the
    token itself is shown once, when it is made (``rathaus create-api-token``)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("Name"), max_length=100)
    prefix = models.CharField(max_length=12)  # the first characters, to recognise it
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)  # "submissions:read", "submissions:acknowledge"
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API-Schlüssel")
        verbose_name_plural = _("API-Schlüssel")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Delivery(models.Model):
    """A submission handed to a FIT-Connect destination: the id it has there, so that a
    retried delivery continues that submission instead of starting a second one."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="deliveries")
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries"
    )
    external_id = models.CharField(max_length=100)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "destination"], name="submissions_one_delivery"
            )
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} -> {self.destination_id}: {self.external_id}"
