"""Celery tasks (used only with CELERY_BROKER_URL). Thin: they take ids or names and call
core.outbox. Beat schedules ``outbox_dispatch`` and one ``periodic_job`` per registered job
(celery_app.py); workers run them with late acknowledgement and a prefetch of one (settings).

Every task is idempotent: ``outbox_deliver`` claims its message first and does nothing when
the message is delivered, dead or held by another worker; ``periodic_job`` runs jobs that
only do what is due (and skips a run while the previous one still holds its lock)."""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from rathaus.core import outbox

logger = logging.getLogger(__name__)

# A database that is briefly away (failover, restart) is retried with backoff (1, 2, 4 … s, at
# most a minute); after that the message stays queued and the next dispatch hands it over again.
_RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # A delivery that hangs is stopped before its lease ends (counted as a failed attempt),
    # so that no second worker takes the message while the first still sends it.
    soft_time_limit=max(settings.OUTBOX_LEASE_SECONDS - 10, 1),
    **_RETRY,
)
def outbox_deliver(self: object, message_id: int) -> bool:
    request = self.request  # type: ignore[attr-defined]
    worker_id = f"celery:{request.hostname}:{(request.id or '')[:12]}"[:100]
    if not outbox.claim_one(message_id=message_id, worker_id=worker_id):
        return False
    return outbox.deliver_claimed(message_id=message_id, worker_id=worker_id)


@shared_task(acks_late=True, ignore_result=True)
def outbox_dispatch() -> int:  # not retried: the next tick of beat does the same work
    return outbox.dispatch_to_celery()


@shared_task(acks_late=True, ignore_result=True)
def periodic_job(name: str, seconds: float = 60.0) -> bool:
    """One run of a periodic job. Beat on several nodes schedules it once (RedBeat's lock);
    the cache lock also keeps a slow run from overlapping the next."""
    lock, token = f"rathaus:periodic:{name}", uuid.uuid4().hex
    # A little under the interval: a run killed with its worker does not cost the next one.
    if not cache.add(lock, token, timeout=max(int(seconds * 0.9), 1)):
        logger.info("periodic job still running; skipped", extra={"job": name})
        return False
    try:
        ran = outbox.run_periodic_job(name)
    finally:
        if cache.get(lock) == token:  # not a later run's lock (this one ran long)
            cache.delete(lock)
    if not ran:
        logger.error("no periodic job of this name", extra={"job": name})
    return ran
