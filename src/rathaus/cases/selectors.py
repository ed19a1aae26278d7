"""Reads of cases, and the permission gate for cases (one gate per entity): a case is seen
by the members of its office and the leads above it, nobody else (department staff and
administrators included: they get statistics, not applications)."""

from __future__ import annotations

import statistics as pystats
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import AnyUser, office_ids_led, office_ids_working_in
from rathaus.cases.constants import CaseStatus
from rathaus.cases.deadlines import add_working_days
from rathaus.cases.models import Case, CaseMessage, CaseNameToken
from rathaus.cases.statistics import PercentileCont
from rathaus.cases.workflow import OPEN
from rathaus.core import blind_index
from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.core.jsondata import substitute
from rathaus.forms import rendering
from rathaus.forms.selectors import definition_of
from rathaus.submissions.references import normalise
from rathaus.submissions.selectors import submission_data, submission_timeline

PAGE_SIZE = 25
COUNT_CAP = 10_000  # an inbox says "more than 10,000" rather than count a million rows

SORTS = {  # what the inbox can be sorted by, each with a tie-breaker for stable pages
    "due": ("due_on", "received_at", "pk"),
    "received": ("received_at", "pk"),
    "-received": ("-received_at", "-pk"),
    "priority": ("-priority", "due_on", "pk"),
}


def case_get_for_office(*, office_id: int, reference: str) -> Case:
    """The gate for cases in the API: the case with this reference number, 404 unless it is
    in the office of the caller's token."""
    case = (
        Case.objects.select_related("office", "service", "assignee", "submission")
        .filter(reference=normalise(reference) or "", office_id=office_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def case_get_for_user(*, user: AnyUser, case_id: int) -> Case:
    """The gate for cases: 404 when there is no such case, 403 when ``user`` does not work
    in its office. Views and the API never look cases up themselves."""
    if not user.is_authenticated:
        raise PermissionDenied
    case = (
        Case.objects.select_related("office", "service", "assignee", "submission")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    if case.office_id not in office_ids_working_in(user=user):
        raise PermissionDenied
    return case


def case_notes(*, case: Case) -> list[dict[str, Any]]:
    """The internal notes of a case already opened through ``case_get_for_user``, oldest
    first, decrypted."""
    return [
        {"at": note.at, "author": note.author, "text": decrypt_json(note.text_encrypted)}
        for note in case.notes.select_related("author")
    ]


def case_offices_for_user(*, user: AnyUser) -> QuerySet[Office]:
    """The offices whose inboxes ``user`` may open."""
    return Office.objects.filter(pk__in=office_ids_working_in(user=user)).order_by("name", "pk")


def case_office_for_user(*, user: AnyUser, office_id: int) -> tuple[Office, list[Office]]:
    """The gate for an office's inbox: the office (404 when there is none, 403 unless
    ``user`` works in it), and every office whose inbox ``user`` may open."""
    offices = list(case_offices_for_user(user=user))
    office = next((o for o in offices if o.pk == office_id), None)
    if office is None:
        raise PermissionDenied if Office.objects.filter(pk=office_id).exists() else Http404
    return office, offices


def office_members(*, office_id: int) -> QuerySet[User]:
    """The members of an office, by name: who its cases can be given to."""
    return User.objects.filter(memberships__office_id=office_id).order_by(
        "last_name", "first_name", "email"
    )


def case_inbox(*, user: AnyUser, office_id: int, **filters: Any) -> QuerySet[Case]:
    """The inbox of one office for ``user``: 403 unless they work in it; then ``case_list``."""
    if office_id not in office_ids_working_in(user=user):
        raise PermissionDenied
    return case_list(office_id=office_id, **filters)


def case_list(
    *,
    office_id: int,
    status: str = "",
    assignee_id: int | None = None,
    unassigned: bool = False,
    service_id: int | None = None,
    overdue: bool = False,
    tag: str = "",
    search: str = "",
    sort: str = "due",
    today: date | None = None,
) -> QuerySet[Case]:
    """The cases of one office, filtered and sorted (``SORTS``); for a caller that has
    checked the office already (``case_inbox``, or the API with the office's token).
    ``status`` "open" means every status that still needs work. ``search`` is a reference
    number however it was typed (case, spaces, look-alike characters) or, when it is not
    one, whole words of the applicant's name (any order, umlauts and accents either way),
    found through the blind index."""
    cases = Case.objects.filter(office_id=office_id).select_related("service", "assignee")
    if status == "open":
        cases = cases.filter(is_open=1)
    elif status:
        cases = cases.filter(status=status)
    if assignee_id is not None:
        cases = cases.filter(assignee_id=assignee_id)
    if unassigned:
        cases = cases.filter(assignee__isnull=True)
    if service_id is not None:
        cases = cases.filter(service_id=service_id)
    if overdue:
        cases = cases.filter(is_open=1, due_on__lt=today or timezone.localdate())
    if tag:
        cases = cases.filter(tags__name=tag).distinct()
    reference = normalise(search) if search.strip() else None
    if reference:
        cases = cases.filter(reference=reference)
    elif search.strip():
        words = blind_index.tokens(search)
        if not words:
            return cases.none()
        for word in words:
            cases = cases.filter(
                pk__in=CaseNameToken.objects.filter(
                    digest__in=blind_index.search_digests(word)
                ).values("case_id")
            )
    return cases.order_by(*SORTS.get(sort, SORTS["due"]))


@dataclass(frozen=True)
class InboxPage:
    cases: list[Case]  # each with ``applicant``: the name, decrypted
    number: int
    total: int  # at most COUNT_CAP + 1
    per_page: int = PAGE_SIZE

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < min(self.total, COUNT_CAP)

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.cases) - 1 if self.cases else 0

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.cases else 0


def case_inbox_page(cases: QuerySet[Case], *, number: int = 1) -> InboxPage:
    """One page of an inbox (from ``case_inbox``), with the applicants' names, and how many
    cases match, counted up to COUNT_CAP: two queries however large the office."""
    number = max(1, number)
    total = cases.order_by().select_related(None).values("pk")[: COUNT_CAP + 1].count()
    if total and (number - 1) * PAGE_SIZE >= total:  # past the end: the last page
        number = -(-min(total, COUNT_CAP) // PAGE_SIZE)
    start = (number - 1) * PAGE_SIZE
    rows = list(cases[start : start + PAGE_SIZE])
    for case in rows:
        case.applicant = case_applicant(case=case)  # type: ignore[attr-defined]
    return InboxPage(cases=rows, number=number, total=total)


def case_applicant(*, case: Case) -> str:
    if not case.applicant_encrypted:
        return ""
    try:
        return str(decrypt_json(case.applicant_encrypted))
    except DecryptionError:  # a key removed too early: the list still shows the case
        return "?"


@dataclass(frozen=True)
class Workload:
    person: User | None  # None: the cases nobody has yet
    open: int
    overdue: int
    due_soon: int  # due within the next five working days


def case_workload(*, user: AnyUser, office_id: int, today: date | None = None) -> list[Workload]:
    """For a lead of the office (or of one above it): the open cases per person of the
    office, how many are overdue and how many fall due within five working days; members
    without cases included, the unassigned cases last. One query for the counts."""
    if office_id not in office_ids_led(user=user):
        raise PermissionDenied
    today = today or timezone.localdate()
    soon = add_working_days(today, 5)
    counts = {
        row["assignee_id"]: row
        for row in Case.objects.filter(office_id=office_id, is_open=1)
        .values("assignee_id")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(due_on__lt=today)),
            due_soon=Count("pk", filter=Q(due_on__gte=today, due_on__lte=soon)),
        )
        .order_by()
    }
    people = list(
        User.objects.filter(memberships__office_id=office_id).order_by("last_name", "email")
    )
    rows = []
    for person in [*people, None]:
        row = counts.pop(person.pk if person else None, None) or {}
        rows.append(
            Workload(person, row.get("open", 0), row.get("overdue", 0), row.get("due_soon", 0))
        )
    former = User.objects.in_bulk(list(counts))  # assigned to someone no longer in the office
    for assignee_id, row in counts.items():
        rows.insert(
            -1, Workload(former.get(assignee_id), row["open"], row["overdue"], row["due_soon"])
        )
    return rows


def case_office_member_id(*, office_id: int, email: str) -> int | None:
    """The member of the office with this e-mail address (for the API's filter)."""
    return (
        User.objects.filter(memberships__office_id=office_id, email__iexact=email.strip())
        .values_list("pk", flat=True)
        .first()
    )


def case_office_members(*, case: Case) -> QuerySet[User]:
    """Who a case can be given to: the members of its office."""
    return office_members(office_id=case.office_id)


def case_application(*, case: Case) -> list[dict[str, Any]]:
    """The application as the caseworker reads it: every answer with its label, step by
    step, files by their names (in the caseworker's language where the form has it)."""
    submission = case.submission
    definition = definition_of(submission.version)
    names = {f"upload:{a.token}": {"filename": a.filename} for a in submission.attachments.all()}
    return rendering.summary_sections(definition, substitute(submission_data(submission), names))


def case_history(*, case: Case) -> list[Any]:
    """What happened to the case (the office's history), oldest first."""
    return list(case.events.select_related("actor"))


def case_citizen_timeline(*, case: Case) -> list[dict[str, Any]]:
    """What the citizen sees on the status page, with the texts they were sent."""
    return submission_timeline(case.submission)


def overdue_since(case: Case, today: date | None = None) -> int:
    """Days past the due date of an open case (0 when not overdue)."""
    if case.status not in OPEN or case.due_on is None:
        return 0
    return max(0, ((today or timezone.localdate()) - case.due_on) // timedelta(days=1))


def case_messages(*, case: Case) -> list[dict[str, Any]]:
    """The mailbox of a case already opened through a gate, newest first: each message with
    its text (decrypted), the documents asked for and the files sent with it."""
    files: dict[str, list[Any]] = {}
    for attachment in case.submission.attachments.filter(field_id__startswith="antwort:"):
        files.setdefault(attachment.field_id, []).append(attachment)
    return [
        {
            "pk": message.pk,
            "direction": message.direction,
            "from_citizen": message.direction == CaseMessage.Direction.FROM_CITIZEN,
            "at": message.at,
            "author": message.author,
            "text": decrypt_json(message.text_encrypted),
            "documents": message.requested_documents,
            "files": files.get(f"antwort:{message.pk}", []),
        }
        for message in case.messages.select_related("author")
    ]


def case_of_submission(*, submission: Any) -> Case | None:
    """The case of a submission the caller has opened through a submissions gate (the status
    link or the account): for the citizen's side of the mailbox."""
    return Case.objects.select_related("submission", "office").filter(submission=submission).first()


def case_median_processing_days(*, closed_from: date, closed_before: date) -> Decimal | None:
    """The median time (days, one decimal) from receipt to closing of the cases closed in
    [closed_from, closed_before) (days in the city's time zone), across every office
    (strategy KPIs); None when no case was closed then."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    closed = Case.objects.filter(
        status=CaseStatus.CLOSED,
        closed_at__gte=datetime.combine(closed_from, datetime.min.time(), zone),
        closed_at__lt=datetime.combine(closed_before, datetime.min.time(), zone),
    )
    duration = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        median = closed.aggregate(
            median=PercentileCont(duration, 0.5, output_field=DurationField())
        )["median"]
        if median is None:
            return None
        seconds = median.total_seconds() if isinstance(median, timedelta) else float(median)
    else:
        spent = [
            d.total_seconds()
            for d in closed.annotate(spent=duration).values_list("spent", flat=True)
        ]
        if not spent:
            return None
        seconds = pystats.median(spent)
    return Decimal(str(seconds / 86400)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
