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
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.accounts.models import User
from rathaus.strategy.services.csv_io import FILE_LABELS, ImportResult, strategy_import


class Command(BaseCommand):
    help = (
        "Import strategy measures and KPI observations from CSV (measures.csv / "
        "observations.csv). Keyed by external id; idempotent; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--measures", type=Path, help="CSV file of measures")
        parser.add_argument("--observations", type=Path, help="CSV file of KPI observations")
        parser.add_argument(
            "--check", action="store_true", help="check the files only, save nothing"
        )
        parser.add_argument(
            "--actor", default="", help="e-mail address of the staff account to record"
        )

    def _read(self, path: Path | None) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from None

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measures"] is None and options["observations"] is None:
            raise CommandError("give --measures FILE, --observations FILE or both")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email__iexact=options["actor"]).first()
            if actor is None:
                raise CommandError(f"no account with the address {options['actor']}")
        if options["measures"] is not None and actor is None:
            raise CommandError(
                "give --actor EMAIL of a department staff account: measures are written in "
                "its name (audit log)"
            )
        started = time.monotonic()
        for name in ("measures", "observations"):
            if options[name] is not None:
                self.stdout.write(f"reading {options[name]} ({name}) ...")
        try:
            result = strategy_import(
                actor=actor,
                measures=self._read(options["measures"]),
                observations=self._read(options["observations"]),
                check_only=options["check"],
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except PermissionDenied:
            raise CommandError(f"{options['actor']} is not department staff") from None
        self._summary(result, time.monotonic() - started, options)
        if not result.ok:
            raise CommandError("nothing imported: the files have errors (listed above)")
        if options["check"]:
            self.stdout.write("checked only: nothing saved")
        else:
            self.stdout.write(self.style.SUCCESS("imported"))

    def _summary(self, result: ImportResult, seconds: float, options: dict[str, Any]) -> None:
        for error in result.file_errors:
            self.stderr.write(f"{FILE_LABELS[error.file]}: {error.message}")
        if result.file_errors:
            return
        for name, counts, changed in (
            ("measures", result.measures, "updated"),
            ("observations", result.observations, "corrected"),
        ):
            if options[name] is None:
                continue
            self.stdout.write(
                f"{name}: {counts.created} created, {counts.updated} {changed}, "
                f"{counts.unchanged} unchanged, {counts.rejected} rejected"
            )
        for row_error in result.errors:
            self.stderr.write(f"  {FILE_LABELS[row_error.file]}, {row_error}")
        for note in result.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(f"in {seconds:.1f} s")
