"""Choices of the innovation competitions: calls and their phases, criteria and their scales,
entries, the jury's assignments and conflicts of interest."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    """A call: prepared as a draft, published (its rules and jury fixed and visible), open for
    entries while a phase is open, closed, decided, and its results published."""

    DRAFT = "draft", _("Entwurf")
    PUBLISHED = "published", _("Veröffentlicht")
    CLOSED = "closed", _("Abgeschlossen")
    RESULTS = "results", _("Ergebnisse veröffentlicht")


class AdvanceRule(models.TextChoices):
    """How entries pass from a phase to the next (or win after the last)."""

    TOP_N = "top_n", _("Die besten N")
    THRESHOLD = "threshold", _("Ab einer Mindestpunktzahl")
    DECISION = "decision", _("Nach Entscheidung")


class Scale(models.TextChoices):
    """How a criterion is scored."""

    POINTS = "points", _("Punkte (0 bis Höchstwert)")
    HALF_POINTS = "half_points", _("0 bis 5 in halben Punkten")
    YES_NO = "yes_no", _("Ja/Nein")


class TieBreak(models.TextChoices):
    """The rule that orders entries with the same consensus score, recorded with the call."""

    CRITERIA_ORDER = "criteria_order", _("Nach den Kriterien in ihrer Reihenfolge")
    EARLIER_ENTRY = "earlier_entry", _("Früher eingereicht zuerst")
    JURY_DECISION = "jury_decision", _("Entscheidung der Jury (begründet)")


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    SUBMITTED = "submitted", _("Eingereicht")
    WITHDRAWN = "withdrawn", _("Zurückgezogen")


class Eligibility(models.TextChoices):
    PENDING = "pending", _("Wird geprüft")
    ELIGIBLE = "eligible", _("Teilnahmeberechtigt")
    INELIGIBLE = "ineligible", _("Nicht teilnahmeberechtigt")


class PhaseResult(models.TextChoices):
    """An entry's result in a phase."""

    OPEN = "open", _("Offen")
    ADVANCED = "advanced", _("Kommt weiter")
    NOT_ADVANCED = "not_advanced", _("Nicht weiter")
    WINNER = "winner", _("Gewonnen")


class AssignmentState(models.TextChoices):
    """An evaluator's assignment to an entry: the evaluator declares conflicts before seeing
    the entry; a conflict the platform finds in the directory's relations (or one declared)
    blocks the assignment until staff decide."""

    ASSIGNED = "assigned", _("Zugewiesen, Erklärung offen")
    BLOCKED = "blocked", _("Möglicher Interessenkonflikt: Entscheidung offen")
    CLEARED = "cleared", _("Frei zur Bewertung")
    RECUSED = "recused", _("Befangen, ausgeschieden")
    SUBMITTED = "submitted", _("Bewertung abgegeben")


class ConflictSource(models.TextChoices):
    DECLARED = "declared", _("Selbst erklärt")
    DIRECTORY = "directory", _("Aus dem Verzeichnis erkannt")
