"""One new row and the rows that hang on it, written in as few round trips as the database
allows: on PostgreSQL one statement (data-modifying CTEs), elsewhere one INSERT per row in
one transaction.

For hot paths only (taking a submission): the ORM's ``create()`` builds and compiles a query
per row and PostgreSQL answers each statement separately, which made a submission cost four
times a bare insert. Values are prepared by the model fields themselves
(``pre_save``/``get_db_prep_save``), so defaults, ``auto_now`` and JSON behave as with
``save()``; what this skips are ``save()`` overrides and model signals (assert that a model
has none before passing it here).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin


class _ParentId:
    def __repr__(self) -> str:
        return "PARENT_ID"


# As a child's field value: the primary key the parent row gets (a foreign key, or a text
# field that records it, such as an audit entry's object id).
PARENT_ID: Any = _ParentId()


@cache
def _columns(
    model: type[Model], vendor: str
) -> tuple[str, list[tuple[Field[Any, Any], str, bool]]]:
    """A model's table and its columns to write, each with its quoted name and whether it
    holds text; worked out once per model."""
    qn = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = [
        (
            field,
            qn(field.column),
            field.get_internal_type() in {"CharField", "TextField"},
        )
        for field in model._meta.local_concrete_fields
    ]
    return qn(model._meta.db_table), fields


class _Slot:
    """Where the parent's key goes in a child's parameters, once it is known."""

    def __init__(self, field: Field[Any, Any], text: bool) -> None:
        self.field, self.text = field, text

    def fill(self, pk: int, db: BaseDatabaseWrapper) -> Any:
        return self.field.get_db_prep_save(str(pk) if self.text else pk, connection=db)


def _insert_sql(
    db: BaseDatabaseWrapper, obj: Model, parent: str | None, tail: str = ""
) -> tuple[str, list[Any]]:
    """``INSERT INTO t (cols) SELECT ... <tail>`` with the values the model's fields prepare
    (defaults, ``auto_now``, JSON as ``save()`` has them); PARENT_ID becomes ``parent``, SQL
    that gives the parent's key, or (None) a parameter filled in later (``_Slot``)."""
    table, fields = _columns(type(obj), db.vendor)
    columns: list[str] = []
    marks: list[str] = []
    params: list[Any] = []
    for field, column, text in fields:
        value = getattr(obj, field.attname)
        if value is None and field.primary_key and isinstance(field, AutoFieldMixin):
            continue  # the database numbers it
        columns.append(column)
        if value is PARENT_ID and parent is not None:
            marks.append(f"CAST({parent} AS varchar)" if text else parent)
            continue
        if value is PARENT_ID:
            marks.append("%s")
            params.append(_Slot(field, text))
            continue
        prepared = field.get_db_prep_save(field.pre_save(obj, add=True), connection=db)
        if prepared is None:  # one value less to send
            marks.append("NULL")
        else:
            marks.append("%s")
            params.append(prepared)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(marks)} {tail}"  # noqa: S608
    return sql, params


def _binding_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor that sends the values apart from the statement (server-side binding), as
    Django's own cursor would with OPTIONS ``server_side_binding``: a submission's values are
    kilobytes of text that need not be quoted into the SQL in Python. Being the same text each
    time, the statement is prepared by the connection once it has run often enough, where the
    settings allow it (``prepare_threshold``, RATHAUS_DB_PREPARED_STATEMENTS)."""
    import psycopg

    db.close_if_health_check_failed()  # as Django's own cursor() does
    db.ensure_connection()
    raw = psycopg.Cursor(db.connection)  # not the connection's own kind: that quotes in Python
    # wrapped as Django wraps its own (make_cursor): its errors, its query log (which shows
    # this statement with $1, $2 ... and its values apart, as sent)
    return (CursorDebugWrapper if db.queries_logged else CursorWrapper)(raw, db)


def insert_together(
    parent: Model, children: Sequence[Model], *, only_if: tuple[str, list[Any]] | None = None
) -> bool:
    """Insert the unsaved ``parent`` and ``children`` (any models; a field whose value is
    PARENT_ID gets the parent's new primary key) all together or not at all, and set
    ``parent.pk``. ``only_if``, an SQL condition with its parameters, is checked in the same
    statement: when it does not hold, nothing is written and the answer is False.

    An IntegrityError (a unique value taken) leaves nothing written and, in an outer
    transaction, leaves that transaction usable."""
    db = connections[DEFAULT_DB_ALIAS]
    pk_column = db.ops.quote_name(parent._meta.pk.column)
    condition, condition_params = only_if or ("1 = 1", [])
    if db.vendor == "postgresql":
        # One statement: atomic by itself; each child row is made from the parent's row, so
        # none is written when the condition stops the parent.
        head, params = _insert_sql(db, parent, None, f"WHERE {condition} RETURNING {pk_column}")
        params += condition_params
        parts = [f"p AS ({head})"]
        for number, child in enumerate(children):
            sql, more = _insert_sql(db, child, f"p.{pk_column}", "FROM p")
            parts.append(f"c{number} AS ({sql})")
            params += more
        sql = f"WITH {', '.join(parts)} SELECT {pk_column} FROM p"  # noqa: S608
        with transaction.atomic() if db.in_atomic_block else nullcontext():
            with _binding_cursor(db) as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        if row is None:
            return False
        parent.pk = row[0]
    else:
        # Everything prepared before the transaction: SQLite writers wait for each other.
        head, params = _insert_sql(db, parent, None, f"WHERE {condition}")
        rows = [_insert_sql(db, child, None) for child in children]
        with transaction.atomic(), db.cursor() as cursor:
            cursor.execute(head, params + condition_params)
            if cursor.rowcount != 1:
                return False
            parent.pk = db.ops.last_insert_id(cursor, parent._meta.db_table, parent._meta.pk.column)
            for sql, values in rows:
                filled = [v.fill(parent.pk, db) if isinstance(v, _Slot) else v for v in values]
                cursor.execute(sql, filled)
    parent._state.adding = False
    parent._state.db = db.alias
    return True
