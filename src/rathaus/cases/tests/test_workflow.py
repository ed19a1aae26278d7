"""Cases: a submission becomes a case in its office's inbox through the outbox, with a due
date in working days; the workflow table is enforced in one service, every change is in the
history, the audit log and (what the citizen may read) the citizen's timeline; two people
changing the same case do not overwrite each other."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from rathaus.cases.constants import CaseStatus, Decision
from rathaus.cases.deadlines import add_working_days
from rathaus.cases.models import Case, CaseEvent
from rathaus.cases.services import (
    CaseConflict,
    CaseRefused,
    case_assign,
    case_open,
    case_transition,
)
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.submissions.models import Submission
from rathaus.submissions.selectors import submission_timeline
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
DOG_TAX = "99102013000000"  # the demo dog form's service, given 10 working days (conftest)


def _submit() -> Submission:
    citizen = Client()
    fill_in_dog_form(citizen)
    assert citizen.post("/antraege/absenden/hund-anmelden/").status_code == 302
    return Submission.objects.latest("pk")


def _case(office: Any) -> Case:
    submission = _submit()
    process_batch(worker_id="test", limit=20)
    return Case.objects.get(submission=submission)


def test_working_days_skip_weekends_and_saxonys_holidays() -> None:
    # Thursday before Easter 2026: Good Friday and Easter Monday do not count
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    # Buß- und Bettag (18 November 2026) is a holiday in Saxony only
    assert add_working_days(date(2026, 11, 17), 1) == date(2026, 11, 19)
    assert add_working_days(date(2026, 11, 20), 5) == date(2026, 11, 27)  # Fri + 5 = next Fri


def test_a_submission_becomes_one_case_in_its_offices_inbox(office: Any) -> None:
    submission = _submit()
    assert not Case.objects.exists()  # nothing is done in the citizen's request
    assert OutboxMessage.objects.filter(topic="cases.open").count() == 1
    process_batch(worker_id="test", limit=20)
    case = Case.objects.get()
    assert (case.submission, case.office, case.status) == (submission, office, "received")
    assert case.reference == submission.reference and case.service.leika_key == DOG_TAX
    received = timezone.localdate(case.received_at)  # in Leipzig, not UTC
    assert case.due_on == add_working_days(received, 10)
    assert case_open(submission=submission) == case  # a repeated delivery: the same case
    assert Case.objects.count() == 1
    assert list(case.events.values_list("kind", flat=True)) == ["opened"]
    assert AuditEntry.objects.filter(action="case.open", object_id=str(case.pk)).exists()


def test_a_submission_without_a_responsible_office_opens_no_case() -> None:
    _submit()
    process_batch(worker_id="test", limit=20)
    assert not OutboxMessage.objects.filter(topic="cases.open").exists()
    assert not Case.objects.exists()


def test_the_workflow_from_receipt_to_closing_writes_history_audit_and_timeline(
    office: Any, personas: dict[str, Any]
) -> None:
    worker = personas["caseworker"]
    case = _case(office)
    case = case_transition(case=case, to="in_progress", actor=worker, version=case.version)
    case = case_transition(
        case=case,
        to="query",
        actor=worker,
        version=case.version,
        citizen_text="Bitte reichen Sie den Nachweis der Haftpflichtversicherung nach.",
    )
    case = case_transition(case=case, to="in_progress", actor=worker, version=case.version)
    case = case_transition(
        case=case, to="decided", actor=worker, version=case.version, decision=Decision.GRANTED
    )
    case = case_transition(case=case, to="closed", actor=worker, version=case.version)
    assert (case.status, case.decision, case.version) == ("closed", "granted", 6)
    assert case.closed_at is not None
    steps = [(e.from_status, e.to_status) for e in case.events.filter(kind="transition")]
    assert steps == [
        ("received", "in_progress"),
        ("in_progress", "query"),
        ("query", "in_progress"),
        ("in_progress", "decided"),
        ("decided", "closed"),
    ]
    assert AuditEntry.objects.filter(action="case.transition", object_id=str(case.pk)).count() == 5
    timeline = submission_timeline(case.submission)
    assert [t["status"] for t in timeline] == [
        "received",
        "in_progress",
        "query",
        "in_progress",
        "decided",
        "closed",
    ]
    assert timeline[2]["message"].startswith("Bitte reichen Sie den Nachweis")
    case.submission.refresh_from_db()
    assert case.submission.status == "closed"


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "decided"),  # received cannot be decided at once
        (["in_progress", "decided"], "query"),  # decided is final but for closing
        (["withdrawn"], "in_progress"),  # withdrawn by the citizen: nothing follows
    ],
)
def test_a_transition_the_table_does_not_allow_is_refused_and_changes_nothing(
    office: Any, personas: dict[str, Any], path: list[str], refused: str
) -> None:
    case = _case(office)
    for status in path:
        case = case_transition(
            case=case,
            to=status,
            actor=personas["caseworker"],
            version=case.version,
            decision=Decision.REFUSED if status == "decided" else "",
        )
    before = (case.status, case.version, CaseEvent.objects.count())
    with pytest.raises(CaseRefused) as refusal:
        case_transition(case=case, to=refused, actor=personas["caseworker"], version=case.version)
    case.refresh_from_db()
    assert (case.status, case.version, CaseEvent.objects.count()) == before
    with translation.override("de"):
        assert "kann nicht" in str(refusal.value.message)
    with translation.override("en"):
        assert "cannot become" in str(refusal.value.message)


def test_deciding_needs_a_decision(office: Any, personas: dict[str, Any]) -> None:
    case = _case(office)
    case = case_transition(case=case, to="in_progress", actor=None, version=case.version)
    with pytest.raises(CaseRefused):
        case_transition(case=case, to="decided", actor=None, version=case.version)
    assert Case.objects.get().status == "in_progress"


def test_the_second_of_two_people_changing_a_case_gets_a_conflict_and_overwrites_nothing(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case(office)
    first, second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)  # two screens
    case_transition(case=first, to="in_progress", actor=personas["caseworker"], version=1)
    with pytest.raises(CaseConflict) as conflict:
        case_transition(case=second, to="withdrawn", actor=personas["lead"], version=1)
    assert Case.objects.get().status == "in_progress"
    with translation.override("en"):
        assert "changed by someone else" in str(conflict.value.message)
    with pytest.raises(CaseConflict):
        case_assign(case=second, assignee=personas["caseworker"], actor=None, version=1)
    assert Case.objects.get().assignee is None


def test_forwarding_moves_the_case_to_another_office_and_frees_it(
    office: Any, offices: dict[str, Any], personas: dict[str, Any]
) -> None:
    case = _case(office)
    case = case_assign(case=case, assignee=personas["caseworker"], actor=None, version=1)
    assert case.assignee == personas["caseworker"]
    with pytest.raises(CaseRefused):  # to the office it is already in
        case_transition(case=case, to="forwarded", actor=None, version=case.version, office=office)
    case = case_transition(
        case=case,
        to=CaseStatus.FORWARDED,
        actor=personas["caseworker"],
        version=case.version,
        office=offices["standesamt"],
    )
    assert (case.office, case.status, case.assignee) == (offices["standesamt"], "forwarded", None)
    # the submission went with it: the old office's pull API no longer has it
    submission = Submission.objects.get(pk=case.submission_id)
    assert submission.office == offices["standesamt"] and submission.acknowledged_at is None


def test_only_members_of_the_cases_office_can_be_assigned(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case(office)
    with pytest.raises(CaseRefused):
        case_assign(case=case, assignee=personas["caseworker_other"], actor=None, version=1)
    assert Case.objects.get().assignee is None
    assert AuditEntry.objects.filter(action="case.assign").count() == 0
    case = case_transition(case=case, to="withdrawn", actor=None, version=1)
    with pytest.raises(CaseRefused):  # nobody is given a withdrawn case
        case_assign(case=case, assignee=personas["caseworker"], actor=None, version=case.version)
