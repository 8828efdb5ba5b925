import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import Account, Allocation, Payment, PaymentMethod, Posting, PrepaidMovementKind
from aishang.billing.payments import Tender, payment_collect, prepaid_account, prepaid_balance
from aishang.billing.reconcile import reconcile
from aishang.core.testing import make_bill, make_fee_item, make_staff, make_unit

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


@pytest.fixture
def cashier(project):
    return make_staff(project.company, "cashier")


def cash(amount, tendered=None):
    return Tender(PaymentMethod.CASH, Decimal(amount), Decimal(tendered) if tendered else None)


def test_cash_with_change_and_prepaid_pay_two_bills_and_journal_one_balanced_entry(project, cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, name="物业费")
    october = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=OCTOBER)
    november = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=NOVEMBER)
    payment_collect(project=project, bill_ids=[], tenders=[cash("50.00")], actor=cashier, unit=unit)

    payment = payment_collect(project=project, bill_ids=[october.pk, november.pk], actor=cashier,
                              tenders=[cash("150.00", tendered="200.00"),
                                       Tender(PaymentMethod.PREPAID, Decimal("50.00"))])

    assert payment.amount == Decimal("200.00")
    assert payment.tenders.get(method=PaymentMethod.CASH).change == Decimal("50.00")
    assert bill_outstanding(october) == bill_outstanding(november) == 0
    assert prepaid_balance(prepaid_account(unit)) == 0
    postings = Posting.objects.filter(entry__event="payment", entry__memo__contains=payment.receipt_number)
    assert sorted((p.account, p.method, p.amount) for p in postings) == sorted([
        (Account.CASH, PaymentMethod.CASH, Decimal("150.00")), (Account.PREPAID, "", Decimal("50.00")),
        (Account.RECEIVABLE, "", Decimal("-200.00"))])
    assert reconcile([project]).is_clean


def test_a_partial_payment_leaves_the_rest_open_and_an_overpayment_goes_to_prepaid(project, cashier):
    unit = make_unit(project)
    bill = make_bill(project, "300.00", unit=unit)

    payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("120.00")], actor=cashier)
    assert bill_outstanding(bill) == Decimal("180.00")

    payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("200.00")], actor=cashier)
    assert bill_outstanding(bill) == 0
    movement = prepaid_account(unit).movements.get()
    assert (movement.kind, movement.amount) == (PrepaidMovementKind.OVERPAYMENT, Decimal("20.00"))
    assert reconcile([project]).is_clean


def test_receipt_numbers_count_up_per_company_and_year(project, cashier):
    bills = [make_bill(project, "10.00") for _ in range(3)]
    year = datetime.date.today().year

    numbers = [payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("10.00")],
                               actor=cashier).receipt_number for bill in bills]

    assert numbers == [f"SJ{year}-000001", f"SJ{year}-000002", f"SJ{year}-000003"]


def test_a_later_bill_of_a_fee_item_waits_for_the_earlier_one_unless_finance_overrides_with_a_reason(project,
                                                                                                       cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, name="物业费")
    october = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=OCTOBER)
    november = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=NOVEMBER)

    with pytest.raises(ValidationError, match="2026-10"):
        payment_collect(project=project, bill_ids=[november.pk], tenders=[cash("100.00")], actor=cashier)
    finance = make_staff(project.company, "finance")
    with pytest.raises(ValidationError, match="原因"):
        payment_collect(project=project, bill_ids=[november.pk], tenders=[cash("100.00")], actor=finance)

    payment = payment_collect(project=project, bill_ids=[november.pk], tenders=[cash("100.00")], actor=finance,
                              override_reason="业主对十月账单有争议")

    assert payment.order_override_reason == "业主对十月账单有争议"
    assert bill_outstanding(october) == Decimal("100.00") and bill_outstanding(november) == 0


@pytest.mark.parametrize(("tender", "message"), [
    (Tender(PaymentMethod.CASH, Decimal("0")), "大于 0"),
    (Tender(PaymentMethod.CASH, Decimal("1.005")), "两位小数"),
    (Tender("bitcoin", Decimal("10")), "未知的收款方式"),
    (Tender(PaymentMethod.CARD, Decimal("10"), Decimal("20")), "只有现金可以找零"),
    (Tender(PaymentMethod.CASH, Decimal("10"), Decimal("5")), "实付不能少于"),
    (Tender(PaymentMethod.PREPAID, Decimal("10")), "预存余额不足"),
])
def test_bad_tenders_are_refused_and_nothing_is_written(project, cashier, tender, message):
    bill = make_bill(project, "10.00")

    with pytest.raises(ValidationError, match=message):
        payment_collect(project=project, bill_ids=[bill.pk], tenders=[tender], actor=cashier)

    assert not Payment.objects.exists() and bill_outstanding(bill) == Decimal("10.00")


def test_a_bill_already_paid_is_refused(project, cashier):
    bill = make_bill(project, "10.00")
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("10.00")], actor=cashier)

    with pytest.raises(ValidationError, match="已结清"):
        payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("10.00")], actor=cashier)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the insert-only trigger is PostgreSQL's")
def test_payment_rows_cannot_be_changed_on_postgresql(project, cashier):
    bill = make_bill(project, "10.00")
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("10.00")], actor=cashier)

    with pytest.raises(DatabaseError, match="insert-only"), transaction.atomic():
        Allocation.objects.update(amount=Decimal("1.00"))


def _pay_at_once(project, actor, bill_ids_per_thread):
    """Each thread pays on its own connection, all released at the same moment; returns (payments, errors)."""
    barrier, payments, errors = threading.Barrier(len(bill_ids_per_thread)), [], []

    def pay(bill_ids):
        try:
            barrier.wait()
            payments.append(payment_collect(project=project, bill_ids=bill_ids, tenders=[cash("100.00")],
                                            actor=actor))
        except ValidationError as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(ids,)) for ids in bill_ids_per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return payments, errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_cashiers_paying_the_same_bill_at_once_allocate_it_once(project, cashier):
    bill = make_bill(project, "100.00")

    payments, errors = _pay_at_once(project, cashier, [[bill.pk], [bill.pk]])

    assert len(payments) == 1 and len(errors) == 1 and "已结清" in str(errors[0])
    assert list(Allocation.objects.filter(bill=bill).values_list("amount", flat=True)) == [Decimal("100.00")]
    assert reconcile([project]).is_clean


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_receipt_numbers_stay_gapless_and_unique_under_concurrent_payments(project, cashier):
    bills = [make_bill(project, "100.00") for _ in range(8)]

    _payments, errors = _pay_at_once(project, cashier, [[bill.pk] for bill in bills])

    assert not errors
    numbers = sorted(Payment.objects.values_list("receipt_number", flat=True))
    year = datetime.date.today().year
    assert numbers == [f"SJ{year}-{n:06d}" for n in range(1, 9)]


def test_top_ups_go_to_the_general_or_a_restricted_account_and_restricted_money_pays_only_its_fee_item(project,
                                                                                                        cashier):
    unit = make_unit(project)
    water, fee = make_fee_item(project.company, name="水费"), make_fee_item(project.company, name="物业费")
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[cash("30.00")], actor=cashier,
                    prepaid_to=water)
    property_bill = make_bill(project, "100.00", unit=unit, fee_item=fee)

    with pytest.raises(ValidationError, match="专项预存只能冲抵「水费」"):
        payment_collect(project=project, bill_ids=[property_bill.pk], actor=cashier, prepaid_from=water,
                        tenders=[Tender(PaymentMethod.PREPAID, Decimal("30.00"))])

    movement = prepaid_account(unit, water).movements.get()
    assert (movement.kind, movement.amount) == (PrepaidMovementKind.TOP_UP, Decimal("30.00"))
    assert prepaid_balance(prepaid_account(unit)) == 0
    assert reconcile([project]).is_clean


def test_new_bills_are_offset_from_prepaid_when_a_run_posts_restricted_money_on_its_own_fee_item(project, cashier):
    from aishang.billing.services import bill_run_create, bill_run_post
    from aishang.core.testing import make_charge_rule

    unit = make_unit(project)
    water, fee = make_fee_item(project.company, name="水费"), make_fee_item(project.company, name="物业费")
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[cash("50.00")], actor=cashier)
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[cash("30.00")], actor=cashier,
                    prepaid_to=water)
    rules = [make_charge_rule(project, fee_item=fee, price="100.00", method="fixed", units=[unit]),
             make_charge_rule(project, fee_item=water, price="20.00", method="fixed", units=[unit])]

    run = bill_run_post(bill_run_create(project=project, rules=rules, period_month=NOVEMBER))

    bills = {bill.fee_item: bill for bill in run.bills.all()}
    assert bill_outstanding(bills[water]) == 0 and bill_outstanding(bills[fee]) == Decimal("50.00")
    assert prepaid_balance(prepaid_account(unit, water)) == Decimal("10.00")
    assert prepaid_balance(prepaid_account(unit)) == 0
    assert reconcile([project]).is_clean
