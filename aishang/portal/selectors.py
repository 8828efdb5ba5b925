"""What an owner sees: only the units the account is verified for, their bills, the owner's payments and messages.

Every read starts from the account (``customers.owners``); an id of anything else is simply not found (404).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.billing.balances import bill_late_fee, bills_with_outstanding
from aishang.billing.models import Bill, Payment
from aishang.billing.selectors import payment_status
from aishang.customers.models import Occupancy
from aishang.customers.owners import owner_customer_ids, owner_occupancy_starts, owner_unit_ids
from aishang.estate.models import Unit
from aishang.extras.models import CustomField
from aishang.notifications.choices import Channel, MessageStatus
from aishang.notifications.models import Message


class BillStatus:
    OPEN = "open"
    PAID = "paid"


def owner_units(account):
    return (Unit.objects.filter(pk__in=owner_unit_ids(account))
            .select_related("project__company", "building", "entrance", "property_type")
            .order_by("project__name", "code"))


def owner_roles(account, unit):
    """What the account is to the unit (业主, 租户 ...), from its current occupancies."""
    customer_ids = owner_customer_ids(account)
    occupancies = Occupancy.objects.current().filter(unit=unit, customer_id__in=customer_ids)
    return sorted({occupancy.get_role_display() for occupancy in occupancies})


@dataclass(frozen=True)
class UnitFacts:
    unit: Unit
    roles: list
    members: list  # current occupancies of the unit: the family, tenants and owners living there
    custom_fields: list  # (label, shown value) of the fields the company shows owners


def owner_unit_facts(account, unit):
    members = list(Occupancy.objects.current().filter(unit=unit).select_related("customer")
                   .order_by("role", "start_date", "pk"))
    fields = CustomField.objects.for_object(unit).filter(owner_visible=True).order_by("weight", "pk")
    shown = [(field.label, field.display(unit.custom_field_data.get(field.name))) for field in fields
             if unit.custom_field_data.get(field.name) not in (None, "", [])]
    return UnitFacts(unit=unit, roles=owner_roles(account, unit), members=members, custom_fields=shown)


def _since_by_unit(account):
    """(unit id → the first day the account's current occupancies of it began (None: as long as records go), the
    account's customer ids), from one query."""
    return since_by_unit(owner_occupancy_starts(account))


def since_by_unit(occupancy_rows):
    """From (unit id, customer id, start date) rows: (unit id → first start, None where any began before records),
    customer ids)."""
    starts, customers = {}, set()
    for unit_id, customer_id, start in occupancy_rows:
        known = starts.get(unit_id, datetime.date.max)
        starts[unit_id] = None if start is None or known is None else min(known, start)
        customers.add(customer_id)
    return starts, customers


def visible_bills(bills, unit_sinces, customers):
    """The bills an account may see, annotated by ``bills_with_outstanding``: a unit's open bills whoever owned it
    then, its settled ones only from the day the account's occupancy began (``unit_sinces``: (unit id, since), None
    for all), and the customers' own unit-less bills."""
    visible = Q(pk__in=[])
    for unit, since in unit_sinces:
        shown = (Q(period_end__gte=since) | Q(outstanding__gt=0)) if since else Q()
        visible |= Q(unit_id=unit) & shown
    if customers:
        visible |= Q(unit__isnull=True, payer_id__in=customers)
    return bills_with_outstanding(bills).filter(visible)


def filter_bills(bills, *, unit_id=None, fee_item_id=None, period=None, period_end=None, status=None):
    """The owner's filters: a unit, a fee item, a month the bill's period touches (its first and last day),
    ``open`` or ``paid``."""
    if unit_id:
        bills = bills.filter(unit_id=unit_id)
    if fee_item_id:
        bills = bills.filter(fee_item_id=fee_item_id)
    if period:
        bills = bills.filter(period_start__lte=period_end or month_end(period), period_end__gte=period)
    if status == BillStatus.OPEN:
        bills = bills.filter(outstanding__gt=0)
    elif status == BillStatus.PAID:
        bills = bills.filter(outstanding__lte=0, paid__gt=0)
    return bills


BILL_ORDER = ("unit__code", "fee_item__code", "period_start", "pk")


def owner_bills(account, *, unit_id=None, fee_item_id=None, period=None, status=None):
    """The bills of the account's units (and its customers' own unit-less bills), each with ``discounted``,
    ``waived``, ``voided``, ``paid`` and ``outstanding``. A unit's open bills show whoever owned it then; its
    settled ones only from the day the account's occupancy began, so a buyer never sees the seller's payments.

    ``period`` is a month (``2026-11``) the bill's period touches; ``status`` is ``open`` or ``paid``.
    """
    starts, customers = _since_by_unit(account)
    bills = visible_bills(Bill.objects.all(), starts.items(), customers)
    bills = filter_bills(bills, unit_id=unit_id, fee_item_id=fee_item_id, period=period, status=status)
    return bills.select_related("project", "unit", "parking_space", "fee_item").order_by(*BILL_ORDER)


def month_end(month):
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def with_late_fees(bills, as_of=None):
    """The bills as a list, each with ``late_fee`` (Decimal, 0 where none accrues), ``overdue`` and ``status``."""
    as_of = as_of or timezone.localdate()
    labels = status_labels()
    rows = list(bills)
    for bill in rows:
        add_late_fee_and_status(bill, as_of, labels)
    return rows


def add_late_fee_and_status(bill, as_of, labels):
    fee = bill_late_fee(bill, bill.outstanding, as_of) if bill.outstanding > 0 else None
    bill.late_fee = fee.amount if fee else Decimal("0.00")
    bill.overdue = bill.outstanding > 0 and bill.due_date < as_of
    if bill.outstanding > 0:
        bill.status = labels["overdue" if bill.overdue else "open"]
    else:
        bill.status = labels["paid" if bill.paid > 0 else "voided" if bill.voided > 0 else "waived"]


def status_labels():
    """A bill's status as an owner reads it, translated once per list."""
    return {"open": _("待缴"), "overdue": _("已逾期"), "paid": _("已缴清"), "voided": _("已作废"),
            "waived": _("已减免")}


def owner_payments(account):
    """The payments made by the account's customers, newest first."""
    return (Payment.objects.filter(payer_id__in=owner_customer_ids(account))
            .select_related("company", "project", "unit", "payer").prefetch_related("reversals")
            .order_by("-received_at", "-pk"))


def owner_payment_status(payment):
    return payment_status(payment)


def owner_messages(account):
    """The in-app messages to the account's customers (bills posted, due, overdue, payments), newest first; their
    SMS and WeChat twins (and the sign-in codes) went to the phone and are not listed again."""
    return (Message.objects.filter(recipient_customer_id__in=owner_customer_ids(account), channel=Channel.IN_APP)
            .exclude(status=MessageStatus.CANCELLED).order_by("-created_at", "-pk"))


def owner_unread_count(account):
    return owner_messages(account).filter(read_at__isnull=True).count()


def owner_receipt_pdf(payment):
    """The e-receipt of one of the owner's payments: the company's default template (the standard receipt where
    that prints onto pre-printed forms), not recorded as a staff print."""
    from aishang.billing.models import ReceiptLayout
    from aishang.billing.receipts import (
        builtin_receipt_template,
        logo_data_uri,
        receipt_context,
        receipt_pdf,
        receipt_sheet,
        receipt_template_choose,
    )

    template, _templates = receipt_template_choose(payment.company)
    if template.layout == ReceiptLayout.OVERLAY:
        template = builtin_receipt_template(payment.company)
    return receipt_pdf(receipt_sheet(template, receipt_context(payment), logo=logo_data_uri(template)))


def owner_order(account, out_trade_no):
    """The account's online order by trade number, or None: every unit it pays for must be one of the account's."""
    from aishang.payments.models import PaymentOrder

    order = PaymentOrder.objects.filter(out_trade_no=out_trade_no).first()
    if order is None:
        return None
    units = set(order.lines.values_list("unit_id", flat=True))
    return order if units and units <= owner_unit_ids(account) else None


def owner_order_payments(order):
    return list(Payment.objects.filter(online_settlement__order=order).order_by("pk"))
