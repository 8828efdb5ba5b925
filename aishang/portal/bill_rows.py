"""The owner API's bill list as plain rows: a page of the account's bills and their count from one statement.

The mini program opens the bill list more than anything else, so its read skips the ORM's per-request work the way
the cashier desk does (ADR 0028): the queryset — built by the same ``visible_bills`` and ``filter_bills`` the
pages use, with ``bills_with_outstanding`` for what each bill owes — is compiled once per shape (number of units
and customers, filters given, page) and run again through the cursor with the account's ids and days (ADR 0027).
``test_bill_rows`` checks the rows against ``selectors.owner_bills``.
"""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Window
from django.utils import timezone

from aishang.billing.desk import DeskFeeItem
from aishang.billing.models import Bill, BillKind
from aishang.core.compiled import CompiledQuery
from aishang.customers.owners import owner_occupancy_starts

from .selectors import (
    BILL_ORDER,
    BillStatus,
    add_late_fee_and_status,
    filter_bills,
    month_end,
    since_by_unit,
    status_labels,
    visible_bills,
)


class _Named(NamedTuple):
    name: str


class _Coded(NamedTuple):
    code: str


@dataclass(slots=True)
class OwnerBillRow:
    """A bill as ``OwnerBillSerializer`` writes it, read from one row."""

    pk: int
    unit_id: int | None
    unit: _Coded | None
    project: _Named
    fee_item: DeskFeeItem
    kind: str
    kind_label: str
    period_start: datetime.date
    period_end: datetime.date
    due_date: datetime.date
    amount: Decimal
    discounted: Decimal
    waived: Decimal
    voided: Decimal
    paid: Decimal
    outstanding: Decimal
    late_fee: Decimal = Decimal("0.00")
    overdue: bool = False
    status: str = ""

    @property
    def fee_item_id(self):
        return self.fee_item.pk

    def get_kind_display(self):
        return self.kind_label


def _bill_page(bills, *, units, sinces, customers, status, unit=None, fee_item=None, month_first=None,
               month_last=None):
    shown = visible_bills(bills, zip(units, sinces, strict=True), customers)
    return (filter_bills(shown, unit_id=unit, fee_item_id=fee_item, period=month_first, period_end=month_last,
                         status=status)
            .annotate(total=Window(Count("pk")))
            .order_by(*BILL_ORDER)
            .values_list("pk", "unit_id", "unit__code", "project__name", "kind", "period_start", "period_end",
                         "due_date", "amount", "discounted", "waived", "voided", "paid", "outstanding",
                         "fee_item_id", "fee_item__code", "fee_item__name", "fee_item__late_fee_enabled",
                         "fee_item__late_fee_daily_rate", "fee_item__rounding", "fee_item__precision", "total"))


_PAGES = {status: CompiledQuery(functools.partial(_bill_page, status=status))
          for status in (None, BillStatus.OPEN, BillStatus.PAID)}


def owner_bill_page(account, *, offset, limit, unit_id=None, fee_item_id=None, period=None, status=None):
    """(the number of the account's bills the filters match, the ``limit`` of them from ``offset`` as
    ``OwnerBillRow``s with late fee, overdue and status). The count is None when the page is past the last one."""
    starts, customers = since_by_unit(owner_occupancy_starts(account))
    arguments = {"units": list(starts), "sinces": [since or datetime.date.min for since in starts.values()],
                 "customers": sorted(customers)}
    if unit_id:
        arguments["unit"] = unit_id
    if fee_item_id:
        arguments["fee_item"] = fee_item_id
    if period:
        arguments.update(month_first=period, month_last=month_end(period))
    rows = _PAGES[status].rows(Bill.objects.all(), offset=offset, limit=limit, **arguments)
    if not rows:
        return (0 if offset == 0 else None), []
    return rows[0][-1], _bill_rows(rows)


def _bill_rows(rows):
    today, labels, kinds, fee_items = timezone.localdate(), status_labels(), {}, {}
    bills = []
    for (pk, unit_id, unit_code, project_name, kind, period_start, period_end, due_date, amount, discounted, waived,
         voided, paid, outstanding, *fee_item_row, _total) in rows:
        fee_item = fee_items.get(fee_item_row[0])
        if fee_item is None:
            fee_item = fee_items[fee_item_row[0]] = DeskFeeItem(*fee_item_row)
        kind_label = kinds.get(kind)
        if kind_label is None:
            kind_label = kinds[kind] = str(BillKind(kind).label)
        bill = OwnerBillRow(pk, unit_id, _Coded(unit_code) if unit_id else None, _Named(project_name), fee_item, kind,
                            kind_label, period_start, period_end, due_date, amount, discounted, waived, voided, paid,
                            outstanding)
        add_late_fee_and_status(bill, today, labels)
        bills.append(bill)
    return bills
