"""``rathaus publish-open-data``: generate the open-data datasets from the platform's data
now (the worker does it every RATHAUS_OPEN_DATA_INTERVAL seconds), with progress and a
summary of what was done, skipped and rejected, and why."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.citydata.publishing import GENERATOR_NAMES, publish_open_data
from rathaus.core.services import audit_entry_create


class Command(BaseCommand):
    help = "Generate and refresh the open-data datasets made from platform data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=GENERATOR_NAMES,
            help="run only this generator (repeatable)",
        )
        parser.add_argument(
            "--force", action="store_true", help="make every file again, even if unchanged"
        )
        parser.add_argument("--quiet", action="store_true", help="print only the summary")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        progress = None if options["quiet"] else self.stdout.write
        report = publish_open_data(only=options["only"], force=options["force"], progress=progress)
        audit_entry_create(
            actor=None,
            action="opendata.publish",
            object_type="citydata.dataset",
            after={
                "only": options["only"] or "all",
                "force": options["force"],
                "done": len(report.done),
                "skipped": len(report.skipped),
                "rejected": len(report.rejected),
                "removed": len(report.removed),
                "incomplete": report.incomplete,
                "busy": report.busy,
            },
        )
        if not options["quiet"]:
            for title, lines in (
                ("done", report.done),
                ("skipped", report.skipped),
                ("rejected", report.rejected),
                ("removed", report.removed),
            ):
                for line in lines:
                    self.stdout.write(f"  {title}: {line}")
        # incomplete generators always, with the reason: their datasets were not touched
        for line in report.incomplete:
            self.stdout.write(f"  incomplete: {line}")
        self.stdout.write(f"{report.summary()} in {time.monotonic() - started:.1f} s")
        if report.busy:
            raise CommandError("another process is publishing open data; try again later")
        if (report.rejected or report.incomplete) and not (report.done or report.skipped):
            raise CommandError("nothing could be published")
