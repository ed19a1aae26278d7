"""``rathaus add-fitconnect-destination --office ID --url URL --destination-id ID --key FILE``:
deliver the office's submissions to a FIT-Connect destination (the plugin), encrypted with the
destination's public key (a JWK file). Access: ``--token-url URL --client-id ID [--scope S]``
with the client secret in FITCONNECT_CLIENT_SECRET (FIT-Connect's OAuth client credentials),
or a fixed token in FITCONNECT_ACCESS_TOKEN. Secrets come from the environment, never from the
command line (which other users of the machine can see)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.accounts.models import Office
from rathaus.submissions.services import fitconnect_destination_create


class Command(BaseCommand):
    help = "Deliver an office's submissions to a FIT-Connect destination (JWE-encrypted)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--office", type=int, required=True)
        parser.add_argument("--url", required=True, help="the Submission API, e.g. https://...")
        parser.add_argument("--destination-id", required=True)
        parser.add_argument("--key", type=Path, required=True, help="the public key as JWK")
        parser.add_argument("--token-url", help="the OAuth token endpoint")
        parser.add_argument("--client-id", help="the sender's OAuth client id")
        parser.add_argument("--scope", default="", help="the OAuth scope, if one is needed")

    def handle(self, *args: Any, **options: Any) -> None:
        office = Office.objects.filter(pk=options["office"]).first()
        if office is None:
            raise CommandError(f"no office with id {options['office']}")
        oauth = None
        if options["client_id"] or options["token_url"]:
            secret = os.environ.get("FITCONNECT_CLIENT_SECRET", "")
            if not (options["client_id"] and options["token_url"] and secret):
                raise CommandError(
                    "OAuth needs --token-url, --client-id and FITCONNECT_CLIENT_SECRET"
                )
            oauth = {
                "token_url": options["token_url"],
                "client_id": options["client_id"],
                "client_secret": secret,
                "scope": options["scope"],
            }
        try:
            key = json.loads(options["key"].read_text(encoding="utf-8"))
            destination = fitconnect_destination_create(
                office=office,
                url=options["url"],
                destination_id=options["destination_id"],
                public_key=key,
                access_token=os.environ.get("FITCONNECT_ACCESS_TOKEN", ""),
                oauth=oauth,
                actor=None,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"FIT-Connect destination {destination.pk} for {office.name} added")
