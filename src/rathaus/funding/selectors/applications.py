"""Reads for the staff's pages of the city's applications (views/applications.py). One
application is opened only through the gate (``selectors.gate.application_get_for_staff``);
the functions here take what it returned, or the ``user`` (department staff only).

Measures are read through the strategy's selectors and organisations through the directory's
(never their models); the history of an application's status is read back from the audit
log, where ``services.applications`` writes every change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.accounts.constants import Role as AccountRole
from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core.models import AuditEntry
from rathaus.economy.selectors import directory as economy_directory
from rathaus.funding.constants import GRANTED_STATUSES, CallStatus, Role
from rathaus.funding.models import (
    Application,
    ApplicationDocument,
    ApplicationMeasure,
    Call,
    CallDeadline,
    ConsortiumMember,
)
from rathaus.funding.selectors.gate import AnyUser, application_get_for_staff
from rathaus.funding.services.applications import (
    OBJECT_TYPE,
    allowed_transitions,
    euros,
    percent,
    status_label,
)
from rathaus.strategy import selectors as strategy

# ---- the list ------------------------------------------------------------------------------


def application_list_for_staff(
    *,
    user: AnyUser,
    status: str = "",
    level: str = "",
    year: int | None = None,
    query: str = "",
    now: datetime | None = None,
) -> QuerySet[Application]:
    """Every application, newest first, filtered; each with its call and programme and the
    call's next deadline still to come (``next_deadline``, None when none is left).

    ``year``: the year it was submitted in, or for one not yet submitted the year of its
    call's final deadline (the round it is meant for)."""
    department_staff_required(user=user)
    upcoming = CallDeadline.objects.filter(
        call=OuterRef("call_id"), due_at__gte=now or timezone.now()
    ).order_by("due_at")
    applications = (
        Application.objects.select_related("call__programme")
        .annotate(next_deadline=Subquery(upcoming.values("due_at")[:1]))
        .order_by("-created_at", "-pk")
    )
    if status:
        applications = applications.filter(status=status)
    if level:
        applications = applications.filter(call__programme__level=level)
    if year is not None:
        applications = applications.filter(
            Q(submitted_on__year=year)
            | Q(submitted_on__isnull=True, call__final_deadline__year=year)
        )
    query = query.strip()[:200]
    if query:
        applications = applications.filter(
            Q(title__icontains=query)
            | Q(acronym__icontains=query)
            | Q(call__identifier__icontains=query)
        )
    return applications


def application_years(*, user: AnyUser) -> list[int]:
    """The years the list can be filtered by (see ``application_list_for_staff``), newest
    first."""
    department_staff_required(user=user)
    years = {d.year for d in Application.objects.dates("submitted_on", "year")}
    years |= {
        d.year
        for d in Call.objects.filter(
            applications__isnull=False, applications__submitted_on__isnull=True
        ).datetimes("final_deadline", "year")
    }
    return sorted(years, reverse=True)


# ---- one application -----------------------------------------------------------------------


def application_next_deadline(*, call: Call, now: datetime | None = None) -> CallDeadline | None:
    """The call's next deadline still to come."""
    return (
        CallDeadline.objects.filter(call=call, due_at__gte=now or timezone.now())
        .order_by("due_at")
        .first()
    )


def application_rate(application: Application) -> Decimal | None:
    """The funding rate in percent (requested funding of the total cost), None without a
    total cost."""
    if not application.total_cost:
        return None
    rate = application.requested_funding * 100 / application.total_cost
    return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def application_warnings(application: Application) -> list[str]:
    """What staff should look at once more, without it being wrong: a funding rate above the
    programme's maximum, requested funding outside the programme's range, requested funding
    and own share above the total cost, and a consortium that no longer matches the
    application (the one place both the form and the page ask)."""
    programme = application.call.programme
    warnings: list[str] = []
    rate = application_rate(application)
    if rate is not None and programme.rate_max is not None and rate > programme.rate_max:
        warnings.append(
            _("Die Förderquote von %(rate)s liegt über dem Höchstsatz des Programms (%(max)s).")
            % {"rate": percent(rate), "max": percent(programme.rate_max)}
        )
    requested = application.requested_funding
    if requested and programme.amount_min is not None and requested < programme.amount_min:
        warnings.append(
            _(
                "Die beantragte Förderung von %(amount)s liegt unter dem Mindestbetrag des "
                "Programms (%(min)s)."
            )
            % {"amount": euros(requested), "min": euros(programme.amount_min)}
        )
    if requested and programme.amount_max is not None and requested > programme.amount_max:
        warnings.append(
            _(
                "Die beantragte Förderung von %(amount)s liegt über dem Höchstbetrag des "
                "Programms (%(max)s)."
            )
            % {"amount": euros(requested), "max": euros(programme.amount_max)}
        )
    covered = requested + application.own_share
    if covered > application.total_cost:
        warnings.append(
            _(
                "Beantragte Förderung und Eigenanteil ergeben zusammen %(sum)s, mehr als die "
                "Gesamtkosten von %(total)s."
            )
            % {"sum": euros(covered), "total": euros(application.total_cost)}
        )
    members = list(application.consortium.all())
    if members:
        total = sum((m.budget_share for m in members), start=Decimal(0))
        if total != application.total_cost:
            warnings.append(
                _(
                    "Die Budgetanteile des Konsortiums ergeben %(sum)s, die Gesamtkosten "
                    "betragen %(total)s."
                )
                % {"sum": euros(total), "total": euros(application.total_cost)}
            )
        city = next((m for m in members if m.is_city), None)
        if city is not None and city.role != application.role:
            warnings.append(
                _("Im Konsortium hat die Stadt die Rolle %(member)s, im Antrag %(role)s.")
                % {"member": Role(city.role).label, "role": Role(application.role).label}
            )
    return warnings


def application_measures(*, application: Application) -> list[strategy.MeasureRef]:
    """The strategy's measures the application funds, by code (ids of measures deleted
    since are left out)."""
    ids = ApplicationMeasure.objects.filter(application=application).values_list(
        "measure_id", flat=True
    )
    return sorted(strategy.measures_by_id(measure_ids=ids).values(), key=lambda m: m.code)


def application_measure_ids(*, application: Application) -> list[int]:
    return sorted(
        ApplicationMeasure.objects.filter(application=application).values_list(
            "measure_id", flat=True
        )
    )


def city_name() -> str:
    return _("Stadt %(city)s") % {"city": settings.CITY_NAME}


@dataclass(frozen=True)
class ConsortiumRow:
    member: ConsortiumMember
    name: str
    in_directory: bool


def application_consortium(*, application: Application) -> tuple[list[ConsortiumRow], Decimal]:
    """The consortium in order, each member with the name to show, and the sum of the
    budget shares."""
    members = list(ConsortiumMember.objects.filter(application=application).order_by("position"))
    names = economy_directory.organisation_names(
        organisation_ids=[m.organisation_id for m in members if m.organisation_id is not None]
    )
    rows = []
    for member in members:
        if member.is_city:
            name, listed = city_name(), False
        elif member.organisation_id is not None:
            found = names.get(member.organisation_id)
            name = found[0] if found else _("Organisation #%(id)d") % {"id": member.organisation_id}
            listed = found is not None
        else:
            name, listed = member.name, False
        rows.append(ConsortiumRow(member=member, name=name, in_directory=listed))
    total = sum((m.budget_share for m in members), start=Decimal(0))
    return rows, total


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    actor: str
    from_status: str
    to_status: str
    note: str


def _actor_name(entry: AuditEntry) -> str:
    if entry.actor is None:
        return _("System") if entry.actor_label == "system" else _("gelöschtes Konto")
    return entry.actor.get_full_name() or entry.actor.email


def application_history(*, application: Application) -> list[HistoryRow]:
    """The application's status changes, oldest first, read back from the audit log: who,
    when, from which status to which (its creation is the first, into "idea")."""
    entries = AuditEntry.objects.filter(
        object_type=OBJECT_TYPE,
        object_id=str(application.pk),
        action__in=("funding.application.create", "funding.application.transition"),
    ).select_related("actor")
    rows = []
    for entry in entries.order_by("created_at", "id"):
        before, after = entry.before or {}, entry.after or {}
        if "status" not in after:
            continue
        rows.append(
            HistoryRow(
                at=entry.created_at,
                actor=_actor_name(entry),
                from_status=status_label(before["status"]) if before.get("status") else "",
                to_status=status_label(after["status"]),
                note=str(after.get("note", "")),
            )
        )
    return rows


def application_documents(*, application: Application) -> list[ApplicationDocument]:
    """The application's documents, newest first."""
    return list(
        ApplicationDocument.objects.filter(application=application)
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")
    )


def application_document_get_for_staff(
    *, user: AnyUser, application_id: int, document_id: int
) -> ApplicationDocument:
    """A document of the application ``application_id`` (through the application's gate);
    ``Http404`` for a document of another application."""
    application = application_get_for_staff(user=user, application_id=application_id)
    document = ApplicationDocument.objects.filter(pk=document_id, application=application).first()
    if document is None:
        raise Http404
    return document


def application_next_steps(application: Application) -> list[str]:
    """The statuses the application can move to now (``services.TRANSITIONS``)."""
    return list(allowed_transitions(application.status))


# ---- choices for the forms -----------------------------------------------------------------


def _call_label(call: Call) -> str:
    label = f"{call.identifier}: {call.title} ({call.programme.code})"
    if call.final_deadline is not None:
        due = timezone.localtime(call.final_deadline)
        label += " – " + _("Frist %(date)s") % {
            "date": formats.date_format(due, "SHORT_DATE_FORMAT")
        }
    return label


def call_choices(
    *, user: AnyUser, keep_call_id: int | None = None, now: datetime | None = None
) -> list[tuple[int, str]]:
    """The calls an application can be linked to: those still open (not closed, the final
    deadline not passed), soonest deadline first; and ``keep_call_id`` (the application's
    own call, even when closed since)."""
    department_staff_required(user=user)
    open_calls = Q(final_deadline__isnull=True) | Q(final_deadline__gt=now or timezone.now())
    wanted = open_calls & ~Q(status=CallStatus.CLOSED)
    if keep_call_id is not None:
        wanted |= Q(pk=keep_call_id)
    calls = Call.objects.filter(wanted).select_related("programme")
    return [(call.pk, _call_label(call)) for call in calls.order_by("final_deadline", "identifier")]


def office_choices(*, user: AnyUser) -> list[tuple[int, str]]:
    """Every office of the city by name."""
    department_staff_required(user=user)
    return list(Office.objects.order_by("name", "pk").values_list("pk", "name"))


def responsible_choices(*, user: AnyUser, keep_user_id: int | None = None) -> list[tuple[int, str]]:
    """Who can be responsible for an application: active accounts of the administration
    (department staff, administrators, members of an office), by name; and ``keep_user_id``
    (who is responsible now)."""
    department_staff_required(user=user)
    staff = Q(is_active=True) & (
        Q(role_assignments__role__in=(AccountRole.DEPARTMENT_STAFF, AccountRole.ADMINISTRATOR))
        | Q(memberships__isnull=False)
        | Q(is_superuser=True)
    )
    if keep_user_id is not None:
        staff |= Q(pk=keep_user_id)
    people = User.objects.filter(staff).distinct().order_by("last_name", "first_name", "email")
    return [(person.pk, _person_label(person)) for person in people]


def _person_label(person: User) -> str:
    name = person.get_full_name()
    return f"{name} ({person.email})" if name else person.email


def measure_choices(*, user: AnyUser) -> list[tuple[int, str]]:
    """Every measure of the strategy as (id, "code title"), by code."""
    department_staff_required(user=user)
    return sorted(strategy.measure_choices(), key=lambda choice: choice[1])


def organisation_choices(*, user: AnyUser, keep: list[int] | None = None) -> list[tuple[int, str]]:
    """(id, name) of the directory's published organisations; ids in ``keep`` (members of the
    consortium already) stay choosable when no longer published."""
    department_staff_required(user=user)
    choices = economy_directory.organisation_choices()
    known = {pk for pk, _name in choices}
    for organisation_id in keep or []:
        if organisation_id not in known:
            known.add(organisation_id)
            choices.append((organisation_id, _("Organisation #%(id)d") % {"id": organisation_id}))
    return choices


# ---- what the strategy reads ---------------------------------------------------------------


@dataclass(frozen=True)
class MeasureFunding:
    """A funding application that funds a measure of the strategy (the funding source of its
    budget), as the strategy's pages show it."""

    application_id: int
    title: str
    programme: str
    status: str
    status_label: str
    amount_requested: Decimal
    amount_granted: Decimal | None


def applications_for_measures(
    *, measure_ids: Iterable[int], granted_only: bool = False
) -> dict[int, list[MeasureFunding]]:
    """The applications funding each of these measures (measure id -> applications, newest
    first; measures without one are left out), in one query. ``granted_only``: only those the
    funder has said yes to (granted, running, closed)."""
    ids = {int(i) for i in measure_ids}
    if not ids:
        return {}
    links = (
        ApplicationMeasure.objects.filter(measure_id__in=ids)
        .select_related("application__call__programme")
        .order_by("-application__created_at", "-application__pk")
    )
    if granted_only:
        links = links.filter(application__status__in=GRANTED_STATUSES)
    result: dict[int, list[MeasureFunding]] = {}
    for link in links:
        application = link.application
        result.setdefault(int(link.measure_id), []).append(
            MeasureFunding(
                application_id=application.pk,
                title=str(application),
                programme=application.call.programme.name,
                status=application.status,
                status_label=status_label(application.status),
                amount_requested=application.requested_funding,
                amount_granted=application.granted_amount,
            )
        )
    return result
