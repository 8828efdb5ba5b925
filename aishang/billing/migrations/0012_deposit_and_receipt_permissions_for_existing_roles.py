"""Companies created before deposits, reversals, daily close and receipt templates get those permissions on
their built-in roles. Permissions are only added, never taken away (a company may have edited its roles)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DESK = ["view_deposit", "add_deposit", "view_paymentreversal", "view_shiftclose", "add_shiftclose",
        "view_receipttemplate"]
RECEIPT_SETUP = ["add_receipttemplate", "change_receipttemplate", "delete_receipttemplate"]
ADDED = {"admin": DESK + RECEIPT_SETUP, "finance": DESK + RECEIPT_SETUP, "cashier": DESK}


def add_permissions(apps, schema_editor):
    app_config = apps.get_app_config("billing")
    app_config.models_module = True  # a historical app has none; create_permissions skips apps without one
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    role_model = apps.get_model("users", "Role")
    for code, codenames in ADDED.items():
        permissions = list(permission_model.objects.filter(content_type__app_label="billing",
                                                           codename__in=codenames))
        for role in role_model.objects.filter(code=code, is_system=True):
            role.permissions.add(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0011_deposits_reversals_receipts_and_closes"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
