"""Celery application, used only when CELERY_BROKER_URL is set (see core.tasks)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
app = Celery("rathaus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
