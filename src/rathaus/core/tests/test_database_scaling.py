"""The database side of several app nodes: a connection pool per process, and a read
replica that only the marked read-only selectors use (core.dbrouter)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, connections

from rathaus.catalog.models import Service
from rathaus.core.dbrouter import REPLICA, ReplicaRouter, reading_from_replica
from rathaus.core.tests.test_outbox import _database_url
from rathaus.core.tests.test_settings import _settings

PG_URL = "postgres://rathaus@db.internal:5432/rathaus"


def test_a_pool_per_process_replaces_persistent_connections(tmp_path: Path) -> None:
    pooled = _settings(tmp_path, DATABASE_URL=PG_URL, RATHAUS_DB_POOL_MAX="8")["DATABASES"]
    default = pooled["default"]
    assert default["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 10}
    assert default["CONN_HEALTH_CHECKS"] is True  # dead pooled connections are dropped
    assert default["CONN_MAX_AGE"] == 0  # Django refuses a pool beside persistent connections
    plain = _settings(tmp_path, DATABASE_URL=PG_URL)["DATABASES"]["default"]
    assert "pool" not in plain["OPTIONS"] and plain["CONN_MAX_AGE"] == 60
    # SQLite has no pool: the setting is ignored on a single machine.
    sqlite = _settings(tmp_path, RATHAUS_DB_POOL_MAX="8")["DATABASES"]["default"]
    assert "pool" not in sqlite["OPTIONS"]


def test_a_replica_is_a_second_alias_mirrored_in_tests(tmp_path: Path) -> None:
    databases = _settings(
        tmp_path,
        DATABASE_URL=PG_URL,
        DATABASE_REPLICA_URL="postgres://rathaus_ro@replica.internal:5432/rathaus",
        RATHAUS_DB_POOL_MAX="4",
    )["DATABASES"]
    replica = databases[REPLICA]
    assert replica["HOST"] == "replica.internal" and replica["USER"] == "rathaus_ro"
    assert replica["OPTIONS"]["pool"]["max_size"] == 4  # the same pool and options
    assert replica["TEST"]["MIRROR"] == "default"
    assert REPLICA not in _settings(tmp_path, DATABASE_URL=PG_URL)["DATABASES"]


def test_the_router_sends_only_marked_reads_to_the_replica(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = ReplicaRouter()
    monkeypatch.setattr("rathaus.core.dbrouter.replica_configured", lambda: True)
    assert router.db_for_read(Service) is None  # not marked: the primary
    with reading_from_replica():
        assert router.db_for_read(Service) == REPLICA
        assert router.db_for_write(Service) == "default"
    assert router.allow_migrate(REPLICA, "catalog") is False
    assert router.allow_migrate("default", "catalog") is True


def test_without_a_replica_marked_reads_use_the_primary() -> None:
    with reading_from_replica():
        assert ReplicaRouter().db_for_read(Service) is None


def _run_django(script: str, tmp_path: Path, **env: str) -> Any:
    """Run ``script`` in a fresh Python process with Django set up on the test database and
    ``env``; the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "rathaus.settings",
            "DATABASE_URL": _database_url(),
            "RATHAUS_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


READ_BOTH = """
import json, django
django.setup()
from rathaus.catalog.models import Service
from rathaus.catalog.selectors import catalogue_export
from rathaus.core.dbrouter import reading_from_replica
marked = sorted(s["name"] for s in catalogue_export()["services"] if s["name"].startswith("Replik"))
plain = sorted(Service.objects.filter(name__startswith="Replik").values_list("name", flat=True))
with reading_from_replica():
    Service.objects.filter(name="Replikat-Test A").update(name="Replikat-Test A2")
print(json.dumps({"marked": marked, "plain": plain}))
"""


@pytest.fixture
def replica_copy(tmp_path: Path) -> Iterator[str]:
    """A copy of the test database as it is now, standing in for a replica that lags."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(FULL)")
        copy = tmp_path / "replica.sqlite3"
        shutil.copyfile(connection.settings_dict["NAME"], copy)
        yield f"sqlite:///{copy}"
        return
    name = connection.settings_dict["NAME"]
    replica = f"{name}_replica_{uuid.uuid4().hex[:6]}"
    connections.close_all()  # a template database must have no other sessions
    admin_url = _database_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(
        admin_url.replace("postgres://", "postgresql://", 1), autocommit=True
    ) as db:
        db.execute(f'CREATE DATABASE "{replica}" TEMPLATE "{name}"')
    try:
        yield _database_url().rsplit("/", 1)[0] + f"/{replica}"
    finally:
        with psycopg.connect(
            admin_url.replace("postgres://", "postgresql://", 1), autocommit=True
        ) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{replica}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_marked_selectors_read_from_the_replica_and_writes_go_to_the_primary(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    Service.objects.create(leika_key="99999999000001", name="Replikat-Test A")
    replica_url = request.getfixturevalue("replica_copy")
    Service.objects.create(leika_key="99999999000002", name="Replikat-Test B")  # not yet there
    found = _run_django(READ_BOTH, tmp_path, DATABASE_REPLICA_URL=replica_url)
    assert found["marked"] == ["Replikat-Test A"]  # the catalogue export: from the replica
    assert found["plain"] == ["Replikat-Test A", "Replikat-Test B"]  # everything else: primary
    assert Service.objects.filter(name="Replikat-Test A2").exists()  # the write: primary


POOLED = """
import json, threading, django
django.setup()
from django.db import connection, connections
pids, errors = [], []
def work():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.2)")
            pids.append(cursor.fetchone()[0])
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()
threads = [threading.Thread(target=work) for _ in range(6)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"pids": pids, "errors": errors}))
"""


@pytest.mark.django_db(transaction=True)
def test_six_threads_share_a_pool_of_two_connections(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's (the PostgreSQL tier runs this)")
    found = _run_django(POOLED, tmp_path, RATHAUS_DB_POOL_MAX="2")
    assert found["errors"] == []
    assert len(found["pids"]) == 6  # every thread got its query done ...
    assert len(set(found["pids"])) <= 2  # ... on at most two server connections


def test_start_up_checks_name_settings_that_break_with_several_nodes(settings: object) -> None:
    from rathaus.core.checks import several_nodes_settings

    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"  # type: ignore[attr-defined]
    settings.CELERY_REDBEAT_REDIS_URL = ""  # type: ignore[attr-defined]
    settings.CACHE_URL = None  # type: ignore[attr-defined]
    settings.SECRET_KEY_GENERATED = False  # type: ignore[attr-defined]
    assert {m.id for m in several_nodes_settings()} == {"core.E001", "core.W001"}
    settings.CELERY_REDBEAT_REDIS_URL = "redis://127.0.0.1:6379/2"  # type: ignore[attr-defined]
    settings.CACHE_URL = "redis://127.0.0.1:6379/1"  # type: ignore[attr-defined]
    assert several_nodes_settings() == []
    settings.SECRET_KEY_GENERATED = True  # type: ignore[attr-defined]
    assert [m.id for m in several_nodes_settings()] == ["core.W003"]
