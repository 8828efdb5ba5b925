"""What is still owed on bills: the amount less its discounts, waivers, void and the payments allocated to it;
and the 滞纳金 accruing on it once overdue."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round

from aishang.core.money import money_total

from .models import Allocation, Bill, BillDiscount, BillKind, BillVoid, Waiver
from .pricing import late_fee

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
CENT = Decimal("0.01")
# What takes money off a bill: its outstanding is its amount less the sum of these rows (an allocation is negative
# where a void or refund of its payment took it back and reopened the bill).
TAKEN_OFF = (BillDiscount, Waiver, BillVoid, Allocation)


def bill_outstanding(bill):
    """What is still owed on one bill."""
    taken = (money_total(BillDiscount.objects.filter(bill_id=bill.pk))
             + money_total(Waiver.objects.filter(bill_id=bill.pk))
             + money_total(BillVoid.objects.filter(bill_id=bill.pk))
             + money_total(Allocation.objects.filter(bill_id=bill.pk)))
    return bill.amount - taken


def _total_per_bill(model):
    return (model.objects.filter(bill=OuterRef("pk")).order_by().values("bill")
            .annotate(total=Sum("amount")).values("total"))


def taken_off():
    """{name: what one kind of TAKEN_OFF row took off each bill}, as expressions on a bill queryset."""
    zero = Value(Decimal("0"), output_field=MONEY_FIELD)
    return {name: Coalesce(Subquery(_total_per_bill(model), output_field=MONEY_FIELD), zero, output_field=MONEY_FIELD)
            for name, model in zip(("discounted", "waived", "voided", "paid"), TAKEN_OFF, strict=True)}


def outstanding(taken=None):
    """What a bill still owes: its amount less what ``taken_off()`` took (or the annotations named by ``taken``).

    Rounded in the database: SQLite sums decimals as floats, and 59.79 − (29.90 + 29.89) must be 0 there too, or a
    settled bill would count as open. The one rule every reader of outstanding amounts uses, the desk's compiled
    statement (``desk.py``) included.
    """
    parts = list(taken_off().values()) if taken is None else [F(name) for name in taken]
    return Round(F("amount") - parts[0] - parts[1] - parts[2] - parts[3], 2, output_field=MONEY_FIELD)


def open_amounts(queryset):
    """{bill id: outstanding} of the queryset's bills that still owe something: one column per bill, each correction
    summed once (annotating ``bills_with_outstanding`` and filtering on it evaluates each sum once more)."""
    rows = queryset.order_by().annotate(remaining=outstanding()).values_list("pk", "remaining")
    return {pk: Decimal(amount).quantize(CENT) for pk, amount in rows if amount > 0}


def bills_with_outstanding(queryset):
    """Annotate ``discounted``, ``waived``, ``voided``, ``paid`` and ``outstanding`` on each bill of the queryset."""
    taken = taken_off()
    return queryset.annotate(**taken).annotate(outstanding=outstanding(taken))


def bill_late_fee(bill, outstanding, as_of):
    """The 滞纳金 accrued on a bill's outstanding amount by a day, or None where its fee item charges none."""
    fee_item = bill.fee_item
    if not fee_item.late_fee_enabled or bill.kind == BillKind.LATE_FEE or outstanding <= 0:
        return None
    return late_fee(outstanding, due_date=bill.due_date, as_of=as_of, daily_rate=fee_item.late_fee_daily_rate,
                    rounding=fee_item.rounding, precision=fee_item.precision)


def earlier_open_bills(bills):
    """For each subject (unit, or customer without a unit) and fee item of the chosen bills, the oldest open bill of
    a period before the latest one chosen that was not chosen itself (late fees aside): one query per subject and
    fee item. Empty when the choice pays each fee item oldest first."""
    chosen = {bill.pk for bill in bills}
    latest = {}
    for bill in bills:
        if bill.kind == BillKind.LATE_FEE:
            continue
        key = (bill.project_id, bill.unit_id, bill.payer_id if not bill.unit_id else None, bill.fee_item_id)
        latest[key] = max(latest.get(key, bill.period_start), bill.period_start)
    earlier = []
    for (project_id, unit_id, payer_id, fee_item_id), period_start in latest.items():
        subject = {"unit_id": unit_id} if unit_id else {"unit__isnull": True, "payer_id": payer_id}
        candidates = (bills_with_outstanding(Bill.objects.filter(
            project_id=project_id, fee_item_id=fee_item_id, period_start__lt=period_start, **subject))
            .exclude(pk__in=chosen).exclude(kind=BillKind.LATE_FEE).filter(outstanding__gt=0)
            .select_related("fee_item", "unit").order_by("period_start", "pk"))
        earlier.extend(candidates[:1])
    return earlier
