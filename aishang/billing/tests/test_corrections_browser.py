"""A refund in headless Chromium: the cashier asks for it on the payment's page, 财务 approves it in the inbox, the
payment then shows the refund and its bill is open again."""

from decimal import Decimal

import pytest

from aishang.billing.balances import bill_outstanding
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import make_bill, make_company, make_owner, make_project, make_staff, make_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_cashier_asks_for_a_refund_and_finance_approves_it(page, live_server, browser):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company)
    unit = make_unit(project)
    make_owner(unit)
    bill = make_bill(project, "300.00", unit=unit)
    cashier = make_staff(company, "cashier", username="refund-cashier", password=PASSWORD)
    finance = make_staff(company, "finance", username="refund-finance", password=PASSWORD)
    payment = payment_collect(project=project, bill_ids=[bill.pk], actor=cashier,
                              tenders=[Tender("wechat", Decimal("300.00"), reference="WX1")])

    log_in(page, live_server, cashier)
    page.goto(f"{live_server.url}/billing/payments/{payment.pk}/")
    page.get_by_label("退款金额").fill("400")
    page.locator("form[action$='/requests/refund/'] [name=reason]").fill("业主多缴")
    page.get_by_role("button", name="提交退款申请").click()
    expect(page.get_by_role("alert").first).to_contain_text("该收款最多可退 ¥300.00")

    page.get_by_label("退款金额").fill("120.00")
    page.get_by_label("退款方式").select_option("wechat")
    page.locator("form[action$='/requests/refund/'] [name=reason]").fill("业主多缴")
    page.get_by_role("button", name="提交退款申请").click()
    expect(page.get_by_test_id("status")).to_have_text("待审批")

    approver = browser.new_page()
    log_in(approver, live_server, finance)
    approver.goto(f"{live_server.url}/billing/approvals/")
    approver.get_by_role("link", name="收款退款").first.click()
    expect(approver.get_by_text(f"收据 {payment.receipt_number}")).to_be_visible()
    approver.get_by_role("button", name="同意").click()
    expect(approver.get_by_test_id("status")).to_have_text("已通过")

    page.goto(f"{live_server.url}/billing/payments/{payment.pk}/")
    expect(page.get_by_test_id("payment-status")).to_have_text("部分退款")
    expect(page.get_by_test_id("reversible")).to_have_text("¥180.00")
    expect(page.get_by_test_id("reversals")).to_contain_text("微信")
    assert bill_outstanding(bill) == Decimal("120.00")
