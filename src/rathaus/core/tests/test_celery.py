"""With CELERY_BROKER_URL set, Celery beat hands the outbox to Celery workers and schedules the
periodic jobs; RedBeat's lock lets one of several beats schedule, another takes over.

Runs against the local Redis when one answers (CI has one); skipped on a machine without,
unless RATHAUS_REQUIRE_SERVICES is set, as in CI, where a missing Redis fails the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError

from rathaus.core.constants import OutboxStatus
from rathaus.core.models import OutboxMessage
from rathaus.core.services import outbox_message_create
from rathaus.core.tests.receiver import running_receiver
from rathaus.core.tests.test_outbox import _database_url

REDIS = ("127.0.0.1", 6379)
REDIS_DB = 15
CELERY = [sys.executable, "-m", "celery", "-A", "rathaus.celery_app"]


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


@pytest.fixture
def celery_env(redis_server: None, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of one test's Celery processes: its own queue and beat keys."""
    run = uuid.uuid4().hex[:8]
    prefix = f"rathaus-test-{run}:"
    yield {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
        "RATHAUS_CACHE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
        "RATHAUS_CELERY_QUEUE": f"rathaus-test-{run}",
        "RATHAUS_BEAT_KEY_PREFIX": prefix,
        "RATHAUS_BEAT_LOCK_SECONDS": "4",
        "RATHAUS_OUTBOX_DISPATCH_SECONDS": "0.5",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "RATHAUS_VAR_DIR": str(tmp_path),
    }
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS_DB)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        CELERY + args,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return _start(
        [
            "worker",
            "--pool",
            "solo",
            "--queues",
            env["RATHAUS_CELERY_QUEUE"],
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log,
    )


def _beat(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return _start(["beat", "--loglevel", "INFO"], env, log)


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_beat_hands_the_outbox_to_a_worker_which_delivers_each_message_once(
    celery_env: dict[str, str], tmp_path: Path
) -> None:
    with running_receiver() as receiver:
        messages = [
            outbox_message_create(
                topic="webhook.post",
                payload={"url": receiver.url, "body": {"n": n}},
                idempotency_key=f"via-celery-{n}",
            )
            for n in range(5)
        ]
        worker = _worker(celery_env, tmp_path / "worker.log")
        beat = _beat(celery_env, tmp_path / "beat.log")
        try:
            delivered = _wait_for(
                lambda: (
                    OutboxMessage.objects.filter(
                        pk__in=[m.pk for m in messages], status=OutboxStatus.DELIVERED
                    ).count()
                    == len(messages)
                ),
                60,
            )
        finally:
            _stop(beat, worker)
    output = (tmp_path / "worker.log").read_text() + (tmp_path / "beat.log").read_text()
    assert delivered, output[-4000:]
    assert sorted(receiver.attempts) == [f"via-celery-{n}" for n in range(5)]
    assert all(
        m.attempts == 1 for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in messages])
    )
    assert "rathaus.core.tasks.outbox_deliver" in output  # a Celery worker delivered


@pytest.mark.django_db(transaction=True)
def test_one_of_two_beats_schedules_and_the_other_takes_over_when_it_is_killed(
    celery_env: dict[str, str], tmp_path: Path
) -> None:
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS_DB)
    lock_key = f"{celery_env['RATHAUS_BEAT_KEY_PREFIX']}:lock"
    first = _beat(celery_env, tmp_path / "beat1.log")
    assert _wait_for(lambda: client.exists(lock_key) == 1, 30), (
        tmp_path / "beat1.log"
    ).read_text()[-3000:]
    second = _beat(celery_env, tmp_path / "beat2.log")
    try:
        time.sleep(3)
        # Only the first schedules: the second waits for the lock.
        assert "beat: Starting" in (tmp_path / "beat2.log").read_text() or second.poll() is None
        assert "Acquired lock" not in (tmp_path / "beat2.log").read_text()
        os.killpg(first.pid, signal.SIGKILL)  # the scheduling node dies without a word
        first.wait(10)
        took_over = _wait_for(
            lambda: "Acquired lock" in (tmp_path / "beat2.log").read_text(),
            30,
        )
    finally:
        _stop(first, second)
    assert took_over, (tmp_path / "beat2.log").read_text()[-3000:]


@pytest.mark.django_db(transaction=True)
def test_beat_schedules_the_periodic_jobs_at_their_interval_and_a_worker_runs_them(
    celery_env: dict[str, str], tmp_path: Path
) -> None:
    # The real-time transit polling, here every two seconds (without a feed it finds nothing).
    env = {**celery_env, "RATHAUS_TRANSIT_REALTIME_INTERVAL": "2"}
    worker = _worker(env, tmp_path / "worker.log")
    beat = _beat(env, tmp_path / "beat.log")
    job = "rathaus.transit.handlers.realtime_poll"
    try:
        ran = _wait_for(
            lambda: (
                (tmp_path / "worker.log").read_text().count("rathaus.core.tasks.periodic_job") >= 4
            ),
            40,
        )
    finally:
        _stop(beat, worker)
    beat_log = (tmp_path / "beat.log").read_text()
    worker_log = (tmp_path / "worker.log").read_text()
    assert ran, worker_log[-3000:]
    assert f"Sending due task {job}" in beat_log
    assert "succeeded in" in worker_log and ": True" in worker_log  # the job was found and ran


def test_rathaus_worker_refuses_to_run_beside_celery(settings: object) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="Celery delivers the outbox"):
        call_command("worker", "--once")
