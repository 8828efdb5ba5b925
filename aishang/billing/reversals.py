"""Voids and refunds of payments (收款作废, 收款退款), refunds of prepaid balances (预存退款) and of deposits
(押金退还): what may be taken back, checked when a request is submitted and again when it is approved, and the
rows an approved request writes.

Nothing is edited. A void or refund writes ``PaymentReversal`` rows, negative allocations that reopen bills
(newest period first), movements that take prepaid credit back or return prepaid and deposit money that was
used, and one journal entry, all in the transaction of the last approval.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.core.money import format_money, money_totals

from .ledger import journal_post
from .models import (
    MONEY_IN_METHODS,
    Account,
    Allocation,
    ApprovalAction,
    Bill,
    Deposit,
    DepositMovement,
    DepositMovementKind,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PaymentSource,
    PrepaidAccount,
    PrepaidMovement,
    PrepaidMovementKind,
    ReversalKind,
)
from .payments import deposit_held, prepaid_account, prepaid_balance, receipt_sequences_lock

ZERO = Decimal("0")
_reversal_listeners = []


def on_payment_reversal(listener):
    """Call ``listener(payment=, reversals=, actor=)`` in the transaction of every approved void or refund: an upper
    app (payments: money back through the gateway) acts on it without billing importing that app."""
    if listener not in _reversal_listeners:
        _reversal_listeners.append(listener)


@dataclass
class PaymentPosition:
    """What a payment still stands for: per method tendered and taken back, per bill settled, per prepaid
    account credited or drawn on, per deposit collected or drawn on — each net of earlier reversals."""

    payment: Payment
    tendered: dict = field(default_factory=dict)
    reversed: dict = field(default_factory=dict)
    allocations: dict = field(default_factory=dict)
    prepaid: dict = field(default_factory=dict)
    deposits: dict = field(default_factory=dict)

    @property
    def reversed_total(self):
        return sum(self.reversed.values(), ZERO)

    @property
    def reversible(self):
        return self.payment.amount - self.reversed_total

    @property
    def is_voided(self):
        return self.payment.reversals.filter(kind=ReversalKind.VOID).exists()

    def still_tendered(self, method):
        return self.tendered.get(method, ZERO) - self.reversed.get(method, ZERO)


def payment_position(payment):
    payment_rows = {"payment": payment}
    reversal_rows = {"reversal__payment": payment}
    position = PaymentPosition(payment=payment)
    position.tendered = {method: total for (method,), total in
                         money_totals(payment.tenders.all(), ["method"]).items()}
    position.reversed = {method: total for (method,), total in
                         money_totals(payment.reversals.all(), ["method"]).items()}
    position.allocations = {bill: total for (bill,), total in
                            money_totals(Allocation.objects.filter(payment=payment), ["bill_id"]).items()}
    prepaid = defaultdict(Decimal)
    deposits = defaultdict(Decimal)
    for rows in (payment_rows, reversal_rows):
        for (account,), total in money_totals(PrepaidMovement.objects.filter(**rows), ["account_id"]).items():
            prepaid[account] += total
        for (deposit,), total in money_totals(DepositMovement.objects.filter(**rows), ["deposit_id"]).items():
            deposits[deposit] += total
    position.prepaid, position.deposits = dict(prepaid), dict(deposits)
    return position


@dataclass
class ReversalPlan:
    """The rows a void or refund will write: money out by method, and what each part takes back."""

    kind: str
    methods: dict = field(default_factory=dict)      # method -> amount, one reversal row each
    out: dict = field(default_factory=dict)          # money-in method -> amount paid back out
    bills: dict = field(default_factory=dict)        # bill id -> amount reopened
    prepaid: dict = field(default_factory=dict)      # account id -> movement (negative: credit taken back)
    deposits: dict = field(default_factory=dict)     # deposit id -> movement (negative: collection taken back)


def _bills_newest_first(position):
    ids = [bill for bill, amount in position.allocations.items() if amount > 0]
    bills = Bill.objects.filter(pk__in=ids).order_by("-period_start", "-pk").values_list("pk", flat=True)
    return [(pk, position.allocations[pk]) for pk in bills]


def _refuse_if_settled_elsewhere(position):
    if position.payment.source == PaymentSource.DEPOSIT:
        return _("押金请在押金管理中办理退还")
    if position.is_voided:
        return _("该收款已作废")
    if position.reversible <= 0:
        return _("该收款已全额退款")
    return None


def payment_void_plan(payment):
    """The whole payment taken back, each method returned what it brought; refused once anything was refunded,
    or when money it put into prepaid or a deposit has been used since."""
    position = payment_position(payment)
    if position.is_voided:
        raise ValidationError(_("该收款已作废"))
    if position.reversed:
        raise ValidationError(_("该收款已办理退款，不能再作废；如需全部退回请继续申请退款"))
    plan = ReversalPlan(kind=ReversalKind.VOID, methods=dict(position.tendered),
                        out={method: amount for method, amount in position.tendered.items()
                             if method in MONEY_IN_METHODS})
    plan.bills = {bill: -amount for bill, amount in position.allocations.items() if amount}
    for account in PrepaidAccount.objects.filter(pk__in=list(position.prepaid)):
        movement = position.prepaid[account.pk]
        if movement > 0 and prepaid_balance(account) < movement:
            raise ValidationError(_("该收款存入预存的 %(amount)s 已被使用，不能作废")
                                  % {"amount": format_money(movement)})
        plan.prepaid[account.pk] = -movement
    for deposit in Deposit.objects.filter(pk__in=list(position.deposits)):
        movement = position.deposits[deposit.pk]
        if movement > 0 and deposit_held(deposit) < movement:
            raise ValidationError(_("该笔押金已冲抵或退还，不能作废"))
        plan.deposits[deposit.pk] = -movement
    return plan


def payment_refund_plan(payment, *, amount, method):
    """Refund ``amount`` to ``method``: one of the payment's own methods, or 预存冲抵 (back to the prepaid it drew
    on, or else into the unit's general prepaid). Unused prepaid credit goes back first, then bills reopen
    newest period first."""
    position = payment_position(payment)
    refusal = _refuse_if_settled_elsewhere(position)
    if refusal:
        raise ValidationError(refusal)
    if amount > position.reversible:
        raise ValidationError({"amount": _("该收款最多可退 %(amount)s")
                               % {"amount": format_money(position.reversible)}})
    if method not in PaymentMethod.values:
        raise ValidationError({"refund_method": _("请选择退款方式")})
    draws_on = method in (PaymentMethod.PREPAID, PaymentMethod.DEPOSIT) and method in position.tendered
    if method in MONEY_IN_METHODS or draws_on:
        if method not in position.tendered:
            raise ValidationError({"refund_method": _("该收款未使用「%(method)s」，请原路退回或退回预存")
                                   % {"method": PaymentMethod(method).label}})
        limit = position.still_tendered(method)
        if amount > limit:
            raise ValidationError({"amount": _("经「%(method)s」最多可退 %(amount)s")
                                   % {"method": PaymentMethod(method).label, "amount": format_money(limit)}})
    elif method == PaymentMethod.DEPOSIT:
        raise ValidationError({"refund_method": _("该收款未使用押金冲抵，不能退回押金")})
    elif payment.unit_id is None:
        raise ValidationError({"refund_method": _("没有房屋的收款不能退回预存")})

    plan = ReversalPlan(kind=ReversalKind.REFUND, methods={method: amount},
                        out={method: amount} if method in MONEY_IN_METHODS else {})
    rest = amount
    if method != PaymentMethod.PREPAID:
        for account in PrepaidAccount.objects.filter(pk__in=[pk for pk, m in position.prepaid.items() if m > 0]):
            taken = min(rest, position.prepaid[account.pk], max(prepaid_balance(account), ZERO))
            if taken > 0:
                plan.prepaid[account.pk] = -taken
                rest -= taken
    for bill, settled in _bills_newest_first(position):
        if rest <= 0:
            break
        taken = min(rest, settled)
        plan.bills[bill] = -taken
        rest -= taken
    if rest > 0:
        raise ValidationError({"amount": _("该收款存入预存的金额已被使用，最多可退 %(amount)s")
                               % {"amount": format_money(amount - rest)}})
    return plan


def _returns(position, plan, method, amount):
    """Where money refunded to prepaid or to a deposit goes: what the payment drew on, or the general prepaid."""
    if method == PaymentMethod.PREPAID:
        drawn = [(pk, -movement) for pk, movement in position.prepaid.items() if movement < 0]
        if not drawn:
            account = prepaid_account(position.payment.unit, None, lock=True)
            plan.prepaid[account.pk] = plan.prepaid.get(account.pk, ZERO) + amount
            return
        for pk, unreturned in drawn:
            part = min(amount, unreturned)
            plan.prepaid[pk] = plan.prepaid.get(pk, ZERO) + part
            amount -= part
    elif method == PaymentMethod.DEPOSIT:
        for pk, movement in position.deposits.items():
            part = min(amount, -movement) if movement < 0 else ZERO
            if part > 0:
                plan.deposits[pk] = plan.deposits.get(pk, ZERO) + part
                amount -= part


def payment_reversal_apply(request, *, actor):
    """Write the approved void or refund of ``request.payment``, checked again under locks."""
    payment = Payment.objects.select_for_update().get(pk=request.payment_id)
    bill_ids = list(Allocation.objects.filter(payment=payment).values_list("bill_id", flat=True).distinct())
    list(Bill.objects.select_for_update().filter(pk__in=bill_ids).order_by("pk").values_list("pk"))
    receipt_sequences_lock(payment.company_id)
    now = timezone.now()  # stamped under the lock a 日结 waits for
    if request.action == ApprovalAction.PAYMENT_VOID:
        plan = payment_void_plan(payment)  # the void's movements return what the payment drew on
    else:
        plan = payment_refund_plan(payment, amount=request.amount, method=request.refund_method)
        if request.refund_method in (PaymentMethod.PREPAID, PaymentMethod.DEPOSIT):
            _returns(payment_position(payment), plan, request.refund_method, request.amount)
    reversals = PaymentReversal.objects.bulk_create([
        PaymentReversal(project_id=payment.project_id, payment=payment, kind=plan.kind, request=request,
                        amount=amount, method=method, created_at=now, created_by=actor)
        for method, amount in plan.methods.items() if amount
    ])
    first = reversals[0]
    bills = {bill.pk: bill for bill in Bill.objects.filter(pk__in=list(plan.bills)).select_related("fee_item")}
    Allocation.objects.bulk_create([
        Allocation(project_id=payment.project_id, payment=payment, bill_id=bill, amount=amount, reversal=first,
                   created_at=now)
        for bill, amount in plan.bills.items() if amount
    ])
    PrepaidMovement.objects.bulk_create([
        PrepaidMovement(project_id=payment.project_id, account_id=account, kind=PrepaidMovementKind.REVERSAL,
                        amount=amount, reversal=first, created_at=now, created_by=actor)
        for account, amount in plan.prepaid.items() if amount
    ])
    DepositMovement.objects.bulk_create([
        DepositMovement(project_id=payment.project_id, deposit_id=deposit, kind=DepositMovementKind.REVERSAL,
                        amount=amount, reversal=first, created_at=now, created_by=actor)
        for deposit, amount in plan.deposits.items() if amount
    ])
    reopened = defaultdict(Decimal)
    for bill, amount in plan.bills.items():
        reopened[bills[bill].fee_item] -= amount
    label = _("作废") if plan.kind == ReversalKind.VOID else _("退款")
    journal_post(project=payment.project, event=f"payment_{plan.kind}", actor=actor,
                 memo=f"{label} {payment.receipt_number}",
                 lines=[*[(Account.RECEIVABLE, fee_item, amount, "") for fee_item, amount in reopened.items()],
                        (Account.PREPAID, None, -sum(plan.prepaid.values(), ZERO), ""),
                        (Account.DEPOSIT, None, -sum(plan.deposits.values(), ZERO), ""),
                        *[(Account.CASH, None, -amount, method) for method, amount in plan.out.items()]])
    for listener in _reversal_listeners:
        listener(payment=payment, reversals=reversals, actor=actor)
    return reversals


def balance_refund_check(*, subject, amount, method):
    """预存退款 / 押金退还: ``amount`` no more than the balance, paid out by a method that moves real money."""
    if method not in MONEY_IN_METHODS:
        raise ValidationError({"refund_method": _("请选择退款方式（现金、刷卡、微信、支付宝或银行转账）")})
    held = prepaid_balance(subject) if isinstance(subject, PrepaidAccount) else deposit_held(subject)
    if amount > held:
        message = _("预存余额只有 %(amount)s") if isinstance(subject, PrepaidAccount) else _("押金余额只有 %(amount)s")
        raise ValidationError({"amount": message % {"amount": format_money(held)}})


def balance_refund_apply(request, *, actor):
    """Pay an approved 预存退款 or 押金退还 out of the balance, checked again under lock."""
    if request.prepaid_account_id:
        account = PrepaidAccount.objects.select_for_update().get(pk=request.prepaid_account_id)
        receipt_sequences_lock(request.company_id)
        now = timezone.now()  # stamped under the lock a 日结 waits for
        balance_refund_check(subject=account, amount=request.amount, method=request.refund_method)
        PrepaidMovement.objects.create(project_id=account.project_id, account=account, kind=PrepaidMovementKind.REFUND,
                                       amount=-request.amount, request=request, created_at=now, created_by=actor)
        project, account_code, memo = account.project, Account.PREPAID, _("预存退款 %(unit)s") % {"unit": account.unit}
    else:
        deposit = Deposit.objects.select_for_update().get(pk=request.deposit_id)
        receipt_sequences_lock(request.company_id)
        now = timezone.now()
        balance_refund_check(subject=deposit, amount=request.amount, method=request.refund_method)
        DepositMovement.objects.create(project_id=deposit.project_id, deposit=deposit, kind=DepositMovementKind.REFUND,
                                       amount=-request.amount, request=request, created_at=now, created_by=actor)
        project, account_code, memo = deposit.project, Account.DEPOSIT, _("押金退还 %(deposit)s") % {"deposit": deposit}
    journal_post(project=project, event="balance_refund", actor=actor, memo=memo[:200], lines=[
        (account_code, None, request.amount, ""),
        (Account.CASH, None, -request.amount, request.refund_method),
    ])

