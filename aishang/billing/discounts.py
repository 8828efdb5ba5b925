"""优惠方案: who qualifies, how much a scheme takes off a bill, and granting it as correction rows.

A discount never edits the bill: it is a ``BillDiscount`` row plus a journal entry (优惠 debit,
应收 credit), written in the transaction that creates the bill or, for a run, after its bills.
A bill gets at most the one scheme that takes most off it.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from aishang.core.money import quantize_amount
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Occupancy

from .balances import bills_with_outstanding
from .ledger import journal_post
from .models import (
    Account,
    Allocation,
    Bill,
    BillDiscount,
    BillVoid,
    DiscountKind,
    DiscountScheme,
    DiscountTiming,
    Waiver,
)

CHUNK = 5000


@dataclass(frozen=True)
class Grant:
    bill: Bill
    scheme: DiscountScheme
    amount: Decimal
    computation: str


def schemes_in_force_queryset(*, company_id, project_id, day, timing=DiscountTiming.BILLING):
    return DiscountScheme.objects.filter(
        Q(project__isnull=True) | Q(project_id=project_id), Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        company_id=company_id, is_active=True, timing=timing, valid_from__lte=day,
    ).order_by("company_id", "name")  # the model's order, without a join


def schemes_in_force(project, day, *, timing=DiscountTiming.BILLING):
    return list(schemes_in_force_queryset(company_id=project.company_id, project_id=project.pk, day=day,
                                          timing=timing).prefetch_related("fee_items", "units"))


def eligible_units(scheme, project, day, *, among=None):
    """The ids of the project's units that qualify on a day, or None when the scheme does not limit units.

    ``among``: only these unit ids are asked about (a payment's units), so a large project is not read whole;
    the answer says nothing of other units.
    """
    eligible = None

    def narrow(ids):
        nonlocal eligible
        eligible = set(ids) if eligible is None else eligible & set(ids)

    picked = [unit.pk for unit in scheme.units.all()]
    if picked:
        narrow(picked)
    if scheme.customer_tag or scheme.customer_field:
        occupancies = Occupancy.objects.current(day).filter(unit__project=project,
                                                            role__in=[OccupancyRole.OWNER, OccupancyRole.TENANT])
        if among is not None:
            occupancies = occupancies.filter(unit_id__in=among)
        if scheme.customer_field:
            occupancies = occupancies.filter(**{
                f"customer__custom_field_data__{scheme.customer_field}": scheme.customer_field_value})
        # Tags are a JSON list; SQLite has no JSON containment, so they are matched here.
        narrow(unit_id for unit_id, tags in occupancies.values_list("unit_id", "customer__tags")
               if not scheme.customer_tag or scheme.customer_tag in (tags or []))
    if scheme.on_time_months:
        narrow(_units_paying_on_time(project, day, scheme.on_time_months, among=among))
    return eligible


def _units_paying_on_time(project, day, months, *, among=None):
    """Units with bills due in the last ``months`` months, each settled by its due date: none still owes
    anything, and no payment reached any of them after the day it was due."""
    due = Bill.objects.filter(project=project, unit__isnull=False, due_date__gte=_months_before(day, months),
                              due_date__lt=day)
    if among is not None:
        due = due.filter(unit_id__in=among)
    owing = bills_with_outstanding(due).filter(outstanding__gt=0).values_list("unit_id", flat=True)
    late = (Allocation.objects.filter(bill__in=due, amount__gt=0, created_at__date__gt=F("bill__due_date"))
            .values_list("bill__unit_id", flat=True))
    return set(due.values_list("unit_id", flat=True)) - set(owing) - set(late)


def _months_before(day, months):
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, 1)


def discount_amount(scheme, bill_amount, fee_item):
    """(amount, computation) a percent or amount-off scheme takes off one bill; free periods are for 预缴 only."""
    if scheme.kind == DiscountKind.PERCENT:
        exact = Fraction(bill_amount) * (1 - Fraction(scheme.rate))
        amount = quantize_amount(exact, precision=fee_item.precision, rounding=fee_item.rounding)
        text = _("%(name)s：%(amount)s × (1 − %(rate)s) = %(result)s") % {
            "name": scheme.name, "amount": bill_amount, "rate": scheme.rate.normalize(), "result": amount}
        return amount, text
    if scheme.kind == DiscountKind.AMOUNT:
        amount = min(scheme.amount, bill_amount)
        return amount, _("%(name)s：立减 %(amount)s") % {"name": scheme.name, "amount": amount}
    return Decimal("0"), ""


@dataclass(frozen=True)
class Offer:
    """A scheme in force with who it is for, worked out once and applied to any number of bills."""

    scheme: DiscountScheme
    units: set | None  # None: any unit
    fee_item_ids: frozenset  # empty: any fee item

    def covers(self, bill):
        return ((self.units is None or bill.unit_id in self.units)
                and (not self.fee_item_ids or bill.fee_item_id in self.fee_item_ids))


def offers_in_force(project, day, *, timing=DiscountTiming.BILLING, among=None):
    return [Offer(scheme, eligible_units(scheme, project, day, among=among),
                  frozenset(item.pk for item in scheme.fee_items.all()))
            for scheme in schemes_in_force(project, day, timing=timing)]


def payment_grants(bills, owed, day, *, project=None):
    """The payment-time schemes (缴费时优惠) the chosen bills earn when paid in full on ``day``, as unsaved grants.

    A bill that already has a discount gets none (one scheme per bill); no grant takes off more than the bill
    still owes. 预缴满期赠送 counts the chosen bills of each fee item: paying 12 months of a 预交 12 送 1 scheme
    makes the last of them free. ``project``: the bills' project, where they do not carry it (the desk's rows).
    """
    bills = [bill for bill in bills if owed.get(bill.pk, 0) > 0]
    if not bills:
        return []
    offers = offers_in_force(project or bills[0].project, day, timing=DiscountTiming.PAYMENT,
                             among={bill.unit_id for bill in bills if bill.unit_id})
    if not offers:
        return []
    discounted = set(BillDiscount.objects.filter(bill_id__in=[bill.pk for bill in bills])
                     .values_list("bill_id", flat=True))
    bills = [bill for bill in bills if bill.pk not in discounted]
    by_fee_item = defaultdict(list)
    for bill in sorted(bills, key=lambda bill: (bill.period_start, bill.pk)):
        by_fee_item[bill.fee_item_id].append(bill)
    best = {}
    for group in by_fee_item.values():
        for grant in best_grants(group, offers, prepaid_periods=group):
            amount = min(grant.amount, owed[grant.bill.pk])
            if grant.bill.pk not in best or amount > best[grant.bill.pk].amount:
                best[grant.bill.pk] = Grant(grant.bill, grant.scheme, amount, grant.computation)
    return list(best.values())


def best_grants(bills, offers, *, prepaid_periods=None):
    """The best billing-time scheme for each bill, as unsaved grants.

    ``prepaid_periods``: bills of one 预缴 in period order; a 预缴满期赠送 scheme then gives the last
    periods free (预交 12 个月送 1 个月: 12 periods billed, the 12th free; 24 billed, the last two free).
    """
    best = {}

    def offer(bill, scheme, amount, text):
        if amount > 0 and (bill.pk not in best or amount > best[bill.pk].amount):
            best[bill.pk] = Grant(bill, scheme, amount, text)

    for candidate in offers:
        scheme = candidate.scheme
        if scheme.kind == DiscountKind.FREE_PERIODS:
            if not prepaid_periods or len(prepaid_periods) < scheme.min_periods:
                continue
            free = scheme.free_periods * (len(prepaid_periods) // scheme.min_periods)
            for bill in prepaid_periods[-free:]:
                if candidate.covers(bill):
                    offer(bill, scheme, bill.amount, _("%(name)s：预缴 %(count)s 期，本期赠送") % {
                        "name": scheme.name, "count": len(prepaid_periods)})
            continue
        for bill in bills:
            if candidate.covers(bill):
                offer(bill, scheme, *discount_amount(scheme, bill.amount, bill.fee_item))
    return list(best.values())


def grants_post(grants, *, project, actor=None, memo=""):
    """Write the discount rows and one journal entry per fee item: 优惠 debit, 应收 credit."""
    if not grants:
        return []
    rows = BillDiscount.objects.bulk_create([
        BillDiscount(project=project, bill=grant.bill, scheme=grant.scheme, amount=grant.amount,
                     computation=grant.computation[:200])
        for grant in grants])
    by_fee_item, fee_items = defaultdict(Decimal), {}
    for grant in grants:
        by_fee_item[grant.bill.fee_item_id] += grant.amount
        fee_items[grant.bill.fee_item_id] = grant.bill.fee_item
    for fee_item_id, amount in by_fee_item.items():
        journal_post(project=project, event="discount_granted", actor=actor,
                     memo=memo or _("优惠 %(item)s") % {"item": fee_items[fee_item_id].name},
                     lines=[(Account.DISCOUNT, fee_items[fee_item_id], amount),
                            (Account.RECEIVABLE, fee_items[fee_item_id], -amount)])
    return rows


def run_discounts_grant(run, *, actor=None):
    """Grant billing-time discounts to a run's bills that have none yet; safe to run again after a crash."""
    offers = offers_in_force(run.project, run.period_month)
    if not offers:
        return 0
    bills = (Bill.objects.filter(run=run, discounts__isnull=True).exclude(pk__in=Waiver.objects.values("bill_id"))
             .exclude(pk__in=BillVoid.objects.values("bill_id")).select_related("fee_item").order_by("pk"))
    granted, last_pk = 0, 0
    while chunk := list(bills.filter(pk__gt=last_pk)[:CHUNK]):
        last_pk = chunk[-1].pk
        with transaction.atomic():
            grants = best_grants(chunk, offers)
            grants_post(grants, project=run.project, actor=actor,
                        memo=_("出账优惠 %(month)s") % {"month": run.period_month.strftime("%Y-%m")})
        granted += len(grants)
    return granted
