"""Celery application, used only when CELERY_BROKER_URL is set (see core.tasks).

Beat's schedule is made here from the outbox's periodic jobs (core.outbox.periodic), so
that a job registered in an app's ``ready`` runs under beat exactly as under ``rathaus
worker``. The scheduler (RedBeat, settings) keeps it in Redis under a lock."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
app = Celery("rathaus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The outbox hand-over every RATHAUS_OUTBOX_DISPATCH_SECONDS, and each periodic job at
    its interval. A run not started within its interval is dropped (``expires``): the next
    one does the same work."""
    import django

    django.setup()
    from django.conf import settings

    from rathaus.core.outbox import PERIODIC, job_name

    every = settings.OUTBOX_DISPATCH_SECONDS
    schedule: dict[str, dict[str, Any]] = {
        "outbox-dispatch": {
            "task": "rathaus.core.tasks.outbox_dispatch",
            "schedule": every,
            "options": {"expires": max(every * 5, 5.0)},
        }
    }
    for seconds, job in PERIODIC:
        name = job_name(job)
        schedule[name] = {
            "task": "rathaus.core.tasks.periodic_job",
            "schedule": float(seconds),
            "args": (name, float(seconds)),
            "options": {"expires": float(seconds)},
        }
    return schedule


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: Any) -> None:
    from django.apps import apps

    if not apps.ready:  # finalised while Django loads its apps: not beat, which needs no more
        return
    sender.conf.beat_schedule = beat_schedule()
