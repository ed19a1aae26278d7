"""Reads of cases, and the permission gate for cases (one gate per entity): a case is seen
by the members of its office and the leads above it, nobody else (department staff and
administrators included: they get statistics, not applications)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from rathaus.accounts.models import Office
from rathaus.accounts.selectors import AnyUser, office_ids_working_in
from rathaus.cases.models import Case, CaseNameToken
from rathaus.cases.workflow import OPEN
from rathaus.core import blind_index
from rathaus.core.crypto import decrypt_json
from rathaus.submissions.references import normalise

SORTS = {  # what the inbox can be sorted by, each with a tie-breaker for stable pages
    "due": ("due_on", "received_at", "pk"),
    "received": ("received_at", "pk"),
    "-received": ("-received_at", "-pk"),
    "priority": ("-priority", "due_on", "pk"),
}


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


def case_inbox(
    *,
    user: AnyUser,
    office_id: int,
    status: str = "",
    assignee_id: int | None = None,
    unassigned: bool = False,
    service_id: int | None = None,
    overdue: bool = False,
    tag: str = "",
    reference: str = "",
    name: str = "",
    sort: str = "due",
    today: date | None = None,
) -> QuerySet[Case]:
    """The inbox of one office, filtered and sorted (``SORTS``); 403 when ``user`` does not
    work in that office. ``reference`` finds a case by its reference number however it was
    typed (case, spaces, look-alike characters); ``name`` finds the cases whose applicant's
    name has every word typed (whole words, umlauts and accents either way), through the
    blind index."""
    if office_id not in office_ids_working_in(user=user):
        raise PermissionDenied
    cases = Case.objects.filter(office_id=office_id).select_related("service", "assignee")
    if status:
        cases = cases.filter(status=status)
    if assignee_id is not None:
        cases = cases.filter(assignee_id=assignee_id)
    if unassigned:
        cases = cases.filter(assignee__isnull=True)
    if service_id is not None:
        cases = cases.filter(service_id=service_id)
    if overdue:
        cases = cases.filter(status__in=OPEN, due_on__lt=today or timezone.localdate())
    if tag:
        cases = cases.filter(tags__name=tag).distinct()
    if reference:
        cases = cases.filter(reference=normalise(reference) or "")  # not a reference: nothing
    if name:
        words = blind_index.tokens(name)
        if not words:
            return cases.none()
        for word in words:
            cases = cases.filter(
                pk__in=CaseNameToken.objects.filter(
                    digest__in=blind_index.search_digests(word)
                ).values("case_id")
            )
    return cases.order_by(*SORTS.get(sort, SORTS["due"]))
