"""Reads for the editors' pages of strategies, fields of action, measures and milestones
(views/measures.py): the lists, the choices of the forms, everything on a measure's page and
"my measures" of a responsible person. Objects are opened through the gates
(``selectors.gate``); the functions here take what they returned, or check the user
themselves the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rathaus.accounts.constants import Role as AccountRole
from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.models import Area
from rathaus.strategy.constants import LinkKind
from rathaus.strategy.models import FieldOfAction, Measure, Milestone, Strategy
from rathaus.strategy.selectors.gate import AnyUser, measure_get_for_editor
from rathaus.strategy.selectors.links import LinkRef, links_for_measures, partners_for_measures
from rathaus.strategy.selectors.stale import stale_measures

# ---- strategies and fields of action -------------------------------------------------------


def strategy_list_for_staff(*, user: AnyUser) -> QuerySet[Strategy]:
    """Every strategy by name, with the number of its measures (``measure_count``)."""
    department_staff_required(user=user)
    return Strategy.objects.annotate(measure_count=Count("measures", distinct=True)).order_by(
        "name", "pk"
    )


@dataclass(frozen=True)
class FieldRow:
    field: FieldOfAction
    depth: int
    measure_count: int

    @property
    def indent(self) -> range:
        return range(self.depth - 1) if self.depth > 1 else range(0)


def field_tree(*, strategy: Strategy) -> list[FieldRow]:
    """The strategy's fields of action as a tree in reading order (each below its parent,
    siblings by position and code), with their depth and number of measures."""
    fields = list(
        FieldOfAction.objects.filter(strategy=strategy)
        .annotate(measure_count=Count("measures", distinct=True))
        .order_by("position", "code", "pk")
    )
    children: dict[int | None, list[FieldOfAction]] = {}
    known = {f.pk for f in fields}
    for item in fields:
        parent = item.parent_id if item.parent_id in known else None
        children.setdefault(parent, []).append(item)
    rows: list[FieldRow] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for item in children.get(parent, []):
            if item.pk in seen:
                continue
            seen.add(item.pk)
            rows.append(FieldRow(item, depth, item.measure_count))  # type: ignore[attr-defined]
            walk(item.pk, depth + 1)

    walk(None, 0)
    return rows


def field_get_for_staff(*, user: AnyUser, field_id: int) -> FieldOfAction:
    department_staff_required(user=user)
    found = FieldOfAction.objects.select_related("strategy").filter(pk=field_id).first()
    if found is None:
        raise Http404
    return found


def field_choices(*, strategy_ids: list[int]) -> list[tuple[int, str]]:
    """The fields of action of these strategies, "Strategy: code title", in tree order."""
    rows: list[tuple[int, str]] = []
    for strategy in Strategy.objects.filter(pk__in=strategy_ids).order_by("name", "pk"):
        for row in field_tree(strategy=strategy):
            indent = "\u2003" * row.depth
            rows.append((row.field.pk, f"{strategy.name}: {indent}{row.field}"))
    return rows


def parent_field_choices(*, strategy: Strategy, field_id: int | None) -> list[tuple[int, str]]:
    """Where a field of action can go: the strategy's other fields (the service refuses
    cycles)."""
    return [
        (row.field.pk, "\u2003" * row.depth + str(row.field))
        for row in field_tree(strategy=strategy)
        if row.field.pk != field_id
    ]


# ---- measures ------------------------------------------------------------------------------


def _with_stale_flag(measures: QuerySet[Measure]) -> QuerySet[Measure]:
    """``is_stale`` on each measure, by the one definition of ``selectors.stale``."""
    return measures.annotate(is_stale=Exists(stale_measures().filter(pk=OuterRef("pk"))))


def _with_children(measures: QuerySet[Measure]) -> QuerySet[Measure]:
    """The measures with their office, responsible person, ``is_stale`` and their sub-measures
    (``children``, each with the same)."""
    children = _with_stale_flag(Measure.objects.select_related("office", "responsible"))
    return _with_stale_flag(measures.select_related("office", "responsible")).prefetch_related(
        Prefetch("children", queryset=children.order_by("code"))
    )


def measure_list_for_staff(
    *,
    user: AnyUser,
    strategy: Strategy,
    status: str = "",
    office_id: int | None = None,
    field_id: int | None = None,
) -> QuerySet[Measure]:
    """The top-level measures of a strategy by code, each with its sub-measures
    (``children``); filtered by status, office and field of action (or a field below it). A
    measure is listed when it or one of its sub-measures matches."""
    department_staff_required(user=user)
    matching = Q()
    if status:
        matching &= Q(status=status)
    if office_id is not None:
        matching &= Q(office_id=office_id)
    if field_id is not None:
        field_ids = {field_id}
        tree = dict(FieldOfAction.objects.filter(strategy=strategy).values_list("pk", "parent_id"))
        grew = True
        while grew:
            below = {pk for pk, parent in tree.items() if parent in field_ids}
            grew = not below <= field_ids
            field_ids |= below
        matching &= Q(pk__in=Measure.objects.filter(fields_of_action__in=field_ids).values("pk"))
    measures = Measure.objects.filter(strategies=strategy, parent__isnull=True)
    if matching:
        child_matches = Measure.objects.filter(matching, parent=OuterRef("pk"))
        measures = measures.filter(matching | Q(Exists(child_matches)))
    return _with_children(measures.distinct().order_by("code", "pk"))


def my_measures(*, user: AnyUser) -> QuerySet[Measure]:
    """The measures a person is responsible for (as top-level measures with their
    sub-measures), and sub-measures of measures of others that they are responsible for."""
    if not user.is_authenticated:
        return Measure.objects.none()
    mine = Measure.objects.filter(Q(responsible=user) | Q(parent__responsible=user))
    return _with_children(mine.order_by("code", "pk"))


def stale_for_user(*, user: AnyUser) -> QuerySet[Measure]:
    """Stale measures: all of them for staff, otherwise the user's own."""
    stale = stale_measures()
    if user_is_department_staff(user=user):
        return stale
    if not user.is_authenticated:
        return stale.none()
    return stale.filter(Q(responsible=user) | Q(parent__responsible=user))


def user_has_measures(*, user: AnyUser) -> bool:
    return user.is_authenticated and (
        Measure.objects.filter(Q(responsible=user) | Q(parent__responsible=user)).exists()
    )


@dataclass
class MeasurePage:
    measure: Measure
    strategies: list[Strategy]
    fields: list[FieldOfAction]
    areas: list[Area]
    milestones: list[Milestone]
    children: list[Measure]
    weight_sum: int
    funding: list[Any]
    partners: list[tuple[int, str, str]]
    links: list[LinkRef]
    link_ids: dict[str, list[int]] = field(default_factory=dict)


def measure_page(*, measure: Measure) -> MeasurePage:
    """Everything the measure's edit page shows (the measure as the gate returned it)."""
    from rathaus.funding.selectors.applications import applications_for_measures

    children = list(
        Measure.objects.filter(parent=measure).select_related("responsible").order_by("code")
    )
    link_ids: dict[str, list[int]] = {kind: [] for kind in LinkKind.values}
    for kind, target_id in measure.links.order_by("kind", "target_id").values_list(
        "kind", "target_id"
    ):
        link_ids.setdefault(kind, []).append(target_id)
    return MeasurePage(
        measure=measure,
        strategies=list(measure.strategies.order_by("name")),
        fields=list(measure.fields_of_action.select_related("strategy").order_by("code")),
        areas=list(measure.areas.order_by("kind", "name")),
        milestones=list(measure.milestones.order_by("planned_date", "pk")),
        children=children,
        weight_sum=sum(child.weight or 0 for child in children),
        funding=applications_for_measures(measure_ids=[measure.pk]).get(measure.pk, []),
        partners=partners_for_measures(measure_ids=[measure.pk]).get(measure.pk, []),
        links=links_for_measures(measure_ids=[measure.pk]).get(measure.pk, []),
        link_ids=link_ids,
    )


def milestone_get_for_editor(*, user: AnyUser, milestone_id: int) -> Milestone:
    """A milestone whose measure the user may edit (the measure's gate decides)."""
    if not user.is_authenticated:
        raise PermissionDenied
    milestone = Milestone.objects.filter(pk=milestone_id).first()
    if milestone is None:
        if user_is_department_staff(user=user):
            raise Http404
        raise PermissionDenied
    milestone.measure = measure_get_for_editor(user=user, measure_id=milestone.measure_id)
    return milestone


# ---- choices for the forms -----------------------------------------------------------------


def strategy_choices() -> list[tuple[int, str]]:
    return [(s.pk, str(s)) for s in Strategy.objects.order_by("name", "pk")]


def office_choices() -> list[tuple[int, str]]:
    return list(Office.objects.order_by("name", "pk").values_list("pk", "name"))


def _person_label(person: User) -> str:
    name = person.get_full_name()
    return f"{name} ({person.email})" if name else person.email


def _administration_accounts() -> Q:
    """Active accounts of the administration: department staff, administrators, members of an
    office (not citizens, organisation members or jurors)."""
    return Q(is_active=True) & (
        Q(role_assignments__role__in=(AccountRole.DEPARTMENT_STAFF, AccountRole.ADMINISTRATOR))
        | Q(memberships__isnull=False)
        | Q(is_superuser=True)
    )


def user_is_administration_account(*, user_id: int) -> bool:
    """Whether the account may be made responsible for a measure or owner of a KPI (the rule
    of ``responsible_choices``); the services check it."""
    return User.objects.filter(_administration_accounts(), pk=user_id).exists()


def responsible_choices(*, keep_user_id: int | None = None) -> list[tuple[int, str]]:
    """Who can be responsible for a measure: active accounts of the administration
    (``_administration_accounts``), by name; and ``keep_user_id`` (who is responsible now)."""
    staff = _administration_accounts()
    if keep_user_id is not None:
        staff |= Q(pk=keep_user_id)
    people = User.objects.filter(staff).distinct().order_by("last_name", "first_name", "email")
    return [(person.pk, _person_label(person)) for person in people]


def parent_choices(*, measure_id: int | None = None) -> list[tuple[int, str]]:
    """Top-level measures a measure can be a sub-measure of."""
    measures = Measure.objects.filter(parent__isnull=True).exclude(pk=measure_id or 0)
    return [
        (pk, f"{code} {title}") for pk, code, title in measures.values_list("pk", "code", "title")
    ]


def area_choices() -> list[tuple[int, str]]:
    return [
        (area.pk, f"{area.name} ({area.get_kind_display()})")
        for area in Area.objects.order_by("kind", "name", "pk")
    ]


def partner_choices(*, keep: list[int] | None = None) -> list[tuple[int, str]]:
    """Published organisations of the directory; ``keep`` (partners already) stay choosable."""
    from rathaus.economy.selectors.directory import organisation_choices

    choices = organisation_choices()
    known = {pk for pk, _name in choices}
    for organisation_id in keep or []:
        if organisation_id not in known:
            choices.append((organisation_id, _("Organisation #%(id)d") % {"id": organisation_id}))
    return choices


def link_choices(*, keep: dict[str, list[int]] | None = None) -> dict[str, list[tuple[int, str]]]:
    """Public events, competitions and datasets a measure can link to, by kind; ids in
    ``keep`` (links already) stay choosable."""
    from rathaus.citydata.selectors import dataset_link_choices
    from rathaus.economy.selectors.events import event_link_choices
    from rathaus.innovation.selectors.calls import call_link_choices

    choices = {
        LinkKind.EVENT.value: event_link_choices(),
        LinkKind.COMPETITION.value: call_link_choices(),
        LinkKind.DATASET.value: dataset_link_choices(),
    }
    for kind, ids in (keep or {}).items():
        known = {pk for pk, _label in choices.get(kind, [])}
        for target_id in ids:
            if target_id not in known:
                choices.setdefault(kind, []).append((target_id, f"#{target_id}"))
    return choices
