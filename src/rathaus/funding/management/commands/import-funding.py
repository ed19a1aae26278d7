"""``rathaus import-funding [--programmes FILE] [--calls FILE]``: programmes and calls of the
funding register from CSV (the columns and notation: services/csv_io.py; the files of the
register's CSV export are valid input). All or nothing: prints progress, the rows created,
updated, unchanged and rejected, every rejected row with its line, column and reason, and
exits with status 1 if anything was rejected (then nothing is saved)."""

from __future__ import annotations

import time
from typing import Any

from rathaus.core.csvimport import ImportCommand
from rathaus.funding.services.csv_io import FILE_LABELS, register_import


class Command(ImportCommand):
    help = (
        "Import funding programmes and calls from CSV (programme.csv / aufrufe.csv of the "
        "register's export). Keyed by programme code and call identifier; idempotent; all or "
        "nothing."
    )
    files = {"programmes": "CSV file of programmes", "calls": "CSV file of calls"}

    def handle(self, *args: Any, **options: Any) -> None:
        contents = self.read_files(options)
        actor = self.actor(options)
        started = time.monotonic()
        result = register_import(
            actor=actor,
            programmes=contents["programmes"],
            calls=contents["calls"],
            check_only=options["check"],
            progress=self.progress,
        )
        self.finish(result, started=started, options=options, labels=FILE_LABELS)
