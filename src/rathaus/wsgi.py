"""WSGI entry point for gunicorn: ``gunicorn rathaus.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
application = get_wsgi_application()
