"""``rathaus seed-cases --count N``: synthetic cases (with submissions, statuses and history)
for load tests and the inbox benchmark. Not for production databases."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.cases.seeding import SeedingImpossible, seed_cases
from rathaus.core.services import audit_entry_create


class Command(BaseCommand):
    help = "Create N synthetic cases with submissions, statuses and history (load tests)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="how many cases")
        parser.add_argument("--batch", type=int, default=2000, help="rows per transaction")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same data again)")

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if count < 1 or options["batch"] < 1:
            raise CommandError("--count and --batch must be at least 1")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            seconds = time.monotonic() - started
            self.stdout.write(f"seed-cases: {done}/{total} ({seconds:.0f} s)")

        try:
            result = seed_cases(
                count=count, batch=options["batch"], seed=options["seed"], progress=progress
            )
        except SeedingImpossible as exc:
            raise CommandError(str(exc)) from None
        audit_entry_create(
            actor=None,
            action="cases.seed",
            object_type="cases.case",
            after={"created": result.created, "skipped": result.skipped},
        )
        reasons = ", ".join(f"{n} {why}" for why, n in result.reasons.items()) or "none"
        self.stdout.write(
            f"seed-cases: {result.created} created, {result.skipped} skipped ({reasons}), "
            f"0 rejected in {time.monotonic() - started:.1f} s"
        )
