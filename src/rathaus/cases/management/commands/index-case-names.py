"""``rathaus index-case-names``: give cases opened before names were indexed their
applicant's name (encrypted) and its blind index, so that the inbox shows and finds them.
Run once after upgrading; running it again finds nothing left to do."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rathaus.cases.models import Case
from rathaus.cases.services import case_applicant_index


class Command(BaseCommand):
    help = "Index the applicant's name of cases that have none yet (after an upgrade)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="cases per progress line")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        outcomes: Counter[str] = Counter()
        pending = Case.objects.filter(applicant_encrypted="").select_related("submission__version")
        total = pending.count()
        last = 0
        while True:
            batch = list(pending.filter(pk__gt=last).order_by("pk")[: options["batch"]])
            if not batch:
                break
            for case in batch:
                outcomes[case_applicant_index(case=case)] += 1
            last = batch[-1].pk
            done = sum(outcomes.values())
            self.stdout.write(
                f"index-case-names: {done}/{total} ({time.monotonic() - started:.0f} s)"
            )
        skipped = {why: n for why, n in outcomes.items() if why != "indexed"}
        reasons = ", ".join(f"{n} {why}" for why, n in skipped.items()) or "none"
        self.stdout.write(
            f"index-case-names: {outcomes['indexed']} indexed, {sum(skipped.values())} skipped "
            f"({reasons}), 0 rejected in {time.monotonic() - started:.1f} s"
        )
