"""Companies created before the meters get their permissions on their built-in roles (as ``users.roles`` gives new
companies); a company may have edited its roles since, so permissions are only added, never taken away."""

from django.db import migrations

from aishang.users.migration_helpers import grant_to_system_roles

REGISTER = ["view_meter", "add_meter", "change_meter", "view_meterreading", "add_meterreading"]
READ = ["view_meter", "view_meterreading", "add_meterreading"]
ADDED = {"admin": REGISTER, "finance": REGISTER, "steward": READ, "technician": READ}


class Migration(migrations.Migration):

    dependencies = [
        ("meters", "0001_initial"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant_to_system_roles("meters", ADDED), migrations.RunPython.noop)]
