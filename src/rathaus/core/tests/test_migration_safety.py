"""Every migration can run while the previous version still serves, or is accepted with a
reason (docs/migrations.md); a new unsafe migration fails this test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import NotSupportedError, connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from rathaus.core.migration_accepted import ACCEPTED
from rathaus.core.migration_safety import (
    AddIndexConcurrently,
    Finding,
    migration_findings,
    project_findings,
    stale,
    unaccepted,
)


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    return project_findings()


@pytest.fixture(scope="module")
def today() -> ProjectState:
    """The state after every migration on disk: what a new migration starts from."""
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def check(today: ProjectState, *ops: Operation, atomic: bool = True) -> list[Finding]:
    """The findings of a new cases migration of ``ops``, after one that added
    ``case.reviewed`` (NOT NULL, filled by the database)."""
    state = today.clone()
    earlier = migrations.Migration("0098_reviewed", "cases")
    earlier.operations = [
        migrations.AddField(
            "case", "reviewed", models.BooleanField(default=False, db_default=False)
        )
    ]
    assert migration_findings("cases", earlier, state) == []
    migration = migrations.Migration("0099_new", "cases")
    migration.operations = list(ops)
    migration.atomic = atomic
    return migration_findings("cases", migration, state)


def test_every_migration_is_safe_during_a_rolling_upgrade_or_accepted_with_a_reason(
    findings: list[Finding],
) -> None:
    unsafe = unaccepted(findings, ACCEPTED)
    assert not unsafe, (
        "These operations would break the version still serving during a rolling upgrade "
        "(docs/migrations.md). Make them safe, or list them with a reason in "
        "src/rathaus/core/migration_accepted.py:\n" + "\n".join(map(str, unsafe))
    )


def test_every_accepted_operation_still_exists_and_is_unsafe(findings: list[Finding]) -> None:
    assert not stale(findings, ACCEPTED)
    assert all(entry.reason.strip() for entry in ACCEPTED)


def test_a_new_migration_removing_a_column_fails_the_check(today: ProjectState) -> None:
    found = check(today, migrations.RemoveField("case", "letter_issued_at"))
    assert [(f.app, f.migration, f.operation, f.rule) for f in found] == [
        ("cases", "0099_new", "Remove field letter_issued_at from case", "remove-field")
    ]
    assert unaccepted(found, ACCEPTED) == found
    assert "drop the column a release later" in str(found[0])


def test_a_new_migration_adding_a_nullable_column_passes(today: ProjectState) -> None:
    assert (
        check(today, migrations.AddField("case", "closed_note", models.TextField(null=True))) == []
    )


UNSAFE: dict[str, tuple[Callable[[], Operation], str]] = {
    "not null without a database default": (
        lambda: migrations.AddField("case", "closed_note", models.TextField(default="")),
        "add-not-null",
    ),
    "rename a column": (
        lambda: migrations.RenameField("case", "letter_issued_at", "letter_sent_at"),
        "rename",
    ),
    "rename a table": (lambda: migrations.RenameModel("CaseNote", "Note"), "rename"),
    "delete a table": (lambda: migrations.DeleteModel("CaseNote"), "drop-table"),
    "make a column NOT NULL": (
        lambda: migrations.AlterField(
            "case", "letter_issued_at", models.DateTimeField(db_default=models.functions.Now())
        ),
        "set-not-null",
    ),
    "drop a database default the old code relies on": (
        lambda: migrations.AlterField("case", "reviewed", models.BooleanField(default=False)),
        "drop-db-default",
    ),
    "change a column's type": (
        lambda: migrations.AlterField("case", "letter_issued_at", models.DateField(null=True)),
        "alter-type",
    ),
    "an index built under a write lock": (
        lambda: migrations.AddIndex("case", models.Index(fields=["letter_issued_at"], name="x")),
        "index-lock",
    ),
    "a foreign key's index built under a write lock": (
        lambda: migrations.AddField(
            "case",
            "reviewer",
            models.ForeignKey("accounts.User", models.SET_NULL, null=True, related_name="+"),
        ),
        "index-lock",
    ),
    "a unique constraint the old code may violate": (
        lambda: migrations.AddConstraint(
            "case", models.UniqueConstraint(fields=["letter_issued_at"], name="x")
        ),
        "add-unique",
    ),
    "a check constraint the old code may violate": (
        lambda: migrations.AddConstraint(
            "case", models.CheckConstraint(condition=models.Q(priority__gte=0), name="x")
        ),
        "add-constraint",
    ),
    "a data migration without a way back": (
        lambda: migrations.RunPython(migrations.RunPython.noop),
        "irreversible",
    ),
    "raw SQL that drops a column": (
        lambda: migrations.RunSQL(
            "ALTER TABLE cases_case DROP COLUMN letter_issued_at", migrations.RunSQL.noop
        ),
        "raw-sql",
    ),
    "a volatile database default": (
        lambda: migrations.AddField(
            "case", "token", models.UUIDField(db_default=models.Func(function="gen_random_uuid"))
        ),
        "table-rewrite",
    ),
}


@pytest.mark.parametrize("case", UNSAFE)
def test_unsafe_operations_are_reported(today: ProjectState, case: str) -> None:
    make, rule = UNSAFE[case]
    assert [f.rule for f in check(today, make())] == [rule]


SAFE: dict[str, Callable[[], list[Operation]]] = {
    "not null with a database default": lambda: [
        migrations.AddField("case", "closed_note", models.TextField(default="", db_default=""))
    ],
    "a created_at filled by the database": lambda: [
        migrations.AddField(
            "case", "seen_at", models.DateTimeField(db_default=models.functions.Now())
        )
    ],
    "a new table with NOT NULL columns and indexes": lambda: [
        migrations.CreateModel("Reminder", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddField("reminder", "due_on", models.DateField()),
        migrations.AddIndex("reminder", models.Index(fields=["due_on"], name="reminder_due")),
    ],
    "a new many-to-many join table": lambda: [
        migrations.AddField(
            "case", "watchers", models.ManyToManyField("accounts.User", related_name="+")
        )
    ],
    "only choices and labels change": lambda: [
        migrations.AlterField(
            "case",
            "letter_issued_at",
            models.DateTimeField(null=True, blank=True, verbose_name="Bescheid versandt"),
        )
    ],
    "a NOT NULL column becomes nullable": lambda: [
        migrations.AlterField("caseevent", "kind", models.CharField(max_length=20, null=True))
    ],
    "a longer text column": lambda: [
        migrations.AlterField("caseevent", "kind", models.CharField(max_length=40))
    ],
    "a Python name changes, the column keeps its name": lambda: [
        migrations.AlterField(
            "case",
            "letter_issued_at",
            models.DateTimeField(null=True, blank=True, db_column="letter_issued_at"),
        ),
        migrations.RenameField("case", "letter_issued_at", "decision_sent_at"),
    ],
    "a field leaves the model, its column stays for the old code": lambda: [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("case", "letter_issued_at")]
        )
    ],
    "a reversible data migration": lambda: [
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)
    ],
}


@pytest.mark.parametrize("case", SAFE)
def test_safe_operations_pass(today: ProjectState, case: str) -> None:
    assert check(today, *SAFE[case]()) == []


def test_a_concurrent_index_must_be_in_a_non_atomic_migration(today: ProjectState) -> None:
    index = models.Index(fields=["letter_issued_at"], name="case_letter_issued")
    assert check(today, AddIndexConcurrently("case", index), atomic=False) == []
    found = check(today, AddIndexConcurrently("case", index))
    assert [f.rule for f in found] == ["needs-non-atomic"]


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_index_is_built_and_dropped_on_this_database(today: ProjectState) -> None:
    """CONCURRENTLY on PostgreSQL, a plain index on SQLite; refused inside a transaction on
    both, so a missing ``atomic = False`` fails already on a developer's SQLite."""
    operation = AddIndexConcurrently(
        "case", models.Index(fields=["letter_issued_at"], name="case_letter_issued")
    )
    after = today.clone()
    operation.state_forwards("cases", after)

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            return set(connection.introspection.get_constraints(cursor, "cases_case"))

    with pytest.raises(NotSupportedError), connection.schema_editor(atomic=True) as editor:
        operation.database_forwards("cases", editor, today, after)
    assert "case_letter_issued" not in indexes()

    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("cases", editor, today, after)
    assert "case_letter_issued" in indexes()
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("cases", editor, after, today)
    assert "case_letter_issued" not in indexes()
