"""Reads of core, already shaped for the views and the API that need them."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from rathaus.core.constants import OutboxStatus
from rathaus.core.models import Area, OutboxMessage


def outbox_backlog() -> dict[str, int]:
    """Messages per status (every status present, zero when none)."""
    counts = {status.value: 0 for status in OutboxStatus}
    for row in OutboxMessage.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def area_list() -> QuerySet[Area]:
    return Area.objects.order_by("kind", "name", "id")
