"""A lock across processes (every worker replica, a command run by hand), for work that
must not run twice at once. On PostgreSQL a session advisory lock (released when the
connection ends, so a killed process never leaves it held); on SQLite, which lives on one
machine, a file lock next to the system's temporary files (released by the kernel when the
process ends). The cache is no place for it: without RATHAUS_CACHE_URL it is per process."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


def _key(name: str) -> int:
    digest = hashlib.sha256(f"rathaus:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file(name: str) -> Path:
    database = str(connection.settings_dict["NAME"])
    digest = hashlib.sha256(database.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"rathaus-{digest}-{name}.lock"


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Hold the lock ``name`` for the ``with`` block if no other process (or connection)
    holds it; yields whether it was got. Never waits."""
    if connection.vendor == "postgresql":
        key = _key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                except DatabaseError:
                    # an aborted transaction: ending the session frees the lock
                    logger.warning(
                        "lock not released; closing the connection", extra={"lock": name}
                    )
                    connection.close()
        return
    with open(lock_file(name), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            got = False
        else:
            got = True
        try:
            yield got
        finally:
            if got:
                fcntl.flock(handle, fcntl.LOCK_UN)
