"""The 收银台's compiled reads (desk.py) give the same numbers as the ORM selectors, on varied data and scopes."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from aishang.billing.approvals import approval_request_create
from aishang.billing.balances import bill_late_fee, bills_with_outstanding, open_amounts
from aishang.billing.deposits import deposit_collect, deposits_with_held
from aishang.billing.desk import customer_desk, unit_desk
from aishang.billing.discounts import payment_grants
from aishang.billing.models import (
    ApprovalAction,
    Bill,
    Deposit,
    DiscountScheme,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PrepaidAccount,
)
from aishang.billing.payments import Tender, payment_collect, prepaid_balance
from aishang.billing.services import temporary_bill_create
from aishang.core.testing import (
    approve_at_every_level,
    make_bill,
    make_bill_void,
    make_company,
    make_customer,
    make_fee_item,
    make_occupancy,
    make_owner,
    make_project,
    make_staff,
    make_unit,
    make_waiver,
)

pytestmark = pytest.mark.django_db

JULY, AUGUST = datetime.date(2026, 7, 1), datetime.date(2026, 8, 1)
DAY = datetime.date(2026, 12, 31)


def cash(amount):
    return Tender(PaymentMethod.CASH, Decimal(amount))


def approved(action, actor, **subject):
    return approve_at_every_level(approval_request_create(action=action, reason="收错了", actor=actor, **subject))


def scheme(project, name, timing, fee_items, **fields):
    created = DiscountScheme.objects.create(company=project.company, name=name, timing=timing,
                                            valid_from=datetime.date(2024, 1, 1), **fields)
    created.fee_items.set(fee_items)
    return created


@pytest.fixture
def cashier(project):
    return make_staff(project.company, "cashier", projects=[project])


@pytest.fixture
def unit(project, cashier):
    """A unit with every kind of correction on its bills, prepaid of both kinds, deposits and reversed payments."""
    unit = make_unit(project)
    make_owner(unit)
    make_occupancy(unit, make_customer(project, name="旧租户"), role="tenant", start_date=datetime.date(2021, 1, 1),
                   end_date=datetime.date(2022, 1, 1))
    company = project.company
    property_fee = make_fee_item(company, code="A-WY", name="物业费", late_fee_enabled=True,
                                 late_fee_daily_rate=Decimal("0.0005"))
    lift = make_fee_item(company, code="B-DT", name="电梯费")
    garbage = make_fee_item(company, code="C-LJ", name="垃圾费")
    scheme(project, "九五折", "billing", [property_fee], rate=Decimal("0.95"))
    scheme(project, "付清立减", "payment", [lift], kind="amount", amount=Decimal("2.00"))

    property_july = make_bill(project, "100.00", unit=unit, fee_item=property_fee, period_month=JULY)
    make_bill(project, "100.00", unit=unit, fee_item=property_fee, period_month=AUGUST)
    lift_july = make_bill(project, "50.00", unit=unit, fee_item=lift, period_month=JULY)
    lift_august = make_bill(project, "50.00", unit=unit, fee_item=lift, period_month=AUGUST)
    garbage_july = make_bill(project, "40.00", unit=unit, fee_item=garbage, period_month=JULY)
    garbage_august = make_bill(project, "40.00", unit=unit, fee_item=garbage, period_month=AUGUST)

    payment_collect(project=project, unit=unit, bill_ids=[property_july.pk], actor=cashier, tenders=[cash("30.00")])
    make_waiver(lift_july, amount="20.00", requester=cashier)
    make_bill_void(lift_august, requester=cashier)
    refunded = payment_collect(project=project, unit=unit, bill_ids=[garbage_july.pk, garbage_august.pk],
                               actor=cashier, tenders=[cash("80.00")])
    approved(ApprovalAction.REFUND, cashier, payment=refunded, amount="15.00", refund_method=PaymentMethod.CASH)
    payment_collect(project=project, unit=unit, bill_ids=[], actor=cashier, tenders=[cash("300.00")])
    payment_collect(project=project, unit=unit, bill_ids=[], actor=cashier, prepaid_to=property_fee,
                    tenders=[Tender(PaymentMethod.WECHAT, Decimal("500.00"))])
    renovation = deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier, tenders=[cash("2000.00")])
    approved(ApprovalAction.DEPOSIT_REFUND, cashier, deposit=renovation, amount="1200.00",
             refund_method=PaymentMethod.CASH)
    card = deposit_collect(project=project, unit=unit, kind="门禁卡押金", actor=cashier, tenders=[cash("50.00")])
    approved(ApprovalAction.DEPOSIT_REFUND, cashier, deposit=card, amount="50.00", refund_method=PaymentMethod.CASH)
    return unit


def test_the_desk_shows_what_the_orm_selectors_say_each_bill_owes_and_each_balance_holds(project, cashier, unit):
    desk = unit_desk(cashier, unit.pk, DAY)

    orm_bills = {bill.pk: bill for bill in bills_with_outstanding(Bill.objects.filter(unit=unit))
                 .select_related("project", "fee_item")}
    owing = [bill for bill in orm_bills.values() if bill.outstanding > 0]
    assert len(orm_bills) == 6 and len(owing) == 4  # the void and the fully paid bill owe nothing
    assert {bill.pk for bill in desk.bills} == {bill.pk for bill in owing}
    for bill in desk.bills:
        orm = orm_bills[bill.pk]
        assert (bill.outstanding, bill.discounted, bill.amount) == (orm.outstanding, orm.discounted, orm.amount)
        assert bill.late_fee == bill_late_fee(orm, orm.outstanding, DAY)
    assert [bill.outstanding for bill in desk.bills] == [Decimal("65.00"), Decimal("95.00"), Decimal("30.00"),
                                                        Decimal("15.00")]
    assert desk.bills[0].late_fee.amount > 0 and desk.bills[0].discounted == Decimal("5.00")
    grants = payment_grants(owing, {bill.pk: bill.outstanding for bill in owing}, DAY)
    assert {bill.pk: bill.payment_discount.amount for bill in desk.bills if bill.payment_discount} == {
        grant.bill.pk: grant.amount for grant in grants} != {}
    assert [(str(fee_item), [bill.period_start for bill in bills]) for fee_item, bills in desk.groups] == [
        ("物业费", [JULY, AUGUST]), ("电梯费", [JULY]), ("垃圾费", [AUGUST])]  # a refund reopens the newest

    accounts = PrepaidAccount.objects.filter(unit=unit).select_related("fee_item")
    assert {account.fee_item: balance for account, balance in desk.prepaid} == {
        account.fee_item.name if account.fee_item else None: prepaid_balance(account) for account in accounts} == {
        None: Decimal("300.00"), "物业费": Decimal("500.00")}
    assert desk.prepaid[0][0].fee_item is None  # 通用预存 first
    held = {deposit.pk: deposit.held for deposit in deposits_with_held(Deposit.objects.filter(unit=unit))}
    assert [(deposit.pk, deposit.held) for deposit in desk.deposits] == [
        (pk, amount) for pk, amount in sorted(held.items()) if amount > 0] == [(min(held), Decimal("800.00"))]

    payments = list(Payment.objects.filter(unit=unit)[:10])
    assert [(payment.pk, payment.amount, payment.cashier) for payment in desk.payments] == [
        (payment.pk, payment.amount, str(payment.cashier)) for payment in payments]
    reversed_ids = set(PaymentReversal.objects.values_list("payment_id", flat=True))
    assert {payment.pk for payment in desk.payments if payment.reversal_kind} == reversed_ids != set()
    assert [occupant.name for occupant in desk.occupants] == [unit.occupancies.get(role="owner").customer.name]


def test_the_desk_answers_only_within_the_cashiers_projects(project, cashier, unit):
    other_project = make_project(project.company)
    other_unit = make_unit(other_project)
    make_bill(other_project, "70.00", unit=other_unit)
    elsewhere = make_staff(project.company, "cashier", projects=[other_project])

    assert unit_desk(elsewhere, unit.pk, DAY) is None
    assert len(unit_desk(elsewhere, other_unit.pk, DAY).bills) == 1
    assert unit_desk(cashier, other_unit.pk, DAY) is None
    assert len(unit_desk(cashier, unit.pk, DAY).bills) == 4  # after the other scope's statement was kept
    assert unit_desk(make_staff(make_company(), "cashier"), unit.pk, DAY) is None
    assert unit_desk(cashier, 2**63, DAY) is None  # an id no database integer holds: not found, not an error


def test_a_customers_own_bills_are_read_like_a_units(project, cashier):
    customer = make_customer(project)
    bill = temporary_bill_create(project=project, fee_item=make_fee_item(project.company, name="车位租金"),
                                 amount=Decimal("80.00"), reason="车位月租", due_date=JULY, period_start=JULY,
                                 payer=customer, actor=cashier)
    payment_collect(project=project, payer=customer, bill_ids=[bill.pk], actor=cashier, tenders=[cash("30.00")])

    desk = customer_desk(cashier, customer.pk, DAY)

    assert [(bill.pk, bill.outstanding) for bill in desk.bills] == [(bill.pk, Decimal("50.00"))]
    assert [payment.amount for payment in desk.payments] == [Decimal("30.00")]
    assert customer_desk(make_staff(make_company(), "cashier"), customer.pk, DAY) is None


def test_the_page_draws_the_rows_it_read(client, project, cashier, unit):
    client.force_login(cashier)
    desk = unit_desk(cashier, unit.pk, DAY)

    page = client.get(reverse("billing:desk_unit", args=[unit.pk])).content.decode()

    for bill in desk.bills:
        assert f'value="{bill.pk}" id="bill-{bill.pk}" data-outstanding="{bill.outstanding}"' in page
    assert page.count('name="bills"') == 4 and page.count("已逾期") == 4 and "付清优惠 −¥2.00" in page
    refunded = PaymentReversal.objects.get().payment
    assert f'<a href="{reverse("billing:payment_detail", args=[refunded.pk])}">{refunded.receipt_number}</a>' in page
    assert page.count('data-testid="prepaid-balance"') == 2 and "¥800.00" in page
    assert 'name="deposit_from"' in page and "同时收取滞纳金" in page


def test_open_amounts_are_what_the_desk_shows(cashier, unit):
    desk = unit_desk(cashier, unit.pk, DAY)

    assert open_amounts(Bill.objects.filter(unit=unit)) == {bill.pk: bill.outstanding for bill in desk.bills}
