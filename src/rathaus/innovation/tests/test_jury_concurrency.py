"""Two people recording the same entry's consensus at the same moment (PostgreSQL): the
entry's row is locked, so one records it and the other, who filled in the form on the same
state, is told that a consensus was recorded meanwhile; nothing is written twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from rathaus.accounts.constants import Role
from rathaus.accounts.tests.factories import UserFactory, with_role
from rathaus.core.models import AuditEntry
from rathaus.innovation.models import Assignment, ConsensusScore, EntryPhase
from rathaus.innovation.services import jury as services
from rathaus.innovation.tests.test_jury import (
    declare_and_score,
    make_call,
    make_criteria,
    make_entry,
    make_member,
    make_phase,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: concurrent writers on separate connections; SQLite lets "
        "only one writer in at a time, so there is no race to test there",
    ),
]


def in_parallel(count: int, work: Callable[[int], Any]) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            result = str(work(index))
        except services.JuryError as error:
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


def test_two_staff_recording_the_same_consensus_at_once_write_it_once() -> None:
    staff = [with_role(UserFactory(), Role.DEPARTMENT_STAFF) for _ in range(2)]
    call = make_call()
    phase = make_phase(call)
    criteria = make_criteria(phase)
    entry_phase = make_entry(phase)
    for values in (["8", "4", "1"], ["4", "2", "0"]):
        assignment = Assignment.objects.create(entry_phase=entry_phase, evaluator=make_member(call))
        declare_and_score(assignment, values)
    seen = services.consensus_token(entry_phase_id=entry_phase.pk)
    proposals = [
        {criteria[0].pk: "6", criteria[1].pk: "3", criteria[2].pk: "0.5"},
        {criteria[0].pk: "9", criteria[1].pk: "3", criteria[2].pk: "0.5"},
    ]

    def record(index: int) -> str:
        services.consensus_record(
            actor=staff[index],
            entry_phase_id=entry_phase.pk,
            values=proposals[index],
            reasons={criteria[0].pk: "besprochen"},
            expected=seen,
        )
        return "recorded"

    outcomes = in_parallel(2, record)
    assert sorted(outcomes) == ["recorded", "refused:stale"], outcomes
    assert ConsensusScore.objects.count() == 3
    assert AuditEntry.objects.filter(action="innovation.consensus.record").count() == 1
    entry_phase = EntryPhase.objects.get(pk=entry_phase.pk)
    assert entry_phase.consensus_by in staff
    value = ConsensusScore.objects.get(criterion=criteria[0]).value
    assert entry_phase.consensus_total == (30 if value == 6 else 45) + 18 + 10
