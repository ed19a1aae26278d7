from django.db import models
from django.utils.translation import gettext_lazy as _


class SubmissionStatus(models.TextChoices):
    """The steps of the citizen's timeline (the back office moves a submission along)."""

    RECEIVED = "received", _("eingegangen")
    IN_PROGRESS = "in_progress", _("in Bearbeitung")
    QUERY = "query", _("Rückfrage")
    DECIDED = "decided", _("entschieden")
    CLOSED = "closed", _("abgeschlossen")
    FORWARDED = "forwarded", _("weitergeleitet")
    WITHDRAWN = "withdrawn", _("zurückgezogen")
