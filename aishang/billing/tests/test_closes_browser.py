"""日结 in headless Chromium: the cashier opens 日结 from the menu, hands over less cash than expected, is asked for a
note, gives one, and gets the printable slip."""

from decimal import Decimal

import pytest

from aishang.billing.models import ShiftClose
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import make_bill, make_company, make_project, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def test_a_cashier_closes_the_shift_with_a_note_for_the_difference_and_opens_the_slip(page, live_server):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company, name="阳光花园")
    cashier = make_staff(company, "cashier", username="shift-cashier", password=PASSWORD)
    for amount, tenders in (("150.00", [Tender("cash", Decimal("150.00"), Decimal("200.00"))]),
                            ("88.80", [Tender("wechat", Decimal("88.80"))])):
        bill = make_bill(project, amount)
        payment_collect(project=project, bill_ids=[bill.pk], tenders=tenders, actor=cashier)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(cashier.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="日结").click()

    expect(page.get_by_test_id("shift-count")).to_have_text("2")
    expect(page.get_by_test_id("shift-total")).to_have_text("¥238.80")
    expect(page.get_by_test_id("change-given")).to_have_text("¥50.00")
    expect(page.get_by_test_id("cash-expected")).to_have_text("¥150.00")
    handed_over = page.get_by_label("实交现金")
    expect(handed_over).to_be_focused()
    handed_over.fill("149.50")
    expect(page.locator("#shift-difference")).to_have_text("少交 ¥0.50，请填写备注说明")
    handed_over.press("Enter")

    expect(page.get_by_role("alert").filter(has_text="实交现金与应交现金相差 -¥0.50，请填写说明")).to_be_visible()
    assert not ShiftClose.objects.exists()
    page.get_by_label("备注").fill("找零时多找五角")
    page.get_by_role("button", name="确认日结").click()

    slip = page.get_by_test_id("shift-slip")
    expect(slip).to_contain_text("收银日结单")
    expect(page.get_by_test_id("slip-handed-over")).to_have_text("¥149.50")
    expect(page.get_by_test_id("slip-difference")).to_have_text("-¥0.50")
    expect(slip).to_contain_text("找零时多找五角")
    close = ShiftClose.objects.get()
    assert (close.cash_expected, close.cash_handed_over, close.payment_count) == (Decimal("150.00"),
                                                                                  Decimal("149.50"), 2)
