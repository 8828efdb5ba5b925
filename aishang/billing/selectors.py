from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from aishang.core.money import money_total

from .models import ApprovalRequest, ApprovalStatus, Bill, BillRun, BillVoid, ChargeRule, Waiver


def bill_totals(queryset):
    return {"count": queryset.count(), "total": money_total(queryset)}


def rule_list_queryset(user):
    return ChargeRule.objects.restrict(user, "view").select_related("project", "fee_item")


def bill_list_queryset(user):
    return (Bill.objects.restrict(user, "view")
            .select_related("project", "unit", "fee_item", "payer", "parking_space"))


def run_list_queryset(user):
    return BillRun.objects.restrict(user, "view").select_related("project", "created_by")


MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


def bill_outstanding(bill):
    """What is still owed on one bill: its amount less its waivers and its void."""
    waived = money_total(Waiver.objects.filter(bill_id=bill.pk))
    voided = money_total(BillVoid.objects.filter(bill_id=bill.pk))
    return bill.amount - waived - voided


def bills_with_outstanding(queryset):
    """Annotate ``waived``, ``voided`` and ``outstanding`` on each bill of the queryset."""
    zero = Value(Decimal("0"), output_field=MONEY_FIELD)
    waived = (Waiver.objects.filter(bill=OuterRef("pk")).order_by().values("bill")
              .annotate(total=Sum("amount")).values("total"))
    voided = BillVoid.objects.filter(bill=OuterRef("pk")).values("amount")
    return (queryset
            .annotate(waived=Coalesce(Subquery(waived, output_field=MONEY_FIELD), zero, output_field=MONEY_FIELD),
                      voided=Coalesce(Subquery(voided, output_field=MONEY_FIELD), zero, output_field=MONEY_FIELD))
            .annotate(outstanding=ExpressionWrapper(F("amount") - F("waived") - F("voided"),
                                                    output_field=MONEY_FIELD)))


def approval_request_queryset(user):
    """Requests the user may open: within scope, and theirs to see by permission, submission, role or decision."""
    requests = ApprovalRequest.objects.within_scope(user) if user.is_authenticated else ApprovalRequest.objects.none()
    if not user.is_superuser and not user.has_perm("billing.view_approvalrequest"):
        requests = requests.filter(Q(requested_by=user) | Q(current_role__in=user.roles.all())
                                   | Q(steps__decided_by=user)).distinct()
    return requests.select_related("project", "bill__unit", "bill__fee_item", "requested_by", "current_role")


def approval_inbox_queryset(user):
    """Pending requests waiting on a role the user holds that the user may decide."""
    if not user.is_authenticated:
        return ApprovalRequest.objects.none()
    return (ApprovalRequest.objects.within_scope(user)
            .filter(status=ApprovalStatus.PENDING, current_role__in=user.roles.all())
            .exclude(requested_by=user).exclude(steps__decided_by=user)
            .select_related("project", "bill__unit", "bill__fee_item", "requested_by", "current_role")
            .order_by("created_at", "id"))


def approval_my_requests_queryset(user):
    return (ApprovalRequest.objects.within_scope(user).filter(requested_by=user)
            .select_related("project", "bill__unit", "bill__fee_item", "current_role")
            .order_by("-created_at", "-id"))
