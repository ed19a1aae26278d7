"""The deadline calendar of the funding register: the coming deadlines of calls that still
take applications (``CallDeadline`` rows, ``due_at >= now``), filtered by level and theme, as a
page grouped by month and as an iCalendar feed to subscribe to.

A deadline is shown as the funder stated it (the instant in its zone, e.g. "17:00
Europe/Brussels") and in Berlin time, with the days left. Both lists are one query with the
call and programme joined; the feed covers at most the next 12 months and 2,000 deadlines.
Everything here is public register data."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import F, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, formats, timezone
from django.utils.translation import gettext as _

from rathaus.core.ical import calendar_text, escape_text, utc_text
from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import CallStatus, Level
from rathaus.funding.models import Call, CallDeadline

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_MONTHS = 12
FEED_MAX_MONTHS = 12
FEED_MAX_EVENTS = 2000
ALARM_BEFORE = "-P7D"  # a week before the deadline
PRODID = "-//Rathaus//Foerderfristen//DE"
# calls in these statuses take (or will take) applications: their deadlines are listed
LIVE_STATUSES = (CallStatus.OPEN, CallStatus.FORTHCOMING)


# ---- links -----------------------------------------------------------------------------------


MARKER = 999999999


def path_maker(name: str, kwarg: str, fallback: str) -> Callable[[int], str]:
    """A function id -> path of the URL ``name``, reversed once (with a marker id) rather
    than once per row of a long list. ``fallback`` (with ``{}`` for the id) while the name is
    not registered (the programmes part registers the pages of calls and programmes)."""
    try:
        marked = reverse(name, kwargs={kwarg: MARKER})
    except NoReverseMatch:
        marked = fallback.format(MARKER)
    head, _marker, tail = marked.partition(str(MARKER))
    return lambda pk: f"{head}{pk}{tail}"


def call_paths() -> Callable[[int], str]:
    return path_maker("funding:call_detail", "call_id", "/foerderung/aufrufe/{}/")


def programme_paths() -> Callable[[int], str]:
    return path_maker("funding:programme_detail", "programme_id", "/foerderung/programme/{}/")


def call_path(call_id: int) -> str:
    """The path of a call's public page."""
    return call_paths()(call_id)


# ---- one deadline as shown -------------------------------------------------------------------


def zone_of(name: str) -> ZoneInfo:
    """The zone of a deadline's IANA name; Berlin for an empty or unknown name."""
    try:
        return ZoneInfo(name) if name else BERLIN
    except (ZoneInfoNotFoundError, ValueError):
        return BERLIN


def offset_text(moment: datetime) -> str:
    """The moment's own UTC offset, as "UTC+01:00"."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


@dataclass(frozen=True)
class DeadlineInfo:
    """A deadline as a page shows it: ``local`` in the funder's zone (``zone_name``, with its
    UTC offset at that moment), ``berlin`` in Berlin time, and the calendar days left from
    today (Berlin) to the day it falls on."""

    deadline: CallDeadline | None  # None: only the call's final deadline is known
    due_at: datetime
    local: datetime
    zone_name: str
    zone_offset: str
    berlin: datetime
    days_left: int

    @property
    def label(self) -> str:
        return self.deadline.label if self.deadline is not None else ""

    @property
    def in_berlin_zone(self) -> bool:
        """True when the funder's zone is Berlin itself (the page then shows one time)."""
        return self.zone_name == "Europe/Berlin"


def deadline_info(
    due_at: datetime, zone_name: str, *, now: datetime, deadline: CallDeadline | None = None
) -> DeadlineInfo:
    zone = zone_of(zone_name)
    local = due_at.astimezone(zone)
    berlin = due_at.astimezone(BERLIN)
    return DeadlineInfo(
        deadline=deadline,
        due_at=due_at,
        local=local,
        zone_name=str(zone.key),
        zone_offset=offset_text(local),
        berlin=berlin,
        days_left=(berlin.date() - now.astimezone(BERLIN).date()).days,
    )


def info_of(deadline: CallDeadline, *, now: datetime) -> DeadlineInfo:
    return deadline_info(deadline.due_at, deadline.timezone, now=now, deadline=deadline)


# ---- the calendar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarFilters:
    """What the calendar shows: a level (``Level`` value, empty = all), a theme (``Theme``
    value, empty = all) and how many months ahead."""

    level: str = ""
    theme: str = ""
    months: int = DEFAULT_MONTHS

    def query(self) -> dict[str, str]:
        """The filters as the page's query parameters (for links to the page and the feed)."""
        found = {"ebene": self.level, "thema": self.theme}
        if self.months != DEFAULT_MONTHS:
            found["monate"] = str(self.months)
        return {key: value for key, value in found.items() if value}


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` later (the 31st becomes the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, month_calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# what the page and the feed show (not the programmes' descriptions, the calls' notes)
DEADLINE_FIELDS = (
    "call_id",
    "position",
    "label",
    "due_at",
    "timezone",
    "call__identifier",
    "call__title",
    "call__status",
    "call__updated_at",
    "call__programme_id",
    "call__programme__name",
    "call__programme__code",
    "call__programme__funder",
    "call__programme__level",
)


def deadline_list(
    *, filters: CalendarFilters, now: datetime | None = None
) -> QuerySet[CallDeadline]:
    """The deadlines from ``now`` to ``filters.months`` ahead of calls that are open or
    forthcoming, soonest first, with call and programme (one query; page it)."""
    now = now or timezone.now()
    until = add_months(now.astimezone(BERLIN), max(1, filters.months))
    deadlines = CallDeadline.objects.filter(
        due_at__gte=now, due_at__lt=until, call__status__in=LIVE_STATUSES
    )
    if filters.level:
        deadlines = deadlines.filter(call__programme__level=filters.level)
    if filters.theme:
        deadlines = deadlines.alias(
            theme_bit=F("call__programme__themes_mask").bitand(mask_of([filters.theme], Theme))
        ).filter(theme_bit__gt=0)
    return (
        deadlines.select_related("call__programme")
        .only(*DEADLINE_FIELDS)
        .order_by("due_at", "call__identifier", "position", "pk")
    )


@dataclass(frozen=True)
class CalendarRow:
    info: DeadlineInfo
    call: Call
    call_url: str
    programme_url: str


@dataclass
class MonthGroup:
    month: date  # the first day of the month (Berlin)
    rows: list[CalendarRow] = field(default_factory=list)


def by_month(deadlines: Iterable[CallDeadline], *, now: datetime) -> list[MonthGroup]:
    """The deadlines (in order, call and programme joined) as shown, grouped by their month
    in Berlin time."""
    groups: list[MonthGroup] = []
    call_url, programme_url = call_paths(), programme_paths()
    for deadline in deadlines:
        info = info_of(deadline, now=now)
        month = info.berlin.date().replace(day=1)
        if not groups or groups[-1].month != month:
            groups.append(MonthGroup(month=month))
        groups[-1].rows.append(
            CalendarRow(
                info=info,
                call=deadline.call,
                call_url=call_url(deadline.call_id),
                programme_url=programme_url(deadline.call.programme_id),
            )
        )
    return groups


# ---- the iCalendar feed ----------------------------------------------------------------------


class FeedWriter:
    """Writes deadlines as VEVENTs. What is the same for every event (the translated texts,
    the date format, the link pattern, the host) is looked up once per feed, not per event:
    a feed has up to 2,000 of them."""

    def __init__(self, *, stamp: datetime) -> None:
        self.stamp = stamp
        self.stamp_text = utc_text(stamp)
        self.host = urlsplit(settings.SITE_URL).hostname or "rathaus"
        self.site = settings.SITE_URL.rstrip("/")
        self.call_url = call_paths()
        self.moment_format = str(formats.get_format("SHORT_DATETIME_FORMAT"))
        self.summary = _("Frist: %(identifier)s – %(title)s")
        self.when = _("%(local)s (%(zone)s, %(offset)s); in Berlin: %(berlin)s")
        self.when_berlin = _("%(local)s (Europe/Berlin, %(offset)s)")
        self.programme = _("Programm: %(name)s (%(code)s)")
        self.funder = _("Fördergeber: %(funder)s")
        self.deadline = _("Frist: %(when)s")

    def summary_of(self, call: Call, label: str) -> str:
        summary = self.summary % {"identifier": call.identifier, "title": call.title}
        return f"{summary} ({label})" if label else summary

    def vevent(self, deadline: CallDeadline) -> list[str]:
        """One deadline as a VEVENT: at the instant (UTC), a stable UID, a reminder a week
        before. The call's ``updated_at`` is the SEQUENCE, so a moved deadline replaces the
        old one in a subscribed calendar."""
        call = deadline.call
        programme = call.programme
        info = info_of(deadline, now=self.stamp)
        url = self.site + self.call_url(call.pk)
        summary = self.summary_of(call, deadline.label)
        local = dateformat.format(info.local, self.moment_format)
        if info.in_berlin_zone:
            when = self.when_berlin % {"local": local, "offset": info.zone_offset}
        else:
            same_clock = info.local.replace(tzinfo=None) == info.berlin.replace(tzinfo=None)
            when = self.when % {
                "local": local,
                "zone": info.zone_name,
                "offset": info.zone_offset,
                "berlin": local
                if same_clock
                else dateformat.format(info.berlin, self.moment_format),
            }
        description = "\n".join(
            [
                self.programme % {"name": programme.name, "code": programme.code},
                self.funder % {"funder": programme.funder},
                self.deadline % {"when": when},
                url,
            ]
        )
        return [
            "BEGIN:VEVENT",
            f"UID:funding-deadline-{deadline.pk}@{self.host}",
            f"DTSTAMP:{self.stamp_text}",
            f"DTSTART:{utc_text(deadline.due_at)}",
            f"SEQUENCE:{int(call.updated_at.timestamp()) if call.updated_at else 0}",
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(description)}",
            f"URL:{url}",
            "TRANSP:TRANSPARENT",  # a deadline does not block time
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape_text(summary)}",
            f"TRIGGER:{ALARM_BEFORE}",
            "END:VALARM",
            "END:VEVENT",
        ]


def feed_name(filters: CalendarFilters) -> str:
    parts = [str(Level(filters.level).label)] if filters.level else []
    if filters.theme:
        parts.append(str(Theme(filters.theme).label))
    name = _("Förderfristen %(city)s") % {"city": settings.CITY_NAME}
    return f"{name} ({', '.join(parts)})" if parts else name


def deadline_feed(*, filters: CalendarFilters, now: datetime | None = None) -> str:
    """The deadlines of the calendar (at most the next 12 months, at most 2,000) as the text
    of a ``text/calendar`` feed."""
    now = now or timezone.now()
    capped = CalendarFilters(
        level=filters.level, theme=filters.theme, months=min(filters.months, FEED_MAX_MONTHS)
    )
    deadlines = deadline_list(filters=capped, now=now)[:FEED_MAX_EVENTS]
    writer = FeedWriter(stamp=now)
    return calendar_text(
        (writer.vevent(deadline) for deadline in deadlines),
        prodid=PRODID,
        name=feed_name(capped),
    )
