"""Writes of calls: department staff prepare a call (its text, phases, criteria and jury),
publish it, and after that change its rules only by amendment.

The rules of a call are its criteria (name, scale, weight, threshold), its phases (dates,
form, how entries pass on), its jury, and the call's own scoring settings (evaluations per
entry, blind scoring, the spread that calls for a consensus, the tie-break). While the call is
a draft they change freely (audited); once it is published every change needs a reason and
becomes an ``Amendment``, logged and shown on the call's public page. ``call_publish``
refuses a call whose rules are incomplete (no phase, weights that do not add up to 100, a
jury smaller than the evaluations each entry needs ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core.services import audit_entry_create
from rathaus.innovation.constants import AdvanceRule, CallStatus, Scale, TieBreak
from rathaus.innovation.models import Amendment, Call, Criterion, JuryMember, Phase


class CallError(Exception):
    """A change the rules do not allow; ``message`` is shown to staff (German + English
    through gettext), ``field`` names the form field it belongs to."""

    def __init__(self, message: Any, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


def _plain(value: Any) -> Any:
    """JSON form of a value for the audit log and amendments."""
    if isinstance(value, Decimal):
        return number_text(value)  # 20 and 20.00 are the same rule
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _state(instance: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(instance, name)) for name in names}


def _record(
    *,
    actor: User,
    call: Call,
    what: str,
    object_id: int | None,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str,
) -> None:
    """Audit a change of a call's rules; after publication also an amendment (which needs a
    reason). Nothing is recorded when nothing changed."""
    if before == after:
        return
    published = call.status != CallStatus.DRAFT
    reason = reason.strip()
    if published and not reason:
        raise CallError(
            _(
                "Der Wettbewerb ist veröffentlicht: Jede Änderung der Regeln wird als Änderung "
                "öffentlich gezeigt und braucht eine Begründung."
            ),
            code="reason_needed",
            field="reason",
        )
    if published:
        Amendment.objects.create(
            call=call,
            made_by=actor,
            reason=reason[:2000],
            what=what,
            object_id=object_id,
            before=before,
            after=after,
        )
    audit_entry_create(
        actor=actor,
        action=f"innovation.{what}.{'amend' if published else 'change'}",
        object_type=f"innovation.{what}",
        object_id=object_id if object_id is not None else call.pk,
        before=before,
        after={**after, **({"reason": reason} if reason else {})},
    )


def _locked_call(call_id: int) -> Call:
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise CallError(_("Diesen Wettbewerb gibt es nicht."), code="unknown")
    if call.status in (CallStatus.CLOSED, CallStatus.RESULTS):
        raise CallError(
            _("Der Wettbewerb ist abgeschlossen; seine Regeln ändern sich nicht mehr."),
            code="closed",
        )
    return call


# ---- the call ------------------------------------------------------------------------------


@dataclass
class CallData:
    title: str
    challenge: str
    title_en: str = ""
    challenge_en: str = ""
    organiser_ids: list[int] = field(default_factory=list)
    partner_ids: list[int] = field(default_factory=list)
    prize: str = ""
    budget_euros: int | None = None
    eligibility: str = ""
    terms: str = ""
    tie_break: str = TieBreak.CRITERIA_ORDER
    evaluators_per_entry: int = 3
    blind_scoring: bool = True
    disagreement_spread: Decimal = Decimal(20)


# the call's fields that are rules (changed after publication only by amendment)
CALL_RULES = ("tie_break", "evaluators_per_entry", "blind_scoring", "disagreement_spread")
CALL_TEXTS = (
    "title",
    "title_en",
    "challenge",
    "challenge_en",
    "organiser_ids",
    "partner_ids",
    "prize",
    "budget_euros",
    "eligibility",
    "terms",
)


def _check_call(data: CallData) -> None:
    if not data.title.strip():
        raise CallError(_("Bitte einen Titel angeben."), field="title")
    if not data.challenge.strip():
        raise CallError(_("Bitte die Aufgabe beschreiben."), field="challenge")
    if data.tie_break not in TieBreak.values:
        raise CallError(_("Bitte eine Regel aus der Liste wählen."), field="tie_break")
    if not 1 <= data.evaluators_per_entry <= 20:
        raise CallError(
            _("Jeder Beitrag braucht 1 bis 20 Bewertungen."), field="evaluators_per_entry"
        )
    if not Decimal(0) <= data.disagreement_spread <= Decimal(100):
        raise CallError(
            _("Die Abweichung liegt zwischen 0 und 100 Punkten."), field="disagreement_spread"
        )
    if data.budget_euros is not None and data.budget_euros < 0:
        raise CallError(_("Das Budget kann nicht negativ sein."), field="budget_euros")


# the fixed paths beside the calls' slugs under /wettbewerbe/ (urls.py)
RESERVED_SLUGS = frozenset({"verwaltung", "jury", "beitraege"})


def _unique_slug(title: str) -> str:
    base = (slugify(title) or "wettbewerb")[:200]
    slug, number = base, 2
    while slug in RESERVED_SLUGS or Call.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def call_create(*, actor: User, data: CallData) -> Call:
    department_staff_required(user=actor)
    _check_call(data)
    with transaction.atomic():
        call = Call(slug=_unique_slug(data.title), created_by=actor, status=CallStatus.DRAFT)
        for name in CALL_RULES + CALL_TEXTS:
            setattr(call, name, getattr(data, name))
        call.save()
        audit_entry_create(
            actor=actor,
            action="innovation.call.create",
            object_type="innovation.call",
            object_id=call.pk,
            after=_state(call, ("title", *CALL_RULES)),
        )
    return call


def call_update(*, actor: User, call_id: int, data: CallData, reason: str = "") -> Call:
    """Change a call's text and settings. After publication a change of its rules (or of its
    text: what entrants agreed to) is an amendment with a reason."""
    department_staff_required(user=actor)
    _check_call(data)
    with transaction.atomic():
        call = _locked_call(call_id)
        names = CALL_RULES + CALL_TEXTS
        before = _state(call, names)
        for name in names:
            setattr(call, name, getattr(data, name))
        after = _state(call, names)
        changed = [name for name in names if before[name] != after[name]]
        _record(
            actor=actor,
            call=call,
            what="call",
            object_id=call.pk,
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
            reason=reason,
        )
        call.save()
    return call


# ---- phases --------------------------------------------------------------------------------


@dataclass
class PhaseData:
    name: str
    opens_at: datetime
    closes_at: datetime
    evaluation_due_at: datetime
    name_en: str = ""
    entry_form: str = ""
    advance_rule: str = AdvanceRule.TOP_N
    advance_count: int | None = None
    advance_threshold: Decimal | None = None


PHASE_FIELDS = (
    "name",
    "name_en",
    "opens_at",
    "closes_at",
    "evaluation_due_at",
    "entry_form",
    "advance_rule",
    "advance_count",
    "advance_threshold",
)


def _check_phase(data: PhaseData) -> None:
    if not data.name.strip():
        raise CallError(_("Bitte der Phase einen Namen geben."), field="name")
    if data.closes_at <= data.opens_at:
        raise CallError(_("Die Einreichung muss nach ihrem Beginn enden."), field="closes_at")
    if data.evaluation_due_at < data.closes_at:
        raise CallError(
            _("Die Bewertung kann erst nach dem Ende der Einreichung fällig sein."),
            field="evaluation_due_at",
        )
    if data.advance_rule not in AdvanceRule.values:
        raise CallError(_("Bitte eine Regel aus der Liste wählen."), field="advance_rule")
    if data.advance_rule == AdvanceRule.TOP_N and not data.advance_count:
        raise CallError(_("Bitte angeben, wie viele Beiträge weiterkommen."), field="advance_count")
    if data.advance_rule == AdvanceRule.THRESHOLD and (
        data.advance_threshold is None or not 0 <= data.advance_threshold <= 100
    ):
        raise CallError(
            _("Bitte eine Mindestpunktzahl zwischen 0 und 100 angeben."),
            field="advance_threshold",
        )


def phase_save(
    *,
    actor: User,
    call_id: int,
    data: PhaseData,
    phase_id: int | None = None,
    reason: str = "",
) -> Phase:
    """Add a phase (at the end) or change one."""
    department_staff_required(user=actor)
    _check_phase(data)
    with transaction.atomic():
        call = _locked_call(call_id)
        if phase_id is None:
            last = call.phases.order_by("-position").values_list("position", flat=True).first()
            phase = Phase(call=call, position=(last or 0) + 1)
            before: dict[str, Any] = {}
        else:
            found = call.phases.select_for_update().filter(pk=phase_id).first()
            if found is None:
                raise CallError(_("Diese Phase gibt es nicht."), code="unknown")
            phase = found
            before = _state(phase, PHASE_FIELDS)
        for name in PHASE_FIELDS:
            setattr(phase, name, getattr(data, name))
        phase.save()
        _record(
            actor=actor,
            call=call,
            what="phase",
            object_id=phase.pk,
            before=before,
            after=_state(phase, PHASE_FIELDS),
            reason=reason,
        )
    return phase


# ---- criteria ------------------------------------------------------------------------------


@dataclass
class CriterionData:
    name: str
    scale: str
    weight: Decimal
    name_en: str = ""
    description: str = ""
    max_points: int = 10
    threshold: Decimal | None = None


CRITERION_FIELDS = ("name", "name_en", "description", "scale", "max_points", "weight", "threshold")


def scale_max(criterion: Criterion | CriterionData) -> Decimal:
    """The largest value a criterion can get."""
    fixed = {Scale.HALF_POINTS.value: Decimal(5), Scale.YES_NO.value: Decimal(1)}
    return fixed.get(criterion.scale, Decimal(criterion.max_points))


def _check_criterion(data: CriterionData) -> None:
    if not data.name.strip():
        raise CallError(_("Bitte das Kriterium benennen."), field="name")
    if data.scale not in Scale.values:
        raise CallError(_("Bitte eine Skala aus der Liste wählen."), field="scale")
    if data.scale == Scale.POINTS and not 1 <= data.max_points <= 100:
        raise CallError(_("Die Höchstpunktzahl liegt zwischen 1 und 100."), field="max_points")
    if not Decimal(0) < data.weight <= Decimal(100):
        raise CallError(
            _("Das Gewicht liegt über 0 und höchstens bei 100 Prozent."), field="weight"
        )
    if data.threshold is not None and not Decimal(0) <= data.threshold <= scale_max(data):
        raise CallError(
            _("Der Mindestwert muss auf der Skala des Kriteriums liegen (0 bis %(max)s).")
            % {"max": number_text(scale_max(data))},
            field="threshold",
        )


def criterion_save(
    *,
    actor: User,
    phase_id: int,
    data: CriterionData,
    criterion_id: int | None = None,
    reason: str = "",
) -> Criterion:
    """Add a criterion to a phase (at the end) or change one. Once scores exist for it, its
    scale cannot change (the scores would mean something else)."""
    department_staff_required(user=actor)
    _check_criterion(data)
    if data.scale != Scale.POINTS:
        data.max_points = int(scale_max(data))
    with transaction.atomic():
        phase = Phase.objects.filter(pk=phase_id).first()
        if phase is None:
            raise CallError(_("Diese Phase gibt es nicht."), code="unknown")
        call = _locked_call(phase.call_id)
        if criterion_id is None:
            last = phase.criteria.order_by("-position").values_list("position", flat=True).first()
            criterion = Criterion(phase=phase, position=(last or 0) + 1)
            before: dict[str, Any] = {}
        else:
            found = phase.criteria.select_for_update().filter(pk=criterion_id).first()
            if found is None:
                raise CallError(_("Dieses Kriterium gibt es nicht."), code="unknown")
            criterion = found
            before = _state(criterion, CRITERION_FIELDS)
            scored = criterion.scores.exists()
            if scored and (
                data.scale != criterion.scale or data.max_points != criterion.max_points
            ):
                raise CallError(
                    _(
                        "Für dieses Kriterium gibt es schon Bewertungen: Seine Skala lässt sich "
                        "nicht mehr ändern."
                    ),
                    code="scored",
                    field="scale",
                )
        for name in CRITERION_FIELDS:
            setattr(criterion, name, getattr(data, name))
        criterion.save()
        _record(
            actor=actor,
            call=call,
            what="criterion",
            object_id=criterion.pk,
            before=before,
            after=_state(criterion, CRITERION_FIELDS),
            reason=reason,
        )
    return criterion


def criterion_delete(*, actor: User, criterion_id: int, reason: str = "") -> None:
    department_staff_required(user=actor)
    with transaction.atomic():
        criterion = Criterion.objects.filter(pk=criterion_id).first()
        if criterion is None:
            raise CallError(_("Dieses Kriterium gibt es nicht."), code="unknown")
        call = _locked_call(criterion.phase.call_id)
        if criterion.scores.exists():
            raise CallError(
                _("Für dieses Kriterium gibt es schon Bewertungen; es bleibt."), code="scored"
            )
        _record(
            actor=actor,
            call=call,
            what="criterion",
            object_id=criterion.pk,
            before=_state(criterion, CRITERION_FIELDS),
            after={"deleted": True},
            reason=reason,
        )
        criterion.delete()


# ---- the jury ------------------------------------------------------------------------------


@dataclass
class JuryData:
    user: User
    public_name: str
    public_role: str = ""
    organisation_id: int | None = None
    chair: bool = False


JURY_FIELDS = ("public_name", "public_role", "organisation_id", "chair", "active")


def jury_member_save(*, actor: User, call_id: int, data: JuryData, reason: str = "") -> JuryMember:
    """Put a person on the jury (or change how they are shown, or bring them back)."""
    department_staff_required(user=actor)
    if not data.public_name.strip():
        raise CallError(_("Bitte den Namen angeben, unter dem die Person in der Jury steht."))
    with transaction.atomic():
        call = _locked_call(call_id)
        member = JuryMember.objects.filter(call=call, user=data.user).first()
        before = _state(member, JURY_FIELDS) if member is not None else {}
        if member is None:
            member = JuryMember(call=call, user=data.user)
        member.public_name = data.public_name.strip()[:200]
        member.public_role = data.public_role.strip()[:200]
        member.organisation_id = data.organisation_id
        member.chair = data.chair
        member.active = True
        member.save()
        _record(
            actor=actor,
            call=call,
            what="jury",
            object_id=member.pk,
            before=before,
            after=_state(member, JURY_FIELDS),
            reason=reason,
        )
    return member


def jury_member_remove(*, actor: User, member_id: int, reason: str = "") -> None:
    """Take a person off the jury. They stay recorded (their past evaluations too)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        member = JuryMember.objects.filter(pk=member_id).first()
        if member is None:
            raise CallError(_("Dieses Jurymitglied gibt es nicht."), code="unknown")
        call = _locked_call(member.call_id)
        before = _state(member, JURY_FIELDS)
        member.active = False
        member.save(update_fields=["active", "updated_at"])
        _record(
            actor=actor,
            call=call,
            what="jury",
            object_id=member.pk,
            before=before,
            after=_state(member, JURY_FIELDS),
            reason=reason,
        )


# ---- publication ---------------------------------------------------------------------------


def number_text(value: Decimal) -> str:
    """70.00 -> "70", 2.50 -> "2.5" (no exponent)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def call_problems(call: Call) -> list[str]:
    """What keeps a call from being published (empty: it can be)."""
    problems: list[str] = []
    phases = list(call.phases.order_by("position"))
    if not phases:
        problems.append(str(_("Der Wettbewerb hat noch keine Phase.")))
    for index, phase in enumerate(phases):
        total = phase.criteria.aggregate(total=Sum("weight"))["total"]
        if total is None:
            problems.append(
                str(_("Phase „%(name)s“ hat noch keine Kriterien.") % {"name": phase.name})
            )
        elif total != 100:
            problems.append(
                str(
                    _("Die Gewichte der Phase „%(name)s“ ergeben %(total)s statt 100 Prozent.")
                    % {"name": phase.name, "total": number_text(total)}
                )
            )
        if index and phase.opens_at < phases[index - 1].closes_at:
            problems.append(
                str(
                    _("Phase „%(name)s“ beginnt, bevor die vorige Phase endet.")
                    % {"name": phase.name}
                )
            )
    jury = call.jury.filter(active=True).count()
    if jury < call.evaluators_per_entry:
        problems.append(
            str(
                _(
                    "Die Jury hat %(jury)d Mitglieder; jeder Beitrag braucht aber "
                    "%(needed)d Bewertungen."
                )
                % {"jury": jury, "needed": call.evaluators_per_entry}
            )
        )
    return problems


def call_publish(*, actor: User, call_id: int, now: datetime | None = None) -> Call:
    """Publish a draft call: its rules and jury become public and fixed (amendments only)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        call = _locked_call(call_id)
        if call.status != CallStatus.DRAFT:
            raise CallError(_("Der Wettbewerb ist schon veröffentlicht."), code="published")
        problems = call_problems(call)
        if problems:
            raise CallError(" ".join(problems), code="incomplete")
        call.status = CallStatus.PUBLISHED
        call.published_at = now or timezone.now()
        call.save(update_fields=["status", "published_at", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="innovation.call.publish",
            object_type="innovation.call",
            object_id=call.pk,
            before={"status": CallStatus.DRAFT},
            after={"status": call.status, "rules": call_rules_snapshot(call)},
        )
    return call


def call_rules_snapshot(call: Call) -> dict[str, Any]:
    """The rules as published (for the audit log): settings, phases with criteria, jury."""
    return {
        "call": _state(call, CALL_RULES),
        "phases": [
            {
                **_state(phase, PHASE_FIELDS),
                "criteria": [
                    _state(criterion, CRITERION_FIELDS)
                    for criterion in phase.criteria.order_by("position")
                ],
            }
            for phase in call.phases.order_by("position")
        ],
        "jury": [
            _state(member, JURY_FIELDS) for member in call.jury.filter(active=True).order_by("pk")
        ],
    }
