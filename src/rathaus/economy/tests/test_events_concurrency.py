"""No overbooking under concurrency (PostgreSQL): parallel registrations, each in its own
thread and database connection, give exactly ``capacity`` confirmed seats and the rest on
the waiting list (or refused when there is none); parallel cancellations move each waiting
person up once; the same address sent twice at the same moment is registered once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from rathaus.economy.constants import RegistrationStatus
from rathaus.economy.models import Event, Registration
from rathaus.economy.services.events import EventError, registration_cancel, registration_create
from rathaus.economy.tests.test_events import make_event

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: concurrent writers on separate connections; SQLite lets "
        "only one writer in at a time, so there is no race to test there",
    ),
]


def in_parallel(count: int, work: Callable[[int], Any]) -> list[str]:
    """Run ``work(i)`` in ``count`` threads that start together; their outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            result = str(work(index))
        except EventError as error:
            result = f"refused:{error.code}"
        except Exception as error:  # noqa: BLE001 - any other outcome fails the test
            result = f"error:{type(error).__name__}:{error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == count, outcomes
    return outcomes


def _register(event: Event, index: int) -> str:
    result = registration_create(
        event_id=event.pk, name=f"Person {index}", email=f"p{index}@example.org"
    )
    return str(result.registration.status)


def test_parallel_registrations_confirm_exactly_capacity_and_the_rest_wait() -> None:
    event = make_event(capacity=5)
    outcomes = in_parallel(16, lambda i: _register(event, i))
    assert sorted(outcomes) == ["confirmed"] * 5 + ["waiting"] * 11, outcomes
    event.refresh_from_db()
    assert event.confirmed_count == 5
    assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 5


def test_parallel_registrations_without_waiting_list_refuse_the_rest() -> None:
    event = make_event(capacity=3, waiting_list=False)
    outcomes = in_parallel(10, lambda i: _register(event, i))
    assert sorted(outcomes) == ["confirmed"] * 3 + ["refused:full"] * 7, outcomes
    assert Registration.objects.count() == 3


def test_parallel_cancellations_move_each_waiting_person_up_once() -> None:
    event = make_event(capacity=3)
    tokens = [
        registration_create(event_id=event.pk, name=f"P{i}", email=f"p{i}@example.org")
        for i in range(7)
    ]
    confirmed_tokens = [t.cancel_token for t in tokens[:3]]
    outcomes = in_parallel(3, lambda i: registration_cancel(token=confirmed_tokens[i]).status)
    assert outcomes == ["cancelled"] * 3, outcomes
    statuses = [Registration.objects.get(pk=t.registration.pk).status for t in tokens]
    # the first three waiting came up, in the order they registered; the fourth still waits
    assert statuses == ["cancelled"] * 3 + ["confirmed"] * 3 + ["waiting"], statuses
    event.refresh_from_db()
    assert event.confirmed_count == 3


def test_cancellations_and_registrations_at_the_same_time_never_overbook() -> None:
    event = make_event(capacity=4)
    first = [
        registration_create(event_id=event.pk, name=f"P{i}", email=f"p{i}@example.org")
        for i in range(4)
    ]

    def work(index: int) -> str:
        if index < 2:
            return str(registration_cancel(token=first[index].cancel_token).status)
        return _register(event, 100 + index)

    outcomes = in_parallel(10, work)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    event.refresh_from_db()
    confirmed = Registration.objects.filter(event=event, status="confirmed").count()
    waiting = Registration.objects.filter(event=event, status="waiting").count()
    assert event.confirmed_count == confirmed == 4
    assert waiting == 6  # 8 new: 2 got the freed seats, the rest wait
    assert event.confirmed_count <= event.capacity


def test_the_same_address_at_the_same_moment_is_registered_once() -> None:
    event = make_event(capacity=10)
    outcomes = in_parallel(
        6,
        lambda i: (
            registration_create(
                event_id=event.pk, name="Jana", email="jana@example.org"
            ).registration.status
        ),
    )
    assert sorted(outcomes) == ["confirmed"] + ["refused:duplicate"] * 5, outcomes
    event.refresh_from_db()
    assert event.confirmed_count == 1
