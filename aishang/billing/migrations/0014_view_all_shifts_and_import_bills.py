"""查看全部收银员日结 and 导入历史账单 become permissions of their own (ADR 0018).

Until now seeing every cashier's shifts needed 日结 (view) with 记账凭证 (view), and importing historical bills
needed 应收账单 (add) with 收款 (add). Every role of an existing company that holds those today gets the new
permission, so nobody loses what they could do; company-made roles too, as they would otherwise lose it silently.
New companies get the new permissions from ``users.roles`` (财务, 管理员). Nothing is taken away.
"""

from django.db import migrations

from aishang.billing.migration_helpers import billing_permissions

# new permission: the permissions a role must hold today, all of them, to be given it
REPLACED = {
    "view_all_shifts": ["view_shiftclose", "view_journalentry"],
    "import_bills": ["add_bill", "add_payment"],
}


def add_permissions(apps, schema_editor):
    billing = billing_permissions(apps)
    role_model = apps.get_model("users", "Role")
    for codename, old in REPLACED.items():
        new = billing.get(codename=codename)
        roles = role_model.objects.all()
        for old_codename in old:
            roles = roles.filter(permissions__in=billing.filter(codename=old_codename))
        for role in roles.distinct():
            role.permissions.add(new)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0013_cashier_desk_indexes"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="bill",
            options={"ordering": ["project", "period_start", "id"],
                     "permissions": [("export_bill", "导出账单"), ("import_bills", "导入历史账单")],
                     "verbose_name": "应收账单", "verbose_name_plural": "应收账单"},
        ),
        migrations.AlterModelOptions(
            name="shiftclose",
            options={"ordering": ["-period_end", "-id"], "permissions": [("view_all_shifts", "查看全部收银员日结")],
                     "verbose_name": "日结", "verbose_name_plural": "日结"},
        ),
        migrations.RunPython(add_permissions, migrations.RunPython.noop),
    ]
