"""Reads of the calls for their public pages. The gate: ``call_get_for_user`` (everyone sees
a call once it is published; drafts only department staff). ``call_rules`` gathers what the
page states as the call's rules: the phases with their criteria, the active jury (public
names and functions, never accounts), the amendments, and the organisations of the directory
(read through the economy app's selectors)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import user_is_department_staff
from rathaus.economy.selectors.directory import organisation_names
from rathaus.innovation.constants import CallStatus, Scale
from rathaus.innovation.models import Amendment, Call, Criterion, JuryMember, Phase

AnyUser = User | AnonymousUser

# what an amendment changed -> the model whose field names its before/after use
AMENDED_MODELS: dict[str, type[models.Model]] = {
    "criterion": Criterion,
    "phase": Phase,
    "jury": JuryMember,
    "call": Call,
}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _with_phases(calls: QuerySet[Call]) -> QuerySet[Call]:
    return calls.prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("position")),
    )


def call_public_list() -> QuerySet[Call]:
    """Every call that is not a draft, newest first, with its phases (in order)."""
    return _with_phases(Call.objects.exclude(status=CallStatus.DRAFT)).order_by(
        F("published_at").desc(nulls_last=True), "-created_at", "-pk"
    )


def call_get_for_user(*, user: AnyUser, slug: str) -> Call:
    """A call's page: Http404 for an unknown slug, and for a draft unless ``user`` is
    department staff (so that a draft's existence does not leak)."""
    calls = Call.objects.all()
    if not user_is_department_staff(user=user):
        calls = calls.exclude(status=CallStatus.DRAFT)
    call = (
        calls.filter(slug=slug[:220])
        .prefetch_related(
            Prefetch(
                "phases",
                queryset=Phase.objects.order_by("position").prefetch_related(
                    Prefetch("criteria", queryset=Criterion.objects.order_by("position"))
                ),
            )
        )
        .first()
    )
    if call is None:
        raise Http404("no such call")
    return call


def call_current_phase(call: Call, now: datetime) -> Phase | None:
    """The phase taking entries at ``now``, else the next one to open, else None. Uses the
    call's (prefetched) phases."""
    phases = sorted(call.phases.all(), key=lambda phase: (phase.opens_at, phase.position))
    for phase in phases:
        if phase.opens_at <= now < phase.closes_at:
            return phase
    return next((phase for phase in phases if phase.opens_at > now), None)


# ---- the rules of a call ---------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRule:
    name: str
    description: str
    scale: str
    scale_label: str
    max_points: int | None  # only for the scale "points"
    weight: Decimal
    threshold: Decimal | None


@dataclass(frozen=True)
class PhaseRule:
    pk: int
    position: int
    name: str
    opens_at: datetime
    closes_at: datetime
    evaluation_due_at: datetime
    advance_rule: str
    advance_count: int | None
    advance_threshold: Decimal | None
    is_open: bool  # taking entries now
    is_current: bool  # open now, or the next to open
    criteria: list[CriterionRule] = field(default_factory=list)


@dataclass(frozen=True)
class JurySeat:
    public_name: str
    public_role: str
    chair: bool


@dataclass(frozen=True)
class AmendmentChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AmendmentRule:
    date: datetime
    reason: str
    what: str  # "criterion", "phase", "jury", "call"
    what_label: str
    changes: list[AmendmentChange]


@dataclass(frozen=True)
class OrganisationLink:
    name: str
    slug: str


@dataclass(frozen=True)
class CallRules:
    phases: list[PhaseRule]
    current_phase: PhaseRule | None
    jury: list[JurySeat]
    amendments: list[AmendmentRule]
    organisers: list[OrganisationLink]
    partners: list[OrganisationLink]


def _criterion_rule(criterion: Criterion, english: bool) -> CriterionRule:
    points = criterion.scale == Scale.POINTS
    if points:
        scale_label = _("0 bis %(max)s Punkte") % {"max": criterion.max_points}
    else:
        scale_label = str(criterion.get_scale_display())
    return CriterionRule(
        name=criterion.name_en if english and criterion.name_en else criterion.name,
        description=criterion.description,
        scale=criterion.scale,
        scale_label=scale_label,
        max_points=criterion.max_points if points else None,
        weight=criterion.weight,
        threshold=criterion.threshold,
    )


def _value_text(model: type[models.Model] | None, key: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    if isinstance(value, list):
        return ", ".join(_value_text(None, key, item) for item in value)
    model_field = _model_field(model, key)
    if model_field is not None and model_field.choices:
        choices = dict(model_field.flatchoices)
        if value in choices:
            return str(choices[value])
    return str(value)


def _model_field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _field_label(model: type[models.Model] | None, key: str) -> str:
    model_field = _model_field(model, key)
    return str(model_field.verbose_name) if model_field is not None else key


def _amendment_rule(amendment: Amendment) -> AmendmentRule:
    model = AMENDED_MODELS.get(amendment.what)
    before = amendment.before if isinstance(amendment.before, dict) else {}
    after = amendment.after if isinstance(amendment.after, dict) else {}
    keys = list(dict.fromkeys([*before, *after]))
    return AmendmentRule(
        date=amendment.created_at,
        reason=amendment.reason,
        what=amendment.what,
        what_label=str(model._meta.verbose_name) if model is not None else amendment.what,
        changes=[
            AmendmentChange(
                label=_field_label(model, key),
                before=_value_text(model, key, before.get(key)),
                after=_value_text(model, key, after.get(key)),
            )
            for key in keys
        ],
    )


def _organisations(ids: Any) -> list[OrganisationLink]:
    """The published organisations of ``ids`` in their order; unknown or unpublished ids are
    left out. The list of a call is short: one look-up per id."""
    wanted: list[int] = []
    for raw in ids if isinstance(ids, list) else []:
        try:
            organisation_id = int(raw)
        except (TypeError, ValueError):
            continue
        if organisation_id not in wanted:
            wanted.append(organisation_id)
    found = organisation_names(organisation_ids=wanted)  # published ones, one query
    links = [OrganisationLink(name=found[pk][0], slug=found[pk][1]) for pk in wanted if pk in found]
    return links


def call_rules(call: Call, *, now: datetime | None = None) -> CallRules:
    """What the call's page states as its rules, in the reader's language. The phases (and
    their criteria) are best prefetched, as ``call_get_for_user`` does."""
    now = now or timezone.now()
    english = _english()
    current = call_current_phase(call, now)
    phases = [
        PhaseRule(
            pk=phase.pk,
            position=phase.position,
            name=phase.name_en if english and phase.name_en else phase.name,
            opens_at=phase.opens_at,
            closes_at=phase.closes_at,
            evaluation_due_at=phase.evaluation_due_at,
            advance_rule=str(phase.get_advance_rule_display()),
            advance_count=phase.advance_count,
            advance_threshold=phase.advance_threshold,
            is_open=phase.opens_at <= now < phase.closes_at,
            is_current=current is not None and phase.pk == current.pk,
            criteria=[_criterion_rule(c, english) for c in phase.criteria.all()],
        )
        for phase in sorted(call.phases.all(), key=lambda phase: phase.position)
    ]
    jury = [
        JurySeat(public_name=seat.public_name, public_role=seat.public_role, chair=seat.chair)
        for seat in JuryMember.objects.filter(call=call, active=True)
        .only("public_name", "public_role", "chair")
        .order_by("-chair", "public_name", "pk")
    ]
    amendments = [
        _amendment_rule(amendment)
        for amendment in Amendment.objects.filter(call=call)
        .only("created_at", "reason", "what", "before", "after")
        .order_by("created_at", "pk")
    ]
    return CallRules(
        phases=phases,
        current_phase=next((phase for phase in phases if phase.is_current), None),
        jury=jury,
        amendments=amendments,
        organisers=_organisations(call.organiser_ids),
        partners=_organisations(call.partner_ids),
    )


def user_is_juror(*, user: Any) -> bool:
    """Whether ``user`` sits on the jury of any call (the list page links their work)."""
    return bool(
        user.is_authenticated and JuryMember.objects.filter(user_id=user.pk, active=True).exists()
    )


# ---- what other pillars read (the strategy links a measure to competitions) ----------------


def call_refs(*, call_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{id: (title, page path)}`` of the published ones (not drafts) among ``call_ids``, in
    one query."""
    ids = [pk for pk in {int(i) for i in call_ids} if 0 < pk < 2**63]
    if not ids:
        return {}
    return {
        pk: (title, reverse("innovation:call_detail", kwargs={"slug": slug}))
        for pk, title, slug in Call.objects.filter(pk__in=ids)
        .exclude(status=CallStatus.DRAFT)
        .values_list("pk", "title", "slug")
    }


def call_link_choices() -> list[tuple[int, str]]:
    """``(id, title)`` of every call that is not a draft, newest first (for other apps' choice
    lists)."""
    return list(
        Call.objects.exclude(status=CallStatus.DRAFT)
        .order_by("-created_at", "-pk")
        .values_list("pk", "title")
    )
