"""What other apps read of the strategy: measures by id, as choices, and a measure's profile for
matching funding calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from rathaus.strategy.models import Measure


@dataclass(frozen=True)
class MeasureRef:
    id: int
    code: str
    title: str
    themes_mask: int
    planned_budget: Decimal | None

    @property
    def label(self) -> str:
        return f"{self.code} {self.title}"


def _ref(measure: Measure) -> MeasureRef:
    return MeasureRef(
        id=measure.pk,
        code=measure.code,
        title=measure.title,
        themes_mask=measure.themes_mask,
        planned_budget=measure.planned_budget,
    )


def measures_by_id(*, measure_ids: Iterable[int]) -> dict[int, MeasureRef]:
    """The measures of these ids (in one query); unknown ids are left out."""
    ids = {int(i) for i in measure_ids}
    if not ids:
        return {}
    return {m.pk: _ref(m) for m in Measure.objects.filter(pk__in=ids)}


def measure_get(*, measure_id: int) -> MeasureRef | None:
    return measures_by_id(measure_ids=[measure_id]).get(int(measure_id))


def measure_choices() -> list[tuple[int, str]]:
    """Every measure as (id, "code title"), for a choice list."""
    return [
        (pk, f"{code} {title}")
        for pk, code, title in Measure.objects.values_list("pk", "code", "title")
    ]
