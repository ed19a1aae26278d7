"""``rathaus import-leika FILE``: the LeiKa service catalogue from CSV. Idempotent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.catalog.management.commands import import_leika_path
from rathaus.catalog.services import ImportFileError, leika_import

DEFAULT_FILE = import_leika_path()


class Command(BaseCommand):
    help = "Import LeiKa services from CSV; reports rejected rows with their line numbers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        started = time.monotonic()
        self.stdout.write(f"importing {path} ...")
        try:
            report = leika_import(
                path=path, progress=lambda n: self.stdout.write(f"  {n} rows read")
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{report.summary()} in {time.monotonic() - started:.1f} s")
        for line, reason in report.rejected:
            self.stdout.write(f"  rejected line {line}: {reason}")
