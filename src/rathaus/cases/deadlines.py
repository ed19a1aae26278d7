"""Due dates in working days: Monday to Friday, without Saxony's public holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv="SN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the day of receipt does not count)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def due_date(received_at: datetime, processing_days: int | None) -> date | None:
    """When a case received at ``received_at`` is due: ``processing_days`` working days after
    the day of receipt in Leipzig; None (never overdue) without processing days."""
    if not processing_days:
        return None
    return add_working_days(timezone.localdate(received_at), processing_days)
