"""抄表导入 in headless Chromium: download the building's template, upload it with a wrong row, read the error,
fix it, import, see how many readings were saved and flagged."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from aishang.core.testing import make_building, make_company, make_entrance, make_project, make_staff, make_unit
from aishang.meters.choices import MeterKind, MeterRole
from aishang.meters.models import Meter, MeterReading

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filled_in(template, values):
    sheet = load_workbook(io.BytesIO(template)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook = Workbook()
    for row, new in zip(rows, [None, *values], strict=False):
        if new is not None:
            row[7], row[8] = new
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_clerk_fills_in_the_template_fixes_a_wrong_row_and_imports(page, live_server, tmp_path):
    from playwright.sync_api import expect

    company = make_company()
    project = make_project(company, name="阳光花园")
    building = make_building(project, code="1", name="1号楼")
    entrance = make_entrance(building, code="2")
    for number in ("301", "302"):
        unit = make_unit(project, building=building, number=number)
        unit.entrance = entrance
        unit.save()
        Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.UNIT, unit=unit,
                             number=f"W-{number}", install_date=datetime.date(2026, 1, 1),
                             initial_reading=Decimal("100"))
    clerk = make_staff(company, "finance", username="reading-clerk", password=PASSWORD)
    day = datetime.date(2026, 10, 25)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(clerk.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/meters/readings/import/")
    expect(page.get_by_role("heading", name="抄表导入")).to_be_visible()
    page.get_by_label("楼栋").select_option(label="1号楼")
    page.get_by_label("表类型").select_option(label="水表")
    with page.expect_download() as download:
        page.get_by_test_id("template-download").click()
    template = download.value.path().read_bytes()
    page.screenshot(path=str(tmp_path / "reading-import.png"), full_page=True)

    page.get_by_label("Excel 文件").set_input_files(
        {"name": "抄表.xlsx", "buffer": filled_in(template, [(130, day), (90, day)]), "mimeType": XLSX})
    page.get_by_role("button", name="开始导入").click()

    errors = page.get_by_test_id("job-errors")
    expect(errors).to_contain_text("本期读数 90 低于上期 100.00")
    expect(errors.locator("tbody tr").first).to_contain_text("3")
    page.screenshot(path=str(tmp_path / "reading-import-errors.png"), full_page=True)
    assert not MeterReading.objects.exists()

    page.get_by_role("link", name="导入其他文件").click()
    page.get_by_label("Excel 文件").set_input_files(
        {"name": "抄表.xlsx", "buffer": filled_in(template, [(130, day), (112, day)]), "mimeType": XLSX})
    page.get_by_role("button", name="开始导入").click()

    expect(page.get_by_test_id("job-message")).to_contain_text("导入完成：读数 2 条")
    page.screenshot(path=str(tmp_path / "reading-import-done.png"), full_page=True)
    assert MeterReading.objects.count() == 2
