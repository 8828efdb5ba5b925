"""What migrations that hand permissions to roles share. Migrations import it for as long as they exist: what these
functions do must never change (a new need gets a new function), and nothing here may import models.
"""


def app_permissions(apps, app_label):
    """An app's permissions as of this migration, as a Permission queryset. They are created first: Django adds a new
    model's or Meta's permissions only after all migrations ran, too late for a migration that hands them to roles."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True  # a historical app has none; create_permissions skips apps without one
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.filter(content_type__app_label=app_label)


def grant_to_system_roles(app_label, added):
    """A ``RunPython`` function giving every company's built-in roles (``added``: role code → codenames of the app)
    what ``users.roles`` gives new companies. A company may have edited its roles since, so it only adds."""

    def operation(apps, schema_editor):
        permissions = app_permissions(apps, app_label)
        role_model = apps.get_model("users", "Role")
        for code, codenames in added.items():
            granted = list(permissions.filter(codename__in=codenames))
            for role in role_model.objects.filter(code=code, is_system=True):
                role.permissions.add(*granted)

    return operation
