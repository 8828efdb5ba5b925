from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils.translation import gettext as _

from aishang.core.money import money_total
from aishang.customers.models import Customer
from aishang.estate.models import Unit

from .balances import MONEY_FIELD, bill_late_fee, bills_with_outstanding, earlier_open_bills
from .deposits import deposits_by_status, deposits_with_held
from .models import (
    ApprovalRequest,
    ApprovalStatus,
    Bill,
    BillRun,
    BindingTarget,
    ChargeRule,
    Deposit,
    Payment,
    PrepaidAccount,
    PrepaidMovement,
    ReversalKind,
)
from .pricing import ChargeError
from .services import rule_period, unit_charge


def bill_totals(queryset):
    return {"count": queryset.count(), "total": money_total(queryset)}


def rule_list_queryset(user):
    return ChargeRule.objects.restrict(user, "view").select_related("project", "fee_item")


def bill_list_queryset(user):
    return (Bill.objects.restrict(user, "view")
            .select_related("project", "unit", "fee_item", "payer", "parking_space"))


def run_list_queryset(user):
    return BillRun.objects.restrict(user, "view").select_related("project", "created_by")


# What a request's subject is shown with, in lists and on its page.
APPROVAL_RELATED = ("project", "requested_by", "current_role", "bill__unit", "bill__parking_space", "bill__payer",
                    "bill__fee_item", "payment__unit", "payment__payer", "prepaid_account__unit",
                    "prepaid_account__fee_item", "deposit__unit", "deposit__customer")


def approval_request_queryset(user):
    """Requests the user may open: within scope, and theirs to see by permission, submission, role or decision."""
    requests = ApprovalRequest.objects.within_scope(user) if user.is_authenticated else ApprovalRequest.objects.none()
    if not user.is_superuser and not user.has_perm("billing.view_approvalrequest"):
        requests = requests.filter(Q(requested_by=user) | Q(current_role__in=user.roles.all())
                                   | Q(steps__decided_by=user)).distinct()
    return requests.select_related(*APPROVAL_RELATED)


def approval_inbox_queryset(user):
    """Pending requests waiting on a role the user holds that the user may decide."""
    if not user.is_authenticated:
        return ApprovalRequest.objects.none()
    return (ApprovalRequest.objects.within_scope(user)
            .filter(status=ApprovalStatus.PENDING, current_role__in=user.roles.all())
            .exclude(requested_by=user).exclude(steps__decided_by=user)
            .select_related(*APPROVAL_RELATED).order_by("created_at", "id"))


def approval_my_requests_queryset(user):
    return (ApprovalRequest.objects.within_scope(user).filter(requested_by=user)
            .select_related(*APPROVAL_RELATED).order_by("-created_at", "-id"))


def _binding_reason(binding, unit):
    if binding.target == BindingTarget.PROJECT:
        return _("绑定整个项目")
    if binding.target == BindingTarget.BUILDING and binding.building_id == unit.building_id:
        return _("绑定楼栋 %(building)s") % {"building": binding.building}
    if binding.target == BindingTarget.PROPERTY_TYPE and binding.property_type_id == unit.property_type_id:
        return _("绑定业态「%(type)s」") % {"type": binding.property_type}
    if binding.target == BindingTarget.UNIT and binding.unit_id == unit.pk:
        return _("单独绑定本房屋")
    return None


def unit_rule_charges(user, unit, month):
    """Each active rule that charges the unit, why (its binding), and what it charges for the month's period."""
    rules = (ChargeRule.objects.restrict(user, "view").filter(project_id=unit.project_id, is_active=True)
             .select_related("fee_item").prefetch_related("bindings__building", "bindings__property_type")
             .order_by("fee_item__code", "name"))
    rows = []
    for rule in rules:
        reasons = [reason for binding in rule.bindings.all() if (reason := _binding_reason(binding, unit))]
        if not reasons:
            continue
        period = rule_period(rule, month)
        row = {"rule": rule, "reasons": reasons, "period": period, "amount": None, "computation": "", "error": ""}
        try:
            charge = unit_charge(rule, unit, period)
        except ChargeError as error:
            row["error"] = str(error)
        else:
            if charge is None:
                row["error"] = _("本期不在计费期间内")
            else:
                row["amount"], row["computation"] = charge
        rows.append(row)
    return rows


def unit_bills(user, unit, as_of, limit=24):
    """The unit's latest bills with what is outstanding and the late fee accrued on it."""
    bills = list(bills_with_outstanding(bill_list_queryset(user).filter(unit=unit))
                 .order_by("-period_start", "-id")[:limit])
    for bill in bills:
        bill.late_fee = bill_late_fee(bill, bill.outstanding, as_of)
    return bills


def unit_by_code(user, project_id, code):
    if not (str(project_id or "").isdigit() and code):
        return None
    return Unit.objects.restrict(user, "view").filter(project_id=project_id, code=code).first()


def rule_trial(rule, *, unit, month, usage=None):
    """试算 of one rule on one unit: the period it would bill for the month, the amount and how, or why not."""
    period = rule_period(rule, month)
    try:
        charge = unit_charge(rule, unit, period, usage=usage)
    except ChargeError as error:
        return {"unit": unit, "period": period, "error": str(error)}
    if charge is None:
        return {"unit": unit, "period": period, "error": _("本期不在计费期间内，或金额为 0")}
    return {"unit": unit, "period": period, "amount": charge[0], "computation": charge[1]}


# 收银台: finding the unit or customer (what their desk shows is read by desk.py).

DESK_RESULTS = 20


def desk_search(user, query):
    """Units matching a unit code (`1-2-301`), an owner's or resident's name or phone, or a plate."""
    query = (query or "").strip()
    if not query:
        return []
    units = Unit.objects.restrict(user, "view").select_related("project", "building")
    exact = list(units.filter(code=query)[:DESK_RESULTS])
    if exact:
        return exact
    people = Q(occupancies__customer__name__contains=query) | Q(occupancies__customer__mobile=query)
    plates = Q(occupancies__customer__vehicles__plate__iexact=query.replace(" ", ""))
    return list(units.filter(Q(code__contains=query) | people | plates).distinct().order_by("project", "code")
                [:DESK_RESULTS])


def desk_customers(user, query):
    """Customers matching a name, phone or plate who owe on bills of their own (parking spaces, or rules bound
    to the customer): bills with no unit, paid at the customer's desk page."""
    query = (query or "").strip()
    if not query:
        return []
    customers = Customer.objects.restrict(user, "view").select_related("project")
    matching = customers.filter(Q(name__contains=query) | Q(mobile=query)
                                | Q(vehicles__plate__iexact=query.replace(" ", "")))
    with_bills = Bill.objects.filter(unit__isnull=True, payer_id=OuterRef("pk"))
    return list(matching.filter(Exists(with_bills)).distinct().order_by("project", "name")[:DESK_RESULTS])


def payment_queryset(user):
    return (Payment.objects.restrict(user, "view")
            .select_related("project", "unit", "payer", "cashier")
            .prefetch_related("tenders", "allocations__bill__fee_item"))


# Deposits, payments' corrections and prepaid statements


def deposit_queryset(user):
    return (deposits_with_held(Deposit.objects.restrict(user, "view"))
            .select_related("project", "unit", "customer", "payment", "created_by"))


def deposit_search(user, *, query="", status="", date_from=None, date_to=None, project=None):
    """押金台账: by unit code or customer name/phone, status (持有中, 部分退还/冲抵, 已退清) and collection date."""
    deposits = deposits_by_status(deposit_queryset(user), status)
    if query:
        deposits = deposits.filter(Q(unit__code__icontains=query) | Q(customer__name__icontains=query)
                                   | Q(customer__mobile=query) | Q(payment__receipt_number=query)
                                   | Q(payment__payer__name__icontains=query))
    if date_from:
        deposits = deposits.filter(created_at__date__gte=date_from)
    if date_to:
        deposits = deposits.filter(created_at__date__lte=date_to)
    if project:
        deposits = deposits.filter(project=project)
    return deposits.order_by("-created_at", "-pk")


def prepaid_account_queryset(user):
    return PrepaidAccount.objects.restrict(user, "view").select_related("project", "unit", "fee_item")


def prepaid_accounts_with_balance(user):
    """The user's prepaid accounts, each with ``balance`` (the sum of its movements, rounded in SQL)."""
    movements = (PrepaidMovement.objects.filter(account=OuterRef("pk")).order_by().values("account")
                 .annotate(total=Sum("amount")).values("total"))
    zero = Value(Decimal("0"), output_field=MONEY_FIELD)
    return prepaid_account_queryset(user).annotate(balance=Round(
        Coalesce(Subquery(movements, output_field=MONEY_FIELD), zero), 2, output_field=MONEY_FIELD))


def statement_with_balance(movements):
    """[(movement, balance after it)] in time order: a statement of an account."""
    balance, rows = Decimal(0), []
    for movement in movements:
        balance += movement.amount
        rows.append((movement, balance))
    return rows


def payment_status(payment):
    """作废, 已全额退款, 部分退款 or an empty string, from the payment's reversals (prefetched where many)."""
    reversals = list(payment.reversals.all())
    if any(reversal.kind == ReversalKind.VOID for reversal in reversals):
        return _("已作废")
    refunded = sum((reversal.amount for reversal in reversals), Decimal(0))
    if refunded and refunded >= payment.amount:
        return _("已全额退款")
    return _("部分退款") if refunded else ""


def earliest_first_violations(bill_ids):
    """Open bills a selection skips: within one fee item of one unit (or of a customer's own bills), an open bill of
    an earlier period than a chosen one that is not chosen itself. The owner portal and online payment refuse such
    a selection (不支持跨时间缴费); an empty list means the selection pays each fee item oldest first."""
    bills = list(Bill.objects.filter(pk__in=list(bill_ids)).only(
        "pk", "project_id", "unit_id", "payer_id", "fee_item_id", "kind", "period_start"))
    return earlier_open_bills(bills) if bills else []
