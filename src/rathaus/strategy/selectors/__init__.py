"""What the strategy pillar's pages and the other pillars read. Other apps import from here
(``measures_by_id``, ``measure_get``, ``measure_choices``, ``MeasureRef``)."""

from rathaus.strategy.selectors.refs import (
    MeasureRef,
    measure_choices,
    measure_get,
    measures_by_id,
)

__all__ = ["MeasureRef", "measure_choices", "measure_get", "measures_by_id"]
