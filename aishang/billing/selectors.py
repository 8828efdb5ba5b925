from aishang.core.money import money_total

from .models import Bill, BillRun, ChargeRule


def bill_totals(queryset):
    return {"count": queryset.count(), "total": money_total(queryset)}


def rule_list_queryset(user):
    return ChargeRule.objects.restrict(user, "view").select_related("project", "fee_item")


def bill_list_queryset(user):
    return (Bill.objects.restrict(user, "view")
            .select_related("project", "unit", "fee_item", "payer", "parking_space"))


def run_list_queryset(user):
    return BillRun.objects.restrict(user, "view").select_related("project", "created_by")
