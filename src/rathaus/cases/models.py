from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office
from rathaus.cases.constants import CaseStatus, Decision, Priority
from rathaus.cases.workflow import OPEN
from rathaus.catalog.models import Service
from rathaus.core.models import TimeStampedModel
from rathaus.submissions.models import Submission


class Tag(models.Model):
    """A label an office gives its cases ("Eilt", "Nachweis fehlt")."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="case_tags")
    name = models.CharField(_("Name"), max_length=60)

    class Meta:
        verbose_name = _("Schlagwort")
        verbose_name_plural = _("Schlagwörter")
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="case_tag_once")]

    def __str__(self) -> str:
        return self.name


class Case(TimeStampedModel):
    """A submission as the responsible office works on it. Changed only through
    ``cases.services`` (and created in bulk by ``seeding`` for load tests); ``version``
    counts the changes (optimistic locking)."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="case")
    reference = models.CharField(_("Aktenzeichen"), max_length=40, unique=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(
        _("Status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.RECEIVED
    )
    decision = models.CharField(
        _("Entscheidung"), max_length=20, choices=Decision.choices, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bearbeitet von"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    priority = models.PositiveSmallIntegerField(
        _("Priorität"), choices=Priority.choices, default=Priority.NORMAL
    )
    received_at = models.DateTimeField(_("eingegangen am"), default=timezone.now)
    due_on = models.DateField(_("fällig am"), null=True, blank=True)
    closed_at = models.DateTimeField(_("abgeschlossen am"), null=True, blank=True)
    # when the decision letter was issued in Rathaus (online end to end); kept when retention
    # deletes the letter itself, so that past statistics do not change
    letter_issued_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    version = models.PositiveIntegerField(default=1)
    # 1 while the case still needs work, else 0: computed by the database from the status,
    # so that the inbox's indexes can start with it (an IN list of statuses cannot be read
    # in order). A number, not a boolean: SQLite uses an index for "is_open = 1" but not for
    # the bare column Django writes for a boolean filter.
    is_open = models.GeneratedField(
        expression=models.Case(
            models.When(status__in=sorted(OPEN), then=models.Value(1)),
            default=models.Value(0),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    # the applicant's name from the answers (encrypted), for the inbox; searched through
    # CaseNameToken, never in the clear
    applicant_encrypted = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Vorgang")
        verbose_name_plural = _("Vorgänge")
        # one index per way the inbox reads (filter, then the sort with its tie-breakers), so
        # that a page is read in order and stops after 25 rows however large the office
        indexes = [
            models.Index(
                fields=["office", "is_open", "due_on", "received_at", "id"], name="case_open_due"
            ),
            models.Index(
                fields=["office", "is_open", "received_at", "id"], name="case_open_received"
            ),
            models.Index(
                fields=["office", "is_open", "-priority", "due_on", "id"],
                name="case_open_priority",
            ),
            models.Index(
                fields=["office", "status", "due_on", "received_at", "id"], name="case_status_due"
            ),
            models.Index(fields=["office", "received_at", "id"], name="case_received"),
            models.Index(
                fields=["assignee", "is_open", "due_on", "received_at", "id"],
                name="case_assignee_due",
            ),
            models.Index(
                fields=["assignee", "status", "due_on", "received_at", "id"],
                name="case_assignee_status_due",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class CaseNameToken(models.Model):
    """The blind index of the applicant's name (core.blind_index): one keyed digest per
    word of the name, recording the key that made it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="name_tokens")
    digest = models.CharField(max_length=32)
    key_id = models.CharField(max_length=8)

    class Meta:
        indexes = [models.Index(fields=["digest", "case"], name="case_name_token")]
        constraints = [
            models.UniqueConstraint(fields=["case", "digest"], name="case_name_token_once")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.key_id}"


class CaseNote(models.Model):
    """An internal note on a case: for the office only, never shown to the citizen; its
    text is encrypted (it may name people)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(default=timezone.now)
    text_encrypted = models.TextField()

    class Meta:
        verbose_name = _("interne Notiz")
        verbose_name_plural = _("interne Notizen")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} note {self.pk}"


class CaseEvent(models.Model):
    """The case's history: its opening, every transition and assignment, with who and when.
    What the citizen is told goes to the submission's timeline (encrypted), not here."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("angelegt")
        TRANSITION = "transition", _("Statuswechsel")
        ASSIGNMENT = "assignment", _("Zuweisung")
        CLASSIFICATION = "classification", _("Priorität und Schlagwörter")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    from_status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True)
    details = models.JSONField(default=dict, blank=True)  # ids and choices, no personal data

    class Meta:
        verbose_name = _("Vorgangsereignis")
        verbose_name_plural = _("Vorgangsereignisse")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_history")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class CaseMessage(models.Model):
    """The secure mailbox of a case: a question of the office to the citizen (with the
    documents it asks for) or the citizen's answer. The text is encrypted; the e-mail that
    announces a question carries only the reference number and the link. Files sent with an
    answer become attachments of the submission (``submissions.Attachment`` with the field
    ``antwort:<message id>``), so retention, the pull API and the export have them too."""

    class Direction(models.TextChoices):
        TO_CITIZEN = "to_citizen", _("an die antragstellende Person")
        FROM_CITIZEN = "from_citizen", _("von der antragstellenden Person")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=20, choices=Direction.choices)
    at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )  # the caseworker who asked; nobody for the citizen's answer
    text_encrypted = models.TextField()
    requested_documents = models.JSONField(
        default=list, blank=True
    )  # names, e.g. "Meldebescheinigung"

    class Meta:
        verbose_name = _("Nachricht")
        verbose_name_plural = _("Nachrichten")
        ordering = ["-at", "-pk"]  # the newest on top
        indexes = [models.Index(fields=["case", "at"], name="case_message_order")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.direction}"


class LetterTemplate(TimeStampedModel):
    """The text of a decision letter of an office, for one service or (no service) for all
    of its services. Plain text with placeholders such as ``{{ antragsteller }}``
    (``cases.letters.PLACEHOLDERS``), set into the letter layout (typst) as text: a template
    cannot run code and cannot break the layout."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="letter_templates")
    service = models.ForeignKey(
        Service,
        verbose_name=_("Leistung"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="letter_templates",
    )
    name = models.CharField(_("Name"), max_length=120)
    body = models.TextField(_("Text"))

    class Meta:
        verbose_name = _("Bescheidvorlage")
        verbose_name_plural = _("Bescheidvorlagen")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from rathaus.cases.letters import placeholders_check

        placeholders_check(self.body)
