"""``rathaus ingest-mqtt``: observations from the MQTT broker of RATHAUS_MQTT_URL into the
database, in batches, until SIGTERM/SIGINT; then what it holds is written and acknowledged
before it disconnects (citydata.mqtt, docs/citydata.md)."""

from __future__ import annotations

import gc
import json
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.citydata.mqtt import MqttConfig, Stats, Subscriber, config_from_settings

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Command(BaseCommand):
    help = "Ingest SensorThings observations from the MQTT broker (RATHAUS_MQTT_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, help="stop after this many seconds")
        parser.add_argument(
            "--max-messages", type=int, help="stop once this many messages are handled"
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="stop when no message came for a second (what the broker held is ingested)",
        )
        parser.add_argument(
            "--progress", type=float, default=10.0, help="seconds between progress lines"
        )
        parser.add_argument(
            "--json", action="store_true", help="print the summary as one JSON line at the end"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = config_from_settings()
        if config is None:
            raise CommandError(
                "RATHAUS_MQTT_URL is not set (e.g. mqtt://user:password@127.0.0.1:1883): "
                "without a broker observations come in over HTTP only"
            )
        # a long-running process, like the web server (rathaus/wsgi.py): what is loaded by
        # now is not swept by the garbage collector again
        gc.freeze()
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _SIGNALS}
        try:
            self._run(config, stop, options)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(self, config: MqttConfig, stop: threading.Event, options: dict[str, Any]) -> None:
        subscriber = Subscriber(
            config, stop=stop, progress=self._progress, progress_seconds=options["progress"]
        )
        self.stdout.write(
            f"ingesting from {config.host}:{config.port} as {config.client_id}, topics "
            f"{', '.join(config.topics)} (Ctrl+C stops)"
        )
        started = time.monotonic()
        stats = subscriber.run(
            seconds=options["seconds"],
            max_messages=options["max_messages"],
            idle_seconds=1.0 if options["once"] else None,
        )
        took = time.monotonic() - started
        self.stdout.write(f"stopped after {took:.1f} s: {stats.summary()}")
        for reason, count in stats.reasons.most_common(10):
            self.stdout.write(f"  rejected {count}x: {reason}")
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "seconds": took,
                        "received": stats.received,
                        "written": stats.written,
                        "rejected": stats.rejected,
                        "duplicates": stats.duplicates,
                        "batches": stats.batches,
                        "retries": stats.retries,
                        "peak_queue": stats.peak_queue,
                    }
                )
            )

    def _progress(self, stats: Stats) -> None:
        self.stdout.write(
            f"written {stats.written}, rejected {stats.rejected}, batches {stats.batches}, "
            f"duplicates {stats.duplicates}, retries {stats.retries}"
        )
