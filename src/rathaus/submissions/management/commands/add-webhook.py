"""``rathaus add-webhook --office ID URL``: announce each new submission of the office to URL,
signed with HMAC-SHA256 (core.webhooks). The shared secret is printed once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator

from rathaus.accounts.models import Office
from rathaus.submissions.services import webhook_destination_create


class Command(BaseCommand):
    help = "Add a signed webhook for an office's new submissions (secret printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--office", type=int, required=True, help="the office's id")
        parser.add_argument("url")

    def handle(self, *args: Any, **options: Any) -> None:
        office = Office.objects.filter(pk=options["office"]).first()
        if office is None:
            raise CommandError(f"no office with id {options['office']}")
        try:
            URLValidator(schemes=["http", "https"])(options["url"])
        except ValidationError:
            raise CommandError(f"not an http(s) address: {options['url']}") from None
        _destination, secret = webhook_destination_create(
            office=office, url=options["url"], actor=None
        )
        self.stdout.write(f"webhook for {office.name}: {options['url']}")
        self.stdout.write(f"secret (shown only now): {secret}")
