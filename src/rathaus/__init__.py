"""Rathaus: the open-source platform of a city's digital department."""

# Celery's app is loaded with Django so that tasks use our settings (CELERY_* incl. *_FILE).
from rathaus.celery_app import app as celery_app

__all__ = ("celery_app",)
