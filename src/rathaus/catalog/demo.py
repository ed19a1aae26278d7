"""The Leipzig demo city's catalogue: municipal services assigned to offices, a few locations."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from rathaus.accounts.models import Office
from rathaus.catalog.constants import MUNICIPAL_LEIKA_TYPES
from rathaus.catalog.models import Location, Service
from rathaus.catalog.services import services_assign_offices
from rathaus.core.services import upsert

DEMO_FILE = Path(__file__).resolve().parent / "data" / "leipzig-demo.json"


def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return data


def assign_municipal_services() -> tuple[int, int]:
    """Give every municipal service (LeiKa types 2/3, 4, 5) a responsible Leipzig office.
    Returns (services considered, links added); run again, it adds nothing."""
    data = _load()
    offices = dict(Office.objects.values_list("name", "pk"))
    fallback = offices[data["fallback_office"]]
    assignments: dict[int, list[int]] = {}
    services = Service.objects.filter(leika_type__in=MUNICIPAL_LEIKA_TYPES).select_related(
        "life_situation"
    )
    for service in services.only("pk", "name", "life_situation__name"):
        office_name = next(
            (o for word, o in data["offices_by_name_word"].items() if word in service.name.lower()),
            None,
        ) or data["offices_by_life_situation"].get(
            service.life_situation.name if service.life_situation else "", ""
        )
        assignments[service.pk] = [offices.get(office_name, fallback)]
    return len(assignments), services_assign_offices(assignments=assignments)


def load_locations() -> tuple[int, int]:
    """Create or update the demo locations; returns (created, updated)."""
    created = updated = 0
    offices = dict(Office.objects.values_list("name", "pk"))
    with transaction.atomic():
        for item in _load()["locations"]:
            values = {k: v for k, v in item.items() if k not in {"office", "name"}}
            for coordinate in ("latitude", "longitude"):
                values[coordinate] = Decimal(str(values[coordinate])).quantize(Decimal("0.000001"))
            _, outcome = upsert(
                Location,
                lookup={"office_id": offices[item["office"]], "name": item["name"]},
                values=values,
                actor=None,
                action_prefix="catalog.location",
            )
            created += outcome == "created"
            updated += outcome == "updated"
    return created, updated
