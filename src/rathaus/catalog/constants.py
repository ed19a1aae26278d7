from django.db import models
from django.utils.translation import gettext_lazy as _

SEARCH_DOC_TYPE = "catalog.service"
LEIKA_URN_PREFIX = "urn:de:fim:leika:leistung:"
# LeiKa "Typisierung" of services municipalities execute (REFERENCE.md).
MUNICIPAL_LEIKA_TYPES = ("2/3", "4", "5")


class OzgMaturity(models.IntegerChoices):
    """OZG Reifegradmodell: the lowest criterion met decides."""

    OFFLINE = 0, _("0 – nur vor Ort")
    INFORMATION = 1, _("1 – Informationen online")
    FORM = 2, _("2 – Formular online (ausdrucken und einreichen)")
    ONLINE = 3, _("3 – online beantragen mit Nachweisen")
    FULLY_DIGITAL = 4, _("4 – vollständig digital mit Bescheid")


# The level from which a service counts as "online möglich": the legal obligation of the OZG.
ONLINE_FROM_LEVEL = OzgMaturity.ONLINE
