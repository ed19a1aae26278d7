"""Delivery of outbox messages: at least once, with leases, retries and a dead-letter state.

A worker *claims* due messages with a conditional UPDATE (works the same on SQLite and
PostgreSQL, and two workers can never both win), which sets a lease. If the worker dies
mid-delivery, the lease expires and another worker claims the message again; the receiver
sees the same idempotency key and can ignore the repeat. A failed attempt is retried with
exponential backoff until ``max_attempts``, then the message is dead-lettered for an
administrator to look at (Django admin, "Outbox").

Two ways to run it:
- ``rathaus worker``: claims and delivers in this process (or a thread of ``serve-demo``), and
  runs the periodic jobs.
- With CELERY_BROKER_URL: Celery beat runs ``core.tasks.outbox_dispatch`` every second, which
  marks due messages *queued* (with a lease of its own, RATHAUS_OUTBOX_QUEUE_SECONDS) and
  hands each to the task ``core.tasks.outbox_deliver``. The task claims the message (the
  delivery lease and the attempt count start there) and delivers it. A task that is lost
  (its worker killed) leaves the message queued or in progress; when that lease expires the
  next dispatch hands it over again. Beat also runs the periodic jobs, one task each.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from rathaus.core.constants import OutboxStatus
from rathaus.core.logs import redact
from rathaus.core.metrics import OUTBOX_DELIVERIES
from rathaus.core.models import OutboxMessage

logger = logging.getLogger(__name__)

OutboxHandler = Callable[[OutboxMessage], None]
HANDLERS: dict[str, OutboxHandler] = {}
MAX_BACKOFF_SECONDS = 6 * 3600


PeriodicJob = Callable[[], object]
PERIODIC: list[tuple[float, PeriodicJob]] = []


def periodic(seconds: float) -> Callable[[PeriodicJob], PeriodicJob]:
    """Register housekeeping the worker runs every ``seconds`` (e.g. deleting expired drafts)."""

    def register(func: PeriodicJob) -> PeriodicJob:
        PERIODIC.append((seconds, func))
        return func

    return register


def run_periodic(last_run: dict[str, float]) -> None:
    now = time.monotonic()
    for seconds, job in PERIODIC:
        name = job_name(job)
        if now - last_run.get(name, float("-inf")) >= seconds:
            last_run[name] = now
            try:
                job()
            except Exception:  # noqa: BLE001 - housekeeping must not stop delivery
                logger.exception("periodic job failed", extra={"job": name})


def outbox_handler(topic: str) -> Callable[[OutboxHandler], OutboxHandler]:
    """Register the function that delivers messages of ``topic``. It must be safe to call
    again with the same message (it gets ``message.idempotency_key`` to pass on)."""

    def register(func: OutboxHandler) -> OutboxHandler:
        if topic in HANDLERS and HANDLERS[topic] is not func:
            raise ValueError(f"outbox topic {topic!r} already has a handler")
        HANDLERS[topic] = func
        return func

    return register


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


def _due(now: datetime) -> Q:
    """Messages a worker may take now: pending and due, or whose lease (queued or in
    progress) has expired."""
    return Q(status=OutboxStatus.PENDING, available_at__lte=now) | Q(
        status__in=[OutboxStatus.QUEUED, OutboxStatus.IN_PROGRESS], leased_until__lt=now
    )


def claim_due(*, worker_id: str, limit: int = 10) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker_id``; returns the claimed ids."""
    now = timezone.now()
    _dead_letter_expired_last_attempts(now)
    due = _due(now)
    candidates = list(
        OutboxMessage.objects.filter(due, attempts__lt=F("max_attempts"))
        .order_by("available_at", "id")
        .values_list("id", flat=True)[: limit * 2]
    )
    claimed: list[int] = []
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    for message_id in candidates:
        won = OutboxMessage.objects.filter(
            due, pk=message_id, attempts__lt=F("max_attempts")
        ).update(
            status=OutboxStatus.IN_PROGRESS,
            lease_owner=worker_id,
            leased_until=now + lease,
            attempts=F("attempts") + 1,
        )
        if won:
            claimed.append(message_id)
            if len(claimed) >= limit:
                break
    return claimed


def claim_one(*, message_id: int, worker_id: str) -> bool:
    """Claim one message handed over by ``hand_over_due`` (or due anyway) for ``worker_id``.
    False when it is delivered, dead, or held by another worker's live lease: a repeated or
    late task then does nothing."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    # The same task again (Celery retries keep the task's id): it still holds the lease, and
    # goes on under it without spending another attempt.
    if OutboxMessage.objects.filter(
        pk=message_id, status=OutboxStatus.IN_PROGRESS, lease_owner=worker_id
    ).update(leased_until=now + lease):
        return True
    won = OutboxMessage.objects.filter(
        Q(status=OutboxStatus.QUEUED) | _due(now),
        pk=message_id,
        attempts__lt=F("max_attempts"),
    ).update(
        status=OutboxStatus.IN_PROGRESS,
        lease_owner=worker_id,
        leased_until=now + lease,
        attempts=F("attempts") + 1,
    )
    return bool(won)


def hand_over_due(*, limit: int = 500) -> list[int]:
    """Mark up to ``limit`` due messages queued (for Celery) and return their ids. The queue
    lease is long (RATHAUS_OUTBOX_QUEUE_SECONDS) and costs no attempt: a long queue delays
    messages but never dead-letters them. Two dispatchers at once take different rows."""
    now = timezone.now()
    _dead_letter_expired_last_attempts(now)
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(_due(now), attempts__lt=F("max_attempts"))
            .order_by("available_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.QUEUED,
            lease_owner="",
            leased_until=now + timedelta(seconds=settings.OUTBOX_QUEUE_SECONDS),
        )
    return ids


def _dead_letter_expired_last_attempts(now: datetime) -> None:
    # A worker died during the last allowed attempt: nobody may try again.
    OutboxMessage.objects.filter(
        status=OutboxStatus.IN_PROGRESS, leased_until__lt=now, attempts__gte=F("max_attempts")
    ).update(
        status=OutboxStatus.DEAD,
        lease_owner="",
        leased_until=None,
        last_error="lease expired during the last attempt (worker died?)",
    )


def backoff_seconds(attempts: int) -> float:
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return float(min(base, MAX_BACKOFF_SECONDS) * random.uniform(0.9, 1.1))  # noqa: S311 - jitter


def deliver_claimed(*, message_id: int, worker_id: str) -> bool:
    """Deliver a message this worker holds the lease of. Returns True when delivered."""
    message = OutboxMessage.objects.filter(
        pk=message_id, lease_owner=worker_id, status=OutboxStatus.IN_PROGRESS
    ).first()
    if message is None:
        return False  # the lease was lost (expired and taken by another worker)
    handler = HANDLERS.get(message.topic)
    mine = OutboxMessage.objects.filter(pk=message_id, lease_owner=worker_id)
    try:
        if handler is None:
            raise LookupError(f"no outbox handler for topic {message.topic!r}")
        handler(message)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
        error = redact("".join(traceback.format_exception_only(type(exc), exc)).strip())[:2000]
        dead = message.attempts >= message.max_attempts
        mine.update(
            status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
            lease_owner="",
            leased_until=None,
            last_error=error,
            available_at=timezone.now() + timedelta(seconds=backoff_seconds(message.attempts)),
        )
        OUTBOX_DELIVERIES.labels(message.topic, "dead" if dead else "retry").inc()
        logger.warning(
            "outbox delivery failed",
            extra={
                "outbox_id": message.pk,
                "topic": message.topic,
                "attempt": message.attempts,
                "dead": dead,
                "error_type": type(exc).__name__,
            },
        )
        return False
    mine.update(
        status=OutboxStatus.DELIVERED,
        lease_owner="",
        leased_until=None,
        last_error="",
        delivered_at=timezone.now(),
    )
    OUTBOX_DELIVERIES.labels(message.topic, "delivered").inc()
    logger.info(
        "outbox delivered",
        extra={"outbox_id": message.pk, "topic": message.topic, "attempt": message.attempts},
    )
    return True


def process_batch(*, worker_id: str, limit: int = 10) -> int:
    """Claim and deliver one batch in this process; returns how many were claimed."""
    claimed = claim_due(worker_id=worker_id, limit=limit)
    for message_id in claimed:
        deliver_claimed(message_id=message_id, worker_id=worker_id)
    return len(claimed)


def dispatch_to_celery(*, limit: int = 500) -> int:
    """Hand due messages to Celery (``core.tasks.outbox_deliver``); returns how many. If the
    broker refuses, the rest stay queued and are handed over again when their lease ends."""
    from rathaus.core.tasks import outbox_deliver

    ids = hand_over_due(limit=limit)
    for message_id in ids:
        outbox_deliver.delay(message_id)
    return len(ids)


def run_periodic_job(name: str) -> bool:
    """Run the periodic job registered under ``name`` (module.qualname) once; False if no job
    has that name. Used by the Celery task that beat schedules."""
    for _seconds, job in PERIODIC:
        if job_name(job) == name:
            job()
            return True
    return False


def job_name(job: PeriodicJob) -> str:
    return f"{job.__module__}.{job.__qualname__}"


def run_worker(
    *,
    worker_id: str | None = None,
    poll_seconds: float = 1.0,
    batch: int = 10,
    stop: threading.Event | None = None,
    once: bool = False,
) -> None:
    """The loop behind ``rathaus worker`` and the demo's in-process thread."""
    worker_id = worker_id or new_worker_id()
    stop = stop or threading.Event()
    logger.info("outbox worker started", extra={"worker_id": worker_id})
    last_run: dict[str, float] = {}
    while not stop.is_set():
        close_old_connections()
        run_periodic(last_run)
        try:
            done = process_batch(worker_id=worker_id, limit=batch)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            logger.exception("outbox worker: batch failed; retrying")
            done = 0
        if once:
            break
        if done == 0:
            stop.wait(poll_seconds)
    logger.info("outbox worker stopped", extra={"worker_id": worker_id})


def start_inprocess_worker() -> threading.Thread:
    """Used by ``serve-demo``: the worker as a daemon thread beside the web server."""
    thread = threading.Thread(
        target=run_worker, kwargs={"poll_seconds": 2.0}, name="outbox-worker", daemon=True
    )
    thread.start()
    return thread
