"""A bill's references are checked once per statement instead of row by row (ADR 0009).

The foreign keys of ``billing_bill`` keep their columns and indexes but lose their constraints: a bill
run inserts a million rows whose project, fee item, rule and run are the same for a whole batch, and
PostgreSQL's row-by-row checks cost more than the insert itself. On PostgreSQL the database still
enforces them, for every writer, with triggers:

- after each INSERT or UPDATE statement on ``billing_bill``, a check over the statement's new rows
  (its transition table) raises foreign_key_violation (SQLSTATE 23503, an ``IntegrityError`` in
  Django) when one points at a row that does not exist. One pass finds each column's lowest and
  highest id; a column with one value (a run's project, fee item, rule, run) is one lookup, a column
  with many (units, payers) is one join with the referenced table's rows between those ids;
- before a referenced row is deleted, or its id changed, a row trigger refuses while a bill points at
  it. It first takes a SHARE lock on ``billing_bill``, which waits for transactions inserting bills
  and keeps new ones out until it ends, so a bill inserted concurrently cannot be missed: what the
  row locks of a real foreign key do, paid by the rare delete instead of by every bill.

Like the journal's insert-only triggers these fire in the default (origin) replication role only, so
the demo's reset, which runs with ``session_replication_role = replica``, is not stopped by them.
TRUNCATE is not checked. On SQLite nothing is installed: the columns have no constraint there and the
ORM's ``on_delete=PROTECT`` is the guard.
"""

import django.db.models.deletion
from django.db import migrations, models

# (bill column, referenced table): every reference of billing_bill, none with a constraint of its own.
REFERENCES = (
    ("project_id", "estate_project"),
    ("unit_id", "estate_unit"),
    ("parking_space_id", "estate_parkingspace"),
    ("payer_id", "customers_customer"),
    ("fee_item_id", "billing_feeitem"),
    ("rule_id", "billing_chargerule"),
    ("run_id", "billing_billrun"),
)

RAISE_MISSING = """
CREATE FUNCTION billing_bill_reference_missing(bill_column text, referenced text, key bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "billing_bill" violates foreign key "billing_bill_%_exists"', bill_column
        USING ERRCODE = 'foreign_key_violation', TABLE = 'billing_bill', COLUMN = bill_column,
              CONSTRAINT = format('billing_bill_%s_exists', bill_column),
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', bill_column, key, referenced);
END
$$;
"""


def _check_column(column, table):
    # Many ids: the referenced table is read between the lowest and the highest, joined in one go (a
    # run's units lie close together); EXECUTE plans each statement with its own bounds, so ids spread
    # far apart are looked up one by one instead.
    return f"""
    IF {column}_low = {column}_high THEN
        IF NOT EXISTS (SELECT FROM {table} WHERE id = {column}_low) THEN
            PERFORM billing_bill_reference_missing('{column}', '{table}', {column}_low);
        END IF;
    ELSIF {column}_low IS NOT NULL THEN
        EXECUTE 'SELECT min(n.{column}) FROM new_bills n'
                ' LEFT JOIN {table} t ON t.id = n.{column} AND t.id BETWEEN $1 AND $2'
                ' WHERE n.{column} IS NOT NULL AND t.id IS NULL'
            INTO missing USING {column}_low, {column}_high;
        IF missing IS NOT NULL THEN
            PERFORM billing_bill_reference_missing('{column}', '{table}', missing);
        END IF;
    END IF;"""


CHECK_NEW_BILLS = f"""
CREATE FUNCTION billing_bill_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE{"".join(f'''
    {column}_low bigint;
    {column}_high bigint;''' for column, _table in REFERENCES)}
    missing bigint;
BEGIN
    SELECT {", ".join(f"min({column}), max({column})" for column, _table in REFERENCES)}
      INTO {", ".join(f"{column}_low, {column}_high" for column, _table in REFERENCES)}
      FROM new_bills;{"".join(_check_column(column, table) for column, table in REFERENCES)}
    RETURN NULL;
END
$$;
CREATE TRIGGER billing_bill_references_exist_after_insert AFTER INSERT ON billing_bill
    REFERENCING NEW TABLE AS new_bills FOR EACH STATEMENT EXECUTE FUNCTION billing_bill_check_references();
CREATE TRIGGER billing_bill_references_exist_after_update AFTER UPDATE ON billing_bill
    REFERENCING NEW TABLE AS new_bills FOR EACH STATEMENT EXECUTE FUNCTION billing_bill_check_references();
"""


def _keep_referenced(column, table):
    return f"""
CREATE FUNCTION billing_bill_keep_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    -- Wait for the transactions inserting bills, and keep new ones out until this one ends.
    LOCK TABLE billing_bill IN SHARE MODE;
    IF EXISTS (SELECT FROM billing_bill WHERE {column} = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "{table}" violates foreign key "billing_bill_{column}_exists"'
                        ' on table "billing_bill"'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{table}', CONSTRAINT = 'billing_bill_{column}_exists',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "billing_bill".', OLD.id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER billing_bill_keep_referenced BEFORE DELETE OR UPDATE OF id ON {table}
    FOR EACH ROW EXECUTE FUNCTION billing_bill_keep_{table}();
"""


CREATE = RAISE_MISSING + CHECK_NEW_BILLS + "".join(_keep_referenced(column, table) for column, table in REFERENCES)
DROP = "".join(
    f"DROP TRIGGER IF EXISTS billing_bill_keep_referenced ON {table};\n"
    f"DROP FUNCTION IF EXISTS billing_bill_keep_{table}();\n"
    for _column, table in REFERENCES
) + (
    "DROP TRIGGER IF EXISTS billing_bill_references_exist_after_insert ON billing_bill;\n"
    "DROP TRIGGER IF EXISTS billing_bill_references_exist_after_update ON billing_bill;\n"
    "DROP FUNCTION IF EXISTS billing_bill_check_references();\n"
    "DROP FUNCTION IF EXISTS billing_bill_reference_missing(text, text, bigint);\n"
)


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # as written: the functions hold format()'s %s

    return operation


def _reference(to, verbose_name, *, null=True):
    return models.ForeignKey(blank=null, null=null, db_constraint=False, on_delete=django.db.models.deletion.PROTECT,
                             related_name="bills", to=to, verbose_name=verbose_name)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_approvals"),
        ("customers", "0001_initial"),
        ("estate", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(model_name="bill", name="project", field=_reference("estate.project", "项目", null=False)),
        migrations.AlterField(model_name="bill", name="unit", field=_reference("estate.unit", "房屋")),
        migrations.AlterField(model_name="bill", name="parking_space", field=_reference("estate.parkingspace", "车位")),
        migrations.AlterField(model_name="bill", name="payer", field=_reference("customers.customer", "缴费人")),
        migrations.AlterField(model_name="bill", name="fee_item",
                              field=_reference("billing.feeitem", "收费项目", null=False)),
        migrations.AlterField(model_name="bill", name="rule", field=_reference("billing.chargerule", "收费标准")),
        migrations.AlterField(model_name="bill", name="run", field=_reference("billing.billrun", "出账批次")),
        # After the constraints are gone (and, going back, dropped before they return).
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]
