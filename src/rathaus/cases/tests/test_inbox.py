"""The gate for cases and the inbox: members of a case's office (and the leads above it) see
it; a caseworker of another office, department staff and administrators do not. Filters,
search by reference number as people type it, sorting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rathaus.cases.models import Case, Tag
from rathaus.cases.selectors import case_get_for_user, case_inbox
from rathaus.cases.services import case_assign, case_transition
from rathaus.cases.tests.test_workflow import _case
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


def test_only_who_works_in_the_cases_office_can_list_or_open_it(
    office: Any, offices: dict[str, Any], personas: dict[str, Any]
) -> None:
    case = _case(office)
    for allowed in ("caseworker", "lead"):
        user = personas[allowed]
        assert case_get_for_user(user=user, case_id=case.pk) == case
        assert list(case_inbox(user=user, office_id=office.pk)) == [case]
    for refused in ("caseworker_other", "department", "admin", "citizen"):
        user = personas[refused]
        with pytest.raises(PermissionDenied):
            case_get_for_user(user=user, case_id=case.pk)
        with pytest.raises(PermissionDenied):
            list(case_inbox(user=user, office_id=office.pk))
    # the other caseworker's own inbox is empty, not an error
    other = personas["caseworker_other"]
    assert not case_inbox(user=other, office_id=offices["standesamt"].pk).exists()
    with pytest.raises(Http404):
        case_get_for_user(user=personas["caseworker"], case_id=case.pk + 1000)


def test_the_inbox_filters_searches_and_sorts(office: Any, personas: dict[str, Any]) -> None:
    worker = personas["caseworker"]
    first, second = _case(office), _case(office)
    case_assign(case=first, assignee=worker, actor=None, version=first.version)
    second = case_transition(case=second, to="in_progress", actor=None, version=second.version)
    Tag.objects.create(office=office, name="Eilt").cases.add(second)

    def refs(**filters: Any) -> list[str]:
        return [c.reference for c in case_inbox(user=worker, office_id=office.pk, **filters)]

    assert refs(status="in_progress") == [second.reference]
    assert refs(assignee_id=worker.pk) == [first.reference]
    assert refs(unassigned=True) == [second.reference]
    assert refs(tag="Eilt") == [second.reference]
    typed = first.reference.lower().replace("-", " ")
    assert refs(search=typed) == [first.reference]
    assert refs(search="L-2026-XXXX-XXXX") == []  # not a reference number
    assert refs(sort="-received") == [second.reference, first.reference]
    due = Case.objects.get(pk=first.pk).due_on
    assert due is not None
    assert refs(overdue=True, today=due) == []
    assert set(refs(overdue=True, today=due + timedelta(days=1))) == {
        first.reference,
        second.reference,
    }
    closed = case_transition(case=second, to="withdrawn", actor=None, version=second.version)
    assert closed.status == "withdrawn"
    assert refs(overdue=True, today=due + timedelta(days=1)) == [first.reference]
