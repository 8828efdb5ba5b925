from django.db import migrations

INSERT_ONLY_TABLES = ("billing_journalentry", "billing_posting")

CREATE = """
CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal rows are insert-only: write a correcting entry instead';
END
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {table}_insert_only BEFORE UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();\n"
    for table in INSERT_ONLY_TABLES
)
DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_insert_only ON {table};\n" for table in INSERT_ONLY_TABLES) + (
    "DROP FUNCTION IF EXISTS billing_refuse_change();"
)


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    """On PostgreSQL the database itself refuses to change or delete journal rows."""

    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
