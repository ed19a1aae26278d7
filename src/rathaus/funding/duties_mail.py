"""E-mails about reporting duties, sent by the outbox worker: the reminder to the person
responsible for a duty (in their account's language), and the daily job that queues those
reminders (``services.budgets.duty_reminders_queue``)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.funding.models import Duty
from rathaus.funding.services.budgets import REMINDER_TOPIC, duty_reminders_queue


@outbox_handler(REMINDER_TOPIC)
def send_duty_reminder(message: OutboxMessage) -> None:
    """Nothing is sent when the duty is done or gone meanwhile, when its due date or its
    responsible person changed after the reminder was queued (the new one gets its own), or
    when the person can no longer open the page the e-mail links to."""
    duty = (
        Duty.objects.select_related("application__call", "application__responsible", "responsible")
        .filter(pk=message.payload["duty"], done_on__isnull=True)
        .first()
    )
    if duty is None or duty.due_on.isoformat() != message.payload.get("due_on"):
        return
    person = duty.responsible
    if person is None or person.pk != message.payload.get("person", person.pk):
        return  # someone else is responsible now: their reminder is queued on its own
    if not person.email or not person.is_active:
        return
    if not user_is_department_staff(user=person):
        return
    application = duty.application
    today = timezone.localdate()
    with translation.override(person.preferred_language or "de"):
        context = {
            "name": person.get_full_name() or person.email,
            "application": str(application),
            "application_title": application.title,
            "call": application.call.identifier,
            "duty": duty.title or duty.get_kind_display(),
            "kind": duty.get_kind_display(),
            "title": duty.title,
            "due": formats.date_format(duty.due_on, "SHORT_DATE_FORMAT"),
            "overdue": duty.due_on < today,
            "url": settings.SITE_URL.rstrip("/")
            + reverse("funding:application_budget", args=[application.pk]),
            "city": settings.CITY_NAME,
        }
        subject = " ".join(
            render_to_string("funding/mail/duty_reminder_subject.txt", context).split()
        )
        body = render_to_string("funding/mail/duty_reminder.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]).send()


@periodic(seconds=24 * 3600)
def queue_duty_reminders() -> None:
    duty_reminders_queue()
