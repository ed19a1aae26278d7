"""``rathaus create-sensor-token NAME``: a token for a sensor operator's software to write
observations to the SensorThings API (printed once; only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rathaus.citydata.ingest import write_token_create


class Command(BaseCommand):
    help = "Create a write token for /api/sta/v1.1/ (Authorization: Bearer ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "name", help="whose software uses it, e.g. 'Stadtwerke Verkehrszählung'"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        record, token = write_token_create(name=options["name"], actor=None)
        self.stdout.write(f"token for {record.name} (shown once, keep it safe):\n{token}")
