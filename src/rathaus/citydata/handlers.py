"""Jobs of the citydata app that the worker runs: keeping the generated open-data datasets
current (citydata/publishing.py)."""

from __future__ import annotations

import logging

from django.conf import settings

from rathaus.citydata.publishing import publish_open_data
from rathaus.core.outbox import periodic

logger = logging.getLogger(__name__)


@periodic(seconds=settings.OPEN_DATA_INTERVAL)
def refresh_open_data() -> None:
    """Regenerate the datasets made from platform data; unchanged sources are skipped."""
    report = publish_open_data()
    logger.info(
        "open data refreshed",
        extra={
            "done": len(report.done),
            "skipped": len(report.skipped),
            "rejected": len(report.rejected),
            "removed": len(report.removed),
            "busy": report.busy,
        },
    )
    for reason in report.rejected:
        logger.warning("open data: rejected", extra={"reason": reason})
    for reason in report.incomplete:
        logger.warning("open data: generator incomplete", extra={"reason": reason})
