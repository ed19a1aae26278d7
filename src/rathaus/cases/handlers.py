"""Outbox handlers of cases: a submission becomes a case in its office's inbox."""

from __future__ import annotations

from rathaus.cases.models import Case
from rathaus.cases.services import case_applicant_forget, case_open
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.submissions.selectors import submission_by_reference


@outbox_handler("cases.open")
def open_case(message: OutboxMessage) -> None:
    submission = submission_by_reference(message.payload["reference"])
    if submission is not None:  # gone: deleted by retention meanwhile
        case_open(submission=submission)


@outbox_handler("cases.forget")
def forget_applicant(message: OutboxMessage) -> None:
    case = Case.objects.filter(reference=message.payload["reference"]).first()
    if case is not None:
        case_applicant_forget(case=case)
