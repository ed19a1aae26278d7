"""Jobs of the transit app that the worker runs."""

from __future__ import annotations

from django.conf import settings

from rathaus.core.outbox import periodic
from rathaus.transit.services import realtime_poll_all


@periodic(seconds=settings.TRANSIT_REALTIME_INTERVAL)
def realtime_poll() -> int:
    """Poll the GTFS-Realtime source of every feed that has one."""
    return realtime_poll_all()
