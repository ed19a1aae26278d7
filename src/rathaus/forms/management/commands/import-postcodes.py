"""``rathaus import-postcodes [FILE]``: German postcodes and places (GeoNames format) for the
postcode field of forms. Without FILE, the demo city's list (Leipzig). Idempotent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.forms.postcodes import LEIPZIG_FILE, PostcodeFileError
from rathaus.forms.services import postcodes_import


class Command(BaseCommand):
    help = (
        "Import postcodes and places from a GeoNames postal-code file (e.g. DE.txt from "
        "download.geonames.org/export/zip/); reports skipped and rejected lines."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, default=LEIPZIG_FILE)
        parser.add_argument("--country", default="DE", help="the country code to keep (DE)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        started = time.monotonic()
        self.stdout.write(f"importing {path} ...")
        try:
            report = postcodes_import(
                path=path,
                country=options["country"],
                progress=lambda n: self.stdout.write(f"  {n} lines read"),
            )
        except PostcodeFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{report.summary()} in {time.monotonic() - started:.1f} s")
        for line, reason in report.rejected[:50]:
            self.stdout.write(f"  rejected line {line}: {reason}")
        if len(report.rejected) > 50:
            self.stdout.write(f"  ... and {len(report.rejected) - 50} more rejected lines")
        reasons: dict[str, int] = {}
        for _line, reason in report.skipped:
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in sorted(reasons.items()):
            self.stdout.write(f"  skipped {count} lines: {reason}")
