"""Outbox handlers of cases: a submission becomes a case in its office's inbox."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from rathaus.cases.models import Case
from rathaus.cases.services import case_open, case_personal_data_forget
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.submissions.selectors import (
    submission_by_reference,
    submission_email,
    submission_status_code,
)


@outbox_handler("cases.open")
def open_case(message: OutboxMessage) -> None:
    submission = submission_by_reference(message.payload["reference"])
    if submission is not None:  # gone: deleted by retention meanwhile
        case_open(submission=submission)


@outbox_handler("cases.forget")
def forget_personal_data(message: OutboxMessage) -> None:
    case = Case.objects.filter(reference=message.payload["reference"]).first()
    if case is not None:
        case_personal_data_forget(case=case)


def _tell_citizen(reference: str, kind: str, page: str) -> None:
    """An e-mail to the citizen that something waits on ``page`` (a URL name taking the
    reference and the status code): the reference number and the link, no personal data,
    not the content itself."""
    submission = submission_by_reference(reference)
    email = submission_email(submission) if submission is not None else ""
    if submission is None or not email:
        return  # gone, or submitted without an e-mail address: the status page shows it
    code = submission_status_code(submission)
    context = {
        "reference": submission.reference,
        "link": settings.SITE_URL.rstrip("/")
        + reverse(page, kwargs={"reference": submission.reference, "code": code}),
        "city": settings.CITY_NAME,
    }
    with translation.override(submission.language or "de"):
        subject = render_to_string(f"cases/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"cases/email/{kind}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])


@outbox_handler("cases.query_email")
def announce_question(message: OutboxMessage) -> None:
    _tell_citizen(message.payload["reference"], "question", "cases_citizen:mailbox")


@outbox_handler("cases.decision_email")
def announce_decision(message: OutboxMessage) -> None:
    _tell_citizen(message.payload["reference"], "decision", "submissions:status")
