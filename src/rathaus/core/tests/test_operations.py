from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from rathaus.core.constants import OutboxStatus
from rathaus.core.logs import JsonFormatter, RequestIdFilter
from rathaus.core.services import outbox_message_create

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_the_database_answers(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    def broken_cursor(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_metrics_count_requests_by_route_and_show_the_outbox_backlog(client: Client) -> None:
    outbox_message_create(topic="webhook.post", payload={"url": "http://127.0.0.1:9/"})
    client.get("/")
    client.get("/")
    body = client.get("/metrics").content.decode()
    assert 'rathaus_outbox_messages{status="pending"} 1.0' in body
    assert 'rathaus_outbox_messages{status="dead"} 0.0' in body
    home_count = [
        line
        for line in body.splitlines()
        if line.startswith("rathaus_http_requests_total{")
        and 'method="GET"' in line
        and 'route="unnamed"' not in line
        and 'status="200"' in line
    ]
    assert home_count, body
    assert "rathaus_http_request_duration_seconds_bucket" in body


@override_settings(PROXY_COUNT=1)
def test_request_id_from_the_proxy_is_kept_when_sane(client: Client) -> None:
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-proxy")
    assert given["X-Request-ID"] == "abc12345-proxy"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert hostile["X-Request-ID"] != "<script>alert(1)</script>"


def test_request_id_is_made_here_when_no_proxy_is_trusted(client: Client) -> None:
    made = client.get("/healthz", HTTP_X_REQUEST_ID="chosen-by-client")
    assert made["X-Request-ID"] != "chosen-by-client"
    assert len(made["X-Request-ID"]) == 32


def test_access_log_is_json_with_request_id_and_without_query_or_personal_data(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rathaus.access")
    caplog.handler.addFilter(RequestIdFilter())  # as our log handler does, inside the request
    response = client.get("/api/v1/offices?q=max.mustermann@example.org")
    records = [r for r in caplog.records if r.name == "rathaus.access"]
    assert records
    line = JsonFormatter().format(records[-1])
    entry = json.loads(line)
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["route"] == "api/v1/offices"
    assert entry["status"] == 200
    assert "mustermann" not in line
    assert entry["level"] == "INFO"


def test_outbox_backlog_counts_each_status(client: Client) -> None:
    from rathaus.core.selectors import outbox_backlog

    message = outbox_message_create(topic="webhook.post", payload={})
    type(message).objects.filter(pk=message.pk).update(status=OutboxStatus.DEAD)
    assert outbox_backlog()["dead"] == 1
    assert outbox_backlog()["pending"] == 0


REQUEST_ONCE = """
import django
django.setup()
from django.test import Client
print(Client().get("/healthz").status_code)
"""

SCRAPE = """
import django
django.setup()
from django.test import Client
print(Client().get("/metrics").content.decode())
"""


@pytest.mark.django_db(transaction=True)
def test_metrics_of_a_node_sum_up_all_its_worker_processes(tmp_path: Path) -> None:
    """Two worker processes each answer one request; /metrics, answered by a third, counts
    both (PROMETHEUS_MULTIPROC_DIR), as it does for gunicorn's workers on one node."""
    from rathaus.core.tests.test_outbox import _database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "DATABASE_URL": _database_url(),
        "RATHAUS_VAR_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    (tmp_path / "metrics").mkdir()
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", REQUEST_ONCE], env=env, capture_output=True, text=True
        )
        assert done.stdout.strip().endswith("200"), done.stderr[-2000:]
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, capture_output=True, text=True, check=True
    ).stdout
    line = next(
        row
        for row in scraped.splitlines()
        if row.startswith("rathaus_http_requests_total{") and 'route="healthz"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) == 2.0
    assert "rathaus_outbox_messages" in scraped  # the backlog is still there
