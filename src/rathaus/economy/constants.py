"""Choices of the digital-economy platform: the directory, relations, events, rooms and the
board of offers and needs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    STARTUP = "startup", _("Start-up")
    SME = "sme", _("KMU")
    CORPORATE = "corporate", _("Konzern")
    RESEARCH = "research", _("Forschungseinrichtung")
    UNIVERSITY = "university", _("Hochschule")
    ACCELERATOR = "accelerator", _("Accelerator/Inkubator")
    INVESTOR = "investor", _("Investor")
    NETWORK = "network", _("Netzwerk/Verband")
    PUBLIC_BODY = "public_body", _("Öffentliche Stelle")
    CITY_COMPANY = "city_company", _("Städtisches Unternehmen")


class Stage(models.TextChoices):
    IDEA = "idea", _("Idee")
    SEED = "seed", _("Gründung (Seed)")
    GROWTH = "growth", _("Wachstum")
    ESTABLISHED = "established", _("Etabliert")


class SizeBand(models.TextChoices):
    """Employees, in the EU's bands for SMEs."""

    MICRO = "1-9", _("1-9 Beschäftigte")
    SMALL = "10-49", _("10-49 Beschäftigte")
    MEDIUM = "50-249", _("50-249 Beschäftigte")
    LARGE = "250+", _("250 und mehr Beschäftigte")


class EntryStatus(models.TextChoices):
    """A directory entry: self-registered entries wait for the department's moderation."""

    PENDING = "pending", _("Wartet auf Prüfung")
    PUBLISHED = "published", _("Veröffentlicht")
    REJECTED = "rejected", _("Abgelehnt")
    ARCHIVED = "archived", _("Archiviert")


class EntrySource(models.TextChoices):
    SELF = "self", _("Selbst eingetragen")
    IMPORT = "import", _("Vom Referat importiert")  # a "shadow" entry until it is claimed


class Visibility(models.TextChoices):
    """Who sees a field of a profile."""

    PUBLIC = "public", _("Alle")
    MEMBERS = "members", _("Angemeldete Mitglieder")
    ORGANISATION = "organisation", _("Nur die Organisation und das Referat")


class TermKind(models.TextChoices):
    SECTOR = "sector", _("Branche")
    COMPETENCE = "competence", _("Kompetenz")


class MemberRole(models.TextChoices):
    ADMIN = "admin", _("Verwaltet das Profil")
    MEMBER = "member", _("Mitglied")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Wartet auf Prüfung")
    APPROVED = "approved", _("Bestätigt")
    REJECTED = "rejected", _("Abgelehnt")


class RelationKind(models.TextChoices):
    MEMBER_OF = "member_of", _("ist Mitglied von")
    PARTNER_IN = "partner_in", _("ist Partner in")
    SPIN_OFF_OF = "spin_off_of", _("ist Ausgründung von")
    FUNDED_BY = "funded_by", _("wird gefördert von")
    LOCATED_AT_HUB = "located_at_hub", _("sitzt im Hub")
    # to people
    FOUNDED_BY = "founded_by", _("gegründet von")
    EMPLOYS = "employs", _("beschäftigt")
    ADVISED_BY = "advised_by", _("beraten von")


class RelationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Wartet auf Bestätigung")
    CONFIRMED = "confirmed", _("Bestätigt")
    DECLINED = "declined", _("Abgelehnt")


class EventFormat(models.TextChoices):
    ON_SITE = "on_site", _("Vor Ort")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    PUBLISHED = "published", _("Veröffentlicht")
    CANCELLED = "cancelled", _("Abgesagt")


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Angemeldet")
    WAITING = "waiting", _("Warteliste")
    CANCELLED = "cancelled", _("Abgemeldet")


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Gebucht")
    CANCELLED = "cancelled", _("Storniert")


class PostKind(models.TextChoices):
    NEED = "need", _("Gesucht")
    OFFER = "offer", _("Angebot")


class PostStatus(models.TextChoices):
    OPEN = "open", _("Offen")
    CLOSED = "closed", _("Geschlossen")
