"""``rathaus serve-demo``: the development server with the outbox worker in a thread."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from rathaus.core.outbox import start_inprocess_worker


class Command(BaseCommand):
    help = "Serve the demo city on one machine, outbox worker included."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        if "RATHAUS_SITE_URL" not in os.environ:
            # Links in e-mails point to where the demo actually runs.
            settings.SITE_URL = f"http://{options['host']}:{options['port']}"
        if settings.OUTBOX_INPROCESS_WORKER and not settings.CELERY_BROKER_URL:
            start_inprocess_worker()
            self.stdout.write("outbox worker: running in this process")
        self.stdout.write(
            f"Rathaus {settings.CITY_NAME}: http://{options['host']}:{options['port']}/"
        )
        call_command(
            "runserver",
            f"{options['host']}:{options['port']}",
            use_reloader=False,
            use_threading=True,
        )
