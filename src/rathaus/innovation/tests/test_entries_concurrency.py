"""Two staff deciding the same phase at the same moment (PostgreSQL): the phase row is
locked, so exactly one decision is recorded and the other is told the phase is decided."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.innovation.constants import PhaseResult
from rathaus.innovation.models import EntryPhase
from rathaus.innovation.services import entries as services
from rathaus.innovation.tests.test_entries_services import (
    close,
    make_call,
    publish_form,
    score,
    submitted_entry,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: concurrent writers on separate connections; SQLite lets "
        "only one writer in at a time, so there is no race to test there",
    ),
]


def test_two_staff_deciding_a_phase_at_once_decide_it_once(personas: dict[str, Any]) -> None:
    publish_form()
    call, (phase, second) = make_call()
    alpha = submitted_entry(call, "alpha@example.org", "Alpha")
    beta = submitted_entry(call, "beta@example.org", "Beta")
    score(alpha, phase, "80")
    score(beta, phase, "70")
    close(phase)
    staff = personas["department"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            if index == 0:
                services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
            else:
                services.phase_decide(
                    actor=staff, phase_id=phase.pk, advanced_entry_ids=[beta.pk], reason="Beta."
                )
            result = "decided"
        except services.EntryError as error:
            result = f"refused:{error.code}:{error.message}"
        except Exception as error:  # noqa: BLE001 - any other outcome fails the test
            result = f"error:{type(error).__name__}:{error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == [
        "decided",
        "refused:decided:Diese Phase wurde schon entschieden.",
    ], outcomes
    assert AuditEntry.objects.filter(action="innovation.phase.decide").count() == 1
    assert OutboxMessage.objects.filter(topic=services.RESULT_TOPIC).count() == 2
    assert EntryPhase.objects.filter(phase=phase, result=PhaseResult.ADVANCED).count() >= 1
    assert EntryPhase.objects.filter(phase=second).count() in (1, 2)
