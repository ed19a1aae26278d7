"""When the shared cache (Redis) is away, rate limits are not applied rather than failing the
citizen's request; the log says so."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from rathaus.core.ratelimit import ratelimit_blocked, ratelimit_exceeded

UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


@override_settings(CACHES=UNREACHABLE)
def test_limits_fail_open_with_a_warning_when_the_cache_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caches.close_all()
    with caplog.at_level(logging.WARNING, logger="rathaus.core.ratelimit"):
        assert not ratelimit_exceeded(scope="submit", key="198.51.100.7", rate="1/h")
        assert not ratelimit_exceeded(scope="submit", key="198.51.100.7", rate="1/h")
        assert not ratelimit_blocked(scope="status", key="198.51.100.7", rate="1/h")
    assert caplog.text.count("rate limit not applied: cache unreachable") == 3


@pytest.mark.django_db
@override_settings(CACHES=UNREACHABLE, RATELIMIT_CITYDATA="1/m")
def test_a_rate_limited_public_page_still_answers_when_the_cache_is_away(client: Client) -> None:
    caches.close_all()
    assert client.get("/stadtdaten/").status_code == 200
    assert client.get("/stadtdaten/").status_code == 200  # not counted, not refused
