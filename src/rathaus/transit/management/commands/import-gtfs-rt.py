"""``rathaus import-gtfs-rt --feed SLUG [SOURCE]``: fetch a feed's GTFS-Realtime data once
(the worker polls every RATHAUS_TRANSIT_REALTIME_INTERVAL seconds); ``--save-url`` keeps
SOURCE as the feed's real-time source for the worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.transit.models import Feed
from rathaus.transit.realtime import RealtimeError
from rathaus.transit.services import realtime_refresh


class Command(BaseCommand):
    help = "Fetch GTFS-Realtime TripUpdates and ServiceAlerts for a feed (file or http(s) URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", default="", help="file or URL (default: saved)")
        parser.add_argument("--feed", required=True, help="the feed's short name")
        parser.add_argument(
            "--save-url", action="store_true", help="keep SOURCE as the feed's real-time source"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        feed = Feed.objects.filter(slug=options["feed"]).first()
        if feed is None:
            raise CommandError(f"no feed {options['feed']!r} / kein Feed {options['feed']!r}")
        source = options["source"] or feed.realtime_url
        if not source:
            raise CommandError("no source given or saved / keine Quelle angegeben oder gespeichert")
        if options["save_url"]:
            feed.realtime_url = source
            feed.save(update_fields=["realtime_url", "updated_at"])
        try:
            state = realtime_refresh(feed=feed, source=source)
        except RealtimeError as exc:
            raise CommandError(str(exc)) from None
        snapshot = state.snapshot
        self.stdout.write(
            f"feed {feed.slug}: {len(snapshot.get('trips', {}))} trip updates, "
            f"{len(snapshot.get('alerts', []))} alerts, {snapshot.get('skipped', 0)} skipped "
            f"(timestamp {state.feed_timestamp})"
        )
        for problem in snapshot.get("problems", []):
            self.stdout.write(f"  skipped: {problem}")
