"""Reads of the funding register: the public register of programmes with search and filters,
a programme and a call with everything to show (public: programmes and calls hold no personal
data), the same for the staff's edit pages (gated), and deadlines ready to show in the
funder's time zone and in the city's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core.themes import Theme, labels_of
from rathaus.funding.constants import ApplicantType, CallStatus, Region
from rathaus.funding.models import Call, CallDeadline, Programme

AnyUser = User | AnonymousUser

CURRENT_STATUSES = (CallStatus.OPEN, CallStatus.FORTHCOMING)
STALE_AFTER_DAYS = 365


# ---- deadlines as shown ----------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo("UTC")


def _date_text(value: datetime) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _time_text(value: datetime) -> str:
    return formats.time_format(value, "TIME_FORMAT")


@dataclass(frozen=True)
class DeadlineShown:
    """A deadline ready to show: in the funder's zone with the zone's name and, if that is
    another zone than the city's, in the city's time too; the days left in the city."""

    label: str
    due_at: datetime
    zone: str
    local_text: str  # "15.03.2027, 17:00" in the funder's zone
    city_text: str  # "17:00" (same day) or "16.03.2027, 05:00"; "" in the city's own zone
    days_left: int | None  # whole calendar days in the city; None once passed

    @property
    def passed(self) -> bool:
        return self.days_left is None

    @property
    def text(self) -> str:
        """ "15.03.2027, 17:00 (Europe/Brussels) – 17:00 Uhr in Leipzig" """
        shown = f"{self.local_text} ({self.zone})"
        if self.city_text:
            shown += " – " + _("%(time)s Uhr in %(city)s") % {
                "time": self.city_text,
                "city": settings.CITY_NAME,
            }
        return shown

    @property
    def days_text(self) -> str:
        if self.days_left is None:
            return _("abgelaufen")
        if self.days_left == 0:
            return _("endet heute")
        return ngettext("noch %(days)d Tag", "noch %(days)d Tage", self.days_left) % {
            "days": self.days_left
        }


def deadline_shown(deadline: CallDeadline, *, now: datetime | None = None) -> DeadlineShown:
    now = now or timezone.now()
    city = ZoneInfo(settings.TIME_ZONE)
    local = deadline.due_at.astimezone(_zone(deadline.timezone))
    in_city = deadline.due_at.astimezone(city)
    local_text = f"{_date_text(local)}, {_time_text(local)}"
    city_text = ""
    if deadline.timezone != settings.TIME_ZONE:
        city_text = (
            _time_text(in_city)
            if in_city.date() == local.date()
            else f"{_date_text(in_city)}, {_time_text(in_city)}"
        )
    days_left = None
    if deadline.due_at >= now:
        days_left = (in_city.date() - now.astimezone(city).date()).days
    return DeadlineShown(
        label=deadline.label,
        due_at=deadline.due_at,
        zone=deadline.timezone,
        local_text=local_text,
        city_text=city_text,
        days_left=days_left,
    )


# ---- the register ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    query: str = ""
    level: str = ""
    theme: str = ""
    applicant_type: str = ""
    current_only: bool = False


def _has_bit(
    queryset: QuerySet[Programme], field: str, value: str, choices: type[models.TextChoices]
) -> QuerySet[Programme]:
    if value not in choices.values:
        return queryset
    bit = 1 << list(choices.values).index(value)
    alias = f"{field}_hit"
    return queryset.alias(**{alias: F(field).bitand(bit)}).filter(**{f"{alias}__gt": 0})


def programme_search(
    *, filters: RegisterFilters, now: datetime | None = None
) -> QuerySet[Programme]:
    """The programmes of the register that match, by name. The search looks in a programme's
    name, code and funder and its calls' identifiers and titles (case-insensitive);
    ``current_only`` keeps programmes with an open or forthcoming call whose last deadline
    is still ahead."""
    now = now or timezone.now()
    programmes = Programme.objects.all()
    query = filters.query.strip()
    if query:
        calls = Call.objects.filter(programme=OuterRef("pk")).filter(
            Q(identifier__icontains=query) | Q(title__icontains=query)
        )
        programmes = programmes.filter(
            Q(name__icontains=query)
            | Q(code__icontains=query)
            | Q(funder__icontains=query)
            | Exists(calls)
        )
    if filters.level:
        programmes = programmes.filter(level=filters.level)
    programmes = _has_bit(programmes, "themes_mask", filters.theme, Theme)
    programmes = _has_bit(programmes, "applicant_types_mask", filters.applicant_type, ApplicantType)
    if filters.current_only:
        programmes = programmes.filter(
            Exists(
                Call.objects.filter(
                    programme=OuterRef("pk"),
                    status__in=CURRENT_STATUSES,
                    final_deadline__gte=now,
                )
            )
        )
    return programmes.order_by("name", "pk")


def next_deadlines(
    *, programme_ids: Iterable[int], now: datetime | None = None
) -> dict[int, tuple[Call, DeadlineShown]]:
    """Per programme its next deadline still ahead among its open and forthcoming calls,
    with the call (one query for a page of programmes)."""
    now = now or timezone.now()
    found: dict[int, tuple[Call, DeadlineShown]] = {}
    deadlines = (
        CallDeadline.objects.filter(
            call__programme_id__in=list(programme_ids),
            call__status__in=CURRENT_STATUSES,
            due_at__gte=now,
        )
        .select_related("call")
        .order_by("due_at", "pk")
    )
    for deadline in deadlines:
        programme_id = deadline.call.programme_id
        if programme_id not in found:
            found[programme_id] = (deadline.call, deadline_shown(deadline, now=now))
    return found


@dataclass(frozen=True)
class ProgrammeFacts:
    """A programme's sets of choices as readable lists, and whether it is due for a check."""

    themes: list[str]
    applicant_types: list[str]
    regions: list[str]
    stale: bool


def programme_facts(programme: Programme, *, today: date | None = None) -> ProgrammeFacts:
    today = today or timezone.localdate()
    return ProgrammeFacts(
        themes=labels_of(programme.themes_mask, Theme),
        applicant_types=labels_of(programme.applicant_types_mask, ApplicantType),
        regions=labels_of(programme.regions_mask, Region),
        stale=programme.last_checked is not None
        and programme.last_checked < today - timedelta(days=STALE_AFTER_DAYS),
    )


def _with_calls(queryset: QuerySet[Programme]) -> QuerySet[Programme]:
    return queryset.prefetch_related(
        Prefetch(
            "calls",
            queryset=Call.objects.order_by(
                F("final_deadline").desc(nulls_last=True), "identifier"
            ).prefetch_related(
                Prefetch("deadlines", queryset=CallDeadline.objects.order_by("position"))
            ),
        )
    )


def programme_get(*, programme_id: int) -> Programme:
    """A programme with its calls (latest deadline first) and their deadlines; public."""
    programme = _with_calls(Programme.objects.filter(pk=programme_id)).first()
    if programme is None:
        raise Http404("no such programme")
    return programme


def call_get(*, call_id: int) -> Call:
    """A call with its programme and deadlines (in order); public."""
    call = (
        Call.objects.filter(pk=call_id)
        .select_related("programme")
        .prefetch_related(Prefetch("deadlines", queryset=CallDeadline.objects.order_by("position")))
        .first()
    )
    if call is None:
        raise Http404("no such call")
    return call


def programme_get_for_staff(*, user: AnyUser, programme_id: int) -> Programme:
    """A programme to edit: ``PermissionDenied`` unless the user is department staff."""
    department_staff_required(user=user)
    return programme_get(programme_id=programme_id)


def call_get_for_staff(*, user: AnyUser, call_id: int) -> Call:
    """A call to edit: ``PermissionDenied`` unless the user is department staff."""
    department_staff_required(user=user)
    return call_get(call_id=call_id)


def staff_gate(*, user: AnyUser) -> None:
    """The gate of the staff pages that open no stored object (create, import)."""
    department_staff_required(user=user)
