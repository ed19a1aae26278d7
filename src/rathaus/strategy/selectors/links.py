"""What a measure links to elsewhere on the platform: events (economy), competitions
(innovation), open datasets (citydata) and partner organisations of the directory (economy),
each read through that pillar's selectors by id. Only what is public there is returned, so
the public pages can show the result as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from rathaus.citydata.selectors import dataset_refs
from rathaus.economy.selectors.directory import organisation_names
from rathaus.economy.selectors.events import event_refs
from rathaus.innovation.selectors.calls import call_refs
from rathaus.strategy.constants import LinkKind
from rathaus.strategy.models import MeasureLink, MeasurePartner


@dataclass(frozen=True)
class LinkRef:
    kind: str
    kind_label: str
    target_id: int
    title: str
    url: str


def _refs_of(kind: str) -> Callable[[set[int]], dict[int, tuple[str, str]]]:
    if kind == LinkKind.EVENT:
        return lambda ids: event_refs(event_ids=ids)
    if kind == LinkKind.COMPETITION:
        return lambda ids: call_refs(call_ids=ids)
    return lambda ids: dataset_refs(dataset_ids=ids)


def _ids(measure_ids: Iterable[int]) -> set[int]:
    return {int(i) for i in measure_ids}


def links_for_measures(*, measure_ids: Iterable[int]) -> dict[int, list[LinkRef]]:
    """measure id -> its links to public events, competitions and datasets (by kind, then
    title); links to something no longer public are left out. At most four queries."""
    ids = _ids(measure_ids)
    if not ids:
        return {}
    rows = list(
        MeasureLink.objects.filter(measure_id__in=ids).values_list(
            "measure_id", "kind", "target_id"
        )
    )
    targets: dict[str, set[int]] = {}
    for _measure_id, kind, target_id in rows:
        targets.setdefault(kind, set()).add(target_id)
    found = {kind: _refs_of(kind)(target_ids) for kind, target_ids in targets.items()}
    order = {kind: position for position, kind in enumerate(LinkKind.values)}
    result: dict[int, list[LinkRef]] = {}
    for measure_id, kind, target_id in rows:
        ref = found.get(kind, {}).get(target_id)
        if ref is None:
            continue
        title, url = ref
        result.setdefault(measure_id, []).append(
            LinkRef(
                kind=kind,
                kind_label=str(LinkKind(kind).label),
                target_id=target_id,
                title=title,
                url=url,
            )
        )
    for refs in result.values():
        refs.sort(key=lambda r: (order.get(r.kind, 99), r.title.casefold(), r.target_id))
    return result


def partners_for_measures(
    *, measure_ids: Iterable[int], fallback_names: bool = True
) -> dict[int, list[tuple[int, str, str]]]:
    """measure id -> its partner organisations as (organisation id, name, public profile
    path), by name. An organisation not (or no longer) published in the directory keeps its
    place without a name of its own ("Organisation #12", or "" when not ``fallback_names``:
    for what is stored, so the label is translated when shown) and without a link. Two
    queries."""
    ids = _ids(measure_ids)
    if not ids:
        return {}
    rows = list(
        MeasurePartner.objects.filter(measure_id__in=ids).values_list(
            "measure_id", "organisation_id"
        )
    )
    names = organisation_names(organisation_ids={org for _m, org in rows})
    result: dict[int, list[tuple[int, str, str]]] = {}
    for measure_id, organisation_id in rows:
        if organisation_id in names:
            name, slug = names[organisation_id]
            url = reverse("economy:organisation", kwargs={"slug": slug})
        else:
            name = _("Organisation #%(id)d") % {"id": organisation_id} if fallback_names else ""
            url = ""
        result.setdefault(measure_id, []).append((organisation_id, name, url))
    for partners in result.values():
        partners.sort(key=lambda p: (p[1].casefold(), p[0]))
    return result
