"""日结: a cashier's shift summed by method, the cash to hand over, and the close that ends the shift.

A shift is what a cashier collected (payments whose ``cashier`` they are) and the voids and refunds they
approved last (``PaymentReversal.created_by``) after their previous close, up to now. A close is insert-only
and the next shift starts where it ended, so a closed shift's payments are corrected only by reversals,
which fall into the shift open when they are approved.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.core.money import format_money, money_total, money_totals
from aishang.users.models import User

from .models import (
    MONEY_IN_METHODS,
    DepositMovement,
    DepositMovementKind,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PaymentTender,
    PrepaidMovement,
    PrepaidMovementKind,
    ShiftClose,
)
from .payments import receipt_sequences_lock

CENT = Decimal("0.01")
# The cashier role may view closes, its own; 查看全部收银员日结 (财务, 管理员) sees every cashier's shifts and closes
# within scope (ADR 0018).
ALL_CASHIERS_PERMISSION = "billing.view_all_shifts"


@dataclass(frozen=True)
class MethodLine:
    """Money by one method: payments in (tender amounts) or reversals out."""

    method: str
    count: int
    amount: Decimal

    @property
    def label(self):
        return PaymentMethod(self.method).label if self.method in PaymentMethod.values else self.method

    @property
    def brings_money_in(self):
        return self.method in MONEY_IN_METHODS


@dataclass(frozen=True)
class ShiftSummary:
    cashier: User
    period_start: datetime.datetime | None
    period_end: datetime.datetime
    payment_count: int
    total: Decimal
    methods: list[MethodLine]
    change_given: Decimal
    reversal_count: int
    reversals_total: Decimal
    reversals: list[MethodLine]

    def _amount(self, lines, method):
        return next((line.amount for line in lines if line.method == method), Decimal("0.00"))

    @property
    def cash_in(self):
        """Cash kept from payments: what payers handed over less the change given back."""
        return self._amount(self.methods, PaymentMethod.CASH)

    @property
    def cash_tendered(self):
        return self.cash_in + self.change_given

    @property
    def cash_refunded(self):
        return self._amount(self.reversals, PaymentMethod.CASH)

    @property
    def cash_expected(self):
        return self.cash_in - self.cash_refunded

    @property
    def money_in(self):
        """New money collected (prepaid and deposit offsets move money already held)."""
        return sum((line.amount for line in self.methods if line.brings_money_in), Decimal("0.00"))

    @property
    def totals_by_method(self):
        return {line.method: f"{line.amount:.2f}" for line in self.methods}

    @property
    def is_empty(self):
        return not self.payment_count and not self.reversal_count


def _in_period(queryset, field, start, end):
    queryset = queryset.filter(**{f"{field}__lte": end})
    return queryset.filter(**{f"{field}__gt": start}) if start is not None else queryset


def _method_lines(queryset, count_field):
    amounts = money_totals(queryset, ["method"])
    counts = dict(queryset.order_by().values_list("method").annotate(n=Count(count_field, distinct=True)))
    order = {method: index for index, method in enumerate(PaymentMethod.values)}
    return [MethodLine(method, counts.get(method, 0), amount)
            for (method,), amount in sorted(amounts.items(), key=lambda item: order.get(item[0][0], 99))]


def last_close(cashier):
    return ShiftClose.objects.filter(cashier=cashier).order_by("-period_end", "-pk").first()


def shift_payments(cashier, start, end):
    """The cashier's payments received after ``start`` (None: from the first) up to ``end``."""
    return _in_period(Payment.objects.filter(cashier=cashier), "received_at", start, end)


def shift_reversals(cashier, start, end):
    """Voids and refunds the cashier approved last (so handed the money back) in the period: one row per method
    the money went back by, all of one approved request."""
    return _in_period(PaymentReversal.objects.filter(created_by=cashier), "created_at", start, end)


def shift_balance_refunds(cashier, start, end):
    """预存退款 and 押金退还 the cashier approved last in the period: (prepaid movements, deposit movements), each
    negative, paid out by their request's refund method."""
    return tuple(_in_period(model.objects.filter(created_by=cashier, kind=model_kind.REFUND), "created_at", start, end)
                 for model, model_kind in ((PrepaidMovement, PrepaidMovementKind),
                                           (DepositMovement, DepositMovementKind)))


def _money_out(cashier, start, end):
    """(lines by method, requests, total) of the money the cashier handed back in the period."""
    amounts, requests = defaultdict(Decimal), defaultdict(set)
    reversals = shift_reversals(cashier, start, end)
    sources = [(reversals, "method", 1)] + [(movements, "request__refund_method", -1)
                                            for movements in shift_balance_refunds(cashier, start, end)]
    for rows, method_field, sign in sources:
        for (method,), amount in money_totals(rows, [method_field]).items():
            amounts[method] += sign * amount
        for method, request in rows.order_by().values_list(method_field, "request").distinct():
            requests[method].add(request)
    order = {method: index for index, method in enumerate(PaymentMethod.values)}
    lines = [MethodLine(method, len(requests[method]), amount)
             for method, amount in sorted(amounts.items(), key=lambda item: order.get(item[0], 99))]
    return lines, set().union(*requests.values()), sum(amounts.values(), Decimal(0))


def shift_figures(cashier, start, end):
    """The shift's sums, as a summary: payments and tenders by method, change given, money handed back by method
    (voids and refunds of payments, prepaid and deposit refunds)."""
    payments = shift_payments(cashier, start, end)
    tenders = PaymentTender.objects.filter(payment__in=payments)
    lines, requests, total_out = _money_out(cashier, start, end)
    return ShiftSummary(
        cashier=cashier, period_start=start, period_end=end, payment_count=payments.count(),
        total=money_total(payments), methods=_method_lines(tenders, "payment"),
        change_given=money_total(tenders.filter(method=PaymentMethod.CASH), "change"),
        reversal_count=len(requests), reversals_total=total_out, reversals=lines)


def shift_summary(cashier, until=None):
    """The open shift: what the cashier collected and handed back since the last close, up to ``until`` (now)."""
    previous = last_close(cashier)
    return shift_figures(cashier, previous.period_end if previous else None, until or timezone.now())


def close_figures(close):
    """A closed shift's detail (counts, change, reversals by method) for its slip; the stored totals stand."""
    return shift_figures(close.cashier, close.period_start, close.period_end)


# Who may see and close whose shift.


def may_see_all_cashiers(user):
    return user.is_superuser or (user.has_perm("billing.view_shiftclose") and user.has_perm(ALL_CASHIERS_PERMISSION))


def shift_cashiers(user):
    """Staff whose shifts the user may see and close: only themselves, or (财务) every colleague in scope."""
    if not user.is_authenticated:
        return User.objects.none()
    if may_see_all_cashiers(user):
        return User.objects.within_scope(user)
    return User.objects.filter(pk=user.pk)


def shift_cashier(user, cashier_id):
    """The staff member ``cashier_id`` if the user may see their shift, else None (the pages answer 404)."""
    if cashier_id in (None, ""):
        return user
    if not str(cashier_id).isdigit():
        return None
    return shift_cashiers(user).filter(pk=int(cashier_id)).first()


def cashiers_with_shifts(user):
    """For the 财务's picker: the colleagues in scope who have collected or closed a shift."""
    collected = Q(pk__in=Payment.objects.values("cashier")) | Q(pk__in=ShiftClose.objects.values("cashier"))
    return shift_cashiers(user).filter(collected).order_by("username")


def shift_close_queryset(user):
    """Closes the user may read: their own, or every cashier's within scope for 财务 and 管理员."""
    closes = ShiftClose.objects.restrict(user, "view")
    if not may_see_all_cashiers(user):
        closes = closes.filter(cashier=user)
    elif not user.is_superuser:
        closes = closes.filter(cashier__in=User.objects.within_scope(user))
    return closes.select_related("cashier", "closed_by")


# The close.


def _handed_over(value):
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"cash_handed_over": _("请输入实交现金金额")}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValidationError({"cash_handed_over": _("金额最多两位小数")})
    if amount < 0:
        raise ValidationError({"cash_handed_over": _("实交现金不能为负数")})
    if amount >= Decimal("1e12"):
        raise ValidationError({"cash_handed_over": _("金额过大")})
    return amount


def shift_close(*, cashier, cash_handed_over, note="", actor, seen_until=None):
    """Close the cashier's open shift now, with the cash handed over; returns the ``ShiftClose``.

    Refused (ValidationError, nothing written) for an empty shift, a bad amount, a difference between the cash
    expected and handed over without a note, a shift changed since ``seen_until`` (the summary the person
    checked), or an actor who may not close this cashier's shift.
    """
    amount = _handed_over(cash_handed_over)
    note = (note or "").strip()
    if not actor.has_perm("billing.add_shiftclose"):
        raise ValidationError(_("没有日结的权限"))
    if cashier.pk != actor.pk and not shift_cashiers(actor).filter(pk=cashier.pk).exists():
        raise ValidationError({"cashier": _("只能为自己日结；为其他收款人日结需要财务权限")})
    if not cashier.company_id:
        raise ValidationError({"cashier": _("该用户不属于任何企业")})
    with transaction.atomic():
        # Two closes of one cashier at once (two tabs, the page and the API): the second waits here, then finds
        # the first close and starts its shift where that one ended, so shifts never overlap. NO KEY UPDATE: a
        # payment being written for this cashier (a key-share lock on the user) is not blocked by it.
        User.objects.select_for_update(no_key=True).filter(pk=cashier.pk).first()
        receipt_sequences_lock(cashier.company_id)  # waits for payments and refunds in flight
        summary = shift_summary(cashier, timezone.now())
        if summary.is_empty:
            raise ValidationError(_("本班次还没有收款或退款，无需日结"))
        if seen_until is not None and (shift_payments(cashier, seen_until, summary.period_end).exists()
                                       or shift_reversals(cashier, seen_until, summary.period_end).exists()
                                       or any(rows.exists() for rows in
                                              shift_balance_refunds(cashier, seen_until, summary.period_end))):
            raise ValidationError(_("打开本页后又有新的收款或退款，请核对最新的汇总后重新提交"))
        difference = amount - summary.cash_expected
        if difference and not note:
            raise ValidationError({"note": _("实交现金与应交现金相差 %(difference)s，请填写说明")
                                   % {"difference": format_money(difference)}})
        return ShiftClose.objects.create(
            company_id=cashier.company_id, cashier=cashier, period_start=summary.period_start,
            period_end=summary.period_end, payment_count=summary.payment_count, total=summary.total,
            totals_by_method=summary.totals_by_method, reversals_total=summary.reversals_total,
            cash_expected=summary.cash_expected, cash_handed_over=amount, note=note,
            closed_at=summary.period_end, closed_by=actor)
