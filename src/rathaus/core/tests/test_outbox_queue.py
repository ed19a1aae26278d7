"""The hand-over to Celery: beat's dispatch marks due messages *queued* (no attempt spent),
the task claims and delivers. Lost tasks and killed workers bring the message back; nothing
is delivered twice to the receiver's effect, and a long queue never dead-letters a message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from rathaus.core.constants import OutboxStatus
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import claim_one, deliver_claimed, hand_over_due
from rathaus.core.services import outbox_message_create
from rathaus.core.tests.receiver import running_receiver

pytestmark = pytest.mark.django_db


def _webhook(url: str, key: str, **kwargs: object) -> OutboxMessage:
    return outbox_message_create(
        topic="webhook.post",
        payload={"url": url, "body": {"key": key}},
        idempotency_key=key,
        **kwargs,  # type: ignore[arg-type]
    )


def _expire_leases() -> None:
    OutboxMessage.objects.update(leased_until=timezone.now() - timedelta(seconds=1))


def test_dispatch_hands_due_messages_over_once_and_spends_no_attempt() -> None:
    due = _webhook("http://127.0.0.1:9/", "due")
    later = _webhook(
        "http://127.0.0.1:9/", "later", available_at=timezone.now() + timedelta(hours=1)
    )
    assert hand_over_due() == [due.pk]
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.attempts) == (OutboxStatus.QUEUED, 0)
    assert later.status == OutboxStatus.PENDING
    assert hand_over_due() == []  # queued: not handed over a second time while its lease runs


def test_the_task_claims_delivers_and_a_repeated_task_does_nothing() -> None:
    with running_receiver() as receiver:
        message = _webhook(receiver.url, "once")
        hand_over_due()
        assert claim_one(message_id=message.pk, worker_id="celery:a")
        assert not claim_one(message_id=message.pk, worker_id="celery:b")  # a live lease
        assert deliver_claimed(message_id=message.pk, worker_id="celery:a")
        # The broker gives the same task again (acks late): the message is delivered.
        assert not claim_one(message_id=message.pk, worker_id="celery:c")
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 1)
    assert receiver.attempts == ["once"]


def test_a_lost_task_brings_its_message_back_after_the_queue_lease() -> None:
    with running_receiver() as receiver:
        message = _webhook(receiver.url, "lost")
        hand_over_due()  # ... and the task vanishes with its worker
        assert hand_over_due() == []
        _expire_leases()
        assert hand_over_due() == [message.pk]
        assert claim_one(message_id=message.pk, worker_id="celery:b")
        assert deliver_claimed(message_id=message.pk, worker_id="celery:b")
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 1)


def test_a_worker_killed_while_delivering_is_repeated_and_the_receiver_applies_it_once() -> None:
    with running_receiver() as receiver:
        message = _webhook(receiver.url, "killed")
        hand_over_due()
        assert claim_one(message_id=message.pk, worker_id="celery:dies")
        # The worker sent the request, then died before recording it (SIGKILL).
        deliver_claimed(message_id=message.pk, worker_id="celery:dies")
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.IN_PROGRESS, lease_owner="celery:dies", delivered_at=None
        )
        _expire_leases()
        assert hand_over_due() == [message.pk]
        assert claim_one(message_id=message.pk, worker_id="celery:next")
        assert deliver_claimed(message_id=message.pk, worker_id="celery:next")
        # The dead worker's task, given again by the broker, finds nothing to do.
        assert not deliver_claimed(message_id=message.pk, worker_id="celery:dies")
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 2)
    assert receiver.attempts == ["killed", "killed"]
    assert receiver.effects == {"killed": 1}


@override_settings(OUTBOX_MAX_ATTEMPTS=2)
def test_a_long_queue_delays_a_message_but_never_dead_letters_it() -> None:
    message = _webhook("http://127.0.0.1:9/", "patient")
    for _ in range(5):  # handed over five times, each task lost before it started
        assert hand_over_due() == [message.pk]
        _expire_leases()
    message.refresh_from_db()
    assert message.attempts == 0
    assert message.status == OutboxStatus.QUEUED


@override_settings(OUTBOX_MAX_ATTEMPTS=1)
def test_a_worker_that_dies_in_the_last_attempt_leaves_a_dead_letter() -> None:
    message = _webhook("http://127.0.0.1:9/", "last")
    hand_over_due()
    assert claim_one(message_id=message.pk, worker_id="celery:dies")
    _expire_leases()
    assert hand_over_due() == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert "lease expired" in message.last_error


def test_a_retried_task_goes_on_under_its_own_lease_without_another_attempt() -> None:
    with running_receiver() as receiver:
        message = _webhook(receiver.url, "retried")
        hand_over_due()
        assert claim_one(message_id=message.pk, worker_id="celery:w:task-1")
        # The database went away after the claim; Celery retries the task (same id).
        assert claim_one(message_id=message.pk, worker_id="celery:w:task-1")
        assert not claim_one(message_id=message.pk, worker_id="celery:w:task-2")
        assert deliver_claimed(message_id=message.pk, worker_id="celery:w:task-1")
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 1)
    assert receiver.attempts == ["retried"]
