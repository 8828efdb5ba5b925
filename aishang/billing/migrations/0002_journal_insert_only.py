from django.db import migrations

from aishang.billing.migration_helpers import drop_insert_only_triggers, insert_only_triggers, run_on_postgresql

INSERT_ONLY_TABLES = ("billing_journalentry", "billing_posting")

CREATE = """
CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal rows are insert-only: write a correcting entry instead';
END
$$ LANGUAGE plpgsql;
""" + insert_only_triggers(INSERT_ONLY_TABLES)
DROP = drop_insert_only_triggers(INSERT_ONLY_TABLES) + "DROP FUNCTION IF EXISTS billing_refuse_change();"


class Migration(migrations.Migration):
    """On PostgreSQL the database itself refuses to change or delete journal rows."""

    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
