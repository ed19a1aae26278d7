"""``rathaus import-air-quality``: the Saxon air-quality stations and readings of 2014 (the demo
city's sensor data, from ../shared/data/sensors/, copied into citydata/data/)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from rathaus.citydata.services import air_quality_load


class Command(BaseCommand):
    help = "Load the Saxon air-quality stations and their hourly readings (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        self.stdout.write("loading air-quality stations and readings ...")
        report = air_quality_load()
        self.stdout.write(f"{report.summary()} in {time.monotonic() - started:.1f} s")
        for reason in report.rejected[:10]:
            self.stdout.write(f"  rejected: {reason}")
