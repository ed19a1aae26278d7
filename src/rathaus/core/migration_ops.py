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
