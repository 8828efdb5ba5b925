"""Companies created before the meters get their permissions on their built-in roles (as ``users.roles`` gives new
companies); a company may have edited its roles since, so permissions are only added, never taken away."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REGISTER = ["view_meter", "add_meter", "change_meter", "view_meterreading", "add_meterreading"]
READ = ["view_meter", "view_meterreading", "add_meterreading"]
ADDED = {"admin": REGISTER, "finance": REGISTER, "steward": READ, "technician": READ}


def add_permissions(apps, schema_editor):
    app_config = apps.get_app_config("meters")
    app_config.models_module = True  # a historical app has none; create_permissions skips apps without one
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    role_model = apps.get_model("users", "Role")
    for code, codenames in ADDED.items():
        permissions = list(permission_model.objects.filter(content_type__app_label="meters", codename__in=codenames))
        for role in role_model.objects.filter(code=code, is_system=True):
            role.permissions.add(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ("meters", "0001_initial"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
