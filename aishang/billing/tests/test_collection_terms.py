"""What the desk adds to a payment: 滞纳金 as late-fee bills, payment-time discounts (缴费时优惠), and the
on-time condition of schemes judged by the dates payments came in."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aishang.billing.balances import bill_outstanding
from aishang.billing.discounts import eligible_units
from aishang.billing.models import (
    Account,
    Allocation,
    Bill,
    BillDiscount,
    BillKind,
    DiscountScheme,
    PaymentMethod,
    Posting,
)
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.reconcile import reconcile
from aishang.billing.services import temporary_bill_create
from aishang.core.testing import make_company, make_fee_item, make_owner, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def cashier(project):
    return make_staff(project.company, "cashier")


def cash(amount):
    return Tender(PaymentMethod.CASH, Decimal(amount))


def bill(project, unit, fee_item, amount, *, due, start=None, actor=None):
    start = start or due.replace(day=1)
    return temporary_bill_create(project=project, fee_item=fee_item, amount=Decimal(amount), reason="测试",
                                 due_date=due, period_start=start, unit=unit,
                                 actor=actor or make_staff(project.company, "finance"))


def scheme(project, name, *, kind="percent", **fields):
    return DiscountScheme.objects.create(company=project.company, name=name, kind=kind, timing="payment",
                                         valid_from=datetime.date(2020, 1, 1), **fields)


# 滞纳金 collected at the desk


def test_late_fees_are_raised_as_bills_and_paid_with_the_overdue_bill(project, cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, name="物业费", late_fee_enabled=True,
                             late_fee_daily_rate=Decimal("0.0005"))
    overdue = bill(project, unit, fee_item, "1000.00", due=today() - datetime.timedelta(days=10))

    with pytest.raises(ValidationError, match="须付清所选账单及滞纳金"):
        payment_collect(project=project, bill_ids=[overdue.pk], tenders=[cash("1000.00")], actor=cashier,
                        collect_late_fees=True)
    payment = payment_collect(project=project, bill_ids=[overdue.pk], tenders=[cash("1005.00")], actor=cashier,
                              collect_late_fees=True)

    late = Bill.objects.get(kind=BillKind.LATE_FEE)
    assert (late.amount, late.unit, late.fee_item, late.period_start) == (Decimal("5.00"), unit, fee_item,
                                                                          overdue.period_start)
    assert "× 10 天" in late.computation
    assert bill_outstanding(overdue) == bill_outstanding(late) == 0
    assert sorted(a.amount for a in Allocation.objects.filter(payment=payment)) == [Decimal("5.00"),
                                                                                    Decimal("1000.00")]
    assert sorted((p.account, p.amount) for p in Posting.objects.filter(entry__event="late_fee_accrued")) == [
        (Account.RECEIVABLE, Decimal("5.00")), (Account.REVENUE, Decimal("-5.00"))]
    assert reconcile([project]).is_clean


def test_without_late_fees_the_overdue_bill_is_paid_alone_and_an_open_late_fee_never_blocks_later_bills(
        project, cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, late_fee_enabled=True, late_fee_daily_rate=Decimal("0.001"))
    overdue = bill(project, unit, fee_item, "100.00", due=today() - datetime.timedelta(days=40),
                   start=today().replace(day=1) - datetime.timedelta(days=40))
    payment_collect(project=project, bill_ids=[overdue.pk], tenders=[cash("100.00")], actor=cashier)
    assert not Bill.objects.filter(kind=BillKind.LATE_FEE).exists()

    second = bill(project, unit, fee_item, "100.00", due=today() - datetime.timedelta(days=5))
    third = bill(project, unit, fee_item, "100.00", due=today() + datetime.timedelta(days=25),
                 start=today() + datetime.timedelta(days=1))
    payment_collect(project=project, bill_ids=[second.pk], tenders=[cash("100.50")], actor=cashier,
                    collect_late_fees=True)
    payment_collect(project=project, bill_ids=[third.pk], tenders=[cash("100.00")], actor=cashier)
    assert bill_outstanding(third) == 0


def test_the_desk_offers_the_late_fee_and_collects_it_when_ticked(client, project, cashier):
    client.force_login(cashier)
    unit = make_unit(project)
    make_owner(unit)
    fee_item = make_fee_item(project.company, late_fee_enabled=True, late_fee_daily_rate=Decimal("0.0005"))
    overdue = bill(project, unit, fee_item, "200.00", due=today() - datetime.timedelta(days=20))
    url = reverse("billing:desk_unit", args=[unit.pk])
    assert "同时收取滞纳金" in client.get(url).content.decode()

    response = client.post(url, {"bills": [overdue.pk], "cash": "202.00", "late_fees": "on"})
    assert response.status_code == 302
    assert Bill.objects.get(kind=BillKind.LATE_FEE).amount == Decimal("2.00")


# Payment-time discounts


def test_a_payment_time_discount_is_granted_only_when_the_chosen_bills_are_paid_in_full(project, cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company)
    scheme(project, "当场缴费九五折", rate=Decimal("0.95"))
    first = bill(project, unit, fee_item, "200.00", due=today() + datetime.timedelta(days=10))

    payment_collect(project=project, bill_ids=[first.pk], tenders=[cash("100.00")], actor=cashier)
    assert not BillDiscount.objects.exists() and bill_outstanding(first) == Decimal("100.00")

    payment_collect(project=project, bill_ids=[first.pk], tenders=[cash("90.00")], actor=cashier)
    discount = BillDiscount.objects.get()
    assert (discount.bill, discount.amount) == (first, Decimal("10.00"))
    assert bill_outstanding(first) == 0
    assert reconcile([project]).is_clean


def test_paying_twelve_months_ahead_makes_the_last_free(project, cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company)
    scheme(project, "预交12个月送1个月", kind="free_periods", min_periods=12, free_periods=1)
    first = today().replace(day=1)
    months = []
    for offset in range(12):
        start = (first + datetime.timedelta(days=32 * offset)).replace(day=1)
        months.append(bill(project, unit, fee_item, "150.00", due=start + datetime.timedelta(days=14), start=start))

    payment = payment_collect(project=project, bill_ids=[b.pk for b in months], tenders=[cash("1650.00")],
                              actor=cashier)

    assert payment.amount == Decimal("1650.00")
    discount = BillDiscount.objects.get()
    assert (discount.bill, discount.amount) == (months[-1], Decimal("150.00"))
    assert all(bill_outstanding(b) == 0 for b in months)
    assert reconcile([project]).is_clean


def test_the_desk_shows_what_paying_in_full_takes_off(client, project, cashier):
    client.force_login(cashier)
    unit = make_unit(project)
    make_owner(unit)
    fee_item = make_fee_item(project.company)
    scheme(project, "当场缴费立减", kind="amount", amount=Decimal("8.00"))
    bill(project, unit, fee_item, "80.00", due=today() + datetime.timedelta(days=5))
    html = client.get(reverse("billing:desk_unit", args=[unit.pk])).content.decode()
    assert "付清优惠" in html and "−¥8.00" in html


# 连续按时缴费, judged by payment dates


def test_a_bill_paid_after_its_due_date_breaks_the_on_time_record(project, cashier):
    prompt, late = make_unit(project), make_unit(project)
    fee_item = make_fee_item(project.company)
    due_soon = bill(project, prompt, fee_item, "100.00", due=today() + datetime.timedelta(days=10))
    overdue = bill(project, late, fee_item, "100.00", due=today() - datetime.timedelta(days=40))
    for paid in (due_soon, overdue):
        payment_collect(project=project, bill_ids=[paid.pk], tenders=[cash("100.00")], actor=cashier)

    on_time = scheme(project, "连续按时缴费", rate=Decimal("0.95"), on_time_months=6)
    assert eligible_units(on_time, project, today() + datetime.timedelta(days=20)) == {prompt.pk}


# A customer's own bills (no unit)


def test_a_customer_with_bills_of_their_own_is_found_and_paid_at_their_desk_page(client, project, cashier):
    from aishang.core.testing import make_customer

    client.force_login(cashier)
    tenant = make_customer(project, name="李四停车", mobile="13800001111")
    fee_item = make_fee_item(project.company, name="车位租金")
    own = temporary_bill_create(project=project, fee_item=fee_item, amount=Decimal("300.00"), reason="车位月租",
                                due_date=today(), period_start=today().replace(day=1), payer=tenant, actor=cashier)

    response = client.get(reverse("billing:desk"), {"q": "13800001111"})
    page = reverse("billing:desk_customer", args=[tenant.pk])
    assert response.url == page
    html = client.get(page).content.decode()
    assert "李四停车" in html and "车位租金" in html and "预存冲抵" not in html

    response = client.post(page, {"bills": [own.pk], "cash": "300.00"})
    assert response.status_code == 302
    assert bill_outstanding(own) == 0
    payment = own.allocations.get().payment
    assert (payment.unit, payment.payer) == (None, tenant)
    assert payment.receipt_number in client.get(page).content.decode()


def test_a_customer_of_another_company_is_not_found_at_the_desk(client, project, cashier):
    from aishang.core.testing import make_customer

    client.force_login(cashier)
    other_project = make_project(make_company(name="别家"))
    stranger = make_customer(other_project, name="王五")
    temporary_bill_create(project=other_project, fee_item=make_fee_item(other_project.company),
                          amount=Decimal("10.00"), reason="x", due_date=today(), period_start=today(), payer=stranger,
                          actor=make_staff(other_project.company, "cashier"))
    assert "没有找到" in client.get(reverse("billing:desk"), {"q": "王五"}).content.decode()
    assert client.get(reverse("billing:desk_customer", args=[stranger.pk])).status_code == 404
