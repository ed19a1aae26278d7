"""Fixed-window rate limits for public endpoints, kept in Django's cache.

When the shared cache (Redis) cannot be reached, the limits are not applied (fail open, with
a warning in the log): a citizen's submission must not fail because the counter store is
away. Log-in throttling (django-axes) keeps its counts in the database and goes on."""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
_CACHE_DOWN = (RedisError, OSError)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/h"`` -> (5, 3600)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period]


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind RATHAUS_PROXY_COUNT trusted proxies the
    address the outermost of them saw (X-Forwarded-For, counted from the right, so a client
    cannot forge it by sending its own header)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def _counter(scope: str, key: str, rate: str) -> tuple[str, int, int]:
    """(cache key of the current window, limit, period in seconds)."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no personal data as cache key
    return f"rl:{scope}:{window}:{digest}", limit, period


def ratelimit_exceeded(*, scope: str, key: str, rate: str) -> bool:
    """Count one hit for ``key`` in ``scope``; True once the rate is exceeded."""
    cache_key, limit, period = _counter(scope, key, rate)
    try:
        cache.add(cache_key, 0, timeout=period + 5)
        try:
            hits = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=period + 5)
            hits = 1
    except _CACHE_DOWN as exc:
        logger.warning(
            "rate limit not applied: cache unreachable",
            extra={"scope": scope, "error_type": type(exc).__name__},
        )
        return False
    return hits > limit


def ratelimit_blocked(*, scope: str, key: str, rate: str) -> bool:
    """True when ``key`` has already used up ``rate`` in ``scope`` (counts nothing): for
    limits on failures, which are counted with ``ratelimit_exceeded`` only when they happen."""
    cache_key, limit, _period = _counter(scope, key, rate)
    try:
        return int(cache.get(cache_key) or 0) >= limit
    except _CACHE_DOWN as exc:
        logger.warning(
            "rate limit not applied: cache unreachable",
            extra={"scope": scope, "error_type": type(exc).__name__},
        )
        return False
