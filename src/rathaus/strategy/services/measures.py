"""Writes of strategies, fields of action, measures, sub-measures and milestones, and the
progress roll-up from sub-measures by weight.

Who may do what: department staff everything; the person responsible for a measure (or for
its parent) edits that measure's status, traffic light, progress, dates, spent budget,
description, areas, partners, links, weights and milestones - the structure (code, strategies,
parent, office, responsible person, planned budget, fields of action) stays with staff. Every
edit of a measure or its milestones, and "still current", sets ``reviewed_at`` (stale check)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.models import Area
from rathaus.core.services import audit_entry_create
from rathaus.forms.uploads import UploadRejected, check_upload, sanitise_filename
from rathaus.strategy.constants import (
    LinkKind,
    MeasureStatus,
    MilestoneStatus,
    ProgressMode,
    StrategyKind,
    StrategyStatus,
    TrafficLight,
)
from rathaus.strategy.models import (
    FieldOfAction,
    Measure,
    MeasureLink,
    MeasurePartner,
    Milestone,
    Strategy,
)
from rathaus.strategy.selectors.gate import user_can_edit_measure
from rathaus.strategy.selectors.measures import user_is_administration_account
from rathaus.strategy.services import StrategyError, audit_value, state_of

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = ("application/pdf", "image/png", "image/jpeg")
# public URLs end in the code ("massnahmen/<str:code>/") and a strategy's slug must not hide
# the editors' pages under /strategie/verwaltung/
CODE_RE = re.compile(r"^[^\s/?#%\\]+$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset({"verwaltung"})


def _date(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _locked_measure(measure_id: int) -> Measure:
    measure = Measure.objects.select_for_update().filter(pk=measure_id).first()
    if measure is None:
        raise StrategyError(_("Diese Maßnahme gibt es nicht."), code="not_found")
    return measure


# ---- strategies ----------------------------------------------------------------------------

STRATEGY_FIELDS = (
    "name",
    "slug",
    "version",
    "kind",
    "description",
    "status",
    "council_decision_number",
    "council_decision_date",
)


@dataclass
class StrategyData:
    name: str
    slug: str
    version: str = ""
    kind: str = StrategyKind.STRATEGY
    description: str = ""
    status: str = StrategyStatus.DRAFT
    council_decision_number: str = ""
    council_decision_date: date | None = None


def _strategy_check(data: StrategyData, *, strategy_id: int | None) -> None:
    data.name = data.name.strip()
    data.slug = data.slug.strip().lower()
    data.council_decision_number = data.council_decision_number.strip()
    if not data.name:
        raise StrategyError(_("Bitte geben Sie einen Namen an."), field="name")
    if not SLUG_RE.match(data.slug) or len(data.slug) > 80:
        raise StrategyError(
            _("Das Kürzel darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten."),
            field="slug",
        )
    if data.slug in RESERVED_SLUGS:
        raise StrategyError(_("Dieses Kürzel ist reserviert."), field="slug")
    if Strategy.objects.filter(slug=data.slug).exclude(pk=strategy_id or 0).exists():
        raise StrategyError(_("Dieses Kürzel ist schon vergeben."), field="slug")
    if data.kind not in StrategyKind.values:
        raise StrategyError(_("Bitte eine Art aus der Liste wählen."), field="kind")
    if data.status not in StrategyStatus.values:
        raise StrategyError(_("Bitte einen Status aus der Liste wählen."), field="status")
    if data.status == StrategyStatus.ADOPTED:
        if not data.council_decision_number:
            raise StrategyError(
                _("Eine vom Stadtrat beschlossene Strategie braucht die Beschlussnummer."),
                field="council_decision_number",
            )
        if data.council_decision_date is None:
            raise StrategyError(
                _("Eine vom Stadtrat beschlossene Strategie braucht das Datum des Beschlusses."),
                field="council_decision_date",
            )


def strategy_create(*, actor: User, data: StrategyData) -> Strategy:
    department_staff_required(user=actor)
    _strategy_check(data, strategy_id=None)
    with transaction.atomic():
        strategy = Strategy.objects.create(
            **{name: getattr(data, name) for name in STRATEGY_FIELDS}
        )
        audit_entry_create(
            actor=actor,
            action="strategy.strategy.create",
            object_type="strategy.strategy",
            object_id=strategy.pk,
            after=state_of(strategy, STRATEGY_FIELDS),
        )
    return strategy


def strategy_update(*, actor: User, strategy_id: int, data: StrategyData) -> Strategy:
    department_staff_required(user=actor)
    _strategy_check(data, strategy_id=strategy_id)
    with transaction.atomic():
        strategy = Strategy.objects.select_for_update().filter(pk=strategy_id).first()
        if strategy is None:
            raise StrategyError(_("Diese Strategie gibt es nicht."), code="not_found")
        before = state_of(strategy, STRATEGY_FIELDS)
        for name in STRATEGY_FIELDS:
            setattr(strategy, name, getattr(data, name))
        strategy.save()
        audit_entry_create(
            actor=actor,
            action="strategy.strategy.update",
            object_type="strategy.strategy",
            object_id=strategy.pk,
            before=before,
            after=state_of(strategy, STRATEGY_FIELDS),
        )
    return strategy


# ---- fields of action ----------------------------------------------------------------------

FIELD_FIELDS = ("code", "title", "description", "position", "parent_id")


@dataclass
class FieldData:
    code: str
    title: str
    description: str = ""
    position: int = 0
    parent_id: int | None = None


def _field_check(data: FieldData, *, strategy_id: int, field_id: int | None) -> None:
    data.code = data.code.strip()
    data.title = data.title.strip()
    if not data.code or not CODE_RE.match(data.code) or len(data.code) > 20:
        raise StrategyError(
            _("Bitte eine Nummer ohne Leerzeichen und Schrägstrich angeben, z. B. 1.2."),
            field="code",
        )
    if not data.title:
        raise StrategyError(_("Bitte geben Sie einen Titel an."), field="title")
    if not 0 <= data.position <= 32767:
        raise StrategyError(_("Bitte eine Zahl von 0 bis 32767 angeben."), field="position")
    taken = FieldOfAction.objects.filter(strategy_id=strategy_id, code=data.code)
    if taken.exclude(pk=field_id or 0).exists():
        raise StrategyError(
            _("Diese Nummer hat schon ein anderes Handlungsfeld der Strategie."), field="code"
        )
    if data.parent_id is None:
        return
    parents = dict(
        FieldOfAction.objects.filter(strategy_id=strategy_id).values_list("pk", "parent_id")
    )
    if data.parent_id not in parents:
        raise StrategyError(
            _("Das übergeordnete Handlungsfeld muss zur selben Strategie gehören."),
            field="parent_id",
        )
    # walk up from the new parent: meeting the field itself would close a cycle
    seen: set[int] = set()
    current: int | None = data.parent_id
    while current is not None and current not in seen:
        if current == field_id:
            raise StrategyError(
                _(
                    "Ein Handlungsfeld kann nicht unter sich selbst oder einem seiner Unterfelder "
                    "liegen."
                ),
                field="parent_id",
            )
        seen.add(current)
        current = parents.get(current)


def field_create(*, actor: User, strategy_id: int, data: FieldData) -> FieldOfAction:
    department_staff_required(user=actor)
    with transaction.atomic():
        strategy = Strategy.objects.select_for_update().filter(pk=strategy_id).first()
        if strategy is None:
            raise StrategyError(_("Diese Strategie gibt es nicht."), code="not_found")
        _field_check(data, strategy_id=strategy.pk, field_id=None)
        created = FieldOfAction.objects.create(
            strategy=strategy, **{name: getattr(data, name) for name in FIELD_FIELDS}
        )
        audit_entry_create(
            actor=actor,
            action="strategy.field.create",
            object_type="strategy.field",
            object_id=created.pk,
            after={"strategy_id": strategy.pk, **state_of(created, FIELD_FIELDS)},
        )
    return created


def field_update(*, actor: User, field_id: int, data: FieldData) -> FieldOfAction:
    department_staff_required(user=actor)
    with transaction.atomic():
        existing = FieldOfAction.objects.filter(pk=field_id).first()
        if existing is None:
            raise StrategyError(_("Dieses Handlungsfeld gibt es nicht."), code="not_found")
        # the strategy's row serialises changes of its tree (no two moves making a cycle)
        Strategy.objects.select_for_update().filter(pk=existing.strategy_id).first()
        current = FieldOfAction.objects.get(pk=field_id)
        _field_check(data, strategy_id=current.strategy_id, field_id=current.pk)
        before = state_of(current, FIELD_FIELDS)
        for name in FIELD_FIELDS:
            setattr(current, name, getattr(data, name))
        current.save()
        audit_entry_create(
            actor=actor,
            action="strategy.field.update",
            object_type="strategy.field",
            object_id=current.pk,
            before=before,
            after=state_of(current, FIELD_FIELDS),
        )
    return current


def field_delete(*, actor: User, field_id: int) -> None:
    """Delete a field of action that has neither fields below it nor measures."""
    department_staff_required(user=actor)
    with transaction.atomic():
        existing = FieldOfAction.objects.filter(pk=field_id).first()
        if existing is None:
            raise StrategyError(_("Dieses Handlungsfeld gibt es nicht."), code="not_found")
        Strategy.objects.select_for_update().filter(pk=existing.strategy_id).first()
        if FieldOfAction.objects.filter(parent_id=field_id).exists():
            raise StrategyError(
                _(
                    "Das Handlungsfeld hat Unterfelder. Bitte verschieben oder löschen Sie diese "
                    "zuerst."
                ),
                code="in_use",
            )
        if Measure.objects.filter(fields_of_action=field_id).exists():
            raise StrategyError(
                _(
                    "Dem Handlungsfeld sind Maßnahmen zugeordnet. Bitte ordnen Sie diese zuerst "
                    "einem anderen Handlungsfeld zu."
                ),
                code="in_use",
            )
        before = {"strategy_id": existing.strategy_id, **state_of(existing, FIELD_FIELDS)}
        existing.delete()
        audit_entry_create(
            actor=actor,
            action="strategy.field.delete",
            object_type="strategy.field",
            object_id=field_id,
            before=before,
        )


# ---- measures ------------------------------------------------------------------------------


@dataclass
class MeasureData:
    code: str
    title: str
    strategy_ids: list[int]
    description: str = ""
    field_ids: list[int] = field(default_factory=list)
    parent_id: int | None = None
    weight: int | None = None
    external_id: str | None = None
    office_id: int | None = None
    responsible_id: int | None = None
    area_ids: list[int] = field(default_factory=list)
    partner_ids: list[int] = field(default_factory=list)  # economy organisation ids
    themes_mask: int = 0
    status: str = MeasureStatus.PLANNED
    traffic_light: str = TrafficLight.GREEN
    status_reason: str = ""
    progress: int = 0  # ignored in mode rolled_up (computed)
    progress_mode: str = ProgressMode.ENTERED
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    planned_budget: Decimal | None = None
    spent_budget: Decimal | None = None


@dataclass
class MeasureLinks:
    """The measure's links to public events, competitions and open datasets, by id."""

    event_ids: list[int] = field(default_factory=list)
    competition_ids: list[int] = field(default_factory=list)
    dataset_ids: list[int] = field(default_factory=list)

    def by_kind(self) -> dict[str, list[int]]:
        return {
            LinkKind.EVENT: self.event_ids,
            LinkKind.COMPETITION: self.competition_ids,
            LinkKind.DATASET: self.dataset_ids,
        }


# plain fields of the model written from MeasureData as they are
MEASURE_FIELDS = (
    "code",
    "title",
    "description",
    "parent_id",
    "weight",
    "external_id",
    "office_id",
    "responsible_id",
    "themes_mask",
    "status",
    "traffic_light",
    "status_reason",
    "progress",
    "progress_mode",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "planned_budget",
    "spent_budget",
)
# what only department staff change; (MeasureData attribute, error field)
STAFF_ONLY = (
    "code",
    "external_id",
    "strategy_ids",
    "parent_id",
    "office_id",
    "responsible_id",
    "planned_budget",
    "field_ids",
)


def _measure_state(measure: Measure) -> dict[str, Any]:
    """The audit form of a measure, its relations included."""
    state = state_of(measure, (*MEASURE_FIELDS, "reviewed_at"))
    state["strategy_ids"] = sorted(measure.strategies.values_list("pk", flat=True))
    state["field_ids"] = sorted(measure.fields_of_action.values_list("pk", flat=True))
    state["area_ids"] = sorted(measure.areas.values_list("pk", flat=True))
    state["partner_ids"] = sorted(measure.partners.values_list("organisation_id", flat=True))
    state["links"] = sorted(
        f"{kind}:{target}" for kind, target in measure.links.values_list("kind", "target_id")
    )
    return state


def _current_data(measure: Measure) -> dict[str, Any]:
    """What a MeasureData would hold for the measure as it is (to see what an edit changes)."""
    return {
        **{name: getattr(measure, name) for name in MEASURE_FIELDS},
        "strategy_ids": sorted(measure.strategies.values_list("pk", flat=True)),
        "field_ids": sorted(measure.fields_of_action.values_list("pk", flat=True)),
    }


def _normalised(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, list | tuple | set):
        return sorted({int(v) for v in value})
    return value


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({int(v) for v in values})


def _weights_message(total: int) -> str:
    return _("Die Gewichte der Teilmaßnahmen ergeben %(sum)d %%, nicht 100 %%.") % {"sum": total}


def _rolled_up_progress(rows: Iterable[tuple[int, int | None]]) -> int:
    """round(sum(progress * weight) / 100), halves up."""
    total = sum(progress * (weight or 0) for progress, weight in rows)
    return (total + 50) // 100


def _roll_up(*, actor: User, parent_id: int, field_name: str = "weight") -> None:
    """Recompute a rolled-up parent's progress from its sub-measures (refused, naming the sum,
    when their weights do not add up to 100 %). Nothing happens for a parent in mode
    "entered"."""
    parent = Measure.objects.select_for_update().get(pk=parent_id)
    if parent.progress_mode != ProgressMode.ROLLED_UP:
        return
    rows = list(Measure.objects.filter(parent_id=parent_id).values_list("progress", "weight"))
    total = sum(weight or 0 for _progress, weight in rows)
    if not rows or total != 100:
        raise StrategyError(_weights_message(total), code="weights", field=field_name)
    progress = _rolled_up_progress(rows)
    if progress != parent.progress:
        before = parent.progress
        parent.progress = progress
        parent.save(update_fields=["progress", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="strategy.measure.roll_up",
            object_type="strategy.measure",
            object_id=parent.pk,
            before={"progress": before},
            after={"progress": progress},
        )


def _check_choice(value: str, choices: list[str], name: str) -> None:
    if value not in choices:
        raise StrategyError(_("Bitte einen Wert aus der Liste wählen."), field=name)


def _measure_check(data: MeasureData, *, measure: Measure | None) -> Measure | None:
    """Check a measure's data against the rules; returns its parent (or None). Normalises
    ``data`` in place (trimmed text, a sub-measure's strategies are its parent's)."""
    measure_id = measure.pk if measure is not None else None
    data.code = data.code.strip()
    data.title = data.title.strip()
    data.status_reason = data.status_reason.strip()
    data.external_id = (data.external_id or "").strip() or None
    if not data.code or len(data.code) > 40 or not CODE_RE.match(data.code):
        raise StrategyError(
            _("Bitte ein Kürzel ohne Leerzeichen und Schrägstrich angeben, z. B. LD-1.2."),
            field="code",
        )
    if Measure.objects.filter(code=data.code).exclude(pk=measure_id or 0).exists():
        raise StrategyError(_("Dieses Kürzel hat schon eine andere Maßnahme."), field="code")
    if not data.title:
        raise StrategyError(_("Bitte geben Sie einen Titel an."), field="title")
    if data.external_id is not None:
        if len(data.external_id) > 100:
            raise StrategyError(_("Höchstens 100 Zeichen."), field="external_id")
        taken = Measure.objects.filter(external_id=data.external_id).exclude(pk=measure_id or 0)
        if taken.exists():
            raise StrategyError(
                _("Diese externe Kennung hat schon eine andere Maßnahme."), field="external_id"
            )
    _check_choice(data.status, MeasureStatus.values, "status")
    _check_choice(data.traffic_light, TrafficLight.values, "traffic_light")
    _check_choice(data.progress_mode, ProgressMode.values, "progress_mode")
    if data.traffic_light != TrafficLight.GREEN and not data.status_reason:
        raise StrategyError(
            _("Wenn die Ampel nicht auf „im Plan“ steht, braucht es eine Begründung."),
            field="status_reason",
        )
    if not 0 <= data.progress <= 100:
        raise StrategyError(_("Der Fortschritt ist eine Zahl von 0 bis 100 %."), field="progress")
    if data.themes_mask < 0:
        raise StrategyError(_("Bitte gültige Themen wählen."), field="themes_mask")
    for name in ("planned_budget", "spent_budget"):
        amount = getattr(data, name)
        if amount is not None and (amount < 0 or amount >= Decimal("1e12")):
            raise StrategyError(
                _("Bitte einen Betrag von 0 bis unter 1 Billion € angeben."), field=name
            )
    if data.planned_start and data.planned_end and data.planned_start > data.planned_end:
        raise StrategyError(
            _("Das geplante Ende liegt vor dem geplanten Beginn."), field="planned_end"
        )
    if data.actual_start and data.actual_end and data.actual_start > data.actual_end:
        raise StrategyError(
            _("Das tatsächliche Ende liegt vor dem tatsächlichen Beginn."), field="actual_end"
        )
    if data.office_id is not None and not Office.objects.filter(pk=data.office_id).exists():
        raise StrategyError(_("Diese Stelle gibt es nicht."), field="office_id")
    if data.responsible_id is not None:
        unchanged = measure is not None and measure.responsible_id == data.responsible_id
        if not unchanged:
            if not User.objects.filter(pk=data.responsible_id, is_active=True).exists():
                raise StrategyError(
                    _("Diese Person gibt es nicht oder ihr Konto ist gesperrt."),
                    field="responsible_id",
                )
            # the rule of the form's choices: only accounts of the administration
            if not user_is_administration_account(user_id=data.responsible_id):
                raise StrategyError(
                    _(
                        "Verantwortlich kann nur ein Konto der Verwaltung sein (Referat oder "
                        "Mitglied eines Amts)."
                    ),
                    field="responsible_id",
                )
    data.area_ids = _ids(data.area_ids)
    if len(data.area_ids) != Area.objects.filter(pk__in=data.area_ids).count():
        raise StrategyError(_("Bitte nur Gebiete aus der Liste wählen."), field="area_ids")

    parent = _parent_check(data, measure=measure)
    if parent is not None:
        # a sub-measure belongs to its parent's strategies
        data.strategy_ids = sorted(parent.strategies.values_list("pk", flat=True))
    else:
        data.strategy_ids = _ids(data.strategy_ids)
        if not data.strategy_ids:
            raise StrategyError(
                _("Bitte wählen Sie mindestens eine Strategie."), field="strategy_ids"
            )
        found = Strategy.objects.filter(pk__in=data.strategy_ids).count()
        if found != len(data.strategy_ids):
            raise StrategyError(
                _("Bitte nur Strategien aus der Liste wählen."), field="strategy_ids"
            )
    data.field_ids = _ids(data.field_ids)
    fields_ok = FieldOfAction.objects.filter(
        pk__in=data.field_ids, strategy_id__in=data.strategy_ids
    ).count()
    if fields_ok != len(data.field_ids):
        raise StrategyError(
            _("Die Handlungsfelder müssen zu einer der Strategien der Maßnahme gehören."),
            field="field_ids",
        )
    if measure is not None:
        _milestones_after_start(data, measure=measure)
    if data.progress_mode == ProgressMode.ROLLED_UP:
        weights = (
            list(Measure.objects.filter(parent_id=measure_id).values_list("weight", flat=True))
            if measure_id is not None
            else []
        )
        if not weights:
            raise StrategyError(
                _(
                    "Nur eine Maßnahme mit Teilmaßnahmen kann ihren Fortschritt aus ihnen "
                    "berechnen."
                ),
                field="progress_mode",
            )
        total = sum(weight or 0 for weight in weights)
        if total != 100:
            raise StrategyError(_weights_message(total), field="progress_mode")
    return parent


def _parent_check(data: MeasureData, *, measure: Measure | None) -> Measure | None:
    if data.weight is not None and not 0 <= data.weight <= 100:
        raise StrategyError(_("Das Gewicht ist eine Zahl von 0 bis 100 %."), field="weight")
    if data.parent_id is None:
        if data.weight is not None:
            raise StrategyError(_("Nur eine Teilmaßnahme hat ein Gewicht."), field="weight")
        return None
    parent = Measure.objects.filter(pk=data.parent_id).first()
    if parent is None:
        raise StrategyError(_("Diese Maßnahme gibt es nicht."), field="parent_id")
    if measure is not None and parent.pk == measure.pk:
        raise StrategyError(
            _("Eine Maßnahme kann nicht Teilmaßnahme von sich selbst sein."), field="parent_id"
        )
    if parent.parent_id is not None:
        raise StrategyError(
            _(
                "Teilmaßnahmen haben keine eigenen Teilmaßnahmen: Bitte wählen Sie eine Maßnahme "
                "der obersten Ebene."
            ),
            field="parent_id",
        )
    if measure is not None and Measure.objects.filter(parent_id=measure.pk).exists():
        raise StrategyError(
            _("Diese Maßnahme hat selbst Teilmaßnahmen und kann daher keine Teilmaßnahme werden."),
            field="parent_id",
        )
    return parent


def _measure_start(data: MeasureData) -> date | None:
    starts = [d for d in (data.planned_start, data.actual_start) if d is not None]
    return min(starts) if starts else None


def _milestones_after_start(data: MeasureData, *, measure: Measure) -> None:
    start = _measure_start(data)
    if start is None:
        return
    early = (
        Milestone.objects.filter(measure=measure)
        .filter(Q(planned_date__lt=start) | Q(actual_date__lt=start))
        .order_by("planned_date")
        .first()
    )
    if early is not None:
        name = "actual_start" if data.actual_start == start else "planned_start"
        first = min(d for d in (early.planned_date, early.actual_date) if d is not None)
        raise StrategyError(
            _("Die Maßnahme kann nicht nach ihrem Meilenstein „%(title)s“ (%(date)s) beginnen.")
            % {"title": early.title, "date": _date(first)},
            field=name,
        )


def _partners_check(data: MeasureData, *, keep: set[int]) -> None:
    from rathaus.economy.selectors.directory import organisation_names

    data.partner_ids = _ids(data.partner_ids)
    new = set(data.partner_ids) - keep
    if new and len(organisation_names(organisation_ids=new)) != len(new):
        raise StrategyError(
            _("Bitte nur Organisationen aus dem Verzeichnis wählen."), field="partner_ids"
        )


def _links_check(links: MeasureLinks, *, keep: set[tuple[str, int]]) -> None:
    from rathaus.citydata.selectors import dataset_refs
    from rathaus.economy.selectors.events import event_refs
    from rathaus.innovation.selectors.calls import call_refs

    lookups: dict[str, tuple[Callable[[set[int]], dict[int, tuple[str, str]]], str]] = {
        LinkKind.EVENT: (lambda ids: event_refs(event_ids=ids), "event_ids"),
        LinkKind.COMPETITION: (lambda ids: call_refs(call_ids=ids), "competition_ids"),
        LinkKind.DATASET: (lambda ids: dataset_refs(dataset_ids=ids), "dataset_ids"),
    }
    for kind, ids in links.by_kind().items():
        lookup, name = lookups[kind]
        new = {int(i) for i in ids if (kind, int(i)) not in keep}
        if new and len(lookup(new)) != len(new):
            raise StrategyError(
                _("Bitte nur veröffentlichte Einträge aus der Liste wählen."), field=name
            )


def _set_relations(measure: Measure, data: MeasureData, links: MeasureLinks | None) -> None:
    measure.strategies.set(data.strategy_ids)
    measure.fields_of_action.set(data.field_ids)
    measure.areas.set(data.area_ids)
    MeasurePartner.objects.filter(measure=measure).exclude(
        organisation_id__in=data.partner_ids
    ).delete()
    have = set(measure.partners.values_list("organisation_id", flat=True))
    MeasurePartner.objects.bulk_create(
        [
            MeasurePartner(measure=measure, organisation_id=organisation_id)
            for organisation_id in data.partner_ids
            if organisation_id not in have
        ]
    )
    if links is None:
        return
    wanted = {(kind, int(i)) for kind, ids in links.by_kind().items() for i in ids}
    existing = {(link.kind, link.target_id): link.pk for link in measure.links.all()}
    MeasureLink.objects.filter(
        pk__in=[pk for key, pk in existing.items() if key not in wanted]
    ).delete()
    MeasureLink.objects.bulk_create(
        [
            MeasureLink(measure=measure, kind=kind, target_id=target)
            for kind, target in sorted(wanted)
            if (kind, target) not in existing
        ]
    )


def measure_create(*, actor: User, data: MeasureData, links: MeasureLinks | None = None) -> Measure:
    """A new measure or sub-measure (department staff). A sub-measure added to a rolled-up
    parent must keep its parent's weights at 100 % (a weight of 0 always does)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        if data.parent_id is not None:
            # serialise with other changes of the parent's sub-measures
            Measure.objects.select_for_update().filter(pk=data.parent_id).first()
        _measure_check(data, measure=None)
        _partners_check(data, keep=set())
        if links is not None:
            _links_check(links, keep=set())
        values = {name: getattr(data, name) for name in MEASURE_FIELDS}
        measure = Measure.objects.create(**values, reviewed_at=timezone.now())
        _set_relations(measure, data, links)
        audit_entry_create(
            actor=actor,
            action="strategy.measure.create",
            object_type="strategy.measure",
            object_id=measure.pk,
            after=_measure_state(measure),
        )
        if measure.parent_id is not None:
            _roll_up(actor=actor, parent_id=measure.parent_id)
    return measure


def measure_update(
    *, actor: User, measure_id: int, data: MeasureData, links: MeasureLinks | None = None
) -> Measure:
    """Change a measure (staff, or the person responsible for it or its parent, who may not
    change its structure: see ``STAFF_ONLY``). ``links`` None leaves the links as they are.
    Keeps the rolled-up progress of the measure and of its (old and new) parent."""
    with transaction.atomic():
        measure = _locked_measure(measure_id)
        if not user_can_edit_measure(user=actor, measure=measure):
            raise PermissionDenied
        current = _current_data(measure)
        if not user_is_department_staff(user=actor):
            for name in STAFF_ONLY:
                if _normalised(getattr(data, name)) != _normalised(current[name]):
                    raise StrategyError(
                        _("Diese Angabe ändern nur die Mitarbeitenden der Abteilung."),
                        code="staff_only",
                        field=name,
                    )
        before = _measure_state(measure)
        old_parent_id = measure.parent_id
        if data.progress_mode == ProgressMode.ROLLED_UP:
            data.progress = measure.progress  # computed below
        _measure_check(data, measure=measure)
        _partners_check(data, keep=set(measure.partners.values_list("organisation_id", flat=True)))
        if links is not None:
            _links_check(links, keep=set(measure.links.values_list("kind", "target_id")))
        for name in MEASURE_FIELDS:
            setattr(measure, name, getattr(data, name))
        measure.reviewed_at = timezone.now()
        measure.save()
        _set_relations(measure, data, links)
        # the sub-measures carry this measure's strategies
        for child in Measure.objects.filter(parent_id=measure.pk):
            child.strategies.set(data.strategy_ids)
        if measure.progress_mode == ProgressMode.ROLLED_UP:
            _roll_up(actor=actor, parent_id=measure.pk, field_name="progress_mode")
        if old_parent_id is not None and old_parent_id != measure.parent_id:
            _roll_up(actor=actor, parent_id=old_parent_id, field_name="parent_id")
        if measure.parent_id is not None and (
            old_parent_id != measure.parent_id
            or before["progress"] != measure.progress
            or before["weight"] != measure.weight
        ):
            _roll_up(actor=actor, parent_id=measure.parent_id)
        measure.refresh_from_db()
        audit_entry_create(
            actor=actor,
            action="strategy.measure.update",
            object_type="strategy.measure",
            object_id=measure.pk,
            before=before,
            after=_measure_state(measure),
        )
    return measure


def measure_weights_set(*, actor: User, measure_id: int, weights: dict[int, int]) -> Measure:
    """Set the weights of all sub-measures of a measure at once: one for each, 0 to 100 %,
    together exactly 100 %. Recomputes a rolled-up progress."""
    with transaction.atomic():
        measure = _locked_measure(measure_id)
        if not user_can_edit_measure(user=actor, measure=measure):
            raise PermissionDenied
        children = {child.pk: child for child in Measure.objects.filter(parent_id=measure.pk)}
        if not children:
            raise StrategyError(_("Diese Maßnahme hat keine Teilmaßnahmen."), field="weights")
        weights = {int(k): v for k, v in weights.items()}
        if set(weights) != set(children):
            raise StrategyError(
                _("Bitte geben Sie für jede Teilmaßnahme dieser Maßnahme ein Gewicht an."),
                field="weights",
            )
        for child_id, weight in weights.items():
            if weight is None or not 0 <= weight <= 100:
                raise StrategyError(
                    _("Das Gewicht von %(code)s ist keine Zahl von 0 bis 100 %%.")
                    % {"code": children[child_id].code},
                    field=f"weight_{child_id}",
                )
        total = sum(weights.values())
        if total != 100:
            raise StrategyError(_weights_message(total), code="weights", field="weights")
        before = {child.code: child.weight for child in children.values()}
        for child_id, weight in weights.items():
            if children[child_id].weight != weight:
                Measure.objects.filter(pk=child_id).update(weight=weight)
        _roll_up(actor=actor, parent_id=measure.pk, field_name="weights")
        measure.reviewed_at = timezone.now()
        measure.save(update_fields=["reviewed_at", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="strategy.measure.weights",
            object_type="strategy.measure",
            object_id=measure.pk,
            before={"weights": before},
            after={"weights": {children[k].code: v for k, v in weights.items()}},
        )
        measure.refresh_from_db()
    return measure


def measure_confirm(*, actor: User, measure_id: int) -> Measure:
    """ "Still current": the responsible person (or staff) confirms the entry as it is."""
    with transaction.atomic():
        measure = _locked_measure(measure_id)
        if not user_can_edit_measure(user=actor, measure=measure):
            raise PermissionDenied
        before = audit_value(measure.reviewed_at)
        measure.reviewed_at = timezone.now()
        measure.save(update_fields=["reviewed_at", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="strategy.measure.confirm",
            object_type="strategy.measure",
            object_id=measure.pk,
            before={"reviewed_at": before},
            after={"reviewed_at": audit_value(measure.reviewed_at)},
        )
    return measure


# ---- milestones ----------------------------------------------------------------------------

MILESTONE_FIELDS = (
    "title",
    "planned_date",
    "baseline_date",
    "actual_date",
    "status",
    "slip_reason",
    "evidence_url",
    "evidence_file",
)


@dataclass
class MilestoneData:
    title: str
    planned_date: date
    actual_date: date | None = None
    status: str = MilestoneStatus.OPEN
    slip_reason: str = ""
    evidence_url: str = ""
    evidence_file: UploadedFile | None = None  # a new file (replaces the old one)
    remove_evidence_file: bool = False


def _milestone_check(data: MilestoneData, *, measure: Measure, baseline: date) -> None:
    data.title = data.title.strip()
    data.slip_reason = data.slip_reason.strip()
    data.evidence_url = data.evidence_url.strip()
    if not data.title:
        raise StrategyError(_("Bitte geben Sie einen Titel an."), field="title")
    _check_choice(data.status, MilestoneStatus.values, "status")
    starts = [d for d in (measure.planned_start, measure.actual_start) if d is not None]
    start = min(starts) if starts else None
    if start is not None:
        for name in ("planned_date", "actual_date"):
            value = getattr(data, name)
            if value is not None and value < start:
                raise StrategyError(
                    _("Ein Meilenstein kann nicht vor dem Beginn der Maßnahme (%(date)s) liegen.")
                    % {"date": _date(start)},
                    field=name,
                )
    if data.actual_date is not None and data.actual_date > timezone.localdate():
        raise StrategyError(
            _("Das Datum, an dem der Meilenstein erreicht wurde, liegt in der Zukunft."),
            field="actual_date",
        )
    if data.status == MilestoneStatus.DONE and data.actual_date is None:
        raise StrategyError(
            _("Ein erreichter Meilenstein braucht das Datum, an dem er erreicht wurde."),
            field="actual_date",
        )
    slipped = data.planned_date > baseline or bool(
        data.actual_date and data.actual_date > data.planned_date
    )
    if slipped and not data.slip_reason:
        raise StrategyError(
            _(
                "Der Meilenstein liegt später als ursprünglich geplant (%(date)s): Bitte geben "
                "Sie den Grund der Verschiebung an."
            )
            % {"date": _date(baseline)},
            field="slip_reason",
        )
    if data.evidence_url:
        try:
            URLValidator(schemes=["http", "https"])(data.evidence_url)
        except ValidationError:
            raise StrategyError(
                _("Bitte eine vollständige Adresse angeben, die mit https:// beginnt."),
                field="evidence_url",
            ) from None
        if len(data.evidence_url) > 500:
            raise StrategyError(_("Höchstens 500 Zeichen."), field="evidence_url")


def _evidence_checked(file: UploadedFile) -> str:
    """Check an evidence file like every upload (by its content: PDF, PNG or JPEG; size; virus
    scan) and give its sanitised name. The document is for the measure's editors: they
    download it from the measure's page (``strategy:milestone_evidence``, behind the measure's
    gate); the public pages only say that a document is on file, they never link to it. It is
    kept as a plain file of the milestone, not in the encrypted upload store."""
    try:
        _content, meta = check_upload(
            file, max_bytes=EVIDENCE_MAX_BYTES, media_types=EVIDENCE_TYPES
        )  # only checked here, kept below as the milestone's file
    except UploadRejected as rejected:
        raise StrategyError(str(rejected), code="upload", field="evidence_file") from None
    return sanitise_filename(str(meta["filename"]))


def _milestone_write(milestone: Milestone, data: MilestoneData, *, file_name: str | None) -> None:
    for name in ("title", "planned_date", "actual_date", "status", "slip_reason"):
        setattr(milestone, name, getattr(data, name))
    milestone.evidence_url = data.evidence_url
    old_file = milestone.evidence_file.name if milestone.evidence_file else ""
    if data.evidence_file is not None and file_name is not None:
        milestone.evidence_file.save(file_name, data.evidence_file, save=False)
    elif data.remove_evidence_file:
        milestone.evidence_file = ""
    milestone.save()
    new_file = milestone.evidence_file.name if milestone.evidence_file else ""
    if old_file and old_file != new_file:
        storage = milestone.evidence_file.storage
        transaction.on_commit(lambda: storage.delete(old_file), robust=True)


def _touch(measure: Measure) -> None:
    measure.reviewed_at = timezone.now()
    measure.save(update_fields=["reviewed_at", "updated_at"])


def _locked_for_editor(*, actor: User, measure_id: int) -> Measure:
    measure = _locked_measure(measure_id)
    if not user_can_edit_measure(user=actor, measure=measure):
        raise PermissionDenied
    return measure


def milestone_create(*, actor: User, measure_id: int, data: MilestoneData) -> Milestone:
    """A new milestone; its planned date is its baseline."""
    with transaction.atomic():
        measure = _locked_for_editor(actor=actor, measure_id=measure_id)
        _milestone_check(data, measure=measure, baseline=data.planned_date)
        file_name = _evidence_checked(data.evidence_file) if data.evidence_file else None
        milestone = Milestone(measure=measure, baseline_date=data.planned_date)
        _milestone_write(milestone, data, file_name=file_name)
        _touch(measure)
        audit_entry_create(
            actor=actor,
            action="strategy.milestone.create",
            object_type="strategy.milestone",
            object_id=milestone.pk,
            after={"measure_id": measure.pk, **state_of(milestone, MILESTONE_FIELDS)},
        )
    return milestone


def milestone_update(*, actor: User, milestone_id: int, data: MilestoneData) -> Milestone:
    """Change a milestone; its baseline stays the first planned date."""
    with transaction.atomic():
        found = Milestone.objects.filter(pk=milestone_id).values_list("measure_id", flat=True)
        measure_id = found.first()
        if measure_id is None:
            raise StrategyError(_("Diesen Meilenstein gibt es nicht."), code="not_found")
        measure = _locked_for_editor(actor=actor, measure_id=measure_id)
        milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
        _milestone_check(data, measure=measure, baseline=milestone.baseline_date)
        file_name = _evidence_checked(data.evidence_file) if data.evidence_file else None
        before = state_of(milestone, MILESTONE_FIELDS)
        _milestone_write(milestone, data, file_name=file_name)
        _touch(measure)
        audit_entry_create(
            actor=actor,
            action="strategy.milestone.update",
            object_type="strategy.milestone",
            object_id=milestone.pk,
            before={"measure_id": measure.pk, **before},
            after={"measure_id": measure.pk, **state_of(milestone, MILESTONE_FIELDS)},
        )
    return milestone
