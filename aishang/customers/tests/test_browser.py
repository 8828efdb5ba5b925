import datetime
from pathlib import Path

import pytest

from aishang.core.testing import (
    make_building,
    make_company,
    make_customer,
    make_occupancy,
    make_parking_space,
    make_project,
    make_resident_id,
    make_staff,
    make_unit,
    make_vehicle,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
PASSWORD = "Passw0rd!2026"
PHONE = {"width": 390, "height": 844}


def register():
    company = make_company("爱尚测试物业")
    project = make_project(company, name="阳光花园")
    building = make_building(project, code="1")
    people = [
        ("王建国", "13812345678", make_resident_id("19800101", "002"), ["VIP"], "owner"),
        ("李秀英", "13900001111", make_resident_id("19750512", "123"), ["老人独居", "需上门"], "owner"),
        ("张伟", "13600002222", "", [], "tenant"),
        ("深圳市好邻居商贸有限公司", "13700003333", "", ["商户"], "tenant"),
    ]
    customers = []
    for number, (name, mobile, id_number, tags, role) in enumerate(people, start=1):
        customer = make_customer(project, name=name, mobile=mobile, id_type="resident_id" if id_number else "",
                                 id_number=id_number, tags=tags, occupation="教师" if number == 1 else "",
                                 move_in_date=datetime.date(2020, number, 1),
                                 kind="organization" if "公司" in name else "person")
        make_occupancy(make_unit(project, building=building, number=f"{number}01"), customer, role=role,
                       is_payer=True)
        customers.append(customer)
    make_vehicle(project, customer=customers[0], plate="粤B12345", parking_space=make_parking_space(project, "A-001"))
    admin = make_staff(company, "admin", username="manager", password=PASSWORD)
    return customers[0], admin


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_editing_a_customer(page, live_server, browser):
    from playwright.sync_api import expect

    customer, admin = register()
    SHOTS.mkdir(exist_ok=True)
    log_in(page, live_server, admin.username)

    page.goto(f"{live_server.url}/customers/customers/")
    expect(page.get_by_role("cell", name="13812345678")).to_be_visible()
    page.screenshot(path=SHOTS / "customer_list_1366.png", full_page=True)
    main = page.get_by_role("main")
    main.get_by_role("link", name="王建国").click()
    expect(page.get_by_role("heading", name="王建国")).to_be_visible()
    page.screenshot(path=SHOTS / "customer_detail_1366.png", full_page=True)

    page.get_by_role("button", name="显示手机号明文").click()
    expect(page.get_by_test_id("pii-mobile")).to_have_text("13812345678")

    main.get_by_role("link", name="编辑").click()
    page.get_by_label("职业").fill("医生")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="已保存")).to_contain_text("王建国")
    expect(page.get_by_test_id("occupation")).to_have_text("医生")

    main.get_by_role("link", name="变更记录", exact=True).click()
    change = page.get_by_test_id("change").first
    expect(change).to_contain_text("职业")
    expect(change.locator(".diff-before")).to_have_text("教师")
    expect(change.locator(".diff-after")).to_have_text("医生")
    expect(change).to_contain_text(str(admin))

    page.goto(f"{live_server.url}/customers/customers/{customer.pk}/edit/")
    id_input = page.get_by_label("证件号码")
    bad = customer.id_number[:17] + ("1" if customer.id_number[17] == "0" else "0")
    id_input.fill(bad)
    page.get_by_role("button", name="保存").click()
    field = page.locator(".mb-3", has=page.locator("#id_id_number"))
    expect(field.locator(".invalid-feedback")).to_have_text("身份证号校验位错误")
    expect(page.get_by_label("证件号码")).to_have_value(bad)

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", storage_state=page.context.storage_state(),
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        phone_page = phone.new_page()
        phone_page.goto(f"{live_server.url}/customers/customers/")
        expect(phone_page.get_by_role("main").get_by_role("link", name="王建国")).to_be_visible()
        phone_page.screenshot(path=SHOTS / "customer_list_390.png", full_page=True)
        phone_page.goto(f"{live_server.url}/customers/customers/{customer.pk}/")
        phone_page.screenshot(path=SHOTS / "customer_detail_390.png", full_page=True)
        phone_page.goto(f"{live_server.url}/customers/customers/{customer.pk}/?tab=units")
        phone_page.screenshot(path=SHOTS / "customer_units_390.png", full_page=True)
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()
