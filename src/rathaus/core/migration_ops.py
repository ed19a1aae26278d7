"""Operations our migrations share."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def store_uncompressed(table: str, column: str) -> migrations.RunPython:
    """Ciphertext does not compress: PostgreSQL stores ``column`` out of line without trying
    (``STORAGE EXTERNAL``), which halves the cost of writing a large encrypted value. Other
    databases have no such setting."""

    def apply(apps: Any, schema_editor: Any, storage: str = "EXTERNAL") -> None:
        if schema_editor.connection.vendor == "postgresql":
            qn = schema_editor.quote_name
            schema_editor.execute(
                f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(column)} SET STORAGE {storage}"
            )

    def revert(apps: Any, schema_editor: Any) -> None:
        apply(apps, schema_editor, "EXTENDED")

    return migrations.RunPython(apply, revert, elidable=False)


def keep_rows_whole_up_to(table: str, size: int) -> migrations.RunPython:
    """PostgreSQL moves long values out of a row once the row passes about 2 KB; a typical
    application's encrypted answers are a little more, and writing them elsewhere costs a
    second insert and its index entry each time. Rows up to ``size`` bytes stay whole."""

    def apply(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            qn = schema_editor.quote_name
            schema_editor.execute(f"ALTER TABLE {qn(table)} SET (toast_tuple_target = {size:d})")

    def revert(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            qn = schema_editor.quote_name
            schema_editor.execute(f"ALTER TABLE {qn(table)} RESET (toast_tuple_target)")

    return migrations.RunPython(apply, revert, elidable=False)


def drop_prefix_indexes(table: str, column: str) -> migrations.RunPython:
    """Django gives each unique text column on PostgreSQL a second index for ``LIKE 'x%'``
    (``varchar_pattern_ops``). Where nothing searches by prefix (keys, reference numbers) it
    is only written, with every row: drop it. (An index kept for prefix search is named.)"""

    def apply(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                [table, f"%({column} varchar_pattern_ops)%"],
            )
            names = [row[0] for row in cursor.fetchall()]
        for name in names:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")

    return migrations.RunPython(apply, migrations.RunPython.noop, elidable=False)
