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
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin


class _ParentId:
    def __repr__(self) -> str:
        return "PARENT_ID"


# As a child's field value: the primary key the parent row gets (a foreign key, or a text
# field that records it, such as an audit entry's object id).
PARENT_ID: Any = _ParentId()

_TEXT_TYPES = {"CharField", "TextField"}


def _values(obj: Model) -> list[tuple[Field[Any, Any], Any]]:
    """The columns to insert and their prepared values (PARENT_ID left as it is)."""
    row: list[tuple[Field[Any, Any], Any]] = []
    for field in obj._meta.local_concrete_fields:
        value = getattr(obj, field.attname)
        if field.primary_key and isinstance(field, AutoFieldMixin) and value is None:
            continue  # the database numbers it
        if value is not PARENT_ID:
            value = field.get_db_prep_save(field.pre_save(obj, add=True), connection=connection)
        row.append((field, value))
    return row


class _Slot:
    """Where the parent's key goes in a child's parameters, once it is known."""

    def __init__(self, field: Field[Any, Any], text: bool) -> None:
        self.field, self.text = field, text

    def fill(self, pk: int) -> Any:
        return self.field.get_db_prep_save(str(pk) if self.text else pk, connection=connection)


def _insert_sql(obj: Model, parent: str | None, tail: str = "") -> tuple[str, list[Any]]:
    """``INSERT INTO t (cols) SELECT ... <tail>``; PARENT_ID becomes ``parent``, SQL that gives
    the parent's key, or (None) a parameter to fill in (``_Slot``)."""
    qn = connection.ops.quote_name
    columns, marks, params = [], [], []
    for field, value in _values(obj):
        columns.append(qn(field.column))
        text = field.get_internal_type() in _TEXT_TYPES
        if value is PARENT_ID and parent is not None:
            marks.append(f"CAST({parent} AS varchar)" if text else parent)
            continue
        marks.append("%s")
        params.append(_Slot(field, text) if value is PARENT_ID else value)
    table = qn(obj._meta.db_table)  # names from the models, every value a parameter
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(marks)} {tail}"  # noqa: S608
    return sql, params


def insert_together(
    parent: Model, children: Sequence[Model], *, only_if: tuple[str, list[Any]] | None = None
) -> bool:
    """Insert the unsaved ``parent`` and ``children`` (any models; a field whose value is
    PARENT_ID gets the parent's new primary key) all together or not at all, and set
    ``parent.pk``. ``only_if``, an SQL condition with its parameters, is checked in the same
    statement: when it does not hold, nothing is written and the answer is False.

    An IntegrityError (a unique value taken) leaves nothing written and, in an outer
    transaction, leaves that transaction usable."""
    pk_column = connection.ops.quote_name(parent._meta.pk.column)
    condition, condition_params = only_if or ("1 = 1", [])
    if connection.vendor == "postgresql":
        # One statement: atomic by itself; each child row is made from the parent's row, so
        # none is written when the condition stops the parent.
        head, params = _insert_sql(parent, None, f"WHERE {condition} RETURNING {pk_column}")
        params += condition_params
        parts = [f"p AS ({head})"]
        for number, child in enumerate(children):
            sql, more = _insert_sql(child, f"p.{pk_column}", "FROM p")
            parts.append(f"c{number} AS ({sql})")
            params += more
        sql = f"WITH {', '.join(parts)} SELECT {pk_column} FROM p"  # noqa: S608
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        if row is None:
            return False
        parent.pk = row[0]
    else:
        # Everything prepared before the transaction: SQLite writers wait for each other.
        head, params = _insert_sql(parent, None, f"WHERE {condition}")
        rows = [_insert_sql(child, None) for child in children]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(head, params + condition_params)
            if cursor.rowcount != 1:
                return False
            parent.pk = connection.ops.last_insert_id(
                cursor, parent._meta.db_table, parent._meta.pk.column
            )
            for sql, params in rows:
                cursor.execute(
                    sql, [p.fill(parent.pk) if isinstance(p, _Slot) else p for p in params]
                )
    parent._state.adding = False
    parent._state.db = connection.alias
    return True
