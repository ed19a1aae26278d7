"""``rathaus destinations``: where each office's submissions go (webhooks, FIT-Connect), with
their ids; ``rathaus destinations --off ID`` switches one off at once: it gets nothing more,
also nothing already queued for it (audited)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.core.constants import OutboxStatus
from rathaus.core.models import OutboxMessage
from rathaus.submissions.models import Destination
from rathaus.submissions.services import destination_switch_off


class Command(BaseCommand):
    help = "List the destinations of submissions; --off ID switches one off at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--off", type=int, metavar="ID", help="switch this destination off")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["off"] is not None:
            self._switch_off(options["off"])
            return
        destinations = Destination.objects.select_related("office").order_by("office__name", "pk")
        for destination in destinations:
            state = "on " if destination.active else "off"
            self.stdout.write(
                f"{destination.pk:>5}  {state}  {destination.kind:<10}  "
                f"{destination.office.name}  {destination.url}"
            )
        self.stdout.write(f"{destinations.count()} destination(s)")

    def _switch_off(self, destination_id: int) -> None:
        queued = OutboxMessage.objects.filter(
            topic__in=["submissions.webhook", "submissions.fitconnect"],
            payload__destination_id=destination_id,
            status__in=[OutboxStatus.PENDING, OutboxStatus.QUEUED, OutboxStatus.IN_PROGRESS],
        ).count()
        destination = destination_switch_off(destination_id=destination_id, actor=None)
        if destination is None:
            raise CommandError(
                f"no destination with id {destination_id} (see: rathaus destinations)"
            )
        self.stdout.write(
            f"destination {destination.pk} ({destination.kind}, {destination.url}) is off; "
            f"{queued} queued hand-over(s) to it will not be sent"
        )
