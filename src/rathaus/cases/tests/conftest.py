from __future__ import annotations

from typing import Any

import pytest

from rathaus.catalog.models import Service


@pytest.fixture
def office(offices: dict[str, Any]) -> Any:
    """The Ordnungsamt, responsible for the demo dog form's service (10 working days)."""
    service = Service.objects.get(leika_key="99102013000000")
    service.offices.add(offices["ordnungsamt"])
    service.processing_days = 10
    service.save(update_fields=["processing_days"])
    return offices["ordnungsamt"]
