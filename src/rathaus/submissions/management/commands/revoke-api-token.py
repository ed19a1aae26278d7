"""``rathaus revoke-api-token PREFIX``: a pull-API token stops working at once (its first ten
characters, e.g. ``rh_AbCdEfG``, identify it; `create-api-token` printed the whole token)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.submissions.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke a pull-API token by its first ten characters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = options["prefix"][:10]
        if len(prefix) < 10:
            raise CommandError("give the token's first ten characters (rh_ and seven more)")
        revoked = api_token_revoke(prefix=prefix, actor=None)
        if not revoked:
            raise CommandError(f"no live token starts with {prefix}")
        self.stdout.write(f"{revoked} token(s) revoked")
