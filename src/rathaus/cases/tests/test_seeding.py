"""``rathaus seed-cases``: synthetic cases for load tests, each with a history the workflow
table allows, reported with progress and a summary; a clear error when nothing can be
seeded."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rathaus.cases.models import Case, CaseEvent
from rathaus.cases.workflow import allowed_after
from rathaus.submissions.selectors import submission_timeline
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


def test_seeded_cases_have_histories_the_workflow_allows(
    office: Any, personas: dict[str, Any]
) -> None:
    out = StringIO()
    call_command("seed-cases", "--count", "40", "--batch", "15", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines[:3]] == ["15/40", "30/40", "40/40"]
    assert lines[-1].startswith("seed-cases: 40 created, 0 skipped (none), 0 rejected")
    cases = list(Case.objects.prefetch_related("events"))
    assert len(cases) == 40 and {c.office for c in cases} == {office}  # the one office
    assert len({c.status for c in cases}) >= 4  # spread over the workflow
    for case in cases:
        events = list(case.events.all())
        assert events[0].kind == CaseEvent.Kind.OPENED
        status = "received"
        for event in events[1:]:
            assert event.from_status == status and event.to_status in allowed_after(status)
            status = event.to_status
        assert status == case.status == case.submission.status
        assert all(e.at <= timezone.now() for e in events)
        timeline = [t["status"] for t in submission_timeline(case.submission)]
        assert timeline == ["received", *(e.to_status for e in events[1:])]
        assert str(timezone.localtime(case.received_at).year) in case.reference
        if case.closed_at is not None:
            assert case.closed_at == events[-1].at
        assert case.due_on is not None and case.due_on > case.received_at.date()
        assert case.assignee is None or case.assignee.memberships.filter(office=office).exists()


def test_nothing_to_seed_without_a_responsible_office() -> None:
    with pytest.raises(CommandError, match="seed-demo"):
        call_command("seed-cases", "--count", "5", stdout=StringIO())
    assert not Case.objects.exists()
