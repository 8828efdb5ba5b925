"""收据 in headless Chromium: finance sets up a 套打 template with the live preview, a cashier prints a receipt on it
(the original, then 补打（第 2 次）) and downloads the PDF."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.models import ReceiptTemplate
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import (
    htmx_idle,
    make_bill,
    make_company,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    make_unit,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_finance_sets_up_an_overlay_template_and_a_cashier_prints_on_it(page, live_server, tmp_path):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company, name="阳光花园")
    unit = make_unit(project)
    make_owner(unit)
    bill = make_bill(project, "433.80", unit=unit, fee_item=make_fee_item(company, name="物业费"),
                     period_month=datetime.date(2026, 11, 1))
    finance = make_staff(company, "finance", username="receipt-finance", password=PASSWORD)
    cashier = make_staff(company, "cashier", username="receipt-cashier", password=PASSWORD)
    payment = payment_collect(project=project, unit=unit, bill_ids=[bill.pk], actor=cashier,
                              tenders=[Tender("cash", Decimal("433.80"))])

    log_in(page, live_server, finance)
    page.get_by_role("link", name="收据模板").click()
    page.get_by_role("link", name="新增模板").click()
    page.get_by_label("名称").fill("针式套打")
    page.get_by_label("纸张").select_option("241x93")
    page.get_by_label("套打（预印收据）").check()
    htmx_idle(page)
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("receipt-sheet")).to_have_attribute("data-paper", "241x93")
    expect(preview.get_by_test_id("receipt-field-receipt_number")).to_contain_text("SJ")
    assert page.get_by_test_id("receipt-sheet").bounding_box()["width"] == pytest.approx(241 / 25.4 * 96, abs=1)

    page.get_by_label("收据号 距左边（毫米）").fill("250")
    htmx_idle(page)
    expect(page.get_by_test_id("preview-errors")).to_contain_text("「收据号」的位置超出纸张（宽 241 毫米、高 93 毫米）")
    page.get_by_label("收据号 距左边（毫米）").fill("185")
    htmx_idle(page)
    expect(page.get_by_test_id("preview-errors")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "template.png"), full_page=True)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("template-list")).to_contain_text("针式套打")

    page.context.clear_cookies()
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    log_in(page, live_server, cashier)
    page.goto(f"{live_server.url}/billing/payments/{payment.pk}/receipt/")
    page.get_by_label("模板").select_option(label="针式套打")
    expect(page.get_by_test_id("receipt-sheet")).to_have_attribute("data-paper", "241x93")
    page.get_by_test_id("print").click()
    expect(page.get_by_test_id("printing")).to_contain_text("已记录本次打印（原件）")
    assert page.evaluate("window.printed") == 1
    expect(page.get_by_test_id("reprint-mark")).to_have_count(0)

    page.goto(f"{live_server.url}/billing/payments/{payment.pk}/receipt/")
    expect(page.get_by_test_id("print")).to_have_text("补打（第 2 次）")
    page.get_by_test_id("print").click()
    expect(page.get_by_test_id("reprint-mark")).to_have_text("补打（第 2 次）")
    expect(page.get_by_test_id("print-history").locator("tbody tr")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_test_id("pdf").click()
    assert download.value.suggested_filename == f"收据-{payment.receipt_number}.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
    assert list(payment.prints.order_by("copy_number").values_list("copy_number", "template__name")) == [
        (1, "针式套打"), (2, "针式套打"), (3, "针式套打")]
    assert ReceiptTemplate.objects.filter(company=company).count() == 2
