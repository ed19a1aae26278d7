"""``rathaus import-fim FILE``: a FIM XDatenfelder Stammdatenschema into a form's draft."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.forms.fim import FimImportError
from rathaus.forms.services import form_import_fim


class Command(BaseCommand):
    help = (
        "Import a FIM XDatenfelder 2.0 or 3.0.0 Stammdatenschema (genericode code lists beside "
        "it) as a draft."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--slug", default="", help="the form's short name (default: from the name)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            version, report = form_import_fim(path=options["file"], slug=options["slug"])
        except FimImportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{report.schema_id} V{report.version} {report.name!r} -> form {version.form.slug!r}, "
            f"draft version {version.number}: {report.fields} fields, {report.groups} groups, "
            f"{report.steps} steps, {report.codelists} code lists, {len(report.unmapped)} not mapped "
            f"in {time.monotonic() - started:.2f} s"
        )
        for fim_id, reason in report.unmapped:
            self.stdout.write(f"  not mapped {fim_id}: {reason}")
