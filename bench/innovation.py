"""Innovation competitions at the size of a large call (issue 10), on PostgreSQL: one phase
with 2,000 submitted entries, 5 criteria, 60 evaluators and 4 submitted evaluations per entry
(8,000 assignments, 40,000 scores), every tenth entry with a consensus.

- the ranking of the phase (``selectors.ranking.phase_ranking``: totals, criterion means for
  the tie-break, places), p50/p95, next to a same-run naive computation: one query per entry
  for its evaluations and one per evaluation for its scores, averaged in Python;
- the staff's progress page data (``phase_progress``: entries by state, "done/assigned" per
  evaluator, overdue, disagreements), next to one query per evaluator and state.

The data are generated (seeded): no personal data, the same every run."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_INNOVATION_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_innovation"
)
ENTRIES = int(os.environ.get("BENCH_INNOVATION_ENTRIES", "2000"))
EVALUATORS = 60
PER_ENTRY = 4
CRITERIA = 5
RUNS = 30
NAIVE_RUNS = 5


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000,
    }


def timed(function: Any, runs: int) -> dict[str, float]:
    samples = []
    for _run in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def fill(rng: random.Random) -> Any:
    """The call, its phase and criteria, the jury, the entries with their evaluations."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from rathaus.accounts.models import User
    from rathaus.innovation.constants import (
        AssignmentState,
        CallStatus,
        Eligibility,
        EntryStatus,
        Scale,
    )
    from rathaus.innovation.models import (
        Assignment,
        Call,
        Criterion,
        Entry,
        EntryPhase,
        JuryMember,
        Phase,
        Score,
    )

    call_command("migrate", "--no-input", "-v", "0")
    started = time.monotonic()
    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.create(
            title="Smart City Challenge (bench)",
            slug="bench",
            challenge="…",
            status=CallStatus.PUBLISHED,
            evaluators_per_entry=PER_ENTRY,
        )
        phase = Phase.objects.create(
            call=call,
            position=1,
            name="Konzept",
            opens_at=now - timedelta(days=60),
            closes_at=now - timedelta(days=30),
            evaluation_due_at=now - timedelta(days=1),  # evaluations are overdue
            advance_count=50,
        )
        criteria = [
            Criterion.objects.create(
                phase=phase,
                position=i + 1,
                name=f"Kriterium {i + 1}",
                scale=Scale.HALF_POINTS,
                max_points=5,
                weight=Decimal(20),
            )
            for i in range(CRITERIA)
        ]
        users = User.objects.bulk_create(
            [User(email=f"jury{i}@bench.example") for i in range(EVALUATORS + 1)]
        )
        jury = JuryMember.objects.bulk_create(
            [
                JuryMember(call=call, user=users[i], public_name=f"Jurorin {i}")
                for i in range(EVALUATORS)
            ]
        )
        entries = Entry.objects.bulk_create(
            [
                Entry(
                    call=call,
                    organisation_id=i + 1,
                    title=f"Beitrag {i}",
                    created_by=users[-1],
                    status=EntryStatus.SUBMITTED,
                    eligibility=Eligibility.ELIGIBLE,
                    current_phase=phase,
                    submitted_at=now - timedelta(days=40, minutes=i),
                )
                for i in range(ENTRIES)
            ],
            batch_size=1000,
        )
        entry_phases = EntryPhase.objects.bulk_create(
            [
                EntryPhase(
                    entry=entry,
                    phase=phase,
                    submitted_at=entry.submitted_at,
                    consensus_total=Decimal(rng.randint(4000, 9000)) / 100 if i % 10 == 0 else None,
                )
                for i, entry in enumerate(entries)
            ],
            batch_size=1000,
        )
        assignments = []
        for i, entry_phase in enumerate(entry_phases):
            for k in range(PER_ENTRY):
                member = jury[(i * PER_ENTRY + k) % EVALUATORS]
                done = rng.random() < 0.9  # some evaluations are still open
                assignments.append(
                    Assignment(
                        entry_phase=entry_phase,
                        evaluator=member,
                        state=AssignmentState.SUBMITTED if done else AssignmentState.CLEARED,
                        submitted_at=now if done else None,
                    )
                )
        assignments = Assignment.objects.bulk_create(assignments, batch_size=2000)
        scores = []
        totals = []
        for assignment in assignments:
            if assignment.state != AssignmentState.SUBMITTED:
                continue
            values = [Decimal(rng.randint(0, 10)) / 2 for _c in criteria]
            scores += [
                Score(assignment=assignment, criterion=c, value=v)
                for c, v in zip(criteria, values, strict=True)
            ]
            assignment.weighted_total = sum(v / 5 * 20 for v in values)
            totals.append(assignment)
        Score.objects.bulk_create(scores, batch_size=5000)
        Assignment.objects.bulk_update(totals, ["weighted_total"], batch_size=2000)
    with connection.cursor() as cursor:  # as autovacuum would after such a load
        cursor.execute("ANALYZE")
    say(
        f"innovation: {ENTRIES:,} entries, {EVALUATORS} evaluators, {len(assignments):,} "
        f"assignments, {len(scores):,} scores in {time.monotonic() - started:.0f} s"
    )
    return phase


def worker() -> None:
    import django

    django.setup()
    from django.db import connection

    from rathaus.innovation.constants import AssignmentState, EntryStatus
    from rathaus.innovation.models import Assignment, EntryPhase, JuryMember, Score
    from rathaus.innovation.selectors.ranking import phase_progress, phase_ranking

    phase = fill(random.Random(10))  # noqa: S311 - generated test data, not secrets

    def ranking() -> None:
        phase_ranking(phase=phase)

    def naive_ranking() -> None:
        """One query per entry, one per evaluation: what a straightforward loop does."""
        rows = []
        for entry_phase in EntryPhase.objects.filter(phase=phase).select_related("entry"):
            totals = []
            per_criterion: dict[int, list[Decimal]] = {}
            for assignment in Assignment.objects.filter(
                entry_phase=entry_phase, state=AssignmentState.SUBMITTED
            ):
                totals.append(assignment.weighted_total)
                for score in Score.objects.filter(assignment=assignment):
                    per_criterion.setdefault(score.criterion_id, []).append(score.value)
            mean = sum(totals) / len(totals) if totals else None
            score = entry_phase.consensus_total if entry_phase.consensus_total else mean
            tie = [sum(v) / len(v) for _k, v in sorted(per_criterion.items())]
            rows.append((-(score or 0), [-t for t in tie], entry_phase.entry_id))
        rows.sort()

    def progress() -> None:
        phase_progress(phase=phase)

    def naive_progress() -> None:
        """One query per evaluator and state, and per entry state."""
        for status in EntryStatus.values:
            EntryPhase.objects.filter(phase=phase, entry__status=status).count()
        for member in JuryMember.objects.filter(call=phase.call):
            mine = Assignment.objects.filter(evaluator=member, entry_phase__phase=phase)
            for state in AssignmentState.values:
                mine.filter(state=state).count()

    ranked = phase_ranking(phase=phase)
    assert len(ranked) == ENTRIES and ranked[0].place == 1
    results = {
        "entries": ENTRIES,
        "evaluators": EVALUATORS,
        "per_entry": PER_ENTRY,
        "ranking": timed(ranking, RUNS),
        "ranking_naive": timed(naive_ranking, NAIVE_RUNS),
        "progress": timed(progress, RUNS),
        "progress_naive": timed(naive_progress, RUNS),
        "database": connection.vendor,
    }
    print(json.dumps(results))


def main() -> dict[str, Any]:
    from bench.run import WORK, postgres_fresh

    results: dict[str, Any] = {}
    if not postgres_fresh(POSTGRES_URL):
        say("innovation: PostgreSQL not reachable, skipped")
        return results
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }
    out = subprocess.run(
        [sys.executable, __file__, "worker"], env=env, capture_output=True, text=True
    )
    sys.stderr.write(out.stderr)
    out.check_returncode()
    f = json.loads(out.stdout.strip().splitlines()[-1])
    results["postgresql"] = f
    scale = (
        f"{f['entries']:,} entries, {f['evaluators']} evaluators, {f['per_entry']} evaluations "
        "per entry (PostgreSQL)"
    )
    say(
        f"innovation ranking at {scale}: p50 {f['ranking']['p50_ms']:.1f} ms, p95 "
        f"{f['ranking']['p95_ms']:.1f} ms | baseline naive (a query per entry and "
        f"evaluation): p95 {f['ranking_naive']['p95_ms']:.0f} ms | "
        f"{f['ranking_naive']['p95_ms'] / f['ranking']['p95_ms']:.0f}x"
    )
    say(
        f"innovation progress page data at {scale}: p50 {f['progress']['p50_ms']:.1f} ms, p95 "
        f"{f['progress']['p95_ms']:.1f} ms | baseline a query per evaluator and state: p95 "
        f"{f['progress_naive']['p95_ms']:.0f} ms | "
        f"{f['progress_naive']['p95_ms'] / f['progress']['p95_ms']:.0f}x"
    )
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "innovation-results.json").write_text(json.dumps(results))
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        main()
