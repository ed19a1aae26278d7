"""``rathaus openapi --write|--check``: the committed OpenAPI document and its drift check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

OPENAPI_FILE = settings.PROJECT_DIR / "docs" / "api" / "openapi.json"


def current_document() -> str:
    from rathaus.api import api

    # The round trip turns integer status codes into the strings JSON keys are.
    schema = json.loads(json.dumps(api.get_openapi_schema()))
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI document to docs/api/openapi.json, or check it is up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--write", action="store_true")
        group.add_argument("--check", action="store_true")
        parser.add_argument("--file", type=Path, default=OPENAPI_FILE)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        document = current_document()
        if options["write"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document)
            self.stdout.write(f"wrote {path}")
            return
        if not path.exists() or path.read_text() != document:
            raise CommandError(
                f"{path} is out of date with the API: run `make openapi` and commit the result"
            )
        self.stdout.write(f"OpenAPI document up to date ({path})")
