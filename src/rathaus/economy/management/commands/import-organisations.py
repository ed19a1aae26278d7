"""``rathaus import-organisations FILE.csv``: shadow entries of the directory from CSV
(docs/economy.md lists the columns). Idempotent by register number, else by name key and
city; prints progress and a summary of created, updated, skipped and rejected rows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.accounts.models import User
from rathaus.economy.services.directory import (
    IMPORT_COLUMNS,
    ImportFileError,
    organisations_import,
)


class Command(BaseCommand):
    help = (
        "Import organisations (shadow entries: published, no members) from CSV. Columns: "
        + ", ".join(IMPORT_COLUMNS)
        + ". Only 'name' is required."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--actor", default="", help="e-mail address of the staff account to record"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email__iexact=options["actor"]).first()
            if actor is None:
                raise CommandError(f"no account with the address {options['actor']}")
        started = time.monotonic()
        self.stdout.write(f"importing {path} ...")
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                result = organisations_import(
                    actor=actor,
                    lines=handle,
                    progress=lambda n: self.stdout.write(f"  {n} rows read"),
                )
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{result.created} created, {result.updated} updated, "
            f"{len(result.skipped)} skipped, {len(result.rejected)} rejected "
            f"in {time.monotonic() - started:.1f} s"
        )
        for line, reason in result.skipped:
            self.stdout.write(f"  skipped line {line}: {reason}")
        for line, reason in result.rejected:
            self.stdout.write(f"  rejected line {line}: {reason}")
