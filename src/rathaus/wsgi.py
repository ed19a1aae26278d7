"""WSGI entry point for gunicorn: ``gunicorn rathaus.wsgi``."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
application = get_wsgi_application()
# What is loaded by now (Django, the apps, the URL map) lives as long as the process: the
# garbage collector need not look at it again. Its full sweeps over those objects took a
# tenth of a millisecond per request when taking submissions (docs/benchmarks.md §4).
gc.freeze()
