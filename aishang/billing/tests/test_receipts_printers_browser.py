"""Thermal receipts and printer calibration in headless Chromium: finance sets up a 58 mm 小票 template with the live
preview, registers a printer and corrects its offset from the calibration page; a cashier prints a 小票 on a page as
long as the receipt, and a 套打 with the printer chosen, which is remembered (ADR 0018)."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.models import PrinterProfile, ReceiptTemplate
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.receipts import receipt_template_save, suggested_positions
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
PX_PER_MM = 96 / 25.4


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_finance_sets_up_a_thermal_receipt_and_a_calibrated_printer_and_a_cashier_prints_with_them(
        page, live_server, tmp_path):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company, name="阳光花园")
    unit = make_unit(project)
    make_owner(unit)
    fee_item = make_fee_item(company, name="物业服务费")
    bills = [make_bill(project, "216.90", unit=unit, fee_item=fee_item, period_month=datetime.date(2026, month, 1))
             for month in (10, 11)]
    finance = make_staff(company, "finance", username="thermal-finance", password=PASSWORD)
    cashier = make_staff(company, "cashier", username="thermal-cashier", password=PASSWORD)
    payment = payment_collect(project=project, unit=unit, bill_ids=[bill.pk for bill in bills], actor=cashier,
                              tenders=[Tender("cash", Decimal("433.80"), Decimal("500.00"))])
    receipt_template_save(template=ReceiptTemplate(
        company=company, name="针式套打", title="收据", paper="241x93", layout="overlay",
        fields=["receipt_number", "unit", "items", "total_capitals"], positions=suggested_positions()), actor=None)

    # 财务: a 58 mm 小票 template, seen in the live preview at the roll's width.
    log_in(page, live_server, finance)
    page.goto(f"{live_server.url}/billing/receipt-templates/add/")
    page.get_by_label("名称").fill("热敏小票")
    page.get_by_label("纸张").select_option("roll58")
    htmx_idle(page)
    sheet = page.get_by_test_id("preview").get_by_test_id("receipt-sheet")
    expect(sheet).to_have_attribute("data-paper", "58xroll")
    assert sheet.bounding_box()["width"] == pytest.approx(58 * PX_PER_MM, abs=1)
    expect(sheet.get_by_test_id("capitals")).to_have_text("人民币肆佰叁拾叁元捌角")
    page.get_by_label("套打（预印收据）").check()
    htmx_idle(page)
    expect(page.get_by_test_id("preview-errors")).to_contain_text("热敏小票不能套打")
    page.get_by_label("标准收据").check()
    htmx_idle(page)
    page.screenshot(path=str(tmp_path / "thermal-template.png"), full_page=True)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("template-list")).to_contain_text("热敏小票")

    # A printer, and its offset corrected from the calibration page.
    page.get_by_role("link", name="新增打印机").click()
    page.get_by_label("名称").fill("前台针式")
    page.get_by_label("水平偏移（毫米）").fill("30")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("偏移应在 -20 到 20 毫米之间")).to_be_visible()
    page.get_by_label("水平偏移（毫米）").fill("0")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("printer-list")).to_contain_text("前台针式")
    page.get_by_test_id("printer-list").get_by_role("link", name="校准").click()
    expect(page.get_by_test_id("calibration-sheet")).to_have_attribute("data-paper", "241x93")
    assert page.get_by_test_id("calibration-sheet").bounding_box()["width"] == pytest.approx(241 * PX_PER_MM, abs=1)
    page.screenshot(path=str(tmp_path / "calibration.png"), full_page=True)
    page.get_by_label("实测距左边（毫米）").fill("32.5")
    page.get_by_label("实测距上边（毫米）").fill("28")
    page.get_by_role("button", name="按实测更新偏移").click()
    expect(page.get_by_text("已更新「前台针式」的偏移：水平 -2.5 毫米，垂直 +2.0 毫米")).to_be_visible()
    expect(page.get_by_test_id("calibration-marks")).to_have_attribute("data-offset", "-2.5,2.0")
    printer = PrinterProfile.objects.get(company=company)
    assert (printer.offset_x, printer.offset_y) == (Decimal("-2.5"), Decimal("2.0"))

    # 收银员: the 小票 prints on a page as long as the receipt ...
    page.context.clear_cookies()
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    log_in(page, live_server, cashier)
    page.goto(f"{live_server.url}/billing/payments/{payment.pk}/receipt/")
    page.get_by_label("模板").select_option(label="热敏小票")
    receipt = page.get_by_test_id("receipt-sheet")
    expect(receipt).to_have_attribute("data-paper", "58xroll")
    page.get_by_test_id("print").click()
    expect(page.get_by_test_id("printing")).to_contain_text("已记录本次打印（原件）")
    assert page.evaluate("window.printed") == 1
    height_mm = receipt.bounding_box()["height"] / PX_PER_MM
    page_size = page.evaluate("document.getElementById('receipt-page-size').textContent")
    assert page_size.startswith("@page { size: 58mm ")
    assert float(page_size.split()[4].removesuffix("mm;")) == pytest.approx(height_mm + 1, abs=1.5)
    page.screenshot(path=str(tmp_path / "thermal-receipt.png"), full_page=True)

    # ... and a 套打 with the printer chosen, moved by its offset; the choice is remembered.
    page.get_by_label("模板").select_option(label="针式套打")
    page.get_by_label("打印机").select_option(label="前台针式")
    expect(page.get_by_test_id("receipt-body")).to_have_attribute("data-offset", "-2.5,2.0")
    page.get_by_test_id("print").click()
    expect(page.get_by_test_id("reprint-mark")).to_have_text("补打（第 2 次）")
    with page.expect_download() as download:
        page.get_by_test_id("pdf").click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    page.goto(f"{live_server.url}/billing/payments/{payment.pk}/receipt/")
    expect(page.get_by_label("打印机")).to_have_value(str(printer.pk))
    outputs = page.get_by_test_id("print-output")
    expect(outputs).to_have_text(["打印", "打印", "下载 PDF"])
    page.screenshot(path=str(tmp_path / "overlay-receipt.png"), full_page=True)
    assert list(payment.prints.order_by("copy_number").values_list("output", "printer_name", "offset_x")) == [
        ("print", "", Decimal("0")), ("print", "前台针式", Decimal("-2.5")), ("pdf", "前台针式", Decimal("-2.5"))]
