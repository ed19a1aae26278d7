"""What the public pages read: the published states of the strategies (``Publication``), never
the draft. A publication never changes once written, so its parsed snapshot is kept in memory
(a small LRU keyed by the publication) and the pages filter, sort and paginate it in Python:
a dashboard costs one or two queries however big the strategy is."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.db.models import Max, OuterRef, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from rathaus.core.dbrouter import replica_reads
from rathaus.strategy.constants import (
    Direction,
    Frequency,
    MeasureStatus,
    MilestoneStatus,
    StrategyKind,
    StrategyStatus,
    TrafficLight,
)
from rathaus.strategy.models import Publication

Json = dict[str, Any]

CACHE_SIZE = 8

TRAFFIC_SYMBOLS = {
    TrafficLight.GREEN: "●",
    TrafficLight.YELLOW: "▲",
    TrafficLight.RED: "■",
}


@dataclass
class PublishedState:
    """A publication's snapshot with the lookups the pages need (built once per publication).
    Shared between requests: read it, never change it."""

    pk: int
    strategy_id: int
    number: int
    published_at: datetime
    note: str
    data: Json
    measures_by_code: dict[str, Json] = field(default_factory=dict)
    children: dict[str, list[Json]] = field(default_factory=dict)
    indicators_by_code: dict[str, Json] = field(default_factory=dict)
    field_below: dict[str, frozenset[str]] = field(default_factory=dict)
    fields_by_code: dict[str, Json] = field(default_factory=dict)

    @property
    def strategy(self) -> Json:
        return cast(Json, self.data["strategy"])

    @property
    def measures(self) -> list[Json]:
        return cast(list[Json], self.data["measures"])

    @property
    def indicators(self) -> list[Json]:
        return cast(list[Json], self.data["indicators"])

    @property
    def fields(self) -> list[Json]:
        return cast(list[Json], self.data["fields"])

    def office_choices(self) -> list[tuple[str, str]]:
        offices = {m["office"]["id"]: m["office"]["name"] for m in self.measures if m["office"]}
        return sorted(((str(pk), name) for pk, name in offices.items()), key=lambda c: c[1])

    def district_choices(self) -> list[tuple[str, str]]:
        districts = {
            area["district_id"]: area["district_name"]
            for m in self.measures
            for area in m["areas"]
            if area["district_id"]
        }
        return sorted(((str(pk), name) for pk, name in districts.items()), key=lambda c: c[1])

    def field_choices(self) -> list[tuple[str, str]]:
        return [
            (f["code"], "\u2003" * f["depth"] + f"{f['code']} {f['title']}") for f in self.fields
        ]

    def measure_fields(self, measure: Json) -> list[str]:
        """A sub-measure without fields of its own is in its parent's."""
        own: list[str] = measure["fields"]
        if own or not measure["parent"]:
            return own
        parent = self.measures_by_code.get(measure["parent"])
        return list(parent["fields"]) if parent else []


def _state(row: Json, data: Json) -> PublishedState:
    state = PublishedState(
        pk=row["pk"],
        strategy_id=row["strategy_id"],
        number=row["number"],
        published_at=row["published_at"],
        note=row["note"],
        data=data,
    )
    state.measures_by_code = {m["code"]: m for m in data["measures"]}
    for measure in data["measures"]:
        if measure["parent"]:
            state.children.setdefault(measure["parent"], []).append(measure)
    state.indicators_by_code = {i["code"]: i for i in data["indicators"]}
    state.fields_by_code = {f["code"]: f for f in data["fields"]}
    below: dict[str, set[str]] = {f["code"]: {f["code"]} for f in data["fields"]}
    # fields come in tree order with their depth: a field's subtree follows it
    stack: list[Json] = []
    for item in data["fields"]:
        while stack and stack[-1]["depth"] >= item["depth"]:
            stack.pop()
        for ancestor in stack:
            below[ancestor["code"]].add(item["code"])
        stack.append(item)
    state.field_below = {code: frozenset(codes) for code, codes in below.items()}
    return state


_META = ("pk", "strategy_id", "number", "published_at", "note")


@functools.lru_cache(maxsize=CACHE_SIZE)
def _loaded(pk: int, published_at: datetime) -> PublishedState | None:
    """A publication with its snapshot parsed and indexed, once (``published_at`` is in the
    key so that a reused id, as in tests that roll back, never gets stale data). One query."""
    row = Publication.objects.filter(pk=pk).values(*_META, "data").first()
    if row is None or row["published_at"] != published_at:
        return None
    return _state(row, row["data"])


def _with_data(row: Json | None) -> PublishedState:
    if row is None:
        raise Http404
    state = _loaded(row["pk"], row["published_at"])
    if state is None:
        raise Http404
    return state


def state_clear_cache() -> None:
    """Forget the parsed snapshots (tests; a publication itself never changes)."""
    _loaded.cache_clear()


@replica_reads
def published_state(*, slug: str, stand: str | None = None) -> PublishedState:
    """The newest published state of the strategy ``slug``, or the one numbered ``stand``;
    ``Http404`` when there is none (an unknown strategy, one never published, a stand that is
    not a number or does not exist). One query when the snapshot is already in memory."""
    rows = Publication.objects.filter(strategy__slug=slug)
    if stand not in (None, ""):
        try:
            number = int(str(stand))
        except ValueError:
            raise Http404 from None
        if number < 1:
            raise Http404
        rows = rows.filter(number=number)
    row = rows.order_by("-number").values(*_META).first()
    if row is None:
        raise Http404
    return _with_data(row)


def state_of_publication(*, pk: int, published_at: datetime) -> PublishedState:
    """The publication ``pk`` with its snapshot (as listed by ``published_index``); ``Http404``
    when it is gone."""
    return _with_data({"pk": pk, "published_at": published_at})


@dataclass(frozen=True)
class IndexEntry:
    """A strategy's newest published state as the index lists it: what was published (name,
    version, kind, description, counts) and the strategy's slug as it is now (its address)."""

    pk: int
    strategy_id: int
    slug: str
    number: int
    published_at: datetime
    strategy: Json
    measure_count: int
    indicator_count: int


@replica_reads
def published_index() -> list[IndexEntry]:
    """The newest published state of each strategy that has one, by name, without parsing a
    single snapshot: the database hands over only the snapshot's small parts (its
    ``strategy`` and ``counts``). One query; a second one only for states published before
    the snapshot carried its counts."""
    newest = (
        Publication.objects.filter(strategy=OuterRef("strategy"))
        .order_by("-number")
        .values("pk")[:1]
    )
    rows = list(
        Publication.objects.filter(pk=Subquery(newest))
        .order_by("strategy__name", "pk")
        .values(
            "pk",
            "strategy_id",
            "number",
            "published_at",
            "strategy__slug",
            "data__strategy",
            "data__counts",
        )
    )
    counts: dict[int, Json] = {
        row["pk"]: row["data__counts"] for row in rows if isinstance(row["data__counts"], dict)
    }
    legacy = [row["pk"] for row in rows if row["pk"] not in counts]
    if legacy:
        for row in Publication.objects.filter(pk__in=legacy).values(
            "pk", "data__measures", "data__indicators"
        ):
            counts[row["pk"]] = {
                "measures": len(row["data__measures"] or []),
                "indicators": len(row["data__indicators"] or []),
            }
    return [
        IndexEntry(
            pk=row["pk"],
            strategy_id=row["strategy_id"],
            slug=row["strategy__slug"],
            number=row["number"],
            published_at=row["published_at"],
            strategy=row["data__strategy"] or {},
            measure_count=int(counts[row["pk"]].get("measures") or 0),
            indicator_count=int(counts[row["pk"]].get("indicators") or 0),
        )
        for row in rows
    ]


def publications_of(*, slug: str) -> tuple[Json, list[Json]]:
    """The strategy as last published and the list of all its published states (number,
    date, note; newest first) without their snapshots."""
    state = published_state(slug=slug)
    rows: list[Json] = [
        dict(row)
        for row in Publication.objects.filter(strategy_id=state.strategy_id)
        .order_by("-number")
        .values("number", "published_at", "note")
    ]
    return state.strategy, rows


def publication_count(*, strategy_id: int) -> int:
    return Publication.objects.filter(strategy_id=strategy_id).aggregate(n=Max("number"))["n"] or 0


# ---- filtering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureFilters:
    status: str = ""
    office_id: int | None = None
    district_id: int | None = None
    field_code: str = ""

    @property
    def active(self) -> bool:
        return bool(self.status or self.office_id or self.district_id or self.field_code)


def measures_filtered(*, state: PublishedState, filters: MeasureFilters) -> list[Json]:
    """The measures (sub-measures after their parent) matching every filter given: status,
    responsible office, Stadtbezirk (with its Ortsteile) or Ortsteil, field of action (with
    the fields below it)."""
    fields = state.field_below.get(filters.field_code, frozenset()) if filters.field_code else None
    result = []
    for measure in _tree_order(state):
        if filters.status and measure["status"] != filters.status:
            continue
        if filters.office_id and (
            not measure["office"] or measure["office"]["id"] != filters.office_id
        ):
            continue
        if filters.district_id and not any(
            filters.district_id in (area["id"], area["district_id"]) for area in measure["areas"]
        ):
            continue
        if fields is not None and not fields.intersection(state.measure_fields(measure)):
            continue
        result.append(measure)
    return result


def _tree_order(state: PublishedState) -> Iterator[Json]:
    for measure in state.measures:
        if measure["parent"] and measure["parent"] in state.measures_by_code:
            continue
        yield measure
        yield from state.children.get(measure["code"], [])


def indicators_of_measure(*, state: PublishedState, code: str) -> list[Json]:
    return [i for i in state.indicators if code in i["measures"]]


# ---- values for the pages -------------------------------------------------------------------


def as_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def as_decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def label(choices: type, value: str | None) -> str:
    """The word of a choice (German source, translated); the value itself if unknown."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def status_label(value: str) -> str:
    return label(MeasureStatus, value)


def light_label(value: str) -> str:
    return label(TrafficLight, value)


def light_symbol(value: str) -> str:
    return next((symbol for light, symbol in TRAFFIC_SYMBOLS.items() if light == value), "")


def milestone_status_label(value: str) -> str:
    return label(MilestoneStatus, value)


def direction_label(value: str) -> str:
    return label(Direction, value)


def frequency_label(value: str) -> str:
    return label(Frequency, value)


def kind_label(value: str) -> str:
    return label(StrategyKind, value)


def strategy_status_label(value: str) -> str:
    return label(StrategyStatus, value)


# ---- CSV ------------------------------------------------------------------------------------

MEASURE_COLUMNS = (
    "code",
    "title",
    "parent_code",
    "weight",
    "status",
    "status_label",
    "traffic_light",
    "traffic_light_label",
    "status_reason",
    "progress",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "planned_budget",
    "spent_budget",
    "office",
    "areas",
    "fields_of_action",
    "partners",
    "milestones",
    "milestones_reached",
    "milestones_slipped",
    "funding_granted",
    "url",
)

INDICATOR_COLUMNS = (
    "indicator_code",
    "indicator_name",
    "unit",
    "direction",
    "baseline_value",
    "baseline_date",
    "target_value",
    "target_date",
    "period",
    "value",
    "provisional",
    "note",
    "corrected",
    "corrected_at",
)


def _absolute(path: str, base: str) -> str:
    return base.rstrip("/") + path if base else path


def partner_name(partner: Json) -> str:
    """A partner organisation's name; one not public in the directory is stored without a
    name and called by its number here, in the reader's language."""
    return str(partner.get("name") or _("Organisation #%(id)d") % {"id": partner["id"]})


def measure_rows(
    *,
    state: PublishedState,
    slug: str,
    measures: list[Json] | None = None,
    base_url: str = "",
) -> Iterator[list[object]]:
    """One row per measure (header first): what the public sees of it, no person. ``slug`` is
    the strategy's slug now (the snapshot's may be an old one): the rows link to it."""
    yield list(MEASURE_COLUMNS)
    for m in measures if measures is not None else list(_tree_order(state)):
        milestones = m["milestones"]
        granted = [as_decimal(f["amount"]) for f in m["funding"]]
        total = sum((g for g in granted if g is not None), Decimal(0))
        yield [
            m["code"],
            m["title"],
            m["parent"] or "",
            "" if m["weight"] is None else m["weight"],
            m["status"],
            status_label(m["status"]),
            m["traffic_light"],
            light_label(m["traffic_light"]),
            m["status_reason"],
            m["progress"],
            m["planned_start"] or "",
            m["planned_end"] or "",
            m["actual_start"] or "",
            m["actual_end"] or "",
            m["planned_budget"] or "",
            m["spent_budget"] or "",
            m["office"]["name"] if m["office"] else "",
            "; ".join(a["name"] for a in m["areas"]),
            "; ".join(m["fields"]),
            "; ".join(partner_name(p) for p in m["partners"]),
            len(milestones),
            sum(1 for x in milestones if x["status"] == MilestoneStatus.DONE),
            sum(1 for x in milestones if x["slipped"]),
            f"{total:f}" if m["funding"] else "",
            _absolute(
                reverse("strategy:measure", kwargs={"slug": slug, "code": m["code"]}), base_url
            ),
        ]


def indicator_rows(*, state: PublishedState) -> Iterator[list[object]]:
    """Long format: one row per observation of each KPI (header first)."""
    yield list(INDICATOR_COLUMNS)
    for indicator in state.indicators:
        head = [
            indicator["code"],
            indicator["name"],
            indicator["unit"],
            indicator["direction"],
            indicator["baseline_value"] or "",
            indicator["baseline_date"] or "",
            indicator["target_value"] or "",
            indicator["target_date"] or "",
        ]
        for item in indicator["observations"]:
            yield [
                *head,
                item["period"],
                item["value"],
                "yes" if item["provisional"] else "no",
                item["note"],
                "yes" if item["corrected"] else "no",
                item["corrected_at"] or "",
            ]


def newest_state_of(*, strategy_id: int) -> PublishedState | None:
    """The newest published state of a strategy (for staff comparing the draft), or None."""
    row = (
        Publication.objects.filter(strategy_id=strategy_id)
        .order_by("-number")
        .values(*_META)
        .first()
    )
    return _loaded(row["pk"], row["published_at"]) if row is not None else None


def draft_state(*, strategy_id: int, data: Json, now: datetime) -> PublishedState:
    """A snapshot of the current draft dressed as a published state, for the draft preview."""
    row = {"pk": 0, "strategy_id": strategy_id, "number": 0, "published_at": now, "note": ""}
    return _state(row, data)
