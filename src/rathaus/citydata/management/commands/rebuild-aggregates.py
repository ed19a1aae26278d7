"""``rathaus rebuild-aggregates``: the hourly and daily aggregates of every datastream (or of
those named) recomputed from their observations, e.g. after observations were loaded by hand
into the database. Ingestion keeps them current by itself."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from rathaus.citydata.aggregates import aggregates_rebuild
from rathaus.citydata.models import Datastream


class Command(BaseCommand):
    help = "Recompute the hourly and daily aggregates of datastreams from their observations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="datastream ids (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        streams = Datastream.objects.order_by("pk")
        if options["ids"]:
            streams = streams.filter(pk__in=options["ids"])
        missing = set(options["ids"]) - set(streams.values_list("pk", flat=True))
        total = streams.count()
        buckets = 0
        for done, stream_id in enumerate(streams.values_list("pk", flat=True).iterator(), 1):
            with transaction.atomic():
                buckets += aggregates_rebuild(datastream_id=stream_id)
            if done % 10 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} datastreams, {buckets} buckets")
        self.stdout.write(
            f"aggregates: {total} datastreams rebuilt ({buckets} buckets), "
            f"{len(missing)} ids not found{': ' + ', '.join(map(str, sorted(missing))) if missing else ''}"
            f", in {time.monotonic() - started:.1f} s"
        )
