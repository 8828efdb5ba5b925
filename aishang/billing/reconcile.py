"""Reconciliation: a trial balance of the journal plus the receivable control check (DESIGN.md, "The ledger").

The sub-ledger side is a list of terms, each (project, fee item, month) → signed Decimal: bills today,
waivers and voids when their models exist, payment allocations when the cashier adds them.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from aishang.core.money import money_total, money_totals

from . import models as billing_models
from .models import Account, Bill, DepositMovement, FeeItem, JournalEntry, Posting, PrepaidMovement

ZERO = Decimal("0.00")


def _bills(project, fee_item=None, month=None):
    bills = Bill.objects.filter(project=project)
    if fee_item is not None:
        bills = bills.filter(fee_item=fee_item)
    if month is not None:
        bills = bills.filter(period_start__year=month.year, period_start__month=month.month)
    return bills


def _correction_model(name):
    return getattr(billing_models, name, None)


def _has_field(model, name):
    return any(f.name == name for f in model._meta.get_fields())


def _correction_rows(model_name, bills):
    """The correction rows of ``model_name`` that point at ``bills``, or None while the model does not exist."""
    model = _correction_model(model_name)
    if model is None or not _has_field(model, "bill"):
        return None
    return model.objects.filter(bill__in=bills)


def corrections_by_bill(model_name, bills):
    """bill id → amount taken off it; a correction without an amount (a void) takes the whole bill."""
    rows = _correction_rows(model_name, bills)
    if rows is None:
        return {}
    if _has_field(rows.model, "amount"):
        return {key[0]: total for key, total in money_totals(rows, ["bill_id"]).items()}
    return {key[0]: total for key, total in money_totals(bills.filter(pk__in=rows.values("bill_id")), ["pk"]).items()}


def _correction_total(model_name, bills):
    return sum(corrections_by_bill(model_name, bills).values(), ZERO)


def billed(project, fee_item, month=None):
    return money_total(_bills(project, fee_item, month))


def discounted(project, fee_item, month=None):
    return _correction_total("BillDiscount", _bills(project, fee_item, month))


def waived(project, fee_item, month=None):
    return _correction_total("Waiver", _bills(project, fee_item, month))


def voided(project, fee_item, month=None):
    return _correction_total("BillVoid", _bills(project, fee_item, month))


def paid(project, fee_item, month=None):
    return _correction_total("Allocation", _bills(project, fee_item, month))


@dataclass(frozen=True)
class Term:
    name: str
    sign: int
    amount: callable
    correction_model: str | None = None


# outstanding = Σ sign × term. A new kind of correction or payment is one more line here.
SUBLEDGER_TERMS = [
    Term("billed", 1, billed),
    Term("discounted", -1, discounted, "BillDiscount"),
    Term("waived", -1, waived, "Waiver"),
    Term("voided", -1, voided, "BillVoid"),
    Term("paid", -1, paid, "Allocation"),
]


def subledger_outstanding(project, fee_item, month=None):
    return sum((term.sign * term.amount(project, fee_item, month) for term in SUBLEDGER_TERMS), ZERO)


@dataclass
class ControlRow:
    project: object
    fee_item: object
    ledger: Decimal
    subledger: Decimal

    @property
    def difference(self):
        return self.ledger - self.subledger


@dataclass
class UnbalancedEntry:
    entry: JournalEntry
    total: Decimal


@dataclass
class PeriodRow:
    """billed − discounted − waived − voided = outstanding + paid for one project and month, bill by bill."""

    project: object
    month: datetime.date
    amounts: dict
    outstanding: Decimal

    @property
    def difference(self):
        signed = sum((term.sign * self.amounts[term.name] for term in SUBLEDGER_TERMS), ZERO)
        return signed - self.outstanding


@dataclass
class BalanceRow:
    """A project's prepaid or deposit control account (a credit balance, shown positive) against the sum of the
    movements of its prepaid accounts or deposits."""

    project: object
    ledger: Decimal
    subledger: Decimal

    @property
    def difference(self):
        return self.ledger - self.subledger


@dataclass
class Report:
    unbalanced: list = field(default_factory=list)
    control: list = field(default_factory=list)
    periods: list = field(default_factory=list)
    prepaid: list = field(default_factory=list)
    deposit: list = field(default_factory=list)

    @property
    def differences(self):
        return ([row.total for row in self.unbalanced] + [row.difference for row in self.control if row.difference]
                + [row.difference for row in self.periods if row.difference]
                + [row.difference for row in self.prepaid + self.deposit if row.difference])

    @property
    def is_clean(self):
        return not self.differences

    @property
    def total_difference(self):
        return sum((abs(amount) for amount in self.differences), ZERO)


def unbalanced_entries(projects):
    totals = money_totals(Posting.objects.filter(entry__project__in=projects), ["entry_id"])
    ids = {entry_id: total for (entry_id,), total in totals.items() if total != 0}
    entries = JournalEntry.objects.filter(pk__in=ids).select_related("project").order_by("pk")
    return [UnbalancedEntry(entry, ids[entry.pk]) for entry in entries]


def control_rows(projects):
    ledger = money_totals(Posting.objects.filter(project__in=projects, account=Account.RECEIVABLE),
                       ["project_id", "fee_item_id"])
    pairs = set(ledger) | set(Bill.objects.filter(project__in=projects).order_by()
                              .values_list("project_id", "fee_item_id").distinct())
    by_id = {project.pk: project for project in projects}
    fee_items = FeeItem.objects.in_bulk({fee_item_id for _project, fee_item_id in pairs if fee_item_id})
    rows = []
    for project_id, fee_item_id in pairs:
        project, fee_item = by_id[project_id], fee_items.get(fee_item_id)
        subledger = subledger_outstanding(project, fee_item) if fee_item is not None else ZERO
        rows.append(ControlRow(project, fee_item, ledger.get((project_id, fee_item_id), ZERO), subledger))
    rows.sort(key=lambda row: (row.project.code, row.fee_item.code if row.fee_item else ""))
    return rows


def balance_rows(projects, account, movement_model):
    ledger = money_totals(Posting.objects.filter(project__in=projects, account=account), ["project_id"])
    movements = money_totals(movement_model.objects.filter(project__in=projects), ["project_id"])
    return [BalanceRow(project, -ledger.get((project.pk,), ZERO), movements.get((project.pk,), ZERO))
            for project in projects if (project.pk,) in ledger or (project.pk,) in movements]


def _months(project, month):
    if month is not None:
        return [month]
    return list(Bill.objects.filter(project=project).dates("period_start", "month"))


def period_rows(projects, month=None):
    rows = []
    for project in projects:
        for first_day in _months(project, month):
            bills = _bills(project, month=first_day)
            amounts = {term.name: term.amount(project, None, first_day) for term in SUBLEDGER_TERMS}
            rows.append(PeriodRow(project, first_day, amounts, _outstanding(bills)))
    return rows


def _outstanding(bills):
    """Σ per bill of what is still owed; a bill corrected or paid beyond its amount owes nothing, not less."""
    taken = defaultdict(Decimal)
    for term in SUBLEDGER_TERMS:
        if term.correction_model:
            for bill_id, amount in corrections_by_bill(term.correction_model, bills).items():
                taken[bill_id] += amount
    total = money_total(bills)
    if taken:
        amounts = dict(bills.filter(pk__in=list(taken)).values_list("pk", "amount"))
        total -= sum((min(amounts[bill_id], amount) for bill_id, amount in taken.items()), ZERO)
    return total


def reconcile(projects, *, month=None):
    projects = list(projects)
    return Report(unbalanced=unbalanced_entries(projects), control=control_rows(projects),
                  periods=period_rows(projects, month),
                  prepaid=balance_rows(projects, Account.PREPAID, PrepaidMovement),
                  deposit=balance_rows(projects, Account.DEPOSIT, DepositMovement))


def result_line(report):
    if report.is_clean:
        return _("对账结果：一致")
    return _("对账结果：差额 ¥%(amount)s（%(count)s 处）") % {"amount": report.total_difference,
                                                           "count": len(report.differences)}
