"""Readings' and shares' references are checked once per statement instead of row by row (ADR 0025).

An import COPYs 100,000 readings of one project and importer, an allocation 50,000 shares of a hundred runs;
PostgreSQL's deferred foreign keys checked each of their 500,000 references one by one at commit. The columns and
indexes stay; on PostgreSQL the database still enforces the references, for every writer, as billing 0005 does for
bills (ADR 0009):

- after each INSERT or UPDATE statement, a check over the statement's new rows (its transition table) raises
  foreign_key_violation (SQLSTATE 23503, an ``IntegrityError`` in Django) when one points at nothing: one pass for
  each column's lowest and highest id, then one lookup for a column with a single value (the project, the
  importer) and one join with the referenced rows between those ids for a column with many (meters, units);
- before a referenced project, meter, user or unit is deleted (or its id changed), a row trigger refuses while a
  reading or share points at it, after a SHARE lock on the referencing table, which waits for transactions
  inserting into it and keeps new ones out until the delete commits;
- a share's run is the exception: drafts are replaced at every preview, so a table lock on each delete would
  make two previews deadlock. The check locks the statement's runs instead (FOR KEY SHARE, as a foreign key
  locks its row, but once per run, not per share), which a delete of one of them waits for.

The triggers do not fire in the ``replica`` replication role (the demo's reset). On SQLite nothing is installed:
the columns carry no constraint there and the ORM's ``on_delete`` is the guard.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# table → [(column, referenced table, how the referenced side is kept)]: "table lock" (rarely deleted rows) or
# "row lock" (rows deleted often, locked by the inserting statement).
REFERENCES = {
    "meters_meterreading": [
        ("project_id", "estate_project", "table lock"),
        ("meter_id", "meters_meter", "table lock"),
        ("recorded_by_id", "users_user", "table lock"),
        ("reviewed_by_id", "users_user", "table lock"),
    ],
    "meters_allocationshare": [
        ("run_id", "meters_allocationrun", "row lock"),
        ("unit_id", "estate_unit", "table lock"),
    ],
}

RAISE_MISSING = """
CREATE FUNCTION meters_reference_missing(child text, child_column text, referenced text, key bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key "%_%_exists"', child, child, child_column
        USING ERRCODE = 'foreign_key_violation', TABLE = child, COLUMN = child_column,
              CONSTRAINT = format('%s_%s_exists', child, child_column),
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', child_column, key, referenced);
END
$$;
"""


def _check_column(table, column, referenced, keeping):
    missing = f"PERFORM meters_reference_missing('{table}', '{column}', '{referenced}', "
    if keeping == "row lock":
        # A run deleted meanwhile is not returned by the lock, and the next statement sees it gone.
        return f"""
    IF {column}_low IS NOT NULL THEN
        PERFORM FROM {referenced} WHERE id IN (SELECT DISTINCT {column} FROM new_rows) FOR KEY SHARE;
        SELECT min(n.{column}) INTO missing FROM (SELECT DISTINCT {column} FROM new_rows) n
         WHERE n.{column} IS NOT NULL AND NOT EXISTS (SELECT FROM {referenced} t WHERE t.id = n.{column});
        IF missing IS NOT NULL THEN
            {missing}missing);
        END IF;
    END IF;"""
    # Many ids: the referenced table is read between the lowest and the highest and joined in one go; EXECUTE
    # plans the statement with its own bounds, so ids spread far apart are looked up one by one instead.
    return f"""
    IF {column}_low = {column}_high THEN
        IF NOT EXISTS (SELECT FROM {referenced} WHERE id = {column}_low) THEN
            {missing}{column}_low);
        END IF;
    ELSIF {column}_low IS NOT NULL THEN
        EXECUTE 'SELECT min(n.{column}) FROM new_rows n'
                ' LEFT JOIN {referenced} t ON t.id = n.{column} AND t.id BETWEEN $1 AND $2'
                ' WHERE n.{column} IS NOT NULL AND t.id IS NULL'
            INTO missing USING {column}_low, {column}_high;
        IF missing IS NOT NULL THEN
            {missing}missing);
        END IF;
    END IF;"""


def _check_new_rows(table, references):
    columns = [column for column, _referenced, _keeping in references]
    return f"""
CREATE FUNCTION {table}_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE{"".join(f'''
    {column}_low bigint;
    {column}_high bigint;''' for column in columns)}
    missing bigint;
BEGIN
    SELECT {", ".join(f"min({column}), max({column})" for column in columns)}
      INTO {", ".join(f"{column}_low, {column}_high" for column in columns)}
      FROM new_rows;{"".join(_check_column(table, *reference) for reference in references)}
    RETURN NULL;
END
$$;
CREATE TRIGGER {table}_references_exist_after_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_check_references();
CREATE TRIGGER {table}_references_exist_after_update AFTER UPDATE ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_check_references();
"""


def _keep_referenced(table, referenced, columns, keeping):
    lock = (f"""
    -- Wait for the transactions inserting into {table}, and keep new ones out until this one ends.
    LOCK TABLE {table} IN SHARE MODE;""" if keeping == "table lock" else "")
    checks = "".join(f"""
    IF EXISTS (SELECT FROM {table} WHERE {column} = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "{referenced}" violates foreign key "{table}_{column}_exists"'
                        ' on table "{table}"'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{referenced}', CONSTRAINT = '{table}_{column}_exists',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "{table}".', OLD.id);
    END IF;""" for column in columns)
    return f"""
CREATE FUNCTION {table}_keep_{referenced}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;{lock}{checks}
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER {table}_keep_referenced BEFORE DELETE OR UPDATE OF id ON {referenced}
    FOR EACH ROW EXECUTE FUNCTION {table}_keep_{referenced}();
"""


def _referenced_tables(references):
    """referenced table → (the columns pointing at it, how it is kept), in the order first named."""
    tables = {}
    for column, referenced, keeping in references:
        tables.setdefault(referenced, ([], keeping))[0].append(column)
    return tables


CREATE = RAISE_MISSING + "".join(
    _check_new_rows(table, references)
    + "".join(_keep_referenced(table, referenced, columns, keeping)
              for referenced, (columns, keeping) in _referenced_tables(references).items())
    for table, references in REFERENCES.items()
)
DROP = "".join(
    "".join(f"DROP TRIGGER IF EXISTS {table}_keep_referenced ON {referenced};\n"
            f"DROP FUNCTION IF EXISTS {table}_keep_{referenced}();\n" for referenced in _referenced_tables(references))
    + f"DROP TRIGGER IF EXISTS {table}_references_exist_after_insert ON {table};\n"
    f"DROP TRIGGER IF EXISTS {table}_references_exist_after_update ON {table};\n"
    f"DROP FUNCTION IF EXISTS {table}_check_references();\n"
    for table, references in REFERENCES.items()
) + "DROP FUNCTION IF EXISTS meters_reference_missing(text, text, text, bigint);\n"


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # as written: the functions hold format()'s %s

    return operation


def _reference(to, verbose_name, *, related_name="+", null=False, on_delete=django.db.models.deletion.PROTECT):
    return models.ForeignKey(blank=null, null=null, db_constraint=False, on_delete=on_delete,
                             related_name=related_name, to=to, verbose_name=verbose_name)


class Migration(migrations.Migration):
    dependencies = [
        ("estate", "0001_initial"),
        ("meters", "0004_allocation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(model_name="allocationshare", name="run",
                              field=_reference("meters.allocationrun", "分摊批次", related_name="shares",
                                               on_delete=django.db.models.deletion.CASCADE)),
        migrations.AlterField(model_name="allocationshare", name="unit", field=_reference("estate.unit", "房屋")),
        migrations.AlterField(model_name="meterreading", name="meter",
                              field=_reference("meters.meter", "仪表", related_name="readings")),
        migrations.AlterField(model_name="meterreading", name="project", field=_reference("estate.project", "项目")),
        migrations.AlterField(model_name="meterreading", name="recorded_by",
                              field=_reference(settings.AUTH_USER_MODEL, "录入人", null=True)),
        migrations.AlterField(model_name="meterreading", name="reviewed_by",
                              field=_reference(settings.AUTH_USER_MODEL, "复核人", null=True)),
        # After the constraints are gone (and, going back, dropped before they return).
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]
