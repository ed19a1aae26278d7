"""Schemathesis against /api/v1/openapi.json: for generated valid and invalid requests, the API
never answers 5xx and never breaks its own documented schema. Grows with the API."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from rathaus.wsgi import application

# pytest-django has set Django up before this module is collected; reading the document
# touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# A NUL character is refused in every request, before any view (core.middleware, 400: no text
# column can store it); OpenAPI cannot say that per parameter, so it is not generated as "valid".
schema.config.generation.update(allow_x00=False)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_every_request_without_5xx_and_as_documented(case: Any) -> None:
    case.call_and_validate()


@pytest.fixture(autouse=True)
def _keep_the_test_transaction_open() -> Any:
    """Schemathesis calls the WSGI app directly, which closes database connections at the end
    of each request; Django's own test client switches that off the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
