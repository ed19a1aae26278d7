"""The snapshot of a strategy's current (draft) state: what a publication stores and what the
public pages show. JSON only (decimals as strings, dates in ISO form) and free of personal
data: the responsible office is in it, never the responsible person or a KPI's owner.

Built in a constant number of queries whatever the size of the strategy (one ``values()``
query per table, then assembled in Python), so publishing a strategy of 500 measures costs
what publishing one of five does."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db.models import Max

from rathaus.core.constants import AreaKind
from rathaus.strategy.models import (
    FieldOfAction,
    Indicator,
    IndicatorObservation,
    Measure,
    Milestone,
    ObservationCorrection,
    Strategy,
)

# raised whenever the form of the snapshot changes, so readers can tell old ones apart
# (2: "counts" at the top level; a partner not public in the directory has no name)
SNAPSHOT_SCHEMA = 2

Json = dict[str, Any]


def _decimal(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = f"{value.normalize():f}"
    return text


def _date(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _strategy(strategy: Strategy) -> Json:
    return {
        "id": strategy.pk,
        "slug": strategy.slug,
        "name": strategy.name,
        "version": strategy.version,
        "kind": strategy.kind,
        "description": strategy.description,
        "status": strategy.status,
        "council_decision_number": strategy.council_decision_number,
        "council_decision_date": _date(strategy.council_decision_date),
    }


def _measure_rows(strategy: Strategy) -> list[Json]:
    return cast(
        list[Json],
        list(
            Measure.objects.filter(strategies=strategy)
            .order_by("code")
            .values(
                "id",
                "code",
                "title",
                "description",
                "parent_id",
                "weight",
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
                "office_id",
                "office__name",
            )
        ),
    )


def _areas(measure_ids: set[int]) -> dict[int, list[Json]]:
    through = Measure.areas.through
    rows = (
        through.objects.filter(measure_id__in=measure_ids)
        .order_by("area__kind", "area__name")
        .values(
            "measure_id",
            "area_id",
            "area__name",
            "area__kind",
            "area__parent_id",
            "area__parent__name",
        )
    )
    areas: dict[int, list[Json]] = defaultdict(list)
    for row in rows:
        # the Stadtbezirk the area is or lies in: filtering by a Stadtbezirk finds its Ortsteile
        district, district_name = None, ""
        if row["area__kind"] == AreaKind.STADTBEZIRK:
            district, district_name = row["area_id"], row["area__name"]
        elif row["area__parent_id"]:
            district, district_name = row["area__parent_id"], row["area__parent__name"]
        areas[row["measure_id"]].append(
            {
                "id": row["area_id"],
                "name": row["area__name"],
                "kind": row["area__kind"],
                "district_id": district,
                "district_name": district_name,
            }
        )
    return areas


def _field_codes(strategy: Strategy, measure_ids: set[int]) -> dict[int, list[str]]:
    through = Measure.fields_of_action.through
    rows = (
        through.objects.filter(measure_id__in=measure_ids, fieldofaction__strategy=strategy)
        .order_by("fieldofaction__position", "fieldofaction__code")
        .values_list("measure_id", "fieldofaction__code")
    )
    codes: dict[int, list[str]] = defaultdict(list)
    for measure_id, code in rows:
        codes[measure_id].append(code)
    return codes


def _milestones(measure_ids: set[int]) -> dict[int, list[Json]]:
    rows = (
        Milestone.objects.filter(measure_id__in=measure_ids)
        .order_by("measure_id", "planned_date", "pk")
        .values(
            "measure_id",
            "title",
            "planned_date",
            "baseline_date",
            "actual_date",
            "status",
            "slip_reason",
            "evidence_url",
            "evidence_file",
        )
    )
    milestones: dict[int, list[Json]] = defaultdict(list)
    for row in rows:
        planned, baseline, actual = row["planned_date"], row["baseline_date"], row["actual_date"]
        milestones[row["measure_id"]].append(
            {
                "title": row["title"],
                "planned_date": _date(planned),
                "baseline_date": _date(baseline),
                "actual_date": _date(actual),
                "status": row["status"],
                "slipped": planned > baseline or bool(actual and actual > planned),
                "slip_reason": row["slip_reason"],
                "evidence_url": row["evidence_url"],
                # the document itself is not served to the public: only that there is one
                "evidence_document": bool(row["evidence_file"]),
            }
        )
    return milestones


def _links_partners_funding(
    measure_ids: set[int],
) -> tuple[dict[int, list[Json]], dict[int, list[Json]], dict[int, list[Json]]]:
    from rathaus.funding.selectors.applications import applications_for_measures
    from rathaus.strategy.selectors.links import links_for_measures, partners_for_measures

    links = {
        pk: [
            {"kind": ref.kind, "target_id": ref.target_id, "title": ref.title, "url": ref.url}
            for ref in refs
        ]
        for pk, refs in links_for_measures(measure_ids=measure_ids).items()
    }
    partners = {
        # no label for an organisation not public in the directory: the pages call it by its
        # number in the reader's language, not in the publisher's
        pk: [{"id": org_id, "name": name or None, "url": url} for org_id, name, url in items]
        for pk, items in partners_for_measures(
            measure_ids=measure_ids, fallback_names=False
        ).items()
    }
    funding = {
        pk: [
            {"programme": item.programme, "amount": _decimal(item.amount_granted)} for item in items
        ]
        for pk, items in applications_for_measures(
            measure_ids=measure_ids, granted_only=True
        ).items()
    }
    return links, partners, funding


def _indicators(
    strategy: Strategy, codes_by_id: dict[int, str], *, indicator_id: int | None = None
) -> list[Json]:
    """The KPIs of the strategy (or only the one ``indicator_id``) with their observations."""
    only = {} if indicator_id is None else {"pk": indicator_id}
    within = {} if indicator_id is None else {"indicator_id": indicator_id}
    indicators = list(
        Indicator.objects.filter(strategy=strategy, **only)
        .order_by("position", "code")
        .values(
            "id",
            "code",
            "name",
            "definition",
            "unit",
            "direction",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
            "frequency",
            "data_source",
            "field_of_action__code",
            "auto_source",
        )
    )
    measure_links: dict[int, list[str]] = defaultdict(list)
    for indicator_id, measure_id in (
        Indicator.measures.through.objects.filter(indicator__strategy=strategy, **within)
        .order_by("measure__code")
        .values_list("indicator_id", "measure_id")
    ):
        if measure_id in codes_by_id:  # a measure of another strategy is not on this dashboard
            measure_links[indicator_id].append(codes_by_id[measure_id])
    corrected = dict(
        ObservationCorrection.objects.filter(
            observation__indicator__strategy=strategy,
            **{f"observation__{key}": value for key, value in within.items()},
        )
        .values("observation_id")
        .annotate(last=Max("changed_at"))
        .order_by()
        .values_list("observation_id", "last")
    )
    observations: dict[int, list[Json]] = defaultdict(list)
    for row in (
        IndicatorObservation.objects.filter(indicator__strategy=strategy, **within)
        .order_by("indicator_id", "period")
        .values("id", "indicator_id", "period", "value", "provisional", "note")
    ):
        last = corrected.get(row["id"])
        observations[row["indicator_id"]].append(
            {
                "period": _date(row["period"]),
                "value": _decimal(row["value"]),
                "provisional": row["provisional"],
                "note": row["note"],
                "corrected": last is not None,
                "corrected_at": _date(last.date()) if last is not None else None,
            }
        )
    return [
        {
            "code": row["code"],
            "name": row["name"],
            "definition": row["definition"],
            "unit": row["unit"],
            "direction": row["direction"],
            "baseline_value": _decimal(row["baseline_value"]),
            "baseline_date": _date(row["baseline_date"]),
            "target_value": _decimal(row["target_value"]),
            "target_date": _date(row["target_date"]),
            "frequency": row["frequency"],
            "data_source": row["data_source"],
            "automatic": bool(row["auto_source"]),
            "field": row["field_of_action__code"],
            "measures": measure_links.get(row["id"], []),
            "observations": observations.get(row["id"], []),
        }
        for row in indicators
    ]


def _fields(strategy: Strategy, measures: list[Json]) -> list[Json]:
    """The fields of action in tree order (each with its depth), each with the progress of the
    top-level measures in it or in a field below it (each measure counted once) and their
    counts by status and traffic light."""
    rows: list[Json] = [
        dict(row)
        for row in FieldOfAction.objects.filter(strategy=strategy)
        .order_by("position", "code")
        .values("id", "code", "title", "description", "parent_id")
    ]
    by_id = {row["id"]: row for row in rows}
    children: dict[int | None, list[Json]] = defaultdict(list)
    for row in rows:
        parent = row["parent_id"] if row["parent_id"] in by_id else None
        children[parent].append(row)
    top_level = [m for m in measures if m["parent"] is None]
    direct: dict[str, set[str]] = defaultdict(set)
    for measure in top_level:
        for code in measure["fields"]:
            direct[code].add(measure["code"])
    by_code = {m["code"]: m for m in top_level}
    ordered: list[Json] = []

    def walk(row: Json, depth: int, seen: frozenset[int]) -> set[str]:
        entry: Json = {
            "code": row["code"],
            "title": row["title"],
            "description": row["description"],
            "parent": by_id[row["parent_id"]]["code"] if row["parent_id"] in by_id else None,
            "depth": depth,
        }
        ordered.append(entry)
        codes = set(direct.get(row["code"], set()))
        for child in children.get(row["id"], []):
            if child["id"] not in seen:  # a cycle would be a data error: never loop on it
                codes |= walk(child, depth + 1, seen | {child["id"]})
        members = [by_code[c] for c in sorted(codes)]
        entry["measure_count"] = len(members)
        entry["progress"] = (
            round(sum(m["progress"] for m in members) / len(members)) if members else None
        )
        by_status: dict[str, int] = defaultdict(int)
        by_light: dict[str, int] = defaultdict(int)
        for member in members:
            by_status[member["status"]] += 1
            by_light[member["traffic_light"]] += 1
        entry["status_counts"] = dict(by_status)
        entry["light_counts"] = dict(by_light)
        return codes

    for root in children.get(None, []):
        walk(root, 0, frozenset({root["id"]}))
    return ordered


def _measure(row: Json, codes_by_id: dict[int, str], parts: MeasureParts) -> Json:
    pk = row["id"]
    areas, fields, milestones, (links, partners, funding) = parts
    return {
        "code": row["code"],
        "title": row["title"],
        "description": row["description"],
        "parent": codes_by_id.get(row["parent_id"]) if row["parent_id"] else None,
        "weight": row["weight"],
        "status": row["status"],
        "traffic_light": row["traffic_light"],
        "status_reason": row["status_reason"],
        "progress": row["progress"],
        "progress_mode": row["progress_mode"],
        "planned_start": _date(row["planned_start"]),
        "planned_end": _date(row["planned_end"]),
        "actual_start": _date(row["actual_start"]),
        "actual_end": _date(row["actual_end"]),
        "planned_budget": _decimal(row["planned_budget"]),
        "spent_budget": _decimal(row["spent_budget"]),
        "office": (
            {"id": row["office_id"], "name": row["office__name"]} if row["office_id"] else None
        ),
        "areas": areas.get(pk, []),
        "fields": fields.get(pk, []),
        "partners": partners.get(pk, []),
        "links": links.get(pk, []),
        "funding": funding.get(pk, []),
        "milestones": milestones.get(pk, []),
    }


MeasureParts = tuple[
    dict[int, list[Json]],
    dict[int, list[str]],
    dict[int, list[Json]],
    tuple[dict[int, list[Json]], dict[int, list[Json]], dict[int, list[Json]]],
]


def measure_parts(strategy: Strategy, measure_ids: set[int]) -> MeasureParts:
    """Areas, fields of action, milestones, links, partners and granted funding of these
    measures: a fixed number of queries however many ids."""
    if not measure_ids:
        return {}, {}, {}, ({}, {}, {})
    return (
        _areas(measure_ids),
        _field_codes(strategy, measure_ids),
        _milestones(measure_ids),
        _links_partners_funding(measure_ids),
    )


def strategy_snapshot(*, strategy: Strategy, per_object: bool = False) -> Json:
    """The JSON-able state of the strategy now: strategy, fields of action with their
    progress, measures with milestones, partners, links and granted funding, KPIs with their
    observations. A constant number of queries.

    ``per_object`` builds the same snapshot the straightforward way, with the queries for each
    measure and each KPI of its own: the naive twin the benchmark (bench/strategy.py) measures
    the real one against. Nothing else uses it."""
    rows = _measure_rows(strategy)
    codes_by_id = {row["id"]: row["code"] for row in rows}
    if per_object:
        measures = [
            _measure(row, codes_by_id, measure_parts(strategy, {row["id"]})) for row in rows
        ]
        indicator_ids = Indicator.objects.filter(strategy=strategy).values_list("pk", flat=True)
        indicators = [
            item
            for pk in indicator_ids
            for item in _indicators(strategy, codes_by_id, indicator_id=pk)
        ]
    else:
        parts = measure_parts(strategy, set(codes_by_id))
        measures = [_measure(row, codes_by_id, parts) for row in rows]
        indicators = _indicators(strategy, codes_by_id)
    return {
        "schema": SNAPSHOT_SCHEMA,
        "strategy": _strategy(strategy),
        "fields": _fields(strategy, measures),
        "measures": measures,
        "indicators": indicators,
        # read on their own by the public index (without parsing the rest)
        "counts": {"measures": len(measures), "indicators": len(indicators)},
    }


def snapshot_changes(*, before: Json | None, after: Json) -> Json:
    """What publishing ``after`` changes for the public compared with ``before`` (the newest
    publication, or None): measures added, removed and with a changed status, milestones
    reached, new and changed KPI values."""
    old_measures = {m["code"]: m for m in (before or {}).get("measures", [])}
    new_measures = {m["code"]: m for m in after.get("measures", [])}
    added = sorted(set(new_measures) - set(old_measures))
    removed = sorted(set(old_measures) - set(new_measures))
    status_changed = sorted(
        code
        for code in set(new_measures) & set(old_measures)
        if new_measures[code]["status"] != old_measures[code]["status"]
    )

    def reached(measures: dict[str, Json]) -> set[tuple[str, str, str | None]]:
        return {
            (code, milestone["title"], milestone["baseline_date"])
            for code, measure in measures.items()
            for milestone in measure.get("milestones", [])
            if milestone["status"] == "done"
        }

    def values(snapshot: Json | None) -> dict[tuple[str, str], str]:
        return {
            (indicator["code"], item["period"]): item["value"]
            for indicator in (snapshot or {}).get("indicators", [])
            for item in indicator.get("observations", [])
        }

    old_values, new_values = values(before), values(after)
    return {
        "first": before is None,
        "measures_added": added,
        "measures_removed": removed,
        "measures_status_changed": status_changed,
        "milestones_reached": len(reached(new_measures) - reached(old_measures)),
        "observations_new": len(set(new_values) - set(old_values)),
        "observations_changed": sum(
            1 for key in set(new_values) & set(old_values) if new_values[key] != old_values[key]
        ),
    }
