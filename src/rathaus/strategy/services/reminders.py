"""Stale reminders: once per stale spell, the person responsible for a stale measure
(``selectors.stale``) gets an e-mail through the outbox asking to update the entry or to
confirm that it is still current. The e-mail itself is sent by ``strategy.reminders_mail``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.strategy.models import Measure
from rathaus.strategy.selectors.gate import user_can_edit_measure
from rathaus.strategy.selectors.stale import stale_measures

REMINDER_TOPIC = "strategy.stale_reminder"


def last_review(measure: Measure) -> datetime:
    """When the entry was last updated or confirmed (its creation if never)."""
    return measure.reviewed_at or measure.created_at


def became_stale_at(measure: Measure) -> datetime:
    """The moment the current stale spell of the measure began."""
    return last_review(measure) + timedelta(days=settings.STRATEGY_STALE_DAYS)


def reminder_due(measure: Measure) -> bool:
    """Not reminded since the entry became stale (a stale measure is reminded once per spell:
    an update or "still current" starts a new spell)."""
    return measure.reminded_at is None or measure.reminded_at < became_stale_at(measure)


def stale_reminders_queue(*, now: datetime | None = None) -> int:
    """Queue one reminder e-mail per stale measure whose responsible person can be reached
    (active, with an e-mail address, still allowed to edit the measure) and that has not been
    reminded in this stale spell, and mark it reminded in the same transaction: running it
    twice queues nothing twice. A measure without such a person stays unreminded, so that the
    reminder goes out once someone able to act is responsible. Returns how many were queued."""
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        candidates = stale_measures(now=now).select_related("parent")
        for measure in candidates:
            person = measure.responsible
            if person is None or not person.is_active or not person.email:
                continue
            if not reminder_due(measure):
                continue
            if not user_can_edit_measure(user=person, measure=measure):
                continue
            # a conditional update: a second worker running at the same time loses here
            claimed = Measure.objects.filter(pk=measure.pk, reminded_at=measure.reminded_at).update(
                reminded_at=now
            )
            if not claimed:
                continue
            since = last_review(measure).isoformat()
            outbox_message_create(
                topic=REMINDER_TOPIC,
                payload={"measure": measure.pk, "person": person.pk, "since": since},
                idempotency_key=f"{REMINDER_TOPIC}:{measure.pk}:{since}:{person.pk}",
            )
            audit_entry_create(
                actor=None,
                action="strategy.measure.remind",
                object_type="strategy.measure",
                object_id=measure.pk,
                before={
                    "reminded_at": measure.reminded_at.isoformat() if measure.reminded_at else None
                },
                after={"reminded_at": now.isoformat(), "reviewed_at": since},
            )
            queued += 1
    return queued
