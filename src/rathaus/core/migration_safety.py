"""Migrations that can run while the previous version still serves (docs/migrations.md).

A rolling upgrade migrates first and then replaces the app nodes one by one, so for a while
the old code runs against the new schema. The check below reads every migration's operations
(no database needed) and reports those that would break the old code or lock a busy table:
dropping or renaming what it reads, a new NOT NULL column it does not fill, a new constraint
its writes may violate, an index built under a write lock, a data migration without a way
back. An operation found unsafe but accepted is listed with its reason in
``core/migration_accepted.py``; anything else found fails
``core/tests/test_migration_safety.py`` and so ``make test``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres import operations as postgres_operations
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import Migration, operations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models.fields import NOT_PROVIDED
from django.db.models.functions import Now


class AddIndexConcurrently(postgres_operations.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL: writes go on while the index is built.
    Elsewhere (SQLite: one machine, upgraded while stopped) a plain ``CREATE INDEX``.
    Like Django's operation it runs only in a migration with ``atomic = False``, on every
    database, so that a forgotten ``atomic = False`` already fails on SQLite."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._run("database_forwards", app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._run("database_backwards", app_label, schema_editor, from_state, to_state)

    def _run(
        self,
        direction: str,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":  # CREATE/DROP INDEX CONCURRENTLY
            getattr(super(), direction)(app_label, schema_editor, from_state, to_state)
            return
        self._ensure_not_in_transaction(schema_editor)
        getattr(operations.AddIndex, direction)(
            self, app_label, schema_editor, from_state, to_state
        )


@dataclass(frozen=True)
class Finding:
    """One operation that is unsafe during a rolling upgrade, and why."""

    app: str
    migration: str
    operation: str  # the operation's describe(), as ``migrate --plan`` shows it
    rule: str
    advice: str

    def __str__(self) -> str:
        return f"{self.app}.{self.migration}: {self.operation} [{self.rule}] {self.advice}"


@dataclass(frozen=True)
class Accepted:
    """Operations of one migration that are unsafe by the rules but accepted, and why."""

    app: str
    migration: str
    operations: tuple[str, ...]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return (finding.app, finding.migration) == (self.app, self.migration) and (
            finding.operation in self.operations
        )


ADVICE = {
    "drop-table": "the old code may still read the table (also through cascades): stop using "
    "the model in one release, delete it in the next",
    "remove-field": "the old code still selects the column: take the field out of the model "
    "with a state-only SeparateDatabaseAndState, drop the column a release later",
    "rename": "the old code uses the old name: keep the column with db_column/db_table, or "
    "add the new one beside it and drop the old one releases later",
    "add-not-null": "the old code's INSERT leaves the new column out: give it a db_default "
    "(or null=True)",
    "drop-db-default": "the old code leaves the column to the database default: keep it "
    "until no running code relies on it",
    "set-not-null": "the old code may still write NULL, and PostgreSQL checks every row "
    "under an exclusive lock: fill the rows first, tighten a release later",
    "alter-type": "a new type, length or target rewrites the table under an exclusive lock "
    "and may refuse the old code's values: add a new column instead",
    "table-rewrite": "PostgreSQL rewrites the whole table under an exclusive lock "
    "(a stored generated column, a volatile db_default)",
    "index-lock": "building the index blocks writes to the table: use "
    "rathaus.core.migration_safety.AddIndexConcurrently in a migration with atomic = False",
    "add-unique": "the index is built under a write lock and the old code may write "
    "duplicates: de-duplicate, add the index concurrently, then the constraint",
    "add-constraint": "every row is checked under an exclusive lock and the old code may "
    "write rows the constraint refuses",
    "irreversible": "no way back: give a reverse (RunPython.noop if undoing is not needed)",
    "raw-sql": "the SQL drops, renames or tightens something the old code may use",
    "needs-non-atomic": "a concurrent index build cannot run in a transaction: set "
    "atomic = False on the migration",
    "unknown": "an operation this check does not know: review it by hand",
}

# AlterField arguments that change nothing in the database, or nothing the old code notices.
_HARMLESS = frozenset(
    {
        "verbose_name",
        "help_text",
        "choices",
        "validators",
        "default",
        "blank",
        "editable",
        "error_messages",
        "related_name",
        "related_query_name",
        "limit_choices_to",
        "on_delete",
        "upload_to",
        "storage",
        "auto_now",
        "auto_now_add",
        "db_comment",
        "db_default",
        "serialize",
        "encoder",
        "decoder",
    }
)
# Handled one by one in _altered.
_EXAMINED = frozenset({"null", "max_length", "db_index", "unique", "db_column", "db_constraint"})
# Operations that never touch what the old code uses (or only build something new).
_SAFE: tuple[type[Operation], ...] = (
    operations.CreateModel,
    operations.AlterModelOptions,
    operations.AlterModelManagers,
    operations.AlterModelTableComment,
    operations.RemoveIndex,
    operations.RenameIndex,
    operations.RemoveConstraint,
    postgres_operations.CreateExtension,
    postgres_operations.CreateCollation,
    postgres_operations.RemoveIndexConcurrently,
    postgres_operations.AddConstraintNotValid,
    postgres_operations.ValidateConstraint,
)
_RISKY_SQL = re.compile(
    r"\b(DROP\s+(TABLE|COLUMN)|RENAME|SET\s+NOT\s+NULL|ALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE)\b",
    re.IGNORECASE,
)

# db_default values PostgreSQL stores once instead of writing into every row: a constant, or
# Now() (stable, evaluated once by ALTER TABLE). Anything else may be volatile: a rewrite.
_CONSTANT_DEFAULTS = (models.Value, Now)

ModelKey = tuple[str, str]


def _column(name: str, field: models.Field[Any, Any]) -> str:
    if field.db_column:
        return str(field.db_column)
    return f"{name}_id" if field.many_to_one or field.one_to_one else name


def _db_index(field: models.Field[Any, Any]) -> bool:
    return bool(getattr(field, "db_index", False))  # set by Field.__init__, not in the stubs


def _indexed(field: models.Field[Any, Any]) -> str | None:
    if field.many_to_many:
        return None
    if field.unique or field.primary_key:
        return "add-unique"
    return "index-lock" if _db_index(field) else None


def _added(field: models.Field[Any, Any]) -> Iterator[str]:
    if field.many_to_many:
        return  # a new join table
    default = field.db_default
    volatile = hasattr(default, "resolve_expression") and not isinstance(
        default, _CONSTANT_DEFAULTS
    )
    if isinstance(field, models.GeneratedField) or volatile:
        yield "table-rewrite"
    elif not field.null and field.db_default is NOT_PROVIDED:
        yield "add-not-null"
    indexed = _indexed(field)
    if indexed:
        yield indexed


def _altered(name: str, old: models.Field[Any, Any], new: models.Field[Any, Any]) -> Iterator[str]:
    if _column(name, old) != _column(name, new):
        yield "rename"
    if old.null and not new.null:
        yield "set-not-null"
    if old.db_default is not NOT_PROVIDED and new.db_default is NOT_PROVIDED and not new.null:
        yield "drop-db-default"
    old_kwargs, new_kwargs = old.deconstruct()[3], new.deconstruct()[3]
    changed = {
        key
        for key in old_kwargs.keys() | new_kwargs.keys()
        if old_kwargs.get(key) != new_kwargs.get(key)
    }
    old_length, new_length = old_kwargs.get("max_length"), new_kwargs.get("max_length")
    shorter = new_length is not None and (old_length is None or new_length < old_length)
    if type(old) is not type(new) or shorter or changed - _HARMLESS - _EXAMINED:
        yield "alter-type"
    if new.unique and not old.unique:
        yield "add-unique"
    elif _db_index(new) and not _db_index(old) and not (old.unique or new.unique):
        yield "index-lock"
    if getattr(new, "db_constraint", False) and not getattr(old, "db_constraint", True):
        yield "add-constraint"


def _sql_statements(sql: Any) -> Iterator[str]:
    if isinstance(sql, str):
        yield sql
    elif isinstance(sql, list | tuple):
        for item in sql:
            yield item[0] if isinstance(item, list | tuple) else str(item)


def operation_rules(
    operation: Operation,
    *,
    app: str,
    state: ProjectState,
    created: set[ModelKey],
    atomic: bool,
) -> Iterator[str]:
    """The rules ``operation`` breaks, given the state before it; ``created`` holds the
    models created earlier in the same migration (no old code reads those)."""
    model_name = getattr(operation, "model_name_lower", None) or getattr(
        operation, "name_lower", ""
    )
    key = (app, model_name)
    if isinstance(operation, operations.SeparateDatabaseAndState):
        for inner in operation.database_operations:
            yield from operation_rules(inner, app=app, state=state, created=created, atomic=atomic)
    elif isinstance(operation, postgres_operations.AddIndexConcurrently):
        if atomic:
            yield "needs-non-atomic"
    elif isinstance(operation, _SAFE):
        pass
    elif isinstance(operation, operations.RunPython):
        if operation.reverse_code is None:
            yield "irreversible"
    elif isinstance(operation, operations.RunSQL):
        if operation.reverse_sql is None:
            yield "irreversible"
        if any(_RISKY_SQL.search(sql) for sql in _sql_statements(operation.sql)):
            yield "raw-sql"
    elif key in created:
        pass  # everything on a table of this migration is new to the old code
    elif isinstance(operation, operations.DeleteModel):
        yield "drop-table"
    elif isinstance(operation, operations.RenameModel):
        yield "rename"
    elif isinstance(operation, operations.AlterModelTable):
        if state.models[key].options.get("db_table") != operation.table:
            yield "rename"
    elif isinstance(operation, operations.AddField):
        yield from _added(operation.field)
    elif isinstance(operation, operations.RemoveField):
        yield "remove-field"
    elif isinstance(operation, operations.RenameField):
        old = state.models[key].fields[operation.old_name]
        if old.many_to_many or not old.db_column:
            yield "rename"
    elif isinstance(operation, operations.AlterField):
        yield from _altered(
            operation.name, state.models[key].fields[operation.name], operation.field
        )
    elif isinstance(operation, operations.AddIndex):
        yield "index-lock"
    elif isinstance(operation, operations.AddConstraint):
        constraint = operation.constraint  # type: ignore[attr-defined]
        yield "add-unique" if isinstance(constraint, models.UniqueConstraint) else "add-constraint"
    elif isinstance(operation, operations.AlterUniqueTogether | operations.AlterIndexTogether):
        option = operation.option_name
        before = {tuple(fields) for fields in state.models[key].options.get(option) or ()}
        after = {tuple(fields) for fields in getattr(operation, option) or ()}
        if after - before:
            is_unique = isinstance(operation, operations.AlterUniqueTogether)
            yield "add-unique" if is_unique else "index-lock"
    elif isinstance(operation, operations.AlterOrderWithRespectTo):
        if operation.order_with_respect_to:
            yield "add-not-null"
    else:
        yield "unknown"


def migration_findings(app: str, migration: Migration, state: ProjectState) -> list[Finding]:
    """The findings of one migration, given the project state before it; ``state`` is
    advanced to the state after it."""
    found: list[Finding] = []
    created: set[ModelKey] = set()
    for operation in migration.operations:
        for rule in dict.fromkeys(
            operation_rules(
                operation, app=app, state=state, created=created, atomic=migration.atomic
            )
        ):
            found.append(Finding(app, migration.name, operation.describe(), rule, ADVICE[rule]))
        if isinstance(operation, operations.CreateModel):
            created.add((app, operation.name_lower))
        operation.state_forwards(app, state)
    return found


def project_findings(loader: MigrationLoader | None = None) -> list[Finding]:
    """The findings of every migration on disk (ours and our dependencies'), in the order
    ``migrate`` applies them."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    plan = dict.fromkeys(node for leaf in graph.leaf_nodes() for node in graph.forwards_plan(leaf))
    state = ProjectState(real_apps=loader.unmigrated_apps)
    found: list[Finding] = []
    for app, name in plan:
        found.extend(migration_findings(app, graph.nodes[(app, name)], state))
    return found


def unaccepted(findings: Iterable[Finding], accepted: Iterable[Accepted]) -> list[Finding]:
    listed = tuple(accepted)
    return [finding for finding in findings if not any(a.covers(finding) for a in listed)]


def stale(findings: Iterable[Finding], accepted: Iterable[Accepted]) -> list[str]:
    """Accepted operations that no longer produce a finding (renamed, fixed, mistyped)."""
    found = {(f.app, f.migration, f.operation) for f in findings}
    return [
        f"{entry.app}.{entry.migration}: {operation}"
        for entry in accepted
        for operation in entry.operations
        if (entry.app, entry.migration, operation) not in found
    ]
