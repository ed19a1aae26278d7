from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from rathaus.core.constants import OutboxStatus
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import claim_due, deliver_claimed, process_batch
from rathaus.core.services import outbox_message_create
from rathaus.core.tests.receiver import running_receiver

pytestmark = pytest.mark.django_db


def _webhook(url: str, **kwargs: object) -> OutboxMessage:
    return outbox_message_create(
        topic="webhook.post",
        payload={"url": url, "body": {"hello": "world"}},
        **kwargs,  # type: ignore[arg-type]
    )


def test_outbox_row_is_rolled_back_with_the_change_that_caused_it() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        _webhook("http://127.0.0.1:9/")
        raise RuntimeError("the business change failed")
    assert not OutboxMessage.objects.exists()


def test_same_idempotency_key_gives_one_message() -> None:
    first = _webhook("http://127.0.0.1:9/", idempotency_key="submission-42-receipt")
    second = _webhook("http://127.0.0.1:9/", idempotency_key="submission-42-receipt")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


def test_worker_delivers_a_webhook_with_its_idempotency_key() -> None:
    with running_receiver() as receiver:
        message = _webhook(receiver.url, idempotency_key="hook-1")
        assert process_batch(worker_id="w1") == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert message.delivered_at is not None
    assert receiver.attempts == ["hook-1"]


def test_failed_delivery_is_retried_later_with_exponential_backoff() -> None:
    with running_receiver(status=500) as receiver:
        message = _webhook(receiver.url)
        process_batch(worker_id="w1")
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING
        assert message.attempts == 1
        first_wait = (message.available_at - timezone.now()).total_seconds()
        assert 20 < first_wait < 40  # base 30 s with jitter
        assert "500" in message.last_error
        assert process_batch(worker_id="w1") == 0  # not due yet
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
        process_batch(worker_id="w1")
        message.refresh_from_db()
        second_wait = (message.available_at - timezone.now()).total_seconds()
        assert 50 < second_wait < 70
        assert len(receiver.attempts) == 2


def test_message_is_dead_lettered_after_max_attempts_and_an_admin_can_retry_it(
    personas: dict[str, object], client: Client
) -> None:
    with running_receiver(status=503) as receiver:
        message = _webhook(receiver.url, max_attempts=2)
        process_batch(worker_id="w1")
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
        process_batch(worker_id="w1")
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert process_batch(worker_id="w1") == 0

    client.force_login(personas["admin"])  # type: ignore[arg-type]
    listing = client.get("/admin/core/outboxmessage/", {"status__exact": "dead"})
    assert f"{message.pk}</a>" in listing.content.decode()
    client.post(
        "/admin/core/outboxmessage/",
        {"action": "retry_dead", "_selected_action": [message.pk]},
    )
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert AuditEntry.objects.filter(action="outbox.retry", object_id=str(message.pk)).exists()


def test_two_workers_never_hold_the_same_message() -> None:
    _webhook("http://127.0.0.1:9/")
    assert len(claim_due(worker_id="w1")) == 1
    assert claim_due(worker_id="w2") == []


def test_an_expired_lease_is_taken_over_and_the_old_worker_loses_it() -> None:
    message = _webhook("http://127.0.0.1:9/")
    assert claim_due(worker_id="w1") == [message.pk]
    OutboxMessage.objects.filter(pk=message.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert claim_due(worker_id="w2") == [message.pk]
    assert deliver_claimed(message_id=message.pk, worker_id="w1") is False
    message.refresh_from_db()
    assert (message.lease_owner, message.attempts) == ("w2", 2)


def test_a_crash_during_the_last_attempt_dead_letters_the_message() -> None:
    message = _webhook("http://127.0.0.1:9/", max_attempts=1)
    claim_due(worker_id="w1")
    OutboxMessage.objects.filter(pk=message.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert claim_due(worker_id="w2") == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD


def test_a_message_without_handler_is_not_lost_but_retried() -> None:
    message = outbox_message_create(topic="nobody.listens", payload={})
    process_batch(worker_id="w1")
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert "no outbox handler" in message.last_error


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    from urllib.parse import quote

    user = quote(settings.get("USER") or "postgres")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def _start_worker(name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "RATHAUS_OUTBOX_LEASE_SECONDS": "2",
        "RATHAUS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "rathaus.manage", "worker", "--poll", "0.2", "--worker-id", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.django_db(transaction=True)
@override_settings(OUTBOX_LEASE_SECONDS=2)
def test_worker_killed_mid_delivery_another_delivers_exactly_once_to_idempotent_receiver() -> None:
    with running_receiver(hang_first=True) as receiver:
        message = _webhook(receiver.url, idempotency_key="exactly-once-1")
        first = _start_worker("first")
        try:
            assert receiver.first_arrived.wait(30), "first worker never delivered"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        message.refresh_from_db()
        assert message.status == OutboxStatus.IN_PROGRESS  # it died holding the lease

        second = _start_worker("second")
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                message.refresh_from_db()
                if message.status == OutboxStatus.DELIVERED:
                    break
                time.sleep(0.2)
        finally:
            second.terminate()
            _, errors = second.communicate(timeout=10)
        assert message.status == OutboxStatus.DELIVERED, errors.decode()[-2000:]
        assert message.attempts == 2
        assert receiver.attempts == ["exactly-once-1", "exactly-once-1"]  # delivered twice...
        assert receiver.effects == {"exactly-once-1": 1}  # ...and took effect once
