"""Celery tasks (used only with CELERY_BROKER_URL). Thin: they take ids and call core.outbox."""

from __future__ import annotations

from celery import shared_task

from rathaus.core import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def outbox_deliver(message_id: int, worker_id: str) -> bool:
    return outbox.deliver_claimed(message_id=message_id, worker_id=worker_id)
