"""Reads of the overview page (views/budgets.py): the pipeline board of applications by
status, the figures per year and programme level (decided, granted, success rate, funds
acquired), and the rows of the applications' CSV export.

The figures come from one GROUP BY query over year and level; the year of an application is
the year it was submitted (applications not submitted are not counted). Department staff
only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractYear

from rathaus.accounts.selectors import department_staff_required
from rathaus.funding.constants import (
    DECIDED_STATUSES,
    GRANTED_STATUSES,
    ApplicationStatus,
    Level,
)
from rathaus.funding.models import Application
from rathaus.funding.selectors.gate import AnyUser

ZERO = Decimal("0.00")
BOARD_LIMIT = 30  # applications shown per status; the count says how many there are
# before submission the call's deadline is what matters: the earliest first
BY_DEADLINE = (ApplicationStatus.IDEA, ApplicationStatus.PREPARATION)


# ---- the pipeline board --------------------------------------------------------------------


@dataclass
class StatusColumn:
    status: str
    label: str
    count: int
    applications: list[Application]

    @property
    def more(self) -> int:
        return self.count - len(self.applications)


def pipeline_board(*, user: AnyUser) -> list[StatusColumn]:
    """One column per status in the order of ``ApplicationStatus``, each with the number of
    its applications and the first ``BOARD_LIMIT`` of them (with call and programme)."""
    department_staff_required(user=user)
    counts = dict(Application.objects.values_list("status").annotate(count=Count("pk")).order_by())
    columns = []
    for status in ApplicationStatus:
        count = int(counts.get(status.value, 0))
        applications: list[Application] = []
        if count:
            queryset = Application.objects.filter(status=status).select_related("call__programme")
            if status in BY_DEADLINE:
                queryset = queryset.order_by(
                    F("call__final_deadline").asc(nulls_last=True), "-created_at", "-pk"
                )
            else:
                queryset = queryset.order_by("-updated_at", "-pk")
            applications = list(queryset[:BOARD_LIMIT])
        columns.append(
            StatusColumn(
                status=status.value,
                label=str(status.label),
                count=count,
                applications=applications,
            )
        )
    return columns


# ---- figures per year and level ------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """The figures of one year and level (``level`` empty: all levels of the year)."""

    year: int
    level: str
    submitted: int = 0
    decided: int = 0
    granted: int = 0
    funds: Decimal = ZERO

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label) if self.level in Level.values else ""

    @property
    def rate(self) -> Decimal | None:
        """Granted of decided in percent, one decimal; None when nothing was decided."""
        if not self.decided:
            return None
        return (Decimal(self.granted) * 100 / self.decided).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    def plus(self, other: Figure) -> Figure:
        return Figure(
            year=self.year,
            level=self.level,
            submitted=self.submitted + other.submitted,
            decided=self.decided + other.decided,
            granted=self.granted + other.granted,
            funds=self.funds + other.funds,
        )


@dataclass
class YearFigures:
    year: int
    levels: list[Figure]
    total: Figure


@dataclass
class Figures:
    years: list[YearFigures] = field(default_factory=list)
    levels: list[tuple[str, str]] = field(default_factory=list)  # present, in Level order
    total: Figure = field(default_factory=lambda: Figure(year=0, level=""))

    def funds(self, year: YearFigures, level: str) -> Decimal:
        for figure in year.levels:
            if figure.level == level:
                return figure.funds
        return ZERO


def figures_by_year_and_level(*, user: AnyUser) -> Figures:
    """Per year of submission and programme level: submitted, decided (a yes or a no from
    the funder), granted, the success rate and the funds acquired (granted amounts of the
    granted applications); with totals per year and overall. One GROUP BY query."""
    department_staff_required(user=user)
    granted = Q(status__in=GRANTED_STATUSES)
    grouped = (
        Application.objects.filter(submitted_on__isnull=False)
        .annotate(year=ExtractYear("submitted_on"), level=F("call__programme__level"))
        .values("year", "level")
        .annotate(
            submitted=Count("pk"),
            decided=Count("pk", filter=Q(status__in=DECIDED_STATUSES)),
            granted=Count("pk", filter=granted),
            funds=Sum("granted_amount", filter=granted),
        )
        .order_by("year", "level")
    )
    order = {value: index for index, value in enumerate(Level.values)}
    by_year: dict[int, list[Figure]] = {}
    for row in grouped:
        by_year.setdefault(int(row["year"]), []).append(
            Figure(
                year=int(row["year"]),
                level=row["level"],
                submitted=row["submitted"],
                decided=row["decided"],
                granted=row["granted"],
                funds=row["funds"] or ZERO,
            )
        )
    figures = Figures()
    present: set[str] = set()
    total = Figure(year=0, level="")
    for year in sorted(by_year):
        levels = sorted(by_year[year], key=lambda figure: order.get(figure.level, len(order)))
        year_total = Figure(year=year, level="")
        for figure in levels:
            year_total = year_total.plus(figure)
            present.add(figure.level)
        total = total.plus(year_total)
        figures.years.append(YearFigures(year=year, levels=levels, total=year_total))
    figures.levels = [(value, str(label)) for value, label in Level.choices if value in present]
    figures.total = total
    return figures


# ---- the applications' export --------------------------------------------------------------


def applications_for_export(*, user: AnyUser) -> Iterator[Application]:
    """Every application with call and programme, newest first, read in chunks."""
    department_staff_required(user=user)
    return (
        Application.objects.select_related("call__programme", "office")
        .order_by("-created_at", "-pk")
        .iterator(chunk_size=500)
    )
