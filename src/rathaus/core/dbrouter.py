"""Reads of marked read-only selectors go to a read replica when one is configured.

``DATABASE_REPLICA_URL`` adds the alias ``replica``. Only code inside ``replica_reads`` (a
decorator and a context manager) reads from it: public pages whose data may lag the primary
by a moment (catalogue, open data, published dashboards). Everything else, every write and
everything inside a transaction on the primary, uses ``default``: a citizen who has just
submitted sees the submission on the status page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_on_replica: ContextVar[bool] = ContextVar("rathaus_replica_reads", default=False)

P = ParamSpec("P")
R = TypeVar("R")


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reading_from_replica() -> Iterator[None]:
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def replica_reads(func: Callable[P, R]) -> Callable[P, R]:
    """Mark a read-only selector: its queries may run on the replica."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reading_from_replica():
            return func(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Django database router: the replica for marked reads outside a write transaction."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not _on_replica.get() or not replica_configured():
            return None
        if connections["default"].in_atomic_block:
            return None  # read-your-writes inside a transaction on the primary
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of the same database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"
