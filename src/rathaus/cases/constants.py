from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    """Where a case stands. The same values as the citizen's timeline (SubmissionStatus)."""

    RECEIVED = "received", _("eingegangen")
    IN_PROGRESS = "in_progress", _("in Bearbeitung")
    QUERY = "query", _("Rückfrage")
    DECIDED = "decided", _("entschieden")
    CLOSED = "closed", _("abgeschlossen")
    FORWARDED = "forwarded", _("weitergeleitet")
    WITHDRAWN = "withdrawn", _("zurückgezogen")


class Decision(models.TextChoices):
    GRANTED = "granted", _("bewilligt")
    PARTLY_GRANTED = "partly_granted", _("teilweise bewilligt")
    REFUSED = "refused", _("abgelehnt")


class Priority(models.IntegerChoices):
    LOW = 1, _("niedrig")
    NORMAL = 2, _("normal")
    HIGH = 3, _("hoch")
