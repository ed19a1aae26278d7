"""E-mails about stale measures, sent by the outbox worker: the reminder to the person
responsible for a measure (in their account's language), and the daily job that queues those
reminders (``services.reminders.stale_reminders_queue``)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.strategy.constants import CLOSED_STATUSES
from rathaus.strategy.models import Measure
from rathaus.strategy.selectors.gate import user_can_edit_measure
from rathaus.strategy.services.reminders import (
    REMINDER_TOPIC,
    last_review,
    stale_reminders_queue,
)


@outbox_handler(REMINDER_TOPIC)
def send_stale_reminder(message: OutboxMessage) -> None:
    """Nothing is sent when the measure is gone, done or stopped meanwhile, when it was
    updated or confirmed after the reminder was queued, when someone else is responsible now,
    or when the person can no longer open the page the e-mail links to."""
    measure = (
        Measure.objects.select_related("parent", "responsible")
        .prefetch_related("strategies")
        .filter(pk=message.payload["measure"])
        .first()
    )
    if measure is None or measure.status in CLOSED_STATUSES:
        return
    if last_review(measure).isoformat() != message.payload.get("since"):
        return  # updated or confirmed meanwhile: not stale any more
    person = measure.responsible
    if person is None or person.pk != message.payload.get("person"):
        return
    if not person.email or not person.is_active:
        return
    if not user_can_edit_measure(user=person, measure=measure):
        return
    reviewed = timezone.localtime(last_review(measure)).date()
    with translation.override(person.preferred_language or "de"):
        context = {
            "name": person.get_full_name() or person.email,
            "code": measure.code,
            "title": measure.title,
            "strategies": ", ".join(str(strategy) for strategy in measure.strategies.all()),
            "reviewed": formats.date_format(reviewed, "SHORT_DATE_FORMAT"),
            "never_reviewed": measure.reviewed_at is None,
            "days": settings.STRATEGY_STALE_DAYS,
            "url": settings.SITE_URL.rstrip("/")
            + reverse("strategy:measure_edit", args=[measure.pk]),
            "city": settings.CITY_NAME,
        }
        subject = " ".join(
            render_to_string("strategy/mail/stale_reminder_subject.txt", context).split()
        )
        body = render_to_string("strategy/mail/stale_reminder.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]).send()


@periodic(seconds=24 * 3600)
def queue_stale_reminders() -> None:
    stale_reminders_queue()
