"""Stale entries: a measure that is neither done nor stopped and that its responsible person has
not updated or confirmed ("still current") for ``RATHAUS_STRATEGY_STALE_DAYS`` days."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from rathaus.strategy.constants import CLOSED_STATUSES
from rathaus.strategy.models import Measure


def stale_since(*, now: datetime | None = None) -> datetime:
    """Entries last reviewed before this moment are stale."""
    return (now or timezone.now()) - timedelta(days=settings.STRATEGY_STALE_DAYS)


def stale_measures(*, now: datetime | None = None) -> QuerySet[Measure]:
    """Every stale measure (with its office and responsible person), oldest review first."""
    cutoff = stale_since(now=now)
    return (
        Measure.objects.exclude(status__in=CLOSED_STATUSES)
        .filter(Q(reviewed_at__lt=cutoff) | Q(reviewed_at__isnull=True, created_at__lt=cutoff))
        .select_related("office", "responsible")
        .order_by("reviewed_at", "created_at", "code")
    )


def measure_is_stale(*, measure: Measure, now: datetime | None = None) -> bool:
    if measure.status in CLOSED_STATUSES:
        return False
    cutoff = stale_since(now=now)
    return (measure.reviewed_at or measure.created_at) < cutoff
