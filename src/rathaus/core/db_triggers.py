"""Triggers the database keeps for us, re-created after every migration.

SQLite rebuilds a table for most schema changes (copy, drop, rename) and its triggers go with
the old table; so after ``migrate`` the append-only guard of the audit log and the full-text
sync triggers are put back if missing (migrations core 0002 and 0004 create them first).
PostgreSQL keeps triggers across ALTER TABLE, so nothing is needed there.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

SQLITE_TRIGGERS = [
    "CREATE TABLE IF NOT EXISTS core_auditunlock (id integer PRIMARY KEY)",
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_delete BEFORE DELETE ON core_auditentry
       WHEN NOT EXISTS (SELECT 1 FROM core_auditunlock)
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_searchdocument_ai AFTER INSERT ON core_searchdocument BEGIN
         INSERT INTO core_searchfts(rowid, tokens, tokens_more)
         VALUES (new.id, new.tokens, new.tokens_more); END""",
    """CREATE TRIGGER IF NOT EXISTS core_searchdocument_ad AFTER DELETE ON core_searchdocument BEGIN
         INSERT INTO core_searchfts(core_searchfts, rowid, tokens, tokens_more)
         VALUES ('delete', old.id, old.tokens, old.tokens_more); END""",
    """CREATE TRIGGER IF NOT EXISTS core_searchdocument_au AFTER UPDATE ON core_searchdocument BEGIN
         INSERT INTO core_searchfts(core_searchfts, rowid, tokens, tokens_more)
         VALUES ('delete', old.id, old.tokens, old.tokens_more);
         INSERT INTO core_searchfts(rowid, tokens, tokens_more)
         VALUES (new.id, new.tokens, new.tokens_more); END""",
]
EXPECTED_SQLITE_TRIGGERS = {
    "core_auditentry_no_update",
    "core_auditentry_no_delete",
    "core_searchdocument_ai",
    "core_searchdocument_ad",
    "core_searchdocument_au",
}


def ensure_triggers(using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    tables = set(connection.introspection.table_names())
    if not {"core_auditentry", "core_searchdocument", "core_searchfts"} <= tables:
        return  # not migrated that far yet
    with connection.cursor() as cursor:
        for statement in SQLITE_TRIGGERS:
            cursor.execute(statement)
