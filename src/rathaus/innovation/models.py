"""Innovation competitions (docs/innovation.md): a call with its phases, each phase with its
entry form (the form engine) and its evaluation criteria; the published jury; the entries of
organisations of the directory and their way through the phases; the jury's assignments with
conflict-of-interest declarations, the scores per criterion, and the consensus.

Organisations live in the economy app: they are kept here as ids (``*_organisation_id``,
``organiser_ids``) and read through ``economy.selectors``, as the architecture asks for links
between pillars. The rules of a call (criteria, weights, thresholds, the jury) are fixed when
it is published; changing them later is an ``Amendment``, logged and shown on the call's page.

Personal data (an entry's team, its answers, evaluators' comments) is kept encrypted
(``*_encrypted``, core.crypto)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rathaus.core.models import TimeStampedModel
from rathaus.innovation.constants import (
    AdvanceRule,
    AssignmentState,
    CallStatus,
    ConflictSource,
    Eligibility,
    EntryStatus,
    PhaseResult,
    Scale,
    TieBreak,
)


class Call(TimeStampedModel):
    """A competition ("Smart City Challenge"): the challenge, who organises it, what there is
    to win, who may enter, the terms, the phases, the jury."""

    title = models.CharField(_("Titel"), max_length=200)
    title_en = models.CharField(_("Titel (englisch)"), max_length=200, blank=True)
    slug = models.SlugField(_("Kürzel"), max_length=220, unique=True)
    status = models.CharField(
        _("Status"), max_length=20, choices=CallStatus.choices, default=CallStatus.DRAFT
    )
    challenge = models.TextField(_("Aufgabe"))
    challenge_en = models.TextField(_("Aufgabe (englisch)"), blank=True)
    # organisations of the directory (economy.Organisation ids): who organises, who partners
    organiser_ids = models.JSONField(default=list, blank=True)
    partner_ids = models.JSONField(default=list, blank=True)
    prize = models.TextField(_("Preis oder Pilotbudget"), blank=True)
    budget_euros = models.PositiveIntegerField(_("Budget in Euro"), null=True, blank=True)
    eligibility = models.TextField(_("Wer teilnehmen darf"), blank=True)
    terms = models.TextField(_("Teilnahmebedingungen"), blank=True)
    tie_break = models.CharField(
        _("Regel bei Punktgleichheit"),
        max_length=20,
        choices=TieBreak.choices,
        default=TieBreak.CRITERIA_ORDER,
    )
    evaluators_per_entry = models.PositiveSmallIntegerField(
        _("Bewertungen je Beitrag (mindestens)"), default=3
    )
    # evaluators see the others' scores of an entry only after submitting their own
    blind_scoring = models.BooleanField(_("Verdeckte Bewertung"), default=True)
    # weighted totals of one entry further apart than this (in points of the weighted total,
    # 0-100) are flagged for a consensus discussion
    disagreement_spread = models.DecimalField(
        _("Abweichung für Konsensrunde (Punkte)"), max_digits=5, decimal_places=2, default=20
    )
    published_at = models.DateTimeField(null=True, blank=True)
    results_published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("Wettbewerb")
        verbose_name_plural = _("Wettbewerbe")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(evaluators_per_entry__gte=1, evaluators_per_entry__lte=20),
                name="innovation_call_evaluators_per_entry",
            ),
            models.CheckConstraint(
                condition=Q(disagreement_spread__gte=0, disagreement_spread__lte=100),
                name="innovation_call_spread",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Phase(TimeStampedModel):
    """One step of a call (concept, full proposal, pitch ...): when entries are taken, the
    form they fill in, by when the jury evaluates, and how entries pass on."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(_("Reihenfolge"))
    name = models.CharField(_("Name"), max_length=200)
    name_en = models.CharField(_("Name (englisch)"), max_length=200, blank=True)
    opens_at = models.DateTimeField(_("Einreichung ab"))
    closes_at = models.DateTimeField(_("Einreichung bis"))
    evaluation_due_at = models.DateTimeField(_("Bewertung bis"))
    # the slug of a form of the form engine (forms.Form): the entry's questions in this phase
    entry_form = models.CharField(_("Formular"), max_length=100, blank=True)
    advance_rule = models.CharField(
        _("Weiter kommen"), max_length=20, choices=AdvanceRule.choices, default=AdvanceRule.TOP_N
    )
    advance_count = models.PositiveIntegerField(_("Anzahl (die besten N)"), null=True, blank=True)
    advance_threshold = models.DecimalField(
        _("Mindestpunktzahl (0-100)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)  # who passed on was decided

    class Meta:
        verbose_name = _("Phase")
        verbose_name_plural = _("Phasen")
        ordering = ["call", "position"]
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="innovation_phase_position"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="innovation_phase_closes_after"
            ),
            models.CheckConstraint(
                condition=Q(evaluation_due_at__gte=F("closes_at")),
                name="innovation_phase_evaluation_after",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}/{self.position} {self.name}"


class Criterion(TimeStampedModel):
    """What the jury scores in a phase, on its scale, with its weight (weights of a phase's
    criteria add up to 100). A threshold makes it a knock-out: below it, an entry cannot pass
    however good the rest is."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(_("Reihenfolge"))
    name = models.CharField(_("Kriterium"), max_length=200)
    name_en = models.CharField(_("Kriterium (englisch)"), max_length=200, blank=True)
    description = models.TextField(_("Was bewertet wird"), blank=True)
    scale = models.CharField(_("Skala"), max_length=20, choices=Scale.choices)
    max_points = models.PositiveSmallIntegerField(
        _("Höchstpunktzahl"), default=10, help_text=_("Nur für die Skala „Punkte“")
    )
    weight = models.DecimalField(_("Gewicht (Prozent)"), max_digits=5, decimal_places=2)
    threshold = models.DecimalField(
        _("Mindestwert"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("Kriterium")
        verbose_name_plural = _("Kriterien")
        ordering = ["phase", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "position"], name="innovation_criterion_position"
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0, weight__lte=100), name="innovation_criterion_weight"
            ),
            models.CheckConstraint(
                condition=Q(max_points__gte=1, max_points__lte=100),
                name="innovation_criterion_max_points",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class JuryMember(TimeStampedModel):
    """An evaluator of a call, published with the call (name and function, not the account).
    ``organisation_id``: the organisation of the directory they act for, if any: conflicts of
    interest are found from its relations."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="jury")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="innovation_juries"
    )
    public_name = models.CharField(_("Name (öffentlich)"), max_length=200)
    public_role = models.CharField(_("Funktion (öffentlich)"), max_length=200, blank=True)
    organisation_id = models.PositiveBigIntegerField(_("Organisation"), null=True, blank=True)
    chair = models.BooleanField(_("Vorsitz"), default=False)
    active = models.BooleanField(default=True)  # left the jury: an amendment says so

    class Meta:
        verbose_name = _("Jurymitglied")
        verbose_name_plural = _("Jury")
        ordering = ["call", "-chair", "public_name"]
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="innovation_jury_once")
        ]

    def __str__(self) -> str:
        return self.public_name


class Amendment(TimeStampedModel):
    """A change of a published call's rules (a criterion, a weight, a threshold, the jury, a
    date): who, when, why, before and after. Shown on the call's page."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="amendments")
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("Begründung"))
    what = models.CharField(max_length=40)  # "criterion", "phase", "jury", "call"
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("Änderung der Regeln")
        verbose_name_plural = _("Änderungen der Regeln")
        ordering = ["call", "created_at", "pk"]

    def __str__(self) -> str:
        return f"amendment {self.pk} of {self.call_id}"


class Entry(TimeStampedModel):
    """An organisation's entry to a call, with its team. It takes part in one phase after
    the other (``EntryPhase``); ``current_phase`` is the latest it reached."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="entries")
    organisation_id = models.PositiveBigIntegerField(_("Organisation"))
    title = models.CharField(_("Titel des Beitrags"), max_length=200)
    # [{"name": ..., "role": ...}] of the team, encrypted
    team_encrypted = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="innovation_entries"
    )
    status = models.CharField(
        _("Status"), max_length=20, choices=EntryStatus.choices, default=EntryStatus.DRAFT
    )
    eligibility = models.CharField(
        _("Teilnahmeberechtigung"),
        max_length=20,
        choices=Eligibility.choices,
        default=Eligibility.PENDING,
    )
    eligibility_reason = models.TextField(_("Begründung"), blank=True)
    eligibility_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)  # first submission
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("Wettbewerb", "Beitrag")
        verbose_name_plural = _("Beiträge")
        ordering = ["call", "submitted_at", "pk"]
        indexes = [models.Index(fields=["call", "status", "eligibility"])]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organisation_id"],
                condition=~Q(status=EntryStatus.WITHDRAWN),
                name="innovation_entry_once_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.title


class EntryPhase(TimeStampedModel):
    """An entry in one phase: its answers to the phase's form, its result, and the jury's
    consensus (``consensus_total``: the weighted total 0-100 agreed on, beside the
    individual scores)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="phases")
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="entries")
    # {"form_version": id, "values": {...}} encrypted
    answers_encrypted = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(
        _("Ergebnis"), max_length=20, choices=PhaseResult.choices, default=PhaseResult.OPEN
    )
    result_reason = models.TextField(_("Begründung"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # the evaluators' weighted totals are further apart than the call's spread
    disagreement = models.BooleanField(default=False)
    consensus_total = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    consensus_reason = models.TextField(blank=True)
    consensus_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("Beitrag in einer Phase")
        verbose_name_plural = _("Beiträge in Phasen")
        ordering = ["phase", "rank", "pk"]
        indexes = [models.Index(fields=["phase", "result"])]
        constraints = [
            models.UniqueConstraint(fields=["entry", "phase"], name="innovation_entry_phase_once")
        ]

    def __str__(self) -> str:
        return f"entry {self.entry_id} in phase {self.phase_id}"


class Assignment(TimeStampedModel):
    """An evaluator and an entry in a phase. The evaluator declares (no) conflict of interest
    before the entry is shown; a conflict declared or found in the directory blocks the
    assignment until staff decide (cleared or recused). Recusals stay recorded."""

    entry_phase = models.ForeignKey(
        EntryPhase, on_delete=models.CASCADE, related_name="assignments"
    )
    evaluator = models.ForeignKey(JuryMember, on_delete=models.PROTECT, related_name="assignments")
    state = models.CharField(
        _("Stand"),
        max_length=20,
        choices=AssignmentState.choices,
        default=AssignmentState.ASSIGNED,
    )
    declared_at = models.DateTimeField(null=True, blank=True)
    conflict_source = models.CharField(max_length=20, choices=ConflictSource.choices, blank=True)
    conflict_note = models.TextField(_("Angaben zum Konflikt"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    weighted_total = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Zuweisung")
        verbose_name_plural = _("Zuweisungen")
        ordering = ["entry_phase", "pk"]
        indexes = [
            models.Index(fields=["evaluator", "state"]),
            models.Index(fields=["entry_phase", "state"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["entry_phase", "evaluator"], name="innovation_assignment_once"
            )
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk} ({self.state})"


class Score(TimeStampedModel):
    """One evaluator's value for one criterion, with a comment (encrypted)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    value = models.DecimalField(max_digits=5, decimal_places=2)
    comment_encrypted = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Punktwert")
        verbose_name_plural = _("Punktwerte")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "criterion"], name="innovation_score_once"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="innovation_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}/{self.criterion_id}: {self.value}"


class ConsensusScore(TimeStampedModel):
    """The value the jury agreed on for one criterion of an entry in a consensus discussion,
    beside the individual scores, with the reason for the change."""

    entry_phase = models.ForeignKey(
        EntryPhase, on_delete=models.CASCADE, related_name="consensus_scores"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=5, decimal_places=2)
    reason = models.TextField(_("Begründung"), blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("Konsenswert")
        verbose_name_plural = _("Konsenswerte")
        constraints = [
            models.UniqueConstraint(
                fields=["entry_phase", "criterion"], name="innovation_consensus_once"
            )
        ]

    def __str__(self) -> str:
        return f"consensus {self.entry_phase_id}/{self.criterion_id}: {self.value}"
