"""The cashier's desk in headless Chromium: find 1-2-301, pay two bills in cash and from prepaid, open the receipt."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.balances import bill_outstanding
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import (
    make_bill,
    make_building,
    make_company,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    property_type,
)
from aishang.estate.models import Entrance, Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def test_a_cashier_pays_two_bills_in_cash_and_from_prepaid_and_opens_the_receipt(page, live_server, tmp_path):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company, name="阳光花园")
    building = make_building(project, code="1")
    entrance = Entrance.objects.create(project=project, building=building, code="2")
    unit = Unit.objects.create(project=project, building=building, entrance=entrance, number="301", floor=3,
                               building_area=Decimal("120.50"), property_type=property_type(company, "住宅"))
    make_owner(unit)
    fee_item = make_fee_item(company, name="物业费")
    october = make_bill(project, "216.90", unit=unit, fee_item=fee_item, period_month=datetime.date(2026, 10, 1))
    november = make_bill(project, "216.90", unit=unit, fee_item=fee_item, period_month=datetime.date(2026, 11, 1))
    cashier = make_staff(company, "cashier", username="desk-cashier", password=PASSWORD)
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[Tender("cash", Decimal("100.00"))],
                    actor=cashier)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(cashier.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/billing/desk/")
    page.get_by_label("房屋编码、业主姓名、手机号或车牌号").fill("1-2-301")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("heading", name="1-2-301")).to_be_visible()
    expect(page.get_by_test_id("prepaid-balance")).to_contain_text("¥100.00")

    page.get_by_label("2026-10-01 ～ 2026-10-31").check()
    page.get_by_label("2026-11-01 ～ 2026-11-30").check()
    expect(page.locator("#desk-selected")).to_have_text("¥433.80")
    page.get_by_label("现金", exact=True).fill("350.00")
    page.get_by_label("实付现金").fill("400")
    page.get_by_label("预存冲抵").fill("83.80")
    page.get_by_role("button", name="确认收款").click()

    expect(page.get_by_test_id("capitals")).to_have_text("人民币肆佰叁拾叁元捌角")
    expect(page.get_by_test_id("receipt-number")).to_have_text(f"SJ{datetime.date.today().year}-000002")
    page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
    assert bill_outstanding(october) == bill_outstanding(november) == 0
