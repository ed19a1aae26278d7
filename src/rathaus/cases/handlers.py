"""Outbox handlers of cases: a submission becomes a case in its office's inbox."""

from __future__ import annotations

from rathaus.cases.services import case_open
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.submissions.models import Submission


@outbox_handler("cases.open")
def open_case(message: OutboxMessage) -> None:
    submission = (
        Submission.objects.select_related("service")
        .filter(reference=message.payload["reference"])
        .first()
    )
    if submission is not None:  # gone: deleted by retention meanwhile
        case_open(submission=submission)
