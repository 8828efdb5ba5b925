"""The SQL billing's migrations share: it must never change, since every database was migrated with it."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from aishang.billing.migration_helpers import drop_insert_only_triggers, insert_only_triggers, run_on_postgresql

INSERT_ONLY_MIGRATIONS = ("0002_journal_insert_only", "0004_approvals", "0009_payments_and_prepaid",
                          "0011_deposits_reversals_receipts_and_closes")


def test_the_insert_only_triggers_are_written_exactly_as_the_migrations_first_ran_them():
    assert insert_only_triggers(("billing_a", "billing_b")) == (
        "CREATE TRIGGER billing_a_insert_only BEFORE UPDATE OR DELETE ON billing_a "
        "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();\n"
        "CREATE TRIGGER billing_b_insert_only BEFORE UPDATE OR DELETE ON billing_b "
        "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();\n")
    assert drop_insert_only_triggers(("billing_a", "billing_b")) == (
        "DROP TRIGGER IF EXISTS billing_a_insert_only ON billing_a;\n"
        "DROP TRIGGER IF EXISTS billing_b_insert_only ON billing_b;\n")


@pytest.mark.parametrize(("vendor", "executed"), [("postgresql", ["SELECT 1;"]), ("sqlite", [])])
def test_the_sql_runs_on_postgresql_only(vendor, executed):
    statements = []
    editor = SimpleNamespace(connection=SimpleNamespace(vendor=vendor), execute=statements.append)

    run_on_postgresql("SELECT 1;")(None, editor)

    assert statements == executed


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the insert-only triggers are PostgreSQL's")
def test_every_table_the_migrations_name_refuses_updates_and_deletes_in_the_migrated_database():
    tables = {table for name in INSERT_ONLY_MIGRATIONS
              for table in importlib.import_module(f"aishang.billing.migrations.{name}").INSERT_ONLY_TABLES}
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, t.tgname, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgname LIKE %s", ["%\\_insert\\_only"])
        triggers = {table: (name, function) for table, name, function in cursor.fetchall()}

    assert len(tables) == 14
    assert triggers == {table: (f"{table}_insert_only", "billing_refuse_change") for table in tables}
