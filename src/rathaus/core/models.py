"""Core models: the shared base, the audit log, the transactional outbox and the city's areas."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.core.constants import AreaKind, OutboxStatus


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("angelegt"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("geändert"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditEntry(models.Model):
    """One change of state, written by a service; never updated or deleted.

    The database refuses UPDATE and DELETE as well (triggers in migration 0002), so an
    entry cannot be rewritten through raw SQL or a bulk queryset either.
    """

    created_at = models.DateTimeField(_("Zeitpunkt"), default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Akteur"),
        null=True,
        blank=True,
        # DO_NOTHING: the entry must not change when the account goes (append-only);
        # actor_label keeps who it was.
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    # Kept in case the account is deleted later: the user id, never a name or an e-mail.
    actor_label = models.CharField(_("Akteur (Kennung)"), max_length=64, blank=True)
    action = models.CharField(_("Aktion"), max_length=100)
    object_type = models.CharField(_("Objekttyp"), max_length=100)
    object_id = models.CharField(_("Objekt-ID"), max_length=64, blank=True)
    before = models.JSONField(_("vorher"), null=True, blank=True)
    after = models.JSONField(_("nachher"), null=True, blank=True)
    request_id = models.CharField(_("Request-ID"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("Audit-Eintrag")
        verbose_name_plural = _("Audit-Log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")


class OutboxMessage(models.Model):
    """A piece of work written in the same transaction as the change that causes it.

    Delivered at least once by a worker (core.outbox); receivers get ``idempotency_key`` so
    that a repeated delivery has no second effect.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    topic = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    available_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Outbox-Nachricht")
        verbose_name_plural = _("Outbox")
        ordering = ["available_at", "id"]
        indexes = [
            models.Index(fields=["status", "available_at"]),
            models.Index(fields=["status", "leased_until"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(attempts__lte=models.F("max_attempts")),
                name="outbox_attempts_within_max",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"


class Area(TimeStampedModel):
    """An administrative area of the city: a Stadtbezirk or an Ortsteil inside one."""

    uri = models.URLField(_("URI"), max_length=300, unique=True)
    kind = models.CharField(_("Art"), max_length=20, choices=AreaKind.choices)
    name = models.CharField(_("Name"), max_length=200)
    number = models.CharField(_("Nummer"), max_length=20, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("liegt in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("Gebiet")
        verbose_name_plural = _("Gebiete")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return self.name


class SearchDocument(models.Model):
    """The analysed text of one searchable object (core.search). Indexed by the database's
    full-text engine: an FTS5 table on SQLite, a tsvector column on PostgreSQL (migration
    core 0004); both kept in step by the database itself."""

    doc_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    tokens = models.TextField()  # stems and compound-part stems of the primary fields
    tokens_more = models.TextField(blank=True)  # ... of the other fields
    fields = models.JSONField(default=dict)  # per field: the stems, for ranking
    words = models.TextField(blank=True)  # folded surface words: the typo vocabulary

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "object_id"], name="core_search_doc_once")
        ]

    def __str__(self) -> str:
        return f"{self.doc_type}:{self.object_id}"


class SearchIndexState(models.Model):
    """A counter per document type, raised on every index change, so that each process knows
    when to reload its vocabulary."""

    doc_type = models.CharField(max_length=50, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.doc_type} v{self.version}"
