"""Companies created before the cashier's desk get its permissions on their built-in roles.

New companies get them from ``users.roles`` when their roles are installed; a company may have edited its
roles since, so permissions are only added, never taken away.
"""

from django.db import migrations

from aishang.users.migration_helpers import grant_to_system_roles

ADDED = {
    "admin": ["view_payment", "add_payment", "view_prepaidaccount", "override_payment_order"],
    "finance": ["view_payment", "add_payment", "view_prepaidaccount", "override_payment_order"],
    "cashier": ["view_payment", "add_payment", "view_prepaidaccount"],
}


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0009_payments_and_prepaid"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant_to_system_roles("billing", ADDED), migrations.RunPython.noop)]
