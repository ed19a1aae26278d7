"""``rathaus create-api-token --office ID --name NAME [--scope S ...]``: a pull-API token for an
office's own software. The token is printed once; only its SHA-256 is kept."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.accounts.models import Office
from rathaus.submissions.services import SCOPES, api_token_create


class Command(BaseCommand):
    help = "Make a pull-API token for an office (printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--office", type=int, required=True, help="the office's id")
        parser.add_argument("--name", required=True, help="what uses it, e.g. 'Fachverfahren'")
        parser.add_argument(
            "--scope", action="append", choices=SCOPES, help="repeat for several (default: all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        office = Office.objects.filter(pk=options["office"]).first()
        if office is None:
            raise CommandError(f"no office with id {options['office']}")
        record, token = api_token_create(
            office=office, name=options["name"], scopes=options["scope"] or list(SCOPES), actor=None
        )
        self.stdout.write(f"token for {office.name} ({', '.join(record.scopes)}):")
        self.stdout.write(token)
        self.stdout.write("It is shown only now. Send it as 'Authorization: Bearer <token>'.")
