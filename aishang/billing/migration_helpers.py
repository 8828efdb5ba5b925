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
    """Billing's permissions as of this migration (created first: Django adds a new model's or Meta's permissions
    only after all migrations ran, too late for a migration that hands them to roles), as a Permission queryset."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("billing")
    app_config.models_module = True  # a historical app has none; create_permissions skips apps without one
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.filter(content_type__app_label="billing")
