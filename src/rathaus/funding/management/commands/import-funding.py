"""``rathaus import-funding [--programmes FILE] [--calls FILE]``: programmes and calls of the
funding register from CSV (the columns and notation: services/csv_io.py; the files of the
register's CSV export are valid input). All or nothing: prints progress, the rows created,
updated, unchanged and rejected, every rejected row with its line, column and reason, and
exits with status 1 if anything was rejected (then nothing is saved)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.accounts.models import User
from rathaus.funding.services.csv_io import FILE_LABELS, ImportResult, register_import


class Command(BaseCommand):
    help = (
        "Import funding programmes and calls from CSV (programme.csv / aufrufe.csv of the "
        "register's export). Keyed by programme code and call identifier; idempotent; all or "
        "nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--programmes", type=Path, help="CSV file of programmes")
        parser.add_argument("--calls", type=Path, help="CSV file of calls")
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
        if options["programmes"] is None and options["calls"] is None:
            raise CommandError("give --programmes FILE, --calls FILE or both")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email__iexact=options["actor"]).first()
            if actor is None:
                raise CommandError(f"no account with the address {options['actor']}")
        started = time.monotonic()
        for name in ("programmes", "calls"):
            if options[name] is not None:
                self.stdout.write(f"reading {options[name]} ({name}) ...")
        result = register_import(
            actor=actor,
            programmes=self._read(options["programmes"]),
            calls=self._read(options["calls"]),
            check_only=options["check"],
            progress=lambda message: self.stdout.write(f"  {message}"),
        )
        self._summary(result, time.monotonic() - started)
        if not result.ok:
            raise CommandError("nothing imported: the files have errors (listed above)")
        if options["check"]:
            self.stdout.write("checked only: nothing saved")
        else:
            self.stdout.write(self.style.SUCCESS("imported"))

    def _summary(self, result: ImportResult, seconds: float) -> None:
        for error in result.file_errors:
            self.stderr.write(f"{FILE_LABELS[error.file]}: {error.message}")
        if result.file_errors:
            return
        for name, counts in (("programmes", result.programmes), ("calls", result.calls)):
            self.stdout.write(
                f"{name}: {counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged, {counts.rejected} rejected"
            )
        for row_error in result.errors:
            self.stderr.write(f"  {FILE_LABELS[row_error.file]}, {row_error}")
        for note in result.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(f"in {seconds:.1f} s")
