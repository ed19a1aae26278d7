"""Statistics of the back office (reads only): cases received and closed per office, service
and month with the median and 90th percentile processing time and the share handled online
end to end; open and overdue cases now. For office leads (the offices they lead) and the
department (every office): counts and durations, never applications.

Percentiles are computed by PostgreSQL (percentile_cont) where it runs, in Python on SQLite
(the default set-up's data is small)."""

from __future__ import annotations

import statistics as pystats
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from rathaus.accounts.constants import Role
from rathaus.accounts.models import Office
from rathaus.accounts.selectors import AnyUser, office_ids_led, user_roles
from rathaus.cases.constants import CaseStatus
from rathaus.cases.models import Case


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the ``fraction`` percentile, interpolated."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def statistics_office_ids(*, user: AnyUser) -> set[int] | None:
    """The gate for statistics: the offices whose figures ``user`` may see; None means every
    office (department staff, administrators); 403 for everyone else."""
    roles = user_roles(user=user)
    if Role.DEPARTMENT_STAFF in roles or Role.ADMINISTRATOR in roles:
        return None
    led = office_ids_led(user=user)
    if not led:
        raise PermissionDenied
    return led


@dataclass
class Row:
    """One line of figures (a month, an office, a service, or all of them)."""

    received: int = 0
    closed: int = 0
    open: int = 0
    overdue: int = 0
    online: int = 0  # closed with the decision letter issued in Rathaus (letter_issued_at)
    pending_at_end: int = 0  # months: received by the month's end and not yet finished then
    overdue_at_end: int = 0  # months: of those, due before the month's end
    median_days: float | None = None
    p90_days: float | None = None
    durations: list[float] = field(default_factory=list, repr=False)

    @property
    def online_share(self) -> float | None:
        return self.online / self.closed if self.closed else None


@dataclass
class Statistics:
    start: date
    end: date  # the first day after the window
    months: list[tuple[date, Row]]  # every month of the window, empty ones too
    offices: list[tuple[Office, Row]]  # with open and overdue now
    services: list[tuple[str, Row]]  # within the chosen office, or all
    total: Row


def _days(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 86400, 1)
    return round(float(value) / 86400, 1)


def _fill_percentiles(rows: dict[Any, Row]) -> None:
    for row in rows.values():
        if row.durations:
            ordered = sorted(row.durations)
            row.median_days = round(pystats.median(ordered), 1)
            ninetieth = (
                pystats.quantiles(ordered, n=10, method="inclusive")[-1]
                if len(ordered) > 1
                else ordered[0]
            )
            row.p90_days = round(ninetieth, 1)
            row.durations = []


def _closed_figures(closed: QuerySet[Case], keys: dict[str, Any], rows: dict[Any, Row]) -> None:
    """Closed cases per group (``keys``: names and expressions): count, online end to end,
    median and 90th percentile of the days from receipt to closing."""
    duration = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
    grouped = closed.annotate(**keys).values(*keys)
    figures: dict[str, Any] = {
        "n": Count("pk"),
        "online": Count("pk", filter=Q(letter_issued_at__isnull=False)),
    }
    if connection.vendor == "postgresql":
        figures["median"] = PercentileCont(duration, 0.5, output_field=DurationField())
        figures["p90"] = PercentileCont(duration, 0.9, output_field=DurationField())
    for item in grouped.annotate(**figures).order_by():
        row = rows.setdefault(_key(item, keys), Row())
        row.closed, row.online = item["n"], item["online"]
        if "median" in item:
            row.median_days, row.p90_days = _days(item["median"]), _days(item["p90"])
    if connection.vendor != "postgresql":
        for item in closed.annotate(**keys, spent=duration).values(*keys, "spent"):
            row = rows.setdefault(_key(item, keys), Row())
            row.durations.append(item["spent"].total_seconds() / 86400)
        _fill_percentiles(rows)


def _key(item: dict[str, Any], keys: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(_as_date(item[name]) for name in keys)


def figures_by(
    received: QuerySet[Case],
    closed: QuerySet[Case],
    keys: dict[str, Any],
    *,
    current: QuerySet[Case] | None = None,
    today: date | None = None,
) -> dict[tuple[Any, ...], Row]:
    """Received and closed cases per group; with ``current`` (the cases in scope) also the
    open and overdue ones now (for groups that are not months)."""
    rows: dict[tuple[Any, ...], Row] = {}
    for item in received.annotate(**keys).values(*keys).annotate(n=Count("pk")).order_by():
        rows.setdefault(_key(item, keys), Row()).received = item["n"]
    if current is not None:
        for item in (
            current.filter(is_open=1)
            .annotate(**keys)
            .values(*keys)
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_on__lt=today)))
            .order_by()
        ):
            row = rows.setdefault(_key(item, keys), Row())
            row.open, row.overdue = item["n"], item["late"]
    _closed_figures(closed, keys, rows)
    return rows


def _months(start: date, end: date) -> list[date]:
    """The first days of the months from ``start``'s to the one before ``end``."""
    found, day = [], start.replace(day=1)
    while day < end:
        found.append(day)
        day = _next_month(day)
    return found


def monthly_by(
    received: QuerySet[Case], closed: QuerySet[Case], keys: dict[str, Any]
) -> dict[tuple[Any, ...], Row]:
    """Per month and group (``keys``): the cases received in it (by month of receipt) and
    closed in it (by month of closing), keyed (month, *group)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    rows = figures_by(
        received, closed.none(), {"m": TruncMonth("received_at", tzinfo=zone), **keys}
    )
    closing = {"m": TruncMonth("closed_at", tzinfo=zone), **keys}
    for key, row in figures_by(received.none(), closed, closing).items():
        target = rows.setdefault(key, Row())
        target.closed, target.online = row.closed, row.online
        target.median_days, target.p90_days = row.median_days, row.p90_days
    return rows


def _scope(
    *, user: AnyUser, start: date, end: date, office_id: int | None
) -> tuple[QuerySet[Case], QuerySet[Case], QuerySet[Case]]:
    """The cases in the offices ``user`` may see (or in ``office_id``, 403 unless among
    them), and of those the ones received and the ones closed in [start, end)."""
    allowed = statistics_office_ids(user=user)
    if office_id is not None and allowed is not None and office_id not in allowed:
        raise PermissionDenied
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    since = datetime.combine(start, datetime.min.time(), zone)
    until = datetime.combine(end, datetime.min.time(), zone)
    cases = Case.objects.all()
    if office_id is not None:
        cases = cases.filter(office_id=office_id)
    elif allowed is not None:
        cases = cases.filter(office_id__in=allowed)
    received = cases.filter(received_at__gte=since, received_at__lt=until)
    closed = cases.filter(status=CaseStatus.CLOSED, closed_at__gte=since, closed_at__lt=until)
    return cases, received, closed


def case_statistics(
    *,
    user: AnyUser,
    start: date,
    end: date,
    office_id: int | None = None,
    today: date | None = None,
) -> Statistics:
    """Figures of the cases received or closed in [start, end) (months, in Leipzig's time)
    in the offices ``user`` may see, or in ``office_id`` among them (403 otherwise)."""
    today = today or timezone.localdate()
    cases, received, closed = _scope(user=user, start=start, end=end, office_id=office_id)
    months = monthly_by(received, closed, {})
    now: dict[str, Any] = {"current": cases, "today": today}
    offices = {
        k[0]: r for k, r in figures_by(received, closed, {"o": F("office_id")}, **now).items()
    }
    services = {
        k[0]: r for k, r in figures_by(received, closed, {"s": F("service__name")}, **now).items()
    }
    total = figures_by(received, closed, {"t": _constant()}, **now).get((0,), Row())
    names = {o.pk: o for o in Office.objects.filter(pk__in=[k for k in offices if k])}
    calendar = [(day, months.get((day,), Row())) for day in _months(start, end)]
    backlog = backlog_by(cases, {}, [day for day, _row in calendar])
    for day, row in calendar:
        row.pending_at_end, row.overdue_at_end = backlog[(day,)]
    return Statistics(
        start=start,
        end=end,
        months=calendar,
        offices=sorted(
            ((names[k], row) for k, row in offices.items() if k in names),
            key=lambda pair: pair[0].name,
        ),
        services=sorted(((k or "–", row) for k, row in services.items()), key=lambda pair: pair[0]),
        total=total,
    )


def _next_month(value: date) -> date:
    return (value.replace(day=1) + timedelta(days=32)).replace(day=1)


def backlog_by(
    cases: QuerySet[Case], keys: dict[str, Any], months: list[date]
) -> dict[tuple[Any, ...], tuple[int, int]]:
    """For each group (``keys``) and month: the cases not yet finished at the month's end
    (received by then, not closed or withdrawn by then; a decided case waiting to be closed
    counts) and how many of those were overdue then. One query, one pass over the cases that
    were still pending at some month's end."""
    if not months:
        return {}
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    figures: dict[str, Any] = {}
    for index, month in enumerate(months):
        end_day = _next_month(month)
        end = datetime.combine(end_day, datetime.min.time(), zone)
        pending = Q(received_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
        figures[f"p{index}"] = Count("pk", filter=pending)
        figures[f"o{index}"] = Count("pk", filter=pending & Q(due_on__lt=end_day))
    first_end = datetime.combine(_next_month(months[0]), datetime.min.time(), zone)
    last_end = datetime.combine(_next_month(months[-1]), datetime.min.time(), zone)
    relevant = cases.filter(received_at__lt=last_end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=first_end)
    )
    if keys:
        rows = list(relevant.annotate(**keys).values(*keys).annotate(**figures).order_by())
    else:
        rows = [relevant.aggregate(**figures)]
    found: dict[tuple[Any, ...], tuple[int, int]] = {}
    for row in rows:
        group = tuple(row[name] for name in keys)
        for index, month in enumerate(months):
            found[(*group, month)] = (row[f"p{index}"] or 0, row[f"o{index}"] or 0)
    return found


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _constant() -> Any:
    return Value(0, output_field=IntegerField())


def statistics_rows(
    *, user: AnyUser, start: date, end: date, office_id: int | None = None
) -> list[dict[str, Any]]:
    """The monthly figures as table rows for export: per month and office, and per month,
    office and service, each with its own median and 90th percentile."""
    cases, received, closed = _scope(user=user, start=start, end=end, office_id=office_id)
    month_list = _months(start, end)
    names = dict(Office.objects.values_list("pk", "name"))
    out: list[dict[str, Any]] = []
    for by_service in (False, True):
        keys_now: dict[str, Any] = {"o": F("office_id")}
        if by_service:
            keys_now["s"] = F("service__name")
        rows = monthly_by(received, closed, keys_now)
        backlog = backlog_by(cases, keys_now, month_list)
        for *group, month in backlog:  # groups with pending cases but nothing in or out
            if backlog[(*group, month)][0]:
                rows.setdefault((month, *group), Row())
        for key, row in rows.items():
            row.pending_at_end, row.overdue_at_end = backlog.get((*key[1:], key[0]), (0, 0))
            out.append(
                {
                    "month": key[0].strftime("%Y-%m"),
                    "office": names.get(key[1], ""),
                    "service": (key[2] or "–") if by_service else "",
                    "received": row.received,
                    "closed": row.closed,
                    "median_days": row.median_days,
                    "p90_days": row.p90_days,
                    "online_share": round(row.online_share, 3)
                    if row.online_share is not None
                    else None,
                    "pending_at_month_end": row.pending_at_end,
                    "overdue_at_month_end": row.overdue_at_end,
                }
            )
    return sorted(out, key=lambda r: (r["month"], r["office"], r["service"]))
