"""An observation's references (its Datastream, its FeatureOfInterest) are checked once per
statement instead of once per row.

A foreign key runs a trigger for every inserted row; writing 10,000 observations spent more
time in those checks than in writing the rows. On PostgreSQL, a statement-level trigger
(with the statement's new rows as a transition table) now does what the foreign key did, once:
it locks the referenced rows as a foreign key does (FOR KEY SHARE), so a Datastream cannot be
deleted under a running ingestion, and refuses a reference to a row that does not exist. A row
trigger on the referenced tables refuses deleting a Datastream or a FeatureOfInterest that
observations still refer to (the ORM deletes a Datastream's observations first; a
FeatureOfInterest with observations is protected). On SQLite (development, the demo) the ORM's
checks remain.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRES_FORWARD = [
    """CREATE FUNCTION citydata_observation_references() RETURNS trigger AS $$
       DECLARE
         missing bigint;
       BEGIN
         PERFORM 1 FROM citydata_datastream
           WHERE id IN (SELECT DISTINCT datastream_id FROM new_rows) FOR KEY SHARE;
         PERFORM 1 FROM citydata_featureofinterest
           WHERE id IN (SELECT DISTINCT feature_of_interest_id FROM new_rows) FOR KEY SHARE;
         SELECT n.datastream_id INTO missing FROM new_rows n
           LEFT JOIN citydata_datastream d ON d.id = n.datastream_id
           WHERE d.id IS NULL LIMIT 1;
         IF FOUND THEN
           RAISE foreign_key_violation
             USING MESSAGE = 'citydata_observation: no datastream ' || missing;
         END IF;
         SELECT n.feature_of_interest_id INTO missing FROM new_rows n
           LEFT JOIN citydata_featureofinterest f ON f.id = n.feature_of_interest_id
           WHERE n.feature_of_interest_id IS NOT NULL AND f.id IS NULL LIMIT 1;
         IF FOUND THEN
           RAISE foreign_key_violation
             USING MESSAGE = 'citydata_observation: no feature of interest ' || missing;
         END IF;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER citydata_observation_references_insert AFTER INSERT
       ON citydata_observation REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION citydata_observation_references();""",
    """CREATE TRIGGER citydata_observation_references_update AFTER UPDATE
       ON citydata_observation REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION citydata_observation_references();""",
    """CREATE FUNCTION citydata_observation_referenced() RETURNS trigger AS $$
       BEGIN
         IF TG_TABLE_NAME = 'citydata_datastream' THEN
           PERFORM 1 FROM citydata_observation WHERE datastream_id = OLD.id LIMIT 1;
         ELSE
           PERFORM 1 FROM citydata_observation WHERE feature_of_interest_id = OLD.id LIMIT 1;
         END IF;
         IF FOUND THEN
           RAISE foreign_key_violation
             USING MESSAGE = TG_TABLE_NAME || ' ' || OLD.id || ' still has observations';
         END IF;
         RETURN OLD;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER citydata_datastream_observations BEFORE DELETE ON citydata_datastream
       FOR EACH ROW EXECUTE FUNCTION citydata_observation_referenced();""",
    """CREATE TRIGGER citydata_featureofinterest_observations BEFORE DELETE
       ON citydata_featureofinterest
       FOR EACH ROW EXECUTE FUNCTION citydata_observation_referenced();""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS citydata_observation_references_insert ON citydata_observation;",
    "DROP TRIGGER IF EXISTS citydata_observation_references_update ON citydata_observation;",
    "DROP TRIGGER IF EXISTS citydata_datastream_observations ON citydata_datastream;",
    "DROP TRIGGER IF EXISTS citydata_featureofinterest_observations ON citydata_featureofinterest;",
    "DROP FUNCTION IF EXISTS citydata_observation_references();",
    "DROP FUNCTION IF EXISTS citydata_observation_referenced();",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("citydata", "0005_feature_points_latest_values")]

    operations = [
        # backwards: the foreign keys come back only after the triggers are gone
        migrations.RunPython(migrations.RunPython.noop, _run(POSTGRES_BACKWARD)),
        migrations.AlterField(
            model_name="observation",
            name="datastream",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="observations",
                to="citydata.datastream",
            ),
        ),
        migrations.AlterField(
            model_name="observation",
            name="feature_of_interest",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="observations",
                to="citydata.featureofinterest",
            ),
        ),
        migrations.RunPython(_run(POSTGRES_FORWARD), migrations.RunPython.noop),
    ]
