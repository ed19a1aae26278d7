"""Choices of the funding register: programmes and their calls, the city's applications, their
budget lines and reporting duties.

Themes (``core.themes.Theme``), applicant types and regions are kept as bit masks (``*_mask``
fields, see ``core.themes``): the matching query tests them with a bitwise AND on every
database, in one statement."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Level(models.TextChoices):
    """Who funds: the level of government (or a private foundation)."""

    EU = "eu", _("EU")
    FEDERAL = "federal", _("Bund")
    STATE = "state", _("Land")
    MUNICIPAL = "municipal", _("Kommune")
    FOUNDATION = "foundation", _("Private Stiftung")


class FundingType(models.TextChoices):
    GRANT = "grant", _("Zuschuss")
    LOAN = "loan", _("Darlehen")
    PRIZE = "prize", _("Preis")


class ApplicantType(models.TextChoices):
    """Who may apply (order = bit position in ``applicant_types_mask``: append only)."""

    MUNICIPALITY = "municipality", _("Kommune")
    CITY_COMPANY = "city_company", _("Kommunales Unternehmen")
    SME = "sme", _("KMU")
    STARTUP = "startup", _("Start-up")
    LARGE_COMPANY = "large_company", _("Großunternehmen")
    UNIVERSITY = "university", _("Hochschule")
    RESEARCH = "research", _("Forschungseinrichtung")
    NONPROFIT = "nonprofit", _("Verein oder gemeinnützige Organisation")


class Region(models.TextChoices):
    """Where applicants must be (order = bit position in ``regions_mask``: append only): the EU,
    Germany, and the sixteen Länder by ISO 3166-2 code."""

    EU = "EU", _("Europäische Union")
    DE = "DE", _("Deutschland")
    BW = "DE-BW", "Baden-Württemberg"
    BY = "DE-BY", "Bayern"
    BE = "DE-BE", "Berlin"
    BB = "DE-BB", "Brandenburg"
    HB = "DE-HB", "Bremen"
    HH = "DE-HH", "Hamburg"
    HE = "DE-HE", "Hessen"
    MV = "DE-MV", "Mecklenburg-Vorpommern"
    NI = "DE-NI", "Niedersachsen"
    NW = "DE-NW", "Nordrhein-Westfalen"
    RP = "DE-RP", "Rheinland-Pfalz"
    SL = "DE-SL", "Saarland"
    SN = "DE-SN", "Sachsen"
    ST = "DE-ST", "Sachsen-Anhalt"
    SH = "DE-SH", "Schleswig-Holstein"
    TH = "DE-TH", "Thüringen"


class CallStatus(models.TextChoices):
    FORTHCOMING = "forthcoming", _("Angekündigt")
    OPEN = "open", pgettext_lazy("Förderaufruf", "Offen")
    CLOSED = "closed", pgettext_lazy("Förderaufruf", "Geschlossen")


class DeadlineModel(models.TextChoices):
    SINGLE = "single", _("Eine Frist")
    TWO_STAGE = "two_stage", _("Zweistufig (Skizze, dann Vollantrag)")
    CUTOFFS = "cutoffs", _("Mehrere Stichtage")


class Role(models.TextChoices):
    """The city's role in an application."""

    COORDINATOR = "coordinator", _("Koordinator")
    PARTNER = "partner", _("Partner")


class ApplicationStatus(models.TextChoices):
    """The way of an application; ``services.applications.TRANSITIONS`` says which step may
    follow which."""

    IDEA = "idea", _("Idee")
    PREPARATION = "preparation", _("In Vorbereitung")
    SUBMITTED = "submitted", _("Eingereicht")
    RESERVE = "reserve", _("Auf der Nachrückliste")
    REJECTED = "rejected", _("Abgelehnt")
    GRANTED = "granted", _("Bewilligt")
    RUNNING = "running", _("Laufend")
    CLOSED = "closed", _("Abgeschlossen")
    WITHDRAWN = "withdrawn", _("Zurückgezogen")


# statuses in which the funder has said yes (for success rates and funds acquired)
GRANTED_STATUSES = (ApplicationStatus.GRANTED, ApplicationStatus.RUNNING, ApplicationStatus.CLOSED)
# statuses in which the funder has decided (yes or no)
DECIDED_STATUSES = (*GRANTED_STATUSES, ApplicationStatus.REJECTED)


class GoDecision(models.TextChoices):
    """The city's internal decision whether to apply."""

    PENDING = "pending", _("Offen")
    GO = "go", pgettext_lazy("Förderentscheidung", "Go")
    NO_GO = "no_go", pgettext_lazy("Förderentscheidung", "No-Go")


class DocumentKind(models.TextChoices):
    APPLICATION = "application", _("Antrag")
    SKETCH = "sketch", _("Projektskizze")
    LETTER = "letter", _("Bescheid oder Ergebnisschreiben")
    AGREEMENT = "agreement", _("Zuwendungsvertrag")
    REPORT = "report", _("Bericht")
    OTHER = "other", _("Sonstiges")


class DutyKind(models.TextChoices):
    INTERIM_REPORT = "interim_report", _("Zwischenbericht")
    FINAL_REPORT = "final_report", _("Schlussbericht")
    FINANCIAL_REPORT = "financial_report", _("Verwendungsnachweis")
    AUDIT = "audit", _("Prüfung")
    OTHER = "other", _("Sonstige Pflicht")
