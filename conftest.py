"""Shared fixtures: the personas of CONVENTIONS.md and the test database's audit flush."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rathaus.accounts.constants import MembershipRole, OfficeKind, Role


@pytest.fixture(autouse=True, scope="session")
def _audit_log_flushable() -> Iterator[None]:
    """Transactional tests empty every table afterwards; the audit log's triggers refuse
    that unless unlocked (core.services.audit_unlocked), so the flush runs unlocked."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from rathaus.core.services import audit_unlocked

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: Any) -> None:
        with audit_unlocked(using=self.connection.alias):
            original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate limits and log-in throttling live in the cache, answers kept for a few seconds
    in the process (core.recent): each test starts clean."""
    from django.core.cache import cache

    from rathaus.core.recent import forget_all

    cache.clear()
    forget_all()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limits count in fixed windows (core.ratelimit): a test's requests all fall in one,
    so that a limit is not reset by the clock crossing a minute while the test runs.
    Regression: test_pages_and_downloads_are_rate_limited_also_when_answered_304 failed once
    on a busy CI machine (304 where 429 was due)."""
    import time
    import types

    from rathaus.core import ratelimit

    now = time.time()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture(autouse=True)
def _temporary_media_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploads and generated files (the open-data catalogue's, seed-demo's) go to a folder
    of the test's own, never into the real RATHAUS_STORAGE_ROOT (var/media)."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Test accounts' passwords are hashed with a fast hasher: the production one takes most
    of a second per password on a small machine, and the personas alone hash eight."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def offices(db: None) -> dict[str, Any]:
    from rathaus.accounts.tests.factories import OfficeFactory

    city = OfficeFactory(name="Stadtverwaltung", kind=OfficeKind.ADMINISTRATION)
    ordnungsamt = OfficeFactory(name="Ordnungsamt", parent=city)
    standesamt = OfficeFactory(name="Standesamt", parent=city)
    unit = OfficeFactory(name="Bürgerbüro Mitte", kind=OfficeKind.UNIT, parent=ordnungsamt)
    return {"city": city, "ordnungsamt": ordnungsamt, "standesamt": standesamt, "unit": unit}


@pytest.fixture
def personas(offices: dict[str, Any]) -> dict[str, Any]:
    """A citizen, two caseworkers of different offices, an office lead, department staff,
    a jury member, an organisation member and an administrator."""
    from rathaus.accounts.tests.factories import UserFactory, member, with_role

    return {
        "citizen": UserFactory(email="citizen@example.org"),
        "caseworker": member(UserFactory(email="cw1@example.org"), offices["ordnungsamt"]),
        "caseworker_other": member(UserFactory(email="cw2@example.org"), offices["standesamt"]),
        "lead": member(
            UserFactory(email="lead@example.org"), offices["ordnungsamt"], MembershipRole.LEAD
        ),
        "department": with_role(UserFactory(email="dep@example.org"), Role.DEPARTMENT_STAFF),
        "jury": with_role(UserFactory(email="jury@example.org"), Role.JURY_MEMBER),
        "organisation": with_role(UserFactory(email="org@example.org"), Role.ORGANISATION_MEMBER),
        "admin": UserFactory(email="admin@example.org", is_staff=True, is_superuser=True),
    }
