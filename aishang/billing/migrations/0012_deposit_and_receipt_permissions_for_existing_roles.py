"""Companies created before deposits, reversals, daily close and receipt templates get those permissions on
their built-in roles, and the approval flows of the new corrections. Permissions are only added, never taken
away (a company may have edited its roles); a flow a company already has is left as it is."""

from decimal import Decimal

from django.db import migrations

from aishang.users.migration_helpers import grant_to_system_roles

DESK = ["view_deposit", "add_deposit", "view_paymentreversal", "view_shiftclose", "add_shiftclose",
        "view_receipttemplate"]
RECEIPT_SETUP = ["add_receipttemplate", "change_receipttemplate", "delete_receipttemplate"]
ADDED = {"admin": DESK + RECEIPT_SETUP, "finance": DESK + RECEIPT_SETUP, "cashier": DESK}


# As billing.approvals.DEFAULT_FLOWS when this migration was written.
NEW_FLOWS = {
    "payment_void": ("收款作废审批", [("finance", None), ("admin", None)]),
    "refund": ("收款退款审批", [("finance", None), ("admin", Decimal("500.01"))]),
    "prepaid_refund": ("预存退款审批", [("finance", None), ("admin", Decimal("1000.01"))]),
    "deposit_refund": ("押金退还审批", [("finance", None)]),
}


def add_flows(apps, schema_editor):
    company_model = apps.get_model("estate", "Company")
    flow_model = apps.get_model("billing", "ApprovalFlow")
    level_model = apps.get_model("billing", "ApprovalLevel")
    role_model = apps.get_model("users", "Role")
    for company in company_model.objects.all():
        roles = {role.code: role for role in role_model.objects.filter(company=company, code__in=["finance", "admin"])}
        for action, (name, levels) in NEW_FLOWS.items():
            if flow_model.objects.filter(company=company, action=action).exists():
                continue
            if any(code not in roles for code, _ in levels):
                continue  # a company without the built-in roles sets its flows up itself
            flow = flow_model.objects.create(company=company, action=action, name=name)
            for number, (code, min_amount) in enumerate(levels, start=1):
                level_model.objects.create(flow=flow, level=number, role=roles[code], min_amount=min_amount)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0011_deposits_reversals_receipts_and_closes"),
        ("users", "0001_initial"),
        ("estate", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(grant_to_system_roles("billing", ADDED), migrations.RunPython.noop),
        migrations.RunPython(add_flows, migrations.RunPython.noop),
    ]
