"""With CELERY_BROKER_URL set, `rathaus worker` only claims and a Celery worker delivers.

Runs against the local Redis when one answers (CI has one); skipped on a machine without,
unless RATHAUS_REQUIRE_SERVICES is set, as in CI, where a missing Redis fails the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from rathaus.core.constants import OutboxStatus
from rathaus.core.services import outbox_message_create
from rathaus.core.tests.receiver import running_receiver
from rathaus.core.tests.test_outbox import _database_url

REDIS = ("127.0.0.1", 6379)


def _redis_answers() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_server() -> None:
    if _redis_answers():
        return
    if os.environ.get("RATHAUS_REQUIRE_SERVICES"):
        pytest.fail("Redis is not answering on 127.0.0.1:6379", pytrace=False)
    pytest.skip("no Redis on 127.0.0.1:6379 (the default set-up needs none)")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("redis_server")
def test_celery_worker_delivers_what_the_dispatcher_claimed() -> None:
    queue = f"rathaus-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/15",
        "RATHAUS_CELERY_QUEUE": queue,
        "RATHAUS_LOG_LEVEL": "WARNING",
    }
    with running_receiver() as receiver:
        message = outbox_message_create(
            topic="webhook.post",
            payload={"url": receiver.url, "body": {}},
            idempotency_key="via-celery",
        )
        celery = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "rathaus.celery_app",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        dispatcher = subprocess.Popen(
            [sys.executable, "-m", "rathaus.manage", "worker", "--poll", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                message.refresh_from_db()
                if message.status == OutboxStatus.DELIVERED:
                    break
                time.sleep(0.2)
        finally:
            dispatcher.terminate()
            celery.terminate()
            dispatcher.wait(15)
            output = celery.communicate(timeout=30)[0].decode()
    assert message.status == OutboxStatus.DELIVERED, output[-3000:]
    assert receiver.attempts == ["via-celery"]
    assert "rathaus.core.tasks.outbox_deliver" in output  # the Celery worker ran the delivery
