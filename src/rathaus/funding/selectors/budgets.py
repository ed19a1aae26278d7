"""Reads of the budget pages (views/budgets.py): one application's budget lines with their
sums and the checks against the application's figures, its duties, every open duty across
applications, and the city's own share per budget year for the treasury.

Department staff only: every function takes the ``user`` and goes through the gate
(``selectors.gate``), or calls ``department_staff_required`` for lists across
applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from rathaus.accounts.constants import Role
from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.funding.constants import GRANTED_STATUSES, ApplicationStatus, GoDecision
from rathaus.funding.models import Application, BudgetLine, Duty
from rathaus.funding.selectors.gate import AnyUser, application_get_for_staff

ZERO = Decimal("0.00")
# statuses whose budget lines no longer bind money (left out of the own-share plan)
LAPSED_STATUSES = (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)


# ---- one application -----------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    line: BudgetLine

    @property
    def remaining(self) -> Decimal:
        """Planned minus spent: negative when more was spent than planned."""
        return self.line.planned - self.line.spent

    @property
    def over(self) -> bool:
        return self.line.spent > self.line.planned

    @property
    def overspent(self) -> Decimal:
        return self.line.spent - self.line.planned


@dataclass(frozen=True)
class BudgetTotals:
    planned: Decimal = ZERO
    spent: Decimal = ZERO
    funded: Decimal = ZERO
    own_share: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.planned - self.spent

    @property
    def over(self) -> bool:
        return self.spent > self.planned

    @property
    def overspent(self) -> Decimal:
        return self.spent - self.planned


@dataclass(frozen=True)
class Comparison:
    """A sum of the budget lines against the application's figure."""

    lines: Decimal
    application: Decimal

    @property
    def difference(self) -> Decimal:
        """Lines minus application: positive when the years hold more."""
        return self.lines - self.application

    @property
    def differs(self) -> bool:
        return self.lines != self.application

    @property
    def more(self) -> bool:
        return self.lines > self.application

    @property
    def gap(self) -> Decimal:
        return abs(self.difference)


@dataclass
class BudgetPage:
    application: Application
    rows: list[BudgetRow]
    totals: BudgetTotals
    planned_vs_cost: Comparison
    own_share_vs_application: Comparison
    open_duties: list[Duty] = field(default_factory=list)
    done_duties: list[Duty] = field(default_factory=list)

    @property
    def warnings(self) -> bool:
        return bool(self.rows) and (
            self.planned_vs_cost.differs or self.own_share_vs_application.differs
        )

    @property
    def funds_outstanding(self) -> Decimal | None:
        """Granted but not yet received (None before a grant)."""
        granted = self.application.granted_amount
        if granted is None:
            return None
        return granted - self.totals.funded


def budget_page(*, user: AnyUser, application_id: int) -> BudgetPage:
    """The application (through the gate) with its budget lines by year, their sums, the
    sums against the application's total cost and own share, and its duties (open ones by
    due date, done ones latest first)."""
    application = application_get_for_staff(user=user, application_id=application_id)
    lines = list(BudgetLine.objects.filter(application=application).order_by("year"))
    totals = BudgetTotals(
        planned=sum((line.planned for line in lines), start=ZERO),
        spent=sum((line.spent for line in lines), start=ZERO),
        funded=sum((line.funded for line in lines), start=ZERO),
        own_share=sum((line.own_share for line in lines), start=ZERO),
    )
    duties = list(
        Duty.objects.filter(application=application)
        .select_related("responsible")
        .order_by("due_on", "pk")
    )
    return BudgetPage(
        application=application,
        rows=[BudgetRow(line) for line in lines],
        totals=totals,
        planned_vs_cost=Comparison(lines=totals.planned, application=application.total_cost),
        own_share_vs_application=Comparison(
            lines=totals.own_share, application=application.own_share
        ),
        open_duties=[duty for duty in duties if duty.done_on is None],
        done_duties=sorted(
            (duty for duty in duties if duty.done_on is not None),
            key=lambda duty: (duty.done_on, duty.pk),
            reverse=True,
        ),
    )


def responsible_choices(
    *, user: AnyUser, keep: tuple[int | None, ...] = ()
) -> list[tuple[int, str]]:
    """Who may be responsible for a duty: active department staff and administrators (they
    can open the page the reminder links to), and whoever is responsible now (``keep``)."""
    department_staff_required(user=user)
    kept = [pk for pk in keep if pk is not None]
    users = (
        User.objects.filter(
            Q(is_active=True)
            & (Q(role_assignments__role=Role.DEPARTMENT_STAFF) | Q(is_superuser=True))
            | Q(pk__in=kept)
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )
    return [(person.pk, str(person)) for person in users]


# ---- duties across applications ------------------------------------------------------------


@dataclass(frozen=True)
class DutyState:
    """Where a duty stands on ``today``, for saying it in words."""

    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def due_today(self) -> bool:
        return self.days_left == 0


def duty_state(duty: Duty, *, today: date | None = None) -> DutyState:
    return DutyState(days_left=(duty.due_on - (today or timezone.localdate())).days)


def duty_open_list(*, user: AnyUser, mine: bool = False) -> QuerySet[Duty]:
    """Every duty not done, across applications, the earliest due first; with ``mine`` only
    those the user is responsible for."""
    department_staff_required(user=user)
    duties = Duty.objects.filter(done_on__isnull=True).select_related(
        "application__call", "responsible"
    )
    if mine:
        duties = duties.filter(responsible_id=user.pk)
    return duties.order_by("due_on", "pk")


# ---- own shares per budget year ------------------------------------------------------------


@dataclass(frozen=True)
class ShareLine:
    """One application's own share in one year."""

    application: Application
    amount: Decimal

    @property
    def committed(self) -> bool:
        return self.application.status in GRANTED_STATUSES


@dataclass
class YearShares:
    year: int
    committed: Decimal
    prospective: Decimal
    lines: list[ShareLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.committed + self.prospective


@dataclass
class OwnShares:
    years: list[YearShares]

    @property
    def committed(self) -> Decimal:
        return sum((year.committed for year in self.years), start=ZERO)

    @property
    def prospective(self) -> Decimal:
        return sum((year.prospective for year in self.years), start=ZERO)

    @property
    def total(self) -> Decimal:
        return self.committed + self.prospective


def _share_lines() -> QuerySet[BudgetLine]:
    """Budget lines whose own share the treasury should plan for: not of a rejected or
    withdrawn application, not of a mere idea, not of one the city decided not to pursue."""
    return (
        BudgetLine.objects.filter(own_share__gt=0)
        .exclude(application__status__in=(*LAPSED_STATUSES, ApplicationStatus.IDEA))
        .exclude(application__decision=GoDecision.NO_GO)
    )


def own_shares_by_year(*, user: AnyUser) -> OwnShares:
    """The city's own share per budget year over all applications that still bind money
    (not rejected, not withdrawn): committed (granted, running, closed) and prospective
    (in preparation, submitted, on the reserve list), with the applications contributing.
    The sums per year come from one GROUP BY query."""
    department_staff_required(user=user)
    granted = Q(application__status__in=GRANTED_STATUSES)
    sums = (
        _share_lines()
        .values("year")
        .annotate(
            committed=Sum("own_share", filter=granted),
            prospective=Sum("own_share", filter=~granted),
        )
        .order_by("year")
    )
    years = {
        row["year"]: YearShares(
            year=row["year"],
            committed=row["committed"] or ZERO,
            prospective=row["prospective"] or ZERO,
        )
        for row in sums
    }
    lines = (
        _share_lines()
        .select_related("application__call__programme")
        .order_by("year", "application__acronym", "application__title", "application_id")
    )
    for line in lines:
        year = years.get(line.year)
        if year is not None:  # a year added between the two queries waits for the next view
            year.lines.append(ShareLine(application=line.application, amount=line.own_share))
    return OwnShares(years=list(years.values()))
