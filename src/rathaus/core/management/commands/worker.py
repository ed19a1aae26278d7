"""``rathaus worker``: delivers outbox messages and runs the periodic jobs, without Celery.
With CELERY_BROKER_URL set, Celery beat and workers do that instead, and this command says
so and stops. Stops cleanly on SIGTERM/SIGINT after the current batch."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.core.outbox import new_worker_id, run_worker


class Command(BaseCommand):
    help = "Deliver outbox messages: at least once, with retries and a dead-letter state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one batch, then exit")
        parser.add_argument("--batch", type=int, default=10, help="messages claimed per round")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between empty rounds")
        parser.add_argument("--worker-id", default="", help="name shown as lease owner")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is set: Celery delivers the outbox. Run "
                "`celery -A rathaus.celery_app worker` and `celery -A rathaus.celery_app beat` "
                "instead (docs/operations.md), or unset CELERY_BROKER_URL."
            )
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker_id = options["worker_id"] or new_worker_id()
        self.stdout.write(f"outbox worker {worker_id} running (Ctrl+C stops)")
        run_worker(
            worker_id=worker_id,
            poll_seconds=options["poll"],
            batch=options["batch"],
            stop=stop,
            once=options["once"],
        )
