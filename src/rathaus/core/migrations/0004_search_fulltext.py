"""The full-text index of core_searchdocument: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Tokens are produced by core.search (stemmed, folded to [a-z0-9]), so both engines index the
same words; the database keeps the index in step with the table (triggers / generated column).
The primary fields' tokens are a column of their own (FTS5) or weight A (tsvector), so a
search can ask for matches in them only.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE core_searchfts USING fts5(
         tokens, tokens_more, content='core_searchdocument', content_rowid='id', tokenize='ascii')""",
    """CREATE TRIGGER core_searchdocument_ai AFTER INSERT ON core_searchdocument BEGIN
         INSERT INTO core_searchfts(rowid, tokens, tokens_more)
         VALUES (new.id, new.tokens, new.tokens_more); END""",
    """CREATE TRIGGER core_searchdocument_ad AFTER DELETE ON core_searchdocument BEGIN
         INSERT INTO core_searchfts(core_searchfts, rowid, tokens, tokens_more)
         VALUES ('delete', old.id, old.tokens, old.tokens_more); END""",
    """CREATE TRIGGER core_searchdocument_au AFTER UPDATE ON core_searchdocument BEGIN
         INSERT INTO core_searchfts(core_searchfts, rowid, tokens, tokens_more)
         VALUES ('delete', old.id, old.tokens, old.tokens_more);
         INSERT INTO core_searchfts(rowid, tokens, tokens_more)
         VALUES (new.id, new.tokens, new.tokens_more); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_searchdocument_ai",
    "DROP TRIGGER IF EXISTS core_searchdocument_ad",
    "DROP TRIGGER IF EXISTS core_searchdocument_au",
    "DROP TABLE IF EXISTS core_searchfts",
]
POSTGRES_FORWARD = [
    """ALTER TABLE core_searchdocument ADD COLUMN vector tsvector
         GENERATED ALWAYS AS (setweight(to_tsvector('simple', tokens), 'A')
                              || setweight(to_tsvector('simple', tokens_more), 'B')) STORED""",
    # fastupdate off: the catalogue changes rarely and is searched constantly; a pending list
    # left by a bulk import made every search scan it (1.8 ms instead of 0.05 ms here).
    "CREATE INDEX core_searchdocument_vector ON core_searchdocument USING GIN (vector) WITH (fastupdate = off)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS core_searchdocument_vector",
    "ALTER TABLE core_searchdocument DROP COLUMN IF EXISTS vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0003_search")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
