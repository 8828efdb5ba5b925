"""Deposits, voids and refunds of payments, refunds of prepaid balances and deposits: each through approval,
each a new row, each balancing the books."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aishang.billing.approvals import approval_request_create
from aishang.billing.balances import bill_outstanding
from aishang.billing.deposits import DepositStatus, deposit_collect, deposits_by_status
from aishang.billing.models import (
    Account,
    Allocation,
    ApprovalAction,
    Deposit,
    DepositMovementKind,
    PaymentMethod,
    PaymentReversal,
    Posting,
    ReversalKind,
)
from aishang.billing.payments import Tender, deposit_held, payment_collect, prepaid_account, prepaid_balance
from aishang.billing.reconcile import reconcile
from aishang.core.testing import (
    approve_at_every_level,
    make_bill,
    make_fee_item,
    make_staff,
    make_unit,
)

pytestmark = pytest.mark.django_db

JULY, AUGUST = datetime.date(2026, 7, 1), datetime.date(2026, 8, 1)


@pytest.fixture
def cashier(project):
    return make_staff(project.company, "cashier")


@pytest.fixture
def unit(project):
    return make_unit(project)


def cash(amount):
    return Tender(PaymentMethod.CASH, Decimal(amount))


def request(action, actor, **subject):
    return approve_at_every_level(approval_request_create(action=action, reason="收错了", actor=actor, **subject))


def postings(event):
    return sorted((p.account, p.method, p.amount) for p in Posting.objects.filter(entry__event=event))


# Deposits


def test_a_deposit_is_collected_with_a_receipt_offset_against_a_bill_and_partly_refunded(project, cashier, unit):
    deposit = deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier,
                              tenders=[cash("2000.00"), Tender(PaymentMethod.WECHAT, Decimal("1000.00"))])
    assert deposit.payment.receipt_number.startswith("SJ")
    assert deposit_held(deposit) == Decimal("3000.00")
    assert postings("deposit_collected") == sorted([
        (Account.CASH, PaymentMethod.CASH, Decimal("2000.00")), (Account.CASH, PaymentMethod.WECHAT,
                                                                  Decimal("1000.00")),
        (Account.DEPOSIT, "", Decimal("-3000.00"))])

    bill = make_bill(project, "450.00", unit=unit)
    payment_collect(project=project, bill_ids=[bill.pk], actor=cashier,
                    tenders=[Tender(PaymentMethod.DEPOSIT, Decimal("450.00"), deposit=deposit.pk)])
    assert bill_outstanding(bill) == 0
    assert deposit_held(deposit) == Decimal("2550.00")

    request(ApprovalAction.DEPOSIT_REFUND, cashier, deposit=deposit, amount="2000.00",
            refund_method=PaymentMethod.TRANSFER)
    assert deposit_held(deposit) == Decimal("550.00")
    movement = deposit.movements.get(kind=DepositMovementKind.REFUND)
    assert movement.amount == Decimal("-2000.00") and movement.request.refund_method == PaymentMethod.TRANSFER
    assert postings("balance_refund") == sorted([(Account.DEPOSIT, "", Decimal("2000.00")),
                                                  (Account.CASH, PaymentMethod.TRANSFER, Decimal("-2000.00"))])
    assert [d.pk for d in deposits_by_status(Deposit.objects.all(), DepositStatus.PARTLY)] == [deposit.pk]
    report = reconcile([project])
    assert report.is_clean and report.deposit[0].ledger == Decimal("550.00")


def test_a_deposit_cannot_pay_more_than_it_holds_nor_another_units_bill(project, cashier, unit):
    deposit = deposit_collect(project=project, unit=unit, kind="门禁卡押金", actor=cashier, tenders=[cash("50.00")])
    other = make_bill(project, "30.00", unit=make_unit(project))
    own = make_bill(project, "80.00", unit=unit)

    with pytest.raises(ValidationError, match="押金不存在或不属于该房屋"):
        payment_collect(project=project, bill_ids=[other.pk], actor=cashier,
                        tenders=[Tender(PaymentMethod.DEPOSIT, Decimal("30.00"), deposit=deposit.pk)])
    with pytest.raises(ValidationError, match="余额不足"):
        payment_collect(project=project, bill_ids=[own.pk], actor=cashier,
                        tenders=[Tender(PaymentMethod.DEPOSIT, Decimal("80.00"), deposit=deposit.pk)])
    with pytest.raises(ValidationError, match="请选择要冲抵的押金"):
        payment_collect(project=project, bill_ids=[own.pk], actor=cashier,
                        tenders=[Tender(PaymentMethod.DEPOSIT, Decimal("10.00"))])
    assert deposit_held(deposit) == Decimal("50.00") and bill_outstanding(own) == Decimal("80.00")


def test_collecting_a_deposit_refuses_bad_input_and_writes_nothing(project, cashier, unit):
    with pytest.raises(ValidationError) as error:
        deposit_collect(project=project, unit=None, kind="", actor=cashier, tenders=[cash("10.00")])
    assert set(error.value.message_dict) == {"kind", "unit"}
    with pytest.raises(ValidationError, match="押金只能以现金"):
        deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier,
                        tenders=[Tender(PaymentMethod.PREPAID, Decimal("10.00"))])
    assert not Deposit.objects.exists()


def test_a_deposit_refund_above_what_it_holds_is_refused_when_asked(project, cashier, unit):
    deposit = deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier, tenders=[cash("100.00")])
    with pytest.raises(ValidationError, match="押金余额只有"):
        approval_request_create(action=ApprovalAction.DEPOSIT_REFUND, deposit=deposit, amount="100.01",
                                refund_method=PaymentMethod.CASH, reason="退房", actor=cashier)
    with pytest.raises(ValidationError, match="请选择退款方式"):
        approval_request_create(action=ApprovalAction.DEPOSIT_REFUND, deposit=deposit, amount="10",
                                refund_method=PaymentMethod.PREPAID, reason="退房", actor=cashier)


# Voids of payments


def test_voiding_a_payment_reopens_its_bills_returns_prepaid_and_marks_every_method(project, cashier, unit):
    fee_item = make_fee_item(project.company, name="物业费")
    july = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=JULY)
    august = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=AUGUST)
    payment_collect(project=project, bill_ids=[], tenders=[cash("30.00")], actor=cashier, unit=unit)
    payment = payment_collect(project=project, bill_ids=[july.pk, august.pk], actor=cashier,
                              tenders=[cash("120.00"), Tender(PaymentMethod.WECHAT, Decimal("50.00")),
                                       Tender(PaymentMethod.PREPAID, Decimal("30.00"))])
    assert prepaid_balance(prepaid_account(unit)) == 0

    approval = request(ApprovalAction.PAYMENT_VOID, cashier, payment=payment)

    assert approval.amount == Decimal("200.00")
    assert bill_outstanding(july) == bill_outstanding(august) == Decimal("100.00")
    assert prepaid_balance(prepaid_account(unit)) == Decimal("30.00")
    rows = sorted((r.kind, r.method, r.amount) for r in PaymentReversal.objects.filter(payment=payment))
    assert rows == [(ReversalKind.VOID, PaymentMethod.CASH, Decimal("120.00")),
                    (ReversalKind.VOID, PaymentMethod.PREPAID, Decimal("30.00")),
                    (ReversalKind.VOID, PaymentMethod.WECHAT, Decimal("50.00"))]
    assert sorted(a.amount for a in Allocation.objects.filter(payment=payment, reversal__isnull=False)) == [
        Decimal("-100.00"), Decimal("-100.00")]
    assert postings("payment_void") == sorted([
        (Account.RECEIVABLE, "", Decimal("200.00")), (Account.PREPAID, "", Decimal("-30.00")),
        (Account.CASH, PaymentMethod.CASH, Decimal("-120.00")), (Account.CASH, PaymentMethod.WECHAT,
                                                                  Decimal("-50.00"))])
    assert reconcile([project]).is_clean
    with pytest.raises(ValidationError, match="该收款已作废"):
        approval_request_create(action=ApprovalAction.PAYMENT_VOID, payment=payment, reason="再作废", actor=cashier)


def test_a_void_is_refused_when_the_prepaid_it_created_has_been_used(project, cashier, unit):
    top_up = payment_collect(project=project, bill_ids=[], tenders=[cash("100.00")], actor=cashier, unit=unit)
    bill = make_bill(project, "60.00", unit=unit)  # offset from the top-up as the run posts
    assert bill_outstanding(bill) == 0

    with pytest.raises(ValidationError, match="已被使用，不能作废"):
        approval_request_create(action=ApprovalAction.PAYMENT_VOID, payment=top_up, reason="收错", actor=cashier)


def test_a_voided_deposit_collection_takes_the_deposit_back(project, cashier, unit):
    deposit = deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier, tenders=[cash("500.00")])
    request(ApprovalAction.PAYMENT_VOID, cashier, payment=deposit.payment)
    assert deposit_held(deposit) == 0
    assert reconcile([project]).is_clean


# Refunds of payments


def test_a_partial_refund_reopens_the_newest_bill_first_and_pays_back_by_the_chosen_method(project, cashier, unit):
    fee_item = make_fee_item(project.company, name="物业费")
    july = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=JULY)
    august = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=AUGUST)
    payment = payment_collect(project=project, bill_ids=[july.pk, august.pk], actor=cashier,
                              tenders=[cash("150.00"), Tender(PaymentMethod.ALIPAY, Decimal("50.00"))])

    request(ApprovalAction.REFUND, cashier, payment=payment, amount="70.00", refund_method=PaymentMethod.CASH)

    assert bill_outstanding(july) == 0 and bill_outstanding(august) == Decimal("70.00")
    assert postings("payment_refund") == sorted([(Account.RECEIVABLE, "", Decimal("70.00")),
                                                 (Account.CASH, PaymentMethod.CASH, Decimal("-70.00"))])
    with pytest.raises(ValidationError, match="最多可退"):
        approval_request_create(action=ApprovalAction.REFUND, payment=payment, amount="60.00",
                                refund_method=PaymentMethod.ALIPAY, reason="再退", actor=cashier)
    with pytest.raises(ValidationError, match="未使用「微信」"):
        approval_request_create(action=ApprovalAction.REFUND, payment=payment, amount="10.00",
                                refund_method=PaymentMethod.WECHAT, reason="再退", actor=cashier)
    with pytest.raises(ValidationError, match="已办理退款，不能再作废"):
        approval_request_create(action=ApprovalAction.PAYMENT_VOID, payment=payment, reason="作废", actor=cashier)
    assert reconcile([project]).is_clean


def test_a_refund_to_prepaid_moves_the_money_into_the_units_balance(project, cashier, unit):
    bill = make_bill(project, "200.00", unit=unit)
    payment = payment_collect(project=project, bill_ids=[bill.pk], actor=cashier, tenders=[cash("200.00")])

    request(ApprovalAction.REFUND, cashier, payment=payment, amount="200.00", refund_method=PaymentMethod.PREPAID)

    assert bill_outstanding(bill) == Decimal("200.00")
    assert prepaid_balance(prepaid_account(unit)) == Decimal("200.00")
    assert postings("payment_refund") == sorted([(Account.RECEIVABLE, "", Decimal("200.00")),
                                                 (Account.PREPAID, "", Decimal("-200.00"))])
    assert reconcile([project]).is_clean


def test_a_refund_takes_unused_prepaid_credit_back_before_reopening_bills(project, cashier, unit):
    bill = make_bill(project, "80.00", unit=unit)
    payment = payment_collect(project=project, bill_ids=[bill.pk], actor=cashier, tenders=[cash("100.00")])
    assert prepaid_balance(prepaid_account(unit)) == Decimal("20.00")

    request(ApprovalAction.REFUND, cashier, payment=payment, amount="30.00", refund_method=PaymentMethod.CASH)

    assert prepaid_balance(prepaid_account(unit)) == 0
    assert bill_outstanding(bill) == Decimal("10.00")
    assert reconcile([project]).is_clean


def test_a_refund_is_checked_again_when_approved(project, cashier, unit):
    bill = make_bill(project, "80.00", unit=unit)
    payment = payment_collect(project=project, bill_ids=[bill.pk], actor=cashier, tenders=[cash("100.00")])
    pending = approval_request_create(action=ApprovalAction.REFUND, payment=payment, amount="100.00",
                                      refund_method=PaymentMethod.CASH, reason="退费", actor=cashier)
    make_bill(project, "20.00", unit=unit)  # offset from the 20.00 overpaid as the run posts

    with pytest.raises(ValidationError, match="已被使用"):
        approve_at_every_level(pending)
    assert not PaymentReversal.objects.exists() and bill_outstanding(bill) == 0


def test_one_request_at_a_time_per_payment(project, cashier, unit):
    payment = payment_collect(project=project, bill_ids=[make_bill(project, "50.00", unit=unit).pk], actor=cashier,
                              tenders=[cash("50.00")])
    approval_request_create(action=ApprovalAction.REFUND, payment=payment, amount="10.00",
                            refund_method=PaymentMethod.CASH, reason="退费", actor=cashier)
    with pytest.raises(ValidationError, match="该收款已有待审批的收款退款申请"):
        approval_request_create(action=ApprovalAction.PAYMENT_VOID, payment=payment, reason="作废", actor=cashier)


# Refunds of prepaid balances


def test_a_prepaid_refund_pays_out_no_more_than_the_balance(project, cashier, unit):
    payment_collect(project=project, bill_ids=[], tenders=[cash("300.00")], actor=cashier, unit=unit)
    account = prepaid_account(unit)
    with pytest.raises(ValidationError, match="预存余额只有"):
        approval_request_create(action=ApprovalAction.PREPAID_REFUND, prepaid_account=account, amount="300.01",
                                refund_method=PaymentMethod.CASH, reason="搬走", actor=cashier)

    request(ApprovalAction.PREPAID_REFUND, cashier, prepaid_account=account, amount="300.00",
            refund_method=PaymentMethod.CASH)

    assert prepaid_balance(account) == 0
    assert postings("balance_refund") == sorted([(Account.PREPAID, "", Decimal("300.00")),
                                                 (Account.CASH, PaymentMethod.CASH, Decimal("-300.00"))])
    assert reconcile([project]).is_clean
