from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("wartet")
    QUEUED = "queued", _("an Worker übergeben")
    IN_PROGRESS = "in_progress", _("wird zugestellt")
    DELIVERED = "delivered", _("zugestellt")
    DEAD = "dead", _("aufgegeben (Dead Letter)")


class AreaKind(models.TextChoices):
    STADTBEZIRK = "stadtbezirk", _("Stadtbezirk")
    ORTSTEIL = "ortsteil", _("Ortsteil")
