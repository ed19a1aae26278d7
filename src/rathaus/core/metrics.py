"""Prometheus metrics: request counts, latency histogram and the outbox backlog.

A node with several gunicorn workers sets ``PROMETHEUS_MULTIPROC_DIR`` (an empty local
directory per node, made empty at each start): every worker then writes its counts there
and ``/metrics``, whichever worker answers, reports the sum of all of them."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "rathaus_http_requests_total",
    "HTTP requests by method, route and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "rathaus_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
OUTBOX_DELIVERIES = Counter(
    "rathaus_outbox_deliveries_total",
    "Outbox delivery attempts by topic and outcome.",
    ["topic", "outcome"],
    registry=REGISTRY,
)


class OutboxBacklogCollector(Collector):
    """Reads the backlog from the database at scrape time, so every node reports the truth."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Without this, registering would query the database at import time.
        yield GaugeMetricFamily(
            "rathaus_outbox_messages", "Outbox messages by status.", labels=["status"]
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from rathaus.core.selectors import outbox_backlog

        gauge = GaugeMetricFamily(
            "rathaus_outbox_messages", "Outbox messages by status.", labels=["status"]
        )
        for status, count in outbox_backlog().items():
            gauge.add_metric([status], count)
        yield gauge


REGISTRY.register(OutboxBacklogCollector())


def scrape_registry() -> CollectorRegistry:
    """What ``/metrics`` reports: this process's registry, or with PROMETHEUS_MULTIPROC_DIR
    the counts of every worker process of the node, and the backlog."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(OutboxBacklogCollector())
    return registry
