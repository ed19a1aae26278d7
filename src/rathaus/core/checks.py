"""System checks of the scale-out settings (``rathaus check``, and at every start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def several_nodes_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Settings that would break only once a second node or beat runs: say so at start."""
    found: list[checks.CheckMessage] = []
    if settings.CELERY_BROKER_URL and not settings.CELERY_REDBEAT_REDIS_URL.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        found.append(
            checks.Error(
                "Celery beat keeps its schedule and lock in Redis, and none is configured.",
                hint="Set RATHAUS_BEAT_REDIS_URL (or a Redis CELERY_BROKER_URL or "
                "RATHAUS_CACHE_URL); see docs/configuration.md.",
                id="core.E001",
            )
        )
    if settings.CELERY_BROKER_URL and not settings.CACHE_URL:
        found.append(
            checks.Warning(
                "With Celery, several processes run but RATHAUS_CACHE_URL is unset: each "
                "process counts rate limits and keeps periodic-job locks on its own.",
                hint="Set RATHAUS_CACHE_URL to a Redis URL shared by every node.",
                id="core.W001",
            )
        )
    if settings.DB_POOL_MAX > 0 and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        found.append(
            checks.Warning(
                "RATHAUS_DB_POOL_MAX is set, but SQLite has no connection pool: ignored.",
                id="core.W002",
            )
        )
    several = bool(settings.CELERY_BROKER_URL) or settings.STORAGE_BACKEND == "s3"
    if several and settings.SECRET_KEY_GENERATED:
        found.append(
            checks.Warning(
                "RATHAUS_SECRET_KEY is unset: this node made its own key. With several nodes, "
                "sessions break between them and data encrypted on one (RATHAUS_DATA_KEYS "
                "falls back to the secret key) cannot be read on another.",
                hint="Set RATHAUS_SECRET_KEY and RATHAUS_DATA_KEYS to the same values on "
                "every node and worker (docs/operations.md).",
                id="core.W003",
            )
        )
    return found
