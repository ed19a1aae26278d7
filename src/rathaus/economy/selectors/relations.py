"""Reads of relations: for other apps (``relations_of``, ``organisations_related``,
``organisations_are_related``: the innovation app's conflict-of-interest check), for the
organisation's profile, for a member's open proposals and for the network view.

Every query here goes through the indexes (source, status), (target, status) and (person,
status) and loads the organisations and people it shows in the same query (no N+1)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.economy.constants import EntryStatus, RelationKind, RelationStatus
from rathaus.economy.models import Membership, Organisation, Relation
from rathaus.economy.selectors.directory import organisation_ids_of_user
from rathaus.economy.services.relations import PERSON_KINDS, may_decide

MAX_DEPTH = 3


def _kinds_filter(kinds: Iterable[str] | None) -> Q:
    return Q(kind__in=list(kinds)) if kinds is not None else Q()


def _status_filter(confirmed_only: bool) -> Q:
    if confirmed_only:
        return Q(status=RelationStatus.CONFIRMED)
    return ~Q(status=RelationStatus.DECLINED)


def relations_of(
    *,
    organisation_id: int,
    kinds: Iterable[str] | None = None,
    confirmed_only: bool = True,
) -> list[Relation]:
    """Every relation in which the organisation is the source or the target (declined
    proposals never; proposals only with ``confirmed_only=False``), with both organisations
    and the person loaded. For other apps: no user scope, so do not show it unfiltered."""
    status = _status_filter(confirmed_only)
    kinds_q = _kinds_filter(kinds)
    # two index range scans joined by UNION ALL, rather than an OR the planner may not split
    out = Relation.objects.filter(status, kinds_q, source_id=organisation_id)
    inc = Relation.objects.filter(status, kinds_q, target_id=organisation_id)
    ids = list(out.values_list("pk", flat=True).union(inc.values_list("pk", flat=True), all=True))
    return list(
        Relation.objects.filter(pk__in=ids)
        .select_related("source", "target", "person")
        .order_by("kind", "-starts_on", "pk")
    )


def _neighbours(frontier: set[int], q: Q) -> set[int]:
    """Organisations one step from ``frontier``: linked directly, or through a person both
    are linked to (two organisations with the same founder are related)."""
    found: set[int] = set()
    rows = Relation.objects.filter(q, source_id__in=frontier, target__isnull=False).values_list(
        "target_id", flat=True
    )
    found.update(rows)
    found.update(
        Relation.objects.filter(q, target_id__in=frontier).values_list("source_id", flat=True)
    )
    people = Relation.objects.filter(q, source_id__in=frontier, person__isnull=False).values(
        "person_id"
    )
    found.update(
        Relation.objects.filter(q, person_id__in=people).values_list("source_id", flat=True)
    )
    return {pk for pk in found if pk is not None}


def organisations_related(
    *,
    organisation_id: int,
    depth: int = 1,
    kinds: Iterable[str] | None = None,
    confirmed_only: bool = True,
) -> set[int]:
    """The ids of the organisations within ``depth`` steps of ``organisation_id`` (not itself).
    A step is a relation either way, or a person linked to both. Three indexed queries per
    step, whatever the number of organisations; ``depth`` is capped at 3."""
    q = _status_filter(confirmed_only) & _kinds_filter(kinds)
    seen = {organisation_id}
    frontier = {organisation_id}
    for _step in range(max(0, min(depth, MAX_DEPTH))):
        if not frontier:
            break
        frontier = _neighbours(frontier, q) - seen
        seen |= frontier
    return seen - {organisation_id}


def organisations_are_related(
    *, organisation_id: int, other_id: int, depth: int = 1, confirmed_only: bool = True
) -> bool:
    """ "Is organisation X related to Y?" (conflict of interest)."""
    if organisation_id == other_id:
        return True
    return other_id in organisations_related(
        organisation_id=organisation_id, depth=depth, confirmed_only=confirmed_only
    )


# ---- for people -------------------------------------------------------------------------


def _public_relations() -> QuerySet[Relation]:
    """Confirmed relations between published organisations (or to a person)."""
    return Relation.objects.filter(
        status=RelationStatus.CONFIRMED, source__status=EntryStatus.PUBLISHED
    ).filter(Q(target__isnull=True) | Q(target__status=EntryStatus.PUBLISHED))


@dataclass
class ProfileRelation:
    relation: Relation
    label: str  # the kind, read from this organisation's side
    other_name: str
    other_url: str  # the other organisation's profile, or ""
    can_decide: bool = False
    can_delete: bool = False


@dataclass
class ProfileRelations:
    groups: list[tuple[str, list[ProfileRelation]]] = field(default_factory=list)
    pending: list[ProfileRelation] = field(default_factory=list)
    can_propose: bool = False


def _incoming_label(kind: str) -> str:
    from django.utils.translation import gettext

    labels: dict[str, str] = {
        RelationKind.MEMBER_OF: gettext("hat als Mitglied"),
        RelationKind.PARTNER_IN: gettext("hat als Partner"),
        RelationKind.SPIN_OFF_OF: gettext("hat als Ausgründung"),
        RelationKind.FUNDED_BY: gettext("fördert"),
        RelationKind.LOCATED_AT_HUB: gettext("beherbergt"),
    }
    return labels.get(kind) or str(RelationKind(kind).label)


def organisation_url(organisation: Organisation) -> str:
    """The profile page, when the directory part has one under this name."""
    from django.urls import NoReverseMatch, reverse

    for name, arg in (
        ("economy:organisation", organisation.slug),
        ("economy:organisation_detail", organisation.slug),
    ):
        try:
            return reverse(name, args=[arg])
        except NoReverseMatch:
            continue
    return ""


def relations_for_profile(*, organisation: Organisation, user: Any) -> ProfileRelations:
    """What the profile shows: confirmed relations grouped by kind (read from this
    organisation's side) with their dates; proposals only to members of either side and
    staff (and to the person named)."""
    staff = user_is_department_staff(user=user)
    mine = organisation_ids_of_user(user=user)
    member_here = organisation.pk in mine
    rows = [
        r
        for r in relations_of(organisation_id=organisation.pk, confirmed_only=False)
        if r.source.status == EntryStatus.PUBLISHED or r.source_id == organisation.pk
    ]
    result = ProfileRelations(can_propose=staff or member_here)
    groups: dict[str, list[ProfileRelation]] = defaultdict(list)
    for r in rows:
        outgoing = r.source_id == organisation.pk
        other = r.target if outgoing else r.source
        if r.person_id is not None:
            other_name, other_url = r.person.name if r.person else "", ""
        elif other is not None:
            visible = other.status == EntryStatus.PUBLISHED
            other_name = other.name
            other_url = organisation_url(other) if visible else ""
        else:  # pragma: no cover - the check constraint makes one of them set
            continue
        label = r.get_kind_display() if outgoing else _incoming_label(r.kind)
        entry = ProfileRelation(
            relation=r, label=str(label), other_name=other_name, other_url=other_url
        )
        if r.status == RelationStatus.CONFIRMED:
            if (
                other is not None
                and other.status != EntryStatus.PUBLISHED
                and not (staff or member_here)
            ):
                continue
            entry.can_delete = staff or member_here
            groups[str(label)].append(entry)
            continue
        person_self = r.person is not None and r.person.user_id == getattr(user, "pk", None)
        if staff or r.source_id in mine or (r.target_id in mine) or person_self:
            entry.can_decide = may_decide(user, r)
            entry.can_delete = staff or r.source_id in mine or r.target_id in mine
            result.pending.append(entry)
    result.groups = sorted(groups.items())
    return result


def _named(rows: Iterable[Relation]) -> list[Relation]:
    """The relations, each with ``other_name``: the target organisation's or person's name."""
    result = list(rows)
    for r in result:
        other = r.target if r.target_id is not None else r.person
        r.other_name = other.name if other is not None else ""  # type: ignore[attr-defined]
    return result


def relations_waiting_for(*, user: Any) -> list[Relation]:
    """Proposals the user can decide: to an organisation they are a member of, or naming
    them as the person (and, for staff, those to people without an account)."""
    if not user.is_authenticated:
        return []
    q = Q(target_id__in=Membership.objects.filter(user_id=user.pk).values("organisation_id"))
    q |= Q(person__user_id=user.pk)
    if user_is_department_staff(user=user):
        q |= Q(person__isnull=False, person__user__isnull=True)
    return _named(
        Relation.objects.filter(q, status=RelationStatus.PROPOSED)
        .select_related("source", "target", "person")
        .order_by("created_at", "pk")[:200]
    )


def relations_proposed_by_mine(*, user: Any) -> list[Relation]:
    """Proposals of the user's organisations still waiting for the other side."""
    if not user.is_authenticated:
        return []
    return _named(
        Relation.objects.filter(
            status=RelationStatus.PROPOSED,
            source_id__in=Membership.objects.filter(user_id=user.pk).values("organisation_id"),
        )
        .select_related("source", "target", "person")
        .order_by("created_at", "pk")[:200]
    )


# ---- the network view -------------------------------------------------------------------


@dataclass
class Node:
    key: str  # "o12" or "p3"
    label: str
    is_person: bool
    url: str = ""
    x: float = 0.0
    y: float = 0.0
    centre: bool = False


@dataclass
class Edge:
    relation: Relation
    source: Node
    target: Node
    label: str


@dataclass
class Network:
    nodes: list[Node]
    edges: list[Edge]
    size: int
    truncated: bool
    centre: Organisation | None


NETWORK_SIZE = 600  # the drawing's width and height in SVG units
NETWORK_MAX_NODES = 40


def network_of(
    *, organisation: Organisation | None = None, limit: int = NETWORK_MAX_NODES
) -> Network:
    """The published network, drawn server-side: around one organisation (its confirmed
    relations on a circle around it) or the whole network, the ``limit`` best-connected
    organisations and people on one circle. Edges come with a label for the list equivalent."""
    base = _public_relations().select_related("source", "target", "person")
    if organisation is not None:
        base = base.filter(Q(source_id=organisation.pk) | Q(target_id=organisation.pk))
    relations = list(base.order_by("kind", "pk")[:2000])
    degree: dict[str, int] = defaultdict(int)
    nodes: dict[str, Node] = {}

    def node_of(rel: Relation, side: str) -> Node:
        if side == "source":
            org = rel.source
            key = f"o{org.pk}"
            if key not in nodes:
                nodes[key] = Node(key, org.name, False, organisation_url(org))
            return nodes[key]
        if rel.target is not None:
            key = f"o{rel.target.pk}"
            if key not in nodes:
                nodes[key] = Node(key, rel.target.name, False, organisation_url(rel.target))
            return nodes[key]
        key = f"p{rel.person_id}"
        if key not in nodes:
            nodes[key] = Node(key, rel.person.name if rel.person else "", True)
        return nodes[key]

    pairs = []
    for rel in relations:
        a, b = node_of(rel, "source"), node_of(rel, "target")
        degree[a.key] += 1
        degree[b.key] += 1
        pairs.append((rel, a, b))
    centre_key = f"o{organisation.pk}" if organisation is not None else None
    ranked = sorted(nodes.values(), key=lambda n: (n.key != centre_key, -degree[n.key], n.label))
    kept = {n.key for n in ranked[:limit]}
    truncated = len(nodes) > len(kept)
    ring = [n for n in ranked if n.key in kept and n.key != centre_key]
    ring.sort(key=lambda n: n.label.lower())
    middle = NETWORK_SIZE / 2
    radius = NETWORK_SIZE / 2 - 90
    if centre_key is not None and centre_key in nodes:
        centre = nodes[centre_key]
        centre.x, centre.y, centre.centre = middle, middle, True
    for i, n in enumerate(ring):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
        n.x = round(middle + radius * math.cos(angle), 1)
        n.y = round(middle + radius * math.sin(angle), 1)
    edges = [
        Edge(rel, a, b, str(rel.get_kind_display()))
        for rel, a, b in pairs
        if a.key in kept and b.key in kept
    ]
    shown = [n for n in ranked if n.key in kept]
    return Network(
        nodes=shown, edges=edges, size=NETWORK_SIZE, truncated=truncated, centre=organisation
    )


def network_organisations() -> list[Organisation]:
    """Published organisations that have at least one confirmed relation (to choose a centre)."""
    linked = _public_relations()
    return list(
        Organisation.objects.filter(status=EntryStatus.PUBLISHED)
        .filter(Q(pk__in=linked.values("source_id")) | Q(pk__in=linked.values("target_id")))
        .only("pk", "name", "slug")
        .order_by("name")[:500]
    )


def network_centre(*, slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug, status=EntryStatus.PUBLISHED).first()
    if organisation is None:
        raise Http404
    return organisation


__all__ = [
    "PERSON_KINDS",
    "organisations_are_related",
    "organisations_related",
    "relations_for_profile",
    "relations_of",
]
