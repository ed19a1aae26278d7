"""E-mails around evaluations, sent by the outbox worker: the reminder to an evaluator whose
evaluations are overdue (in their account's language), and the daily job that queues those
reminders."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.innovation.models import JuryMember
from rathaus.innovation.services.results import reminders_send

JURY_PATH = "/wettbewerbe/jury/"  # the evaluator's list (views/jury.py)


@outbox_handler("innovation.evaluation_reminder")
def send_evaluation_reminder(message: OutboxMessage) -> None:
    member = (
        JuryMember.objects.select_related("user", "call")
        .filter(pk=message.payload["jury_member"], active=True)
        .first()
    )
    if member is None or not member.user.email or not member.user.is_active:
        return
    with translation.override(member.user.preferred_language or "de"):
        context = {
            "name": member.public_name,
            "call": member.call.title,
            "count": int(message.payload.get("overdue", 0)),
            "url": settings.SITE_URL.rstrip("/") + JURY_PATH,
            "city": settings.CITY_NAME,
        }
        subject = " ".join(
            render_to_string("innovation/mail/evaluation_reminder_subject.txt", context).split()
        )
        body = render_to_string("innovation/mail/evaluation_reminder.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [member.user.email]).send()


@periodic(seconds=24 * 3600)
def queue_evaluation_reminders() -> None:
    reminders_send()
