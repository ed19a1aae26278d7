"""``rathaus rotate-keys``: re-encrypt all encrypted data and files under the newest key (the
first of RATHAUS_DATA_KEYS). Afterwards the old keys can be removed. Safe to run again."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rathaus.core.rotation import RotationReport, jobs


class Command(BaseCommand):
    help = "Re-encrypt everything stored encrypted under the newest RATHAUS_DATA_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        total = RotationReport()
        for name, job in jobs():
            report = RotationReport()
            job(report)
            self.stdout.write(f"  {name}: {report.summary()}")
            total.rotated += report.rotated
            total.current += report.current
            total.failed += report.failed
        self.stdout.write(f"keys rotated: {total.summary()} in {time.monotonic() - started:.1f} s")
        for where, why in total.failed[:50]:
            self.stdout.write(f"  failed {where}: {why}")
        if total.failed:
            raise CommandError(
                f"{len(total.failed)} values could not be opened with any configured key; "
                "keep the old keys until they are resolved"
            )
