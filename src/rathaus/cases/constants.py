from django.db import models
from django.utils.translation import gettext_lazy as _

from rathaus.submissions.constants import SubmissionStatus

# A case's status is its submission's: the same steps, so that the citizen's timeline and
# the office's workflow never disagree.
CaseStatus = SubmissionStatus


class Decision(models.TextChoices):
    GRANTED = "granted", _("bewilligt")
    PARTLY_GRANTED = "partly_granted", _("teilweise bewilligt")
    REFUSED = "refused", _("abgelehnt")


class Priority(models.IntegerChoices):
    LOW = 1, _("niedrig")
    NORMAL = 2, _("normal")
    HIGH = 3, _("hoch")
