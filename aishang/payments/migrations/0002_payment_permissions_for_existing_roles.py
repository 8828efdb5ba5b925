"""Companies created before online payments get their permissions on their built-in roles (as ``users.roles`` gives
new companies); a company may have edited its roles since, so permissions are only added, never taken away."""

from django.db import migrations

from aishang.users.migration_helpers import grant_to_system_roles

FOLLOW = ["view_paymentorder", "query_paymentorder", "export_paymentorder", "view_gatewayrefund",
          "change_gatewayrefund", "view_gatewayconfig"]
ADDED = {"admin": [*FOLLOW, "add_gatewayconfig", "change_gatewayconfig"], "finance": FOLLOW,
         "cashier": ["view_paymentorder"]}


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0001_initial"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant_to_system_roles("payments", ADDED), migrations.RunPython.noop)]
