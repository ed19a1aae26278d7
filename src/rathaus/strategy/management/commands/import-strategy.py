"""``rathaus import-strategy [--measures FILE] [--observations FILE] [--check] [--actor
EMAIL]``: measures and KPI observations from the department's spreadsheets (the columns and
notation:
strategy/services/csv_io.py). Keyed by external id, idempotent, all or nothing: prints
progress, the rows created, updated, unchanged and rejected, every rejected row with its line,
column and reason, and exits with status 1 if anything was rejected (then nothing is saved).
Measures are written in the name of a department staff account (``--actor``, required with
``--measures``: the services' rules and the audit log name who changed a measure)."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from rathaus.core.csvimport import ImportCommand
from rathaus.strategy.services.csv_io import FILE_LABELS, strategy_import


class Command(ImportCommand):
    help = (
        "Import strategy measures and KPI observations from CSV (measures.csv / "
        "observations.csv). Keyed by external id; idempotent; all or nothing."
    )
    files = {
        "measures": "CSV file of measures",
        "observations": "CSV file of KPI observations",
    }
    changed_words = {"observations": "corrected"}

    def handle(self, *args: Any, **options: Any) -> None:
        contents = self.read_files(options)
        actor = self.actor(options)
        if options["measures"] is not None and actor is None:
            raise CommandError(
                "give --actor EMAIL of a department staff account: measures are written in "
                "its name (audit log)"
            )
        started = time.monotonic()
        try:
            result = strategy_import(
                actor=actor,
                measures=contents["measures"],
                observations=contents["observations"],
                check_only=options["check"],
                progress=self.progress,
            )
        except PermissionDenied:
            raise CommandError(f"{options['actor']} is not department staff") from None
        self.finish(result, started=started, options=options, labels=FILE_LABELS)
