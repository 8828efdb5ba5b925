"""What billing's migrations share. Migrations import it for as long as they exist: what these functions return
must never change (a new need gets a new function), and nothing here may import models.
"""


def run_on_postgresql(sql):
    """A ``RunPython`` function that executes ``sql`` on PostgreSQL and does nothing on SQLite."""

    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


def insert_only_triggers(tables):
    """Triggers making each table refuse UPDATE and DELETE through ``billing_refuse_change()`` (from 0002)."""
    return "".join(
        f"CREATE TRIGGER {table}_insert_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();\n"
        for table in tables
    )


def drop_insert_only_triggers(tables):
    return "".join(f"DROP TRIGGER IF EXISTS {table}_insert_only ON {table};\n" for table in tables)


def billing_permissions(apps):
    """Billing's permissions as of this migration, as a Permission queryset (``users.migration_helpers``)."""
    from aishang.users.migration_helpers import app_permissions

    return app_permissions(apps, "billing")
