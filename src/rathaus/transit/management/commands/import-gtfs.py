"""``rathaus import-gtfs FILE_OR_URL [--feed SLUG]``: load a GTFS zip as a feed's new version."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.transit.gtfs import GtfsError
from rathaus.transit.services import feed_import


class Command(BaseCommand):
    help = (
        "Import a GTFS zip (path or http(s) URL) as the new version of a feed; the previous "
        "version stays active if the import fails. Skipped rows are reported with examples."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="path or http(s) URL of a GTFS zip")
        parser.add_argument(
            "--feed", default="", help="the feed's short name (default: from the file name)"
        )
        parser.add_argument("--name", default="", help="the feed's display name")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            version = feed_import(
                source=options["source"],
                slug=options["feed"],
                name=options["name"],
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except GtfsError as exc:
            raise CommandError(f"{exc}\n(the previous version stays active)") from None
        elapsed = time.monotonic() - started
        report = version.report
        rows = report["imported"].get("stop_times.txt", 0)
        self.stdout.write(
            f"feed {version.feed.slug}: version {version.pk} active "
            f"({version.first_date} to {version.last_date}) in {elapsed:.1f} s, "
            f"{rows / elapsed:,.0f} stop_times/s"
        )
        self.stdout.write(self._summary(report))

    @staticmethod
    def _summary(report: dict[str, Any]) -> str:
        lines = []
        for name, count in report["read"].items():
            lines.append(f"  {name}: {count} read, {report['imported'].get(name, 0)} imported")
        skipped = report["skipped"]
        lines.append(f"  skipped: {sum(p['count'] for p in skipped.values())}")
        for reason, problem in skipped.items():
            lines.append(
                f"    {problem['count']} x {reason} (e.g. {', '.join(problem['examples'])})"
            )
        lines.extend(f"  note: {note}" for note in report["notes"])
        return "\n".join(lines)
