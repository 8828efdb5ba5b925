"""导入历史账单 in headless Chromium: upload a file with a bad row, read the error, fix it, import, see the bills."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import Bill, Payment
from aishang.core.testing import make_building, make_company, make_fee_item, make_project, make_staff, property_type
from aishang.estate.models import Entrance, Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"
PHONE = {"width": 390, "height": 844}
HEADERS = ["房屋编码", "收费项目", "开始时间", "结束时间", "应收金额", "实收金额", "收款日期", "收款方式"]


def workbook_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(page, rows):
    page.get_by_label("Excel 文件").set_input_files(
        {"name": "历史账单.xlsx", "buffer": workbook_bytes(rows),
         "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    page.get_by_role("button", name="开始导入").click()


def test_a_clerk_uploads_a_bad_file_reads_the_error_fixes_it_and_imports(page, live_server, tmp_path):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company, name="阳光花园")
    building = make_building(project, code="1")
    entrance = Entrance.objects.create(project=project, building=building, code="2")
    for number in ("301", "302"):
        Unit.objects.create(project=project, building=building, entrance=entrance, number=number, floor=3,
                            building_area=Decimal("120.50"), property_type=property_type(company, "住宅"))
    make_fee_item(company, code="WY", name="物业费")
    finance = make_staff(company, "finance", username="import-finance", password=PASSWORD)
    good = ["1-2-301", "物业费", "2025-01-01", "2025-12-31", 2400, 1000, "2025-01-05", "微信"]
    bad = ["1-2-302", "物业费", "2025-01-01", "2025-12-31", 2400, 2500, "2025-01-05", "现金"]

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(finance.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/billing/bills/")
    page.get_by_role("link", name="导入历史账单").click()
    expect(page.get_by_role("heading", name="导入历史账单")).to_be_visible()
    expect(page.get_by_test_id("template-download")).to_contain_text("阳光花园")

    upload(page, [good, bad])

    errors = page.get_by_test_id("job-errors")
    expect(errors).to_contain_text("实收金额 2500.00 不能大于应收金额 2400.00")
    expect(errors.locator("tbody tr").first).to_contain_text("3")
    expect(errors.locator("tbody tr").first).to_contain_text("实收金额")
    expect(page.get_by_test_id("errors-download")).to_be_visible()
    page.screenshot(path=str(tmp_path / "bill-import-errors.png"), full_page=True)
    assert not Bill.objects.exists()

    page.get_by_role("link", name="导入其他文件").click()
    bad[5] = 2400
    upload(page, [good, bad])

    expect(page.get_by_test_id("job-message")).to_contain_text("导入完成：账单 2 张")
    page.screenshot(path=str(tmp_path / "bill-import-done.png"), full_page=True)
    page.get_by_role("link", name="查看账单").click()
    expect(page.get_by_role("cell", name="导入").first).to_be_visible()
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "bill-list-phone.png"), full_page=True)

    part_paid = Bill.objects.get(unit__number="301")
    assert bill_outstanding(part_paid) == Decimal("1400.00")
    assert Payment.objects.filter(source="import").count() == 2
    assert Bill.objects.get(unit__number="302").period_end == datetime.date(2025, 12, 31)
