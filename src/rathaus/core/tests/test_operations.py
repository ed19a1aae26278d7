from __future__ import annotations

import json
import logging

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
