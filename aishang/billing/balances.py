"""What is still owed on bills: the amount less its discounts, waivers, void and the payments allocated to it;
and the 滞纳金 accruing on it once overdue."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round

from aishang.core.money import money_total

from .models import Allocation, BillDiscount, BillKind, BillVoid, Waiver
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


def open_amounts(queryset):
    """{bill id: outstanding} of the queryset's bills that still owe something.

    Reads one column per bill with each correction summed once; annotating ``bills_with_outstanding`` and filtering
    on it makes the database evaluate every per-bill sum two or three times (once per place the expression
    appears), which is what a unit's desk with hundreds of bills cannot afford.
    """
    zero = Value(Decimal("0"), output_field=MONEY_FIELD)
    taken = [Coalesce(Subquery(_total_per_bill(model), output_field=MONEY_FIELD), zero, output_field=MONEY_FIELD)
             for model in TAKEN_OFF]
    remaining = Round(F("amount") - taken[0] - taken[1] - taken[2] - taken[3], 2, output_field=MONEY_FIELD)
    rows = queryset.order_by().annotate(remaining=remaining).values_list("pk", "remaining")
    return {pk: Decimal(amount).quantize(CENT) for pk, amount in rows if amount > 0}


def bills_with_outstanding(queryset):
    """Annotate ``discounted``, ``waived``, ``voided``, ``paid`` and ``outstanding`` on each bill of the queryset."""
    zero = Value(Decimal("0"), output_field=MONEY_FIELD)

    def summed(model):
        return Coalesce(Subquery(_total_per_bill(model), output_field=MONEY_FIELD), zero, output_field=MONEY_FIELD)

    return (queryset
            .annotate(discounted=summed(BillDiscount), waived=summed(Waiver), voided=summed(BillVoid),
                      paid=summed(Allocation))
            # Rounded in the database: SQLite sums decimals as floats, and 59.79 − (29.90 + 29.89) must be 0 there
            # too, or a settled bill would count as open.
            .annotate(outstanding=Round(
                F("amount") - F("discounted") - F("waived") - F("voided") - F("paid"), 2, output_field=MONEY_FIELD)))


def bill_late_fee(bill, outstanding, as_of):
    """The 滞纳金 accrued on a bill's outstanding amount by a day, or None where its fee item charges none."""
    fee_item = bill.fee_item
    if not fee_item.late_fee_enabled or bill.kind == BillKind.LATE_FEE or outstanding <= 0:
        return None
    return late_fee(outstanding, due_date=bill.due_date, as_of=as_of, daily_rate=fee_item.late_fee_daily_rate,
                    rounding=fee_item.rounding, precision=fee_item.precision)
