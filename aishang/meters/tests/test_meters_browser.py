"""The reading grid in headless Chromium: a clerk reads a building's water meters with the keyboard alone."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aishang.core.testing import make_building, make_company, make_project, make_staff, make_unit
from aishang.meters.choices import MeterKind, MeterRole
from aishang.meters.models import Meter, MeterReading
from aishang.meters.readings import reading_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
PASSWORD = "Passw0rd!2026"
PHONE = {"width": 390, "height": 844}


def building_with_meters():
    project = make_project(make_company("爱尚测试物业"), name="阳光花园")
    building = make_building(project, code="1", name="1号楼")
    meters = []
    for number in ("101", "102", "201"):
        unit = make_unit(project, building=building, number=number)
        meters.append(Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.UNIT, unit=unit,
                                           building=building, number=f"W-{number}",
                                           install_date=datetime.date(2026, 1, 1), initial_reading=Decimal("100")))
    Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.PUBLIC, building=building,
                         number="W-P1", name="1号楼公区", install_date=datetime.date(2026, 1, 1))
    clerk = make_staff(project.company, "finance", username="chaobiao")
    for month, value in ((2, "104"), (3, "108"), (4, "112")):
        reading_record(meter=meters[1], value=Decimal(value), read_on=datetime.date(2026, month, 20), actor=clerk)
    return project, building, meters, clerk


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_clerk_reads_a_building_with_the_keyboard_and_sees_the_history(page, live_server, browser):
    from playwright.sync_api import expect

    SHOTS.mkdir(exist_ok=True)
    _project, building, meters, clerk = building_with_meters()
    log_in(page, live_server, clerk.username)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="抄表录入").click()
    page.wait_for_load_state()  # the grid opens from a script that runs once the page has loaded
    page.get_by_label("本期抄表日期").fill("2026-05-20")
    page.get_by_label("楼栋").select_option(str(building.pk))  # choosing the building opens its grid

    rows = page.get_by_test_id("grid-row")
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("progress")).to_have_text("已抄 0/4")
    first = rows.nth(0).locator("[data-reading-input]")
    expect(first).to_be_focused()

    page.keyboard.type("112")
    expect(rows.nth(0).locator("[data-usage]")).to_have_text("12.00")
    page.keyboard.press("Enter")
    expect(rows.nth(1).locator("[data-reading-input]")).to_be_focused()
    page.keyboard.type("150")  # 38 against an average of 4: saved, flagged for review
    expect(rows.nth(1)).to_contain_text("保存后待复核")
    page.keyboard.press("ArrowDown")
    page.keyboard.type("95")
    expect(rows.nth(2)).to_contain_text("本期读数低于上期")
    page.keyboard.press("ArrowUp")
    expect(rows.nth(1).locator("[data-reading-input]")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Control+A")
    page.keyboard.type("125.5")
    expect(rows.nth(2).locator("[data-usage]")).to_have_text("25.50")
    expect(page.locator("[data-filled-count]")).to_have_text("本次填写 3 条")
    page.screenshot(path=SHOTS / "meters_grid_1366.png", full_page=True)
    page.keyboard.press("Enter")
    expect(rows.nth(3).locator("[data-reading-input]")).to_be_focused()
    page.keyboard.press("Enter")  # the public meter is left empty: Enter moves on to 保存读数, and Enter saves
    expect(page.get_by_test_id("save")).to_be_focused()
    page.keyboard.press("Enter")

    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("已保存 3 条读数，其中 1 条用量异常，待复核")
    expect(page.get_by_test_id("progress")).to_have_text("已抄 3/4")
    expect(rows.nth(3).locator("[data-reading-input]")).to_be_focused()
    assert MeterReading.objects.filter(read_on=datetime.date(2026, 5, 20)).count() == 3
    page.screenshot(path=SHOTS / "meters_grid_saved_1366.png", full_page=True)

    summary.locator("li a").click()  # the reading flagged for review
    expect(page.get_by_test_id("usage")).to_contain_text("38.00")
    page.get_by_role("button", name="复核通过").click()
    expect(page.get_by_role("alert").first).to_contain_text("已复核通过")
    page.get_by_role("link", name=str(meters[1])).first.click()
    history = page.get_by_test_id("reading")
    expect(history).to_have_count(4)
    expect(history.first).to_contain_text("150.00")
    expect(history.first).to_contain_text("38.00")
    expect(history.first).to_contain_text("复核")
    expect(page.locator("#usage-chart[data-ready=true]")).to_have_count(1)
    page.screenshot(path=SHOTS / "meters_detail_1366.png", full_page=True)

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", storage_state=page.context.storage_state(),
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        phone_page = phone.new_page()
        phone_page.goto(f"{live_server.url}/meters/entry/?building={building.pk}&project={building.project_id}"
                        "&kind=water&read_on=2026-06-20")
        expect(phone_page.get_by_test_id("grid-row")).to_have_count(4)
        phone_page.screenshot(path=SHOTS / "meters_grid_390.png", full_page=True)
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone_page.goto(f"{live_server.url}{meters[1].get_absolute_url()}")
        phone_page.screenshot(path=SHOTS / "meters_detail_390.png", full_page=True)
    finally:
        phone.close()


def test_finance_registers_a_meter_and_corrects_a_flagged_reading_from_the_reading_list(page, live_server, browser):
    from playwright.sync_api import expect

    SHOTS.mkdir(exist_ok=True)
    _project, _building, meters, clerk = building_with_meters()
    reading_record(meter=meters[1], value=Decimal("212"), read_on=datetime.date(2026, 5, 20), actor=clerk)
    log_in(page, live_server, clerk.username)

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="仪表").click()
    expect(page.locator("#list-table tbody tr")).to_have_count(4)
    page.screenshot(path=SHOTS / "meters_list_1366.png", full_page=True)
    page.get_by_role("link", name="新增").click()
    page.get_by_label("表类型").select_option("electricity")
    page.get_by_label("表号").fill("E-101")
    page.get_by_label("房屋编码").fill("1-1-109")
    page.get_by_label("安装日期").fill("2026-01-01")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".invalid-feedback")).to_have_text("该项目没有房屋编码为 1-1-109 的房屋")
    page.get_by_label("房屋编码").fill("1-1-101")
    page.screenshot(path=SHOTS / "meters_form_1366.png", full_page=True)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("电表 E-101")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="抄表记录").click()
    page.wait_for_load_state()
    page.get_by_label("待复核").select_option("1")
    rows = page.locator("#list-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("212.00")
    page.screenshot(path=SHOTS / "meters_readings_1366.png", full_page=True)
    rows.first.get_by_role("link", name="复核").click()
    page.get_by_label("正确读数").fill("121")
    page.get_by_label("更正原因").fill("多按了一位")
    page.screenshot(path=SHOTS / "meters_review_1366.png", full_page=True)
    page.get_by_role("button", name="更正").click()
    expect(page.get_by_role("alert").first).to_contain_text("已更正读数，用量 9.00")
    history = page.get_by_test_id("reading")
    expect(history.first).to_contain_text("更正：多按了一位")

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", storage_state=page.context.storage_state(),
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        phone_page = phone.new_page()
        phone_page.goto(f"{live_server.url}/meters/readings/")
        expect(phone_page.locator("#list-table tbody tr")).to_have_count(4)
        phone_page.screenshot(path=SHOTS / "meters_readings_390.png", full_page=True)
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()
