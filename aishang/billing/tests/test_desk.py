"""收银台 pages: find a unit, pay chosen bills by several methods, open the receipt."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import Payment
from aishang.billing.payments import Tender, payment_collect, prepaid_account, prepaid_balance
from aishang.core.testing import (
    make_bill,
    make_fee_item,
    make_owner,
    make_staff,
    make_unit,
    make_vehicle,
)

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


def test_a_unit_is_found_by_its_code_an_owners_phone_or_a_plate(client, project, cashier):
    unit = make_unit(project)
    owner = make_owner(unit)
    owner.mobile = "13912345678"
    owner.save()
    vehicle = make_vehicle(project, customer=owner)
    desk = reverse("billing:desk_unit", args=[unit.pk])

    for query in (unit.code, "13912345678", vehicle.plate):
        assert client.get(reverse("billing:desk"), {"q": query}).url == desk

    response = client.get(reverse("billing:desk"), {"q": "没有这套房"})
    assert "没有找到「没有这套房」对应的房屋" in response.content.decode()


def test_the_cashier_pays_two_bills_in_cash_and_from_prepaid_and_gets_a_receipt_in_capitals(client, project,
                                                                                            cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, name="物业费")
    october = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=OCTOBER)
    november = make_bill(project, "23.45", unit=unit, fee_item=fee_item, period_month=NOVEMBER)
    payment_collect(project=project, bill_ids=[], tenders=[Tender("cash", Decimal("50.00"))], actor=cashier,
                    unit=unit)
    desk = reverse("billing:desk_unit", args=[unit.pk])
    page = client.get(desk).content.decode()
    assert "物业费" in page and "¥50.00" in page

    response = client.post(desk, {"bills": [october.pk, november.pk], "cash": "100.00", "cash_tendered": "200",
                                  "prepaid": "23.45"})

    payment = Payment.objects.get(amount=Decimal("123.45"))
    assert response.url == reverse("billing:payment_receipt", args=[payment.pk])
    assert bill_outstanding(october) == bill_outstanding(november) == 0
    assert prepaid_balance(prepaid_account(unit)) == Decimal("26.55")
    receipt = client.get(response.url).content.decode()
    assert "人民币壹佰贰拾叁元肆角伍分" in receipt and payment.receipt_number in receipt
    assert "找零 ¥100.00" in receipt


def test_bad_input_is_refused_at_its_field_and_nothing_is_collected(client, project, cashier):
    unit = make_unit(project)
    bill = make_bill(project, "100.00", unit=unit)
    desk = reverse("billing:desk_unit", args=[unit.pk])

    nothing = client.post(desk, {"bills": [bill.pk]})
    negative = client.post(desk, {"bills": [bill.pk], "cash": "-5"})
    too_much_prepaid = client.post(desk, {"bills": [bill.pk], "prepaid": "10"})

    assert nothing.status_code == negative.status_code == too_much_prepaid.status_code == 400
    assert "请填写至少一种收款方式的金额" in nothing.content.decode()
    assert "0.01" in negative.content.decode()
    assert "预存余额不足" in too_much_prepaid.content.decode()
    assert not Payment.objects.exists() and bill_outstanding(bill) == Decimal("100.00")


def test_a_cashier_is_told_to_pay_the_earlier_bill_first(client, project, cashier):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, name="物业费")
    make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=OCTOBER)
    november = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=NOVEMBER)

    response = client.post(reverse("billing:desk_unit", args=[unit.pk]), {"bills": [november.pk], "cash": "100"})

    assert response.status_code == 400
    assert "请先缴「物业费」2026-10 的账单" in response.content.decode()


def test_staff_without_the_desk_permission_cannot_open_it(client, project):
    client.force_login(make_staff(project.company, "technician"))

    assert client.get(reverse("billing:desk")).status_code == 403


def test_the_desk_tops_up_a_restricted_account_and_offsets_open_bills_from_prepaid(client, project, cashier):
    unit = make_unit(project)
    water = make_fee_item(project.company, name="水费")
    bill = make_bill(project, "20.00", unit=unit, fee_item=water)
    desk = reverse("billing:desk_unit", args=[unit.pk])

    client.post(desk, {"cash": "30.00", "prepaid_to": water.pk})
    assert prepaid_balance(prepaid_account(unit, water)) == Decimal("30.00")
    response = client.post(reverse("billing:desk_unit_offset", args=[unit.pk]), follow=True)

    assert "已从预存冲抵 ¥20.00" in response.content.decode()
    assert bill_outstanding(bill) == 0 and prepaid_balance(prepaid_account(unit, water)) == Decimal("10.00")


def test_the_desk_reads_the_same_few_queries_however_much_the_unit_has(client, project, cashier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aishang.billing.deposits import deposit_collect

    unit = make_unit(project)
    make_owner(unit)
    desk = reverse("billing:desk_unit", args=[unit.pk])
    items = [make_fee_item(project.company, name=name) for name in ("物业费", "电梯费", "垃圾清运费")]
    make_bill(project, "100.00", unit=unit, fee_item=items[0], period_month=OCTOBER)
    client.get(desk)
    with CaptureQueriesContext(connection) as few:
        assert client.get(desk).status_code == 200

    for month in range(1, 13):
        for fee_item in items:
            make_bill(project, "35.50", unit=unit, fee_item=fee_item, period_month=datetime.date(2025, month, 1))
    for _ in range(3):
        make_owner(unit)
        payment_collect(project=project, bill_ids=[], tenders=[Tender("cash", Decimal("10.00"))], actor=cashier,
                        unit=unit)
        deposit_collect(project=project, unit=unit, kind="装修押金", tenders=[Tender("cash", Decimal("500.00"))],
                        actor=cashier)
    with CaptureQueriesContext(connection) as many:
        page = client.get(desk).content.decode()
    assert page.count('name="bills"') == 37 and page.count('data-testid="deposit-held"') == 3
    assert len(many) == len(few)
    # The user and the desk's seven statements; the session's too where sessions live in the database (PostgreSQL).
    read = [query["sql"][:80] for query in many if "django_session" not in query["sql"]]
    assert len(read) <= 8, read
