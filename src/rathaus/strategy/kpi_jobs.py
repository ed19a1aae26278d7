"""The daily job that refreshes the KPIs taking their values automatically from platform
data (``services.kpis.indicators_refresh_auto``), run by the outbox worker. Imported from the
app's ``ready()`` so that the worker knows it."""

from __future__ import annotations

import logging

from rathaus.core.outbox import periodic
from rathaus.strategy.services.kpis import RefreshSummary, indicators_refresh_auto

logger = logging.getLogger(__name__)


@periodic(seconds=24 * 3600)
def refresh_automatic_indicators() -> RefreshSummary:
    summary = indicators_refresh_auto()
    logger.info(
        "automatic KPIs refreshed",
        extra={
            "done": summary.done,
            "skipped": summary.skipped,
            "rejected": summary.rejected,
        },
    )
    for outcome in summary.outcomes:
        if outcome.status == "rejected":
            logger.warning(
                "automatic KPI rejected",
                extra={"indicator": outcome.indicator_id, "reason": outcome.reason},
            )
    return summary
