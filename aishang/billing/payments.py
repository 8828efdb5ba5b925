"""Payments at the cashier's desk: one payment, one or more methods, allocated to bills in one transaction.

The bills being paid are locked (``select_for_update``) before what they still owe is read, so two
cashiers paying the same bill at once cannot both allocate it: the second waits, then sees it paid (and
is refused) or pays only what remains. Receipt numbers come from a per-company, per-year row locked in
the same transaction, so they are gapless: a payment that rolls back gives its number back.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.core.money import money_total, money_totals
from aishang.estate.models import Unit

from .balances import bill_late_fee, bills_with_outstanding, earlier_open_bills
from .discounts import grants_post, payment_grants
from .ledger import journal_post
from .models import (
    MONEY_IN_METHODS,
    Account,
    Allocation,
    Bill,
    BillKind,
    Deposit,
    DepositMovement,
    DepositMovementKind,
    Payment,
    PaymentMethod,
    PaymentSource,
    PaymentTender,
    PrepaidAccount,
    PrepaidMovement,
    PrepaidMovementKind,
    ReceiptSequence,
)
from .notify import payment_notify_payer

CENT = Decimal("0.01")
OVERRIDE_ORDER_PERMISSION = "billing.override_payment_order"


@dataclass(frozen=True)
class Tender:
    """One method of a payment as the cashier enters it; ``tendered`` is the cash handed over, if more."""

    method: str
    amount: Decimal
    tendered: Decimal | None = None
    reference: str = ""
    deposit: int | None = None  # the deposit a 押金冲抵 draws on


def _money(value, field):
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("请输入金额")}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValidationError({field: _("金额最多两位小数")})
    return amount


def checked_tenders(tenders):
    checked, errors = [], {}
    for index, tender in enumerate(tenders):
        field = f"tenders[{index}]"
        if tender.method not in PaymentMethod.values:
            errors[field] = _("未知的收款方式")
            continue
        deposit = None
        if tender.method == PaymentMethod.DEPOSIT:
            try:
                deposit = int(tender.deposit)
            except (TypeError, ValueError):
                errors[field] = _("请选择要冲抵的押金")
                continue
        amount = _money(tender.amount, field)
        if amount <= 0:
            errors[field] = _("金额须大于 0")
            continue
        tendered = None
        if tender.tendered not in (None, ""):
            tendered = _money(tender.tendered, field)
            if tender.method != PaymentMethod.CASH:
                errors[field] = _("只有现金可以找零")
                continue
            if tendered < amount:
                errors[field] = _("实付不能少于收款金额")
                continue
        checked.append(Tender(tender.method, amount, tendered, tender.reference, deposit))
    if not checked and not errors:
        errors["tenders"] = _("请至少选择一种收款方式")
    if errors:
        raise ValidationError(errors)
    return checked


def receipt_sequences_lock(company_id):
    """Lock the company's receipt-number rows until the transaction ends.

    Payments stamp ``received_at``, and refunds their time, while holding this lock, so a 日结 that takes it
    waits for money in flight: none stamped before the close's end commits after the close has read its shift.
    Taken after the rows a payment or refund locks first (bills, prepaid accounts, deposits), never before.
    """
    list(ReceiptSequence.objects.select_for_update().filter(company_id=company_id).order_by("pk"))


def receipt_number_next(company, year):
    """The next receipt number of a company's year, e.g. SJ2026-000001; call inside the payment's transaction."""
    sequence = ReceiptSequence.objects.select_for_update().filter(company=company, year=year).first()
    if sequence is None:
        try:
            with transaction.atomic():
                ReceiptSequence.objects.create(company=company, year=year)
        except IntegrityError:
            pass  # Another payment created the year's row first; lock that one.
        sequence = ReceiptSequence.objects.select_for_update().get(company=company, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"SJ{year}-{sequence.last_number:06d}"


def prepaid_account(unit, fee_item=None, *, lock=False):
    """The unit's prepaid account (general, or for one fee item), created empty when missing."""
    accounts = PrepaidAccount.objects.select_for_update() if lock else PrepaidAccount.objects
    account = accounts.filter(unit=unit, fee_item=fee_item).order_by("pk").first()
    if account is None:
        try:
            with transaction.atomic():
                account = PrepaidAccount.objects.create(project_id=unit.project_id, unit=unit, fee_item=fee_item)
        except IntegrityError:
            account = accounts.get(unit=unit, fee_item=fee_item)
    return account


def prepaid_balance(account):
    return money_total(PrepaidMovement.objects.filter(account=account))


def deposit_held(deposit):
    """What a deposit still holds: the sum of its movements."""
    return money_total(DepositMovement.objects.filter(deposit=deposit))


def _deposits_used(tenders, *, project, unit, payer):
    """[(deposit, amount)] drawn by 押金冲抵 tenders, each deposit locked and checked to hold enough."""
    wanted = defaultdict(Decimal)
    for tender in tenders:
        if tender.method == PaymentMethod.DEPOSIT:
            wanted[tender.deposit] += tender.amount
    if not wanted:
        return []
    deposits = {deposit.pk: deposit for deposit in
                Deposit.objects.select_for_update().filter(pk__in=list(wanted), project=project).order_by("pk")}
    used = []
    for deposit_id, amount in wanted.items():
        deposit = deposits.get(deposit_id)
        belongs = deposit is not None and (deposit.unit_id == getattr(unit, "pk", None) if deposit.unit_id
                                           else deposit.customer_id == getattr(payer, "pk", None))
        if not belongs:
            raise ValidationError({"tenders": _("押金不存在或不属于该房屋")})
        held = deposit_held(deposit)
        if held < amount:
            raise ValidationError({"tenders": _("押金「%(kind)s」余额不足，当前余额 %(held)s 元")
                                   % {"kind": deposit.kind, "held": held}})
        used.append((deposit, amount))
    return used


def _late_fee_bills(bills, owed, day, *, actor):
    """滞纳金 collected with a payment (at the desk or online): for each chosen overdue bill paid in full, a late-fee
    bill of the fee accrued on what it owes up to ``day``, posted (应收/收入) in the payment's transaction."""
    created, accrued = [], defaultdict(Decimal)
    for bill in bills:
        fee = bill_late_fee(bill, owed[bill.pk], day)
        if fee is None or fee.amount <= 0:
            continue
        created.append(Bill(project_id=bill.project_id, unit_id=bill.unit_id, parking_space_id=bill.parking_space_id,
                            payer_id=bill.payer_id, fee_item=bill.fee_item, kind=BillKind.LATE_FEE,
                            period_start=bill.period_start, period_end=bill.period_end, due_date=day,
                            amount=fee.amount, computation=fee.text))
        accrued[bill.fee_item] += fee.amount
    if not created:
        return []
    created = Bill.objects.bulk_create(created)
    project = bills[0].project
    for fee_item, amount in accrued.items():
        journal_post(project=project, event="late_fee_accrued", actor=actor,
                     memo=_("缴费时收取滞纳金 %(item)s") % {"item": fee_item.name},
                     lines=[(Account.RECEIVABLE, fee_item, amount), (Account.REVENUE, fee_item, -amount)])
    return created


def payment_collect(*, project, bill_ids, tenders, actor, unit=None, payer=None, override_reason="", note="",
                    prepaid_from=None, prepaid_to=None, collect_late_fees=False, late_fees_as_of=None,
                    source=PaymentSource.DESK):
    """Collect one payment for the chosen bills; what is paid beyond them goes to the unit's prepaid.

    Bills are settled oldest period first; a bill paid in part stays open for the rest. 预存冲抵 draws on
    the unit's general prepaid, or on the account restricted to ``prepaid_from`` (a fee item; then every
    bill must be of it); the remainder goes to the general account, or to the one of ``prepaid_to``
    (with no bills, the payment is a top-up). A payment that settles every chosen bill earns the
    payment-time discounts in force (缴费时优惠); with ``collect_late_fees`` it also settles the 滞纳金 of
    its overdue bills, raised as late-fee bills (accrued up to ``late_fees_as_of``, by default today: an online
    order collects what it quoted). Raises ValidationError, with nothing written, for bad
    input, bills already paid, or a later bill chosen while an earlier one of the same fee item is open
    (unless the actor may override it, with a reason).

    An online payment (``source`` 线上支付) has no cashier: ``actor`` is None and the payment names none. Its
    earliest-first rule was checked when the owner's order was made; the money has arrived since, so it is booked.
    """
    tenders = checked_tenders(tenders)
    total = sum((tender.amount for tender in tenders), Decimal(0))
    with transaction.atomic():
        # of=self: the joined fee item rows stay unlocked; locked, they serialised every payment of a fee item and
        # could deadlock two payments whose statements met the bill and fee item rows in different orders.
        bills = list(Bill.objects.select_for_update(of=("self",)).filter(pk__in=bill_ids, project=project)
                     .select_related("fee_item").order_by("pk"))
        if len(bills) != len(set(bill_ids)):
            raise ValidationError({"bills": _("有账单不存在或不属于该项目")})
        # Read after the lock, in one query: what each chosen bill still owes now.
        owed = {pk: Decimal(amount).quantize(CENT) for pk, amount in bills_with_outstanding(
            Bill.objects.filter(pk__in=[bill.pk for bill in bills])).values_list("pk", "outstanding")}
        if bills and not any(amount > 0 for amount in owed.values()):
            raise ValidationError({"bills": _("所选账单已结清，请刷新后重试")})
        units = {bill.unit_id for bill in bills if bill.unit_id}
        unit = unit or (bills[0].unit if len(units) == 1 else None)
        if units - {getattr(unit, "pk", None)}:
            raise ValidationError({"bills": _("一次收款只能收同一房屋的账单")})
        today = timezone.localdate()
        grants = payment_grants(bills, owed, today)
        discounted = {grant.bill.pk: grant.amount for grant in grants}
        late_fees_as_of = late_fees_as_of or today
        late_fees = [bill_late_fee(bill, owed[bill.pk] - discounted.get(bill.pk, 0), late_fees_as_of)
                     for bill in bills] if collect_late_fees else []
        settles_all = total >= sum((max(owed[bill.pk] - discounted.get(bill.pk, 0), Decimal(0)) for bill in bills),
                                   Decimal(0)) + sum((fee.amount for fee in late_fees if fee), Decimal(0))
        if collect_late_fees and any(late_fees) and not settles_all:
            raise ValidationError({"tenders": _("收取滞纳金时须付清所选账单及滞纳金")})
        earlier = earlier_open_bills(bills) if source != PaymentSource.ONLINE else []
        if earlier:
            if not actor.has_perm(OVERRIDE_ORDER_PERMISSION):
                first = earlier[0]
                message = _("请先缴「%(item)s」%(month)s 的账单（同一收费项目须从最早的账期缴起）")
                raise ValidationError({"bills": message % {"item": first.fee_item,
                                                           "month": first.period_start.strftime("%Y-%m")}})
            if not override_reason.strip():
                raise ValidationError({"override_reason": _("跳过较早的账单须填写原因")})

        if grants and settles_all:
            grants_post(grants, project=project, actor=actor, memo=_("缴费优惠"))
            for bill_id, amount in discounted.items():
                owed[bill_id] -= amount
        if collect_late_fees:
            late_bills = _late_fee_bills(bills, owed, late_fees_as_of, actor=actor)
            bills += late_bills
            owed.update({bill.pk: bill.amount for bill in late_bills})
        prepaid_used = sum((t.amount for t in tenders if t.method == PaymentMethod.PREPAID), Decimal(0))
        to_prepaid = total - sum((max(amount, Decimal(0)) for amount in owed.values()), Decimal(0))
        if (prepaid_used or to_prepaid > 0) and unit is None:
            raise ValidationError({"tenders": _("没有房屋的收款不能使用或存入预存")})
        if prepaid_used and prepaid_from is not None and any(b.fee_item_id != prepaid_from.pk for b in bills):
            raise ValidationError({"bills": _("专项预存只能冲抵「%(item)s」的账单") % {"item": prepaid_from}})
        drawn_from = prepaid_account(unit, prepaid_from, lock=True) if prepaid_used else None
        if drawn_from is not None and prepaid_balance(drawn_from) < prepaid_used:
            raise ValidationError({"tenders": _("预存余额不足，当前余额 %(balance)s 元")
                                   % {"balance": prepaid_balance(drawn_from)}})
        target = prepaid_account(unit, prepaid_to, lock=True) if to_prepaid > 0 else None
        deposits_used = _deposits_used(tenders, project=project, unit=unit,
                                       payer=payer or next((bill.payer for bill in bills if bill.payer_id), None))

        payment = Payment.objects.create(
            company_id=project.company_id, project=project, unit=unit,
            payer=payer or next((bill.payer for bill in bills if bill.payer_id), None), amount=total,
            receipt_number=receipt_number_next(project.company, timezone.localdate().year),
            cashier=actor, source=source, order_override_reason=override_reason.strip() if earlier else "", note=note)
        PaymentTender.objects.bulk_create([
            PaymentTender(payment=payment, method=tender.method, amount=tender.amount, tendered=tender.tendered,
                          change=(tender.tendered - tender.amount) if tender.tendered else 0,
                          reference=tender.reference, deposit_id=tender.deposit)
            for tender in tenders
        ])
        DepositMovement.objects.bulk_create([
            DepositMovement(project=project, deposit=deposit, kind=DepositMovementKind.OFFSET, amount=-amount,
                            payment=payment, created_by=actor)
            for deposit, amount in deposits_used
        ])

        remaining, settled = total, defaultdict(Decimal)
        allocations = []
        for bill in sorted(bills, key=lambda bill: (bill.period_start, bill.fee_item_id, bill.kind == BillKind.LATE_FEE,
                                                    bill.pk)):
            amount = min(remaining, max(owed[bill.pk], Decimal(0)))
            if amount > 0:
                allocations.append(Allocation(project=project, payment=payment, bill=bill, amount=amount))
                settled[bill.fee_item] += amount
                remaining -= amount
        Allocation.objects.bulk_create(allocations)
        movements = []
        if prepaid_used:
            movements.append(PrepaidMovement(project=project, account=drawn_from, kind=PrepaidMovementKind.PAYMENT,
                                             amount=-prepaid_used, payment=payment, created_by=actor))
        if remaining > 0:
            kind = PrepaidMovementKind.OVERPAYMENT if bills else PrepaidMovementKind.TOP_UP
            movements.append(PrepaidMovement(project=project, account=target, kind=kind, amount=remaining,
                                             payment=payment, created_by=actor))
        PrepaidMovement.objects.bulk_create(movements)

        money_in = defaultdict(Decimal)
        for tender in tenders:
            if tender.method in MONEY_IN_METHODS:
                money_in[tender.method] += tender.amount
        journal_post(project=project, event="payment", actor=actor,
                     memo=_("收款 %(number)s") % {"number": payment.receipt_number},
                     lines=[*[(Account.CASH, None, amount, method) for method, amount in money_in.items()],
                            (Account.PREPAID, None, prepaid_used, ""), (Account.PREPAID, None, -remaining, ""),
                            (Account.DEPOSIT, None, sum((amount for _, amount in deposits_used), Decimal(0)), ""),
                            *[(Account.RECEIVABLE, fee_item, -amount, "") for fee_item, amount in settled.items()]])
        payment_notify_payer(payment)
    return payment


def prepaid_offset(*, unit, actor, note=""):
    """冲抵: settle the unit's open bills from its prepaid balances, oldest first; each restricted account pays
    bills of its own fee item, the general account the rest. Returns the payments written (one per account)."""
    payments = []
    accounts = sorted(PrepaidAccount.objects.filter(unit=unit).select_related("fee_item"),
                      key=lambda account: account.fee_item_id is None)  # restricted accounts first
    for account in accounts:
        bills = [bill for bill in _open_bills(unit)
                 if account.fee_item_id is None or bill.fee_item_id == account.fee_item_id]
        amount = min(prepaid_balance(account), sum((bill.outstanding for bill in bills), Decimal(0)))
        if amount > 0:
            payments.append(payment_collect(
                project=unit.project, unit=unit, bill_ids=[bill.pk for bill in bills], actor=actor,
                tenders=[Tender(PaymentMethod.PREPAID, amount)], prepaid_from=account.fee_item,
                note=note or _("预存冲抵")))
    return payments


def _open_bills(unit):
    return [bill for bill in bills_with_outstanding(Bill.objects.filter(unit=unit)).filter(outstanding__gt=0)
            .order_by("period_start", "pk")]


def run_prepaid_offset(run, *, actor=None):
    """After a run posts, units of the run holding prepaid money have their new (and older) bills offset."""
    run_units = Bill.objects.filter(run=run, unit__isnull=False).values("unit_id")
    balances = money_totals(PrepaidMovement.objects.filter(project_id=run.project_id,
                                                           account__unit_id__in=run_units), ["account__unit_id"])
    for unit in Unit.objects.filter(pk__in=[unit_id for (unit_id,), total in balances.items() if total > 0]):
        prepaid_offset(unit=unit, actor=actor, note=_("出账后自动冲抵"))
