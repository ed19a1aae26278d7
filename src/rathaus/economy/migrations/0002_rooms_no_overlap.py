"""On PostgreSQL the database itself refuses two overlapping bookings of one room: an
exclusion constraint over the room and the half-open interval [starts_at, ends_at) of every
booking that is not cancelled. The booking service checks first under a row lock
(services/rooms.py); this holds even for writes that bypass it.

SQLite has no such constraint; there the service's check runs inside an IMMEDIATE
transaction, which serialises every writer."""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE economy_roombooking ADD CONSTRAINT economy_roombooking_no_overlap
       EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
       WHERE (status = 'booked')""",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE economy_roombooking DROP CONSTRAINT IF EXISTS economy_roombooking_no_overlap",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("economy", "0001_directory_events_rooms_board")]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
