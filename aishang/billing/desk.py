"""What the 收银台 shows for a unit (or a customer's own bills): its open bills with what each still owes, prepaid
balances, held deposits, occupants and last payments, read as plain rows.

The page opens for every fee collected, so its reads skip the ORM's per-query work: each is a queryset compiled
once (``core.compiled``) from the same definitions the rest of the product uses — ``balances.outstanding()`` for what
a bill owes, ``restrict()`` for what the cashier may see, ``deposits_with_held`` and ``schemes_in_force_queryset`` —
and run again with the unit's id through the cursor (ADR 0028). ``test_desk_reads`` checks the numbers against the
ORM selectors on varied data.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Exists, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round

from aishang.core.compiled import CompiledQuery
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Customer, Occupancy
from aishang.estate.models import Project, Unit

from .balances import MONEY_FIELD, bill_late_fee, outstanding, taken_off
from .deposits import deposits_with_held
from .discounts import payment_grants, schemes_in_force_queryset
from .forms import PaymentForm
from .models import (
    Bill,
    Deposit,
    DiscountTiming,
    FeeItem,
    Payment,
    PaymentReversal,
    PrepaidAccount,
    ReversalKind,
)

RECENT_PAYMENTS = 10


class DeskUnit(NamedTuple):
    pk: int
    code: str

    def __str__(self):
        return self.code


class DeskCustomer(NamedTuple):
    pk: int
    name: str

    def __str__(self):
        return self.name


class DeskProject(NamedTuple):
    pk: int
    name: str
    company_id: int

    def __str__(self):
        return self.name


class DeskFeeItem(NamedTuple):
    """A fee item as the desk groups bills by it and prices their late fees."""

    pk: int
    code: str
    name: str
    late_fee_enabled: bool
    late_fee_daily_rate: Decimal
    rounding: str
    precision: str

    def __str__(self):
        return self.name


@dataclass(slots=True)
class DeskBill:
    pk: int
    unit_id: int | None
    fee_item: DeskFeeItem
    kind: str
    period_start: datetime.date
    period_end: datetime.date
    due_date: datetime.date
    amount: Decimal
    parking_space: str | None
    outstanding: Decimal
    discounted: Decimal
    late_fee: object = None  # pricing.LateFee or None
    payment_discount: object = None  # discounts.Grant or None

    @property
    def fee_item_id(self):
        return self.fee_item.pk


class DeskAccount(NamedTuple):
    pk: int
    fee_item: str | None  # None: 通用预存


class DeskDeposit(NamedTuple):
    pk: int
    kind: str
    held: Decimal
    receipt_number: str


class DeskOccupant(NamedTuple):
    role: str
    name: str

    def get_role_display(self):
        return OccupancyRole(self.role).label


class DeskPayment(NamedTuple):
    pk: int
    receipt_number: str
    received_at: datetime.datetime
    amount: Decimal
    cashier: str | None
    reversal_kind: str | None

    @property
    def reversal_label(self):
        return ReversalKind(self.reversal_kind).label if self.reversal_kind else ""


@dataclass
class Desk:
    project: DeskProject
    unit: DeskUnit | None = None
    customer: DeskCustomer | None = None
    groups: list = field(default_factory=list)  # [(DeskFeeItem, [DeskBill])], by fee item code, oldest first
    prepaid: list = field(default_factory=list)  # [(DeskAccount, balance)]
    deposits: list = field(default_factory=list)  # [DeskDeposit], oldest first
    occupants: list = field(default_factory=list)  # [DeskOccupant]
    payments: list = field(default_factory=list)  # [DeskPayment], latest first
    fee_items: list = field(default_factory=list)  # [(pk, name)] of the company's active fee items

    @property
    def bills(self):
        return [bill for _fee_item, bills in self.groups for bill in bills]

    @property
    def late_fees_due(self):
        """Whether any open bill has a late fee accrued: the form then offers 同时收取滞纳金, ticked."""
        return any(bill.late_fee and bill.late_fee.amount for bill in self.bills)

    def payment_form(self, data=None):
        return PaymentForm(data, bills=self.bills, company_id=self.project.company_id, deposits=self.deposits,
                           fee_items=self.fee_items, initial={"late_fees": self.late_fees_due})


# The compiled reads. Each takes the scope queryset first (restricted to the cashier, or all rows where the unit
# or customer was checked already), then the ids that change from one page to the next.

def _with_project(rows, day, name):
    """(pk, code or name, project id, project name, company id, whether a payment-time scheme is in force there)."""
    schemes = schemes_in_force_queryset(company_id=OuterRef("project__company_id"), project_id=OuterRef("project_id"),
                                        day=day, timing=DiscountTiming.PAYMENT)
    return rows.annotate(payment_schemes=Exists(schemes)).values_list(
        "pk", name, "project_id", "project__name", "project__company_id", "payment_schemes")


_UNIT = CompiledQuery(lambda units, unit, day: _with_project(units.filter(pk=unit), day, "code"))
_CUSTOMER = CompiledQuery(lambda customers, customer, day: _with_project(customers.filter(pk=customer), day, "name"))


def _open_bills(bills):
    """The bills' rows that still owe something: each per-bill sum is evaluated for every bill in the filter and
    again, with the discount, for the few open ones only."""
    return (bills.annotate(owed=outstanding()).filter(owed__gt=0)
            .annotate(discount_total=Round(taken_off()["discounted"], 2, output_field=MONEY_FIELD))
            .order_by("fee_item__code", "period_start", "pk")
            .values_list("pk", "unit_id", "kind", "period_start", "period_end", "due_date", "amount",
                         "parking_space__number", "owed", "discount_total", "fee_item_id", "fee_item__code",
                         "fee_item__name", "fee_item__late_fee_enabled", "fee_item__late_fee_daily_rate",
                         "fee_item__rounding", "fee_item__precision"))


class _SubjectReads(NamedTuple):
    """The compiled reads of one kind of desk, each taking the unit's or customer's id as ``subject``."""

    bills: CompiledQuery
    deposits: CompiledQuery
    payments: CompiledQuery


_PREPAID = CompiledQuery(lambda accounts, unit: accounts.filter(unit_id=unit)
                         .annotate(balance=Round(Coalesce(Sum("movements__amount"),
                                                          Value(Decimal("0"), output_field=MONEY_FIELD)),
                                                 2, output_field=MONEY_FIELD))
                         .order_by(F("fee_item__code").asc(nulls_first=True))
                         .values_list("pk", "fee_item__name", "balance"))


def _held_deposits(deposits):
    return (deposits_with_held(deposits).filter(held__gt=0).order_by("created_at", "pk")
            .values_list("pk", "kind", "held", "payment__receipt_number"))


_OCCUPANTS = CompiledQuery(lambda occupancies, unit, day: occupancies.current(day).filter(unit_id=unit)
                           .order_by("start_date", "pk").values_list("role", "customer__name"))


def _recent_payments(payments):
    first_reversal = PaymentReversal.objects.filter(payment=OuterRef("pk")).order_by("created_at", "pk")
    return (payments.annotate(reversal_kind=Subquery(first_reversal.values("kind")[:1]))
            .values_list("pk", "receipt_number", "received_at", "amount", "cashier__display_name",
                         "cashier__username", "reversal_kind")[:RECENT_PAYMENTS])


_UNIT_READS = _SubjectReads(
    bills=CompiledQuery(lambda bills, subject: _open_bills(bills.filter(unit_id=subject))),
    deposits=CompiledQuery(lambda deposits, subject: _held_deposits(deposits.filter(unit_id=subject))),
    payments=CompiledQuery(lambda payments, subject: _recent_payments(payments.filter(unit_id=subject))))
# A customer's desk: their own bills, deposits and payments, those with no unit.
_CUSTOMER_READS = _SubjectReads(
    bills=CompiledQuery(lambda bills, subject: _open_bills(bills.filter(unit__isnull=True, payer_id=subject))),
    deposits=CompiledQuery(lambda deposits, subject: _held_deposits(
        deposits.filter(unit__isnull=True, customer_id=subject))),
    payments=CompiledQuery(lambda payments, subject: _recent_payments(
        payments.filter(unit__isnull=True, payer_id=subject))))
_FEE_ITEMS = CompiledQuery(lambda fee_items, company: fee_items.filter(company_id=company, is_active=True)
                           .order_by("code").values_list("pk", "name"))


def unit_desk(user, unit_id, today):
    """The desk of a unit the user may see, or None."""
    found = _UNIT.rows(Unit.objects.restrict(user, "view"), unit=unit_id, day=today)
    if not found:
        return None
    pk, code, *project = found[0]
    desk = _desk(user, _UNIT_READS, pk, project, today, unit=DeskUnit(pk, code))
    desk.prepaid = [(DeskAccount(account, fee_item), balance)
                    for account, fee_item, balance in _PREPAID.rows(PrepaidAccount.objects.all(), unit=pk)]
    desk.occupants = [DeskOccupant(*row) for row in _OCCUPANTS.rows(Occupancy.objects.all(), unit=pk, day=today)]
    return desk


def customer_desk(user, customer_id, today):
    """The desk of a customer's own bills (no unit: parking spaces, charges bound to them), or None."""
    found = _CUSTOMER.rows(Customer.objects.restrict(user, "view"), customer=customer_id, day=today)
    if not found:
        return None
    pk, name, *project = found[0]
    return _desk(user, _CUSTOMER_READS, pk, project, today, customer=DeskCustomer(pk, name))


def _desk(user, reads, pk, project, today, **subject):
    project_id, project_name, company_id, payment_schemes = project
    desk = Desk(project=DeskProject(project_id, project_name, company_id), **subject)
    desk.groups = _groups(desk, reads.bills.rows(Bill.objects.restrict(user, "view"), subject=pk), today,
                          payment_schemes)
    desk.deposits = [DeskDeposit(*row) for row in reads.deposits.rows(Deposit.objects.all(), subject=pk)]
    desk.payments = _payments(reads.payments.rows(Payment.objects.restrict(user, "view"), subject=pk))
    desk.fee_items = _FEE_ITEMS.rows(FeeItem.objects.all(), company=company_id)
    return desk


def _groups(desk, rows, today, payment_schemes):
    """[(fee item, [bills])] with each bill's late fee and, where a payment-time scheme is in force in the project,
    the discount each earns when the bills are paid in full."""
    groups, fee_items = {}, {}
    for (pk, unit_id, kind, period_start, period_end, due_date, amount, parking_space, owed, discounted,
         *fee_item_row) in rows:
        fee_item = fee_items.get(fee_item_row[0])
        if fee_item is None:
            fee_item = fee_items[fee_item_row[0]] = DeskFeeItem(*fee_item_row)
        bill = DeskBill(pk, unit_id, fee_item, kind, period_start, period_end, due_date, amount, parking_space, owed,
                        discounted)
        bill.late_fee = bill_late_fee(bill, owed, today)
        groups.setdefault(fee_item, []).append(bill)
    if groups and payment_schemes:
        bills = [bill for bills in groups.values() for bill in bills]
        project = Project.objects.get(pk=desk.project.pk)
        grants = payment_grants(bills, {bill.pk: bill.outstanding for bill in bills}, today, project=project)
        for grant in grants:
            grant.bill.payment_discount = grant
    return list(groups.items())


def _payments(rows):
    return [DeskPayment(pk, receipt_number, received_at, amount, display_name or username, reversal_kind)
            for pk, receipt_number, received_at, amount, display_name, username, reversal_kind in rows]
