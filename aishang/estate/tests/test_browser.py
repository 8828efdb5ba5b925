"""The main back-office flows in headless Chromium: logging in and working the unit list."""

import pytest

from aishang.core.demo import DEMO_PASSWORD, demo_install

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_company():
    return demo_install().company


def log_in(page, live_server, username, password=DEMO_PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_the_demo_administrator_sees_a_chinese_back_office_with_the_three_projects(page, live_server, demo_company):
    from playwright.sync_api import expect

    log_in(page, live_server, "admin")

    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    cards = page.get_by_test_id("project-card")
    expect(cards).to_have_count(3)
    for name in ("爱尚花园", "爱尚商业街", "爱尚科技园"):
        expect(cards.filter(has_text=name)).to_have_count(1)
    expect(page.get_by_role("navigation", name="主菜单")).to_contain_text("房屋")


def test_a_wrong_password_is_answered_in_chinese_on_the_login_page(page, live_server, demo_company):
    from playwright.sync_api import expect

    log_in(page, live_server, "admin", password="wrong-password-1")

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    assert page.url.endswith("/accounts/login/")


def test_the_unit_list_filters_searches_and_opens_a_unit(page, live_server, demo_company):
    from playwright.sync_api import expect

    log_in(page, live_server, "admin")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="房屋").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("房屋")
    page.get_by_label("搜索").fill("1-1-101")
    page.get_by_label("搜索").press("Enter")
    rows = page.locator("#list-table tbody tr")
    expect(rows).to_have_count(2)  # 1-1-101 and 11-1-101
    expect(rows.first).to_contain_text("1-1-101")
    assert "q=1-1-101" in page.url

    page.locator("#list-table").get_by_role("link", name="1-1-101", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1-1-101")
    page.go_back()
    expect(page.get_by_label("搜索")).to_have_value("1-1-101")


def test_a_steward_scoped_to_one_project_sees_only_its_units(page, live_server, demo_company):
    from playwright.sync_api import expect

    log_in(page, live_server, "guanjia_huayuan")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_test_id("project-card")).to_have_count(1)

    page.goto(f"{live_server.url}/estate/units/?q=商")
    expect(page.locator("#list-table tbody")).to_contain_text("没有符合条件的记录")
