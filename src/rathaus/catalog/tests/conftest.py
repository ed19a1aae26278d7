from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def leika_catalogue(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The full LeiKa catalogue (4,813 services), imported once per test session."""
    from rathaus.catalog.management.commands import import_leika_path
    from rathaus.catalog.models import Service
    from rathaus.catalog.services import leika_import

    with django_db_blocker.unblock():
        if Service.objects.count() < 4813:
            leika_import(path=import_leika_path())
    yield
