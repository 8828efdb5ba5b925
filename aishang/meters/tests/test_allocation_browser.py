"""A finance clerk shares a month of public lighting in headless Chromium: preview, 确认入账, 冲销."""

import pytest

from aishang.core.testing import make_company, make_project, make_staff

from .allocation_factories import delivered_units, meter, read, rule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Passw0rd!2026"


def test_finance_previews_posts_and_reverses_a_lighting_run(page, live_server, tmp_path):
    from playwright.sync_api import expect

    project = make_project(make_company(), name="爱尚花园")
    delivered_units(project, 100)
    lighting = meter(project, role="public", name="公区照明")
    read(lighting, 1200)
    shared = rule(project, lighting, name="公区照明公摊")
    finance = make_staff(project.company, "finance", username="caiwu")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(finance.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/meters/allocation-rules/{shared.pk}/")
    page.get_by_role("link", name="新建分摊").click()
    page.get_by_label("期初").fill("2026-10-01")
    page.get_by_label("期末").fill("2026-10-31")
    page.get_by_role("button", name="计算预览").click()

    expect(page.get_by_test_id("run-status")).to_have_text("预览")
    expect(page.get_by_test_id("meter-usage")).to_have_text("1200.00")
    expect(page.get_by_test_id("shares-total")).to_have_text("1200.00")
    expect(page.get_by_test_id("totals")).to_contain_text("与分摊总量一致")
    expect(page.get_by_test_id("shares").locator("tbody tr")).to_have_count(100)
    page.screenshot(path=str(tmp_path / "allocation-preview.png"), full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "allocation-preview-phone.png"), full_page=False)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.get_by_role("button", name="确认入账（100 户）").click()
    expect(page.get_by_test_id("run-status")).to_have_text("已入账")
    page.get_by_label("冲销原因").fill("照明表读数有误")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="冲销").click()
    expect(page.get_by_test_id("run-status")).to_have_text("已冲销")
    expect(page.locator("body")).to_contain_text("照明表读数有误")
    page.goto(f"{live_server.url}/meters/allocation-runs/")
    expect(page.locator("#list-table tbody tr")).to_have_count(1)
    expect(page.locator("#list-table")).to_contain_text("已冲销")
    page.screenshot(path=str(tmp_path / "allocation-run-list.png"), full_page=False)


def test_the_rule_form_shows_only_what_the_chosen_purpose_and_scope_need(page, live_server, tmp_path):
    from playwright.sync_api import expect

    project = make_project(make_company(), name="爱尚花园")
    first, second = delivered_units(project, 2)
    master = meter(project, role="master", name="1号楼总表")
    finance = make_staff(project.company, "finance", username="caiwu2")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(finance.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/meters/allocation-rules/add/?project={project.pk}")
    expect(page.locator("#id_basis")).to_be_visible()
    expect(page.locator("#id_loss_method")).to_be_hidden()
    expect(page.locator("#id_unit_codes")).to_be_hidden()
    page.locator("#id_project").select_option(str(project.pk))
    page.locator("#id_name").fill("1号楼损耗")
    page.locator("#id_meter").select_option(str(master.pk))
    page.locator("#id_purpose").select_option("loss")
    expect(page.locator("#id_basis")).to_be_hidden()
    expect(page.locator("#id_loss_method")).to_be_visible()
    page.locator("#id_scope").select_option("units")
    page.locator("#id_unit_codes").fill(f"{first.code}\n{second.code}")
    page.screenshot(path=str(tmp_path / "allocation-rule-form.png"), full_page=True)
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("1号楼损耗")
    expect(page.locator("body")).to_contain_text(first.code)
    expect(page.locator("body")).to_contain_text("按用量分摊损耗")
    page.screenshot(path=str(tmp_path / "allocation-rule-detail.png"), full_page=True)


def test_finance_allocates_a_whole_month_with_one_click_and_posts_it_all(page, live_server, tmp_path):
    from playwright.sync_api import expect

    project = make_project(make_company(), name="爱尚花园")
    units = delivered_units(project, 20)
    lighting, master = meter(project, role="public", name="公区照明"), meter(project, role="master", name="1号楼总表")
    read(lighting, 1200)
    read(master, 1000)
    for unit in units:
        read(meter(project, unit=unit, parent=master), 45)
    rule(project, lighting, name="公区照明公摊")
    rule(project, master, name="1号楼损耗", purpose="loss", loss_method="usage")
    finance = make_staff(project.company, "finance", username="caiwu3")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(finance.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/meters/allocation-runs/")
    batch = page.get_by_test_id("batch-form")
    batch.get_by_label("项目").select_option(str(project.pk))
    batch.get_by_label("月份").fill("2026-10")
    page.screenshot(path=str(tmp_path / "allocation-batch-form.png"), full_page=False)
    batch.get_by_role("button", name="计算预览").click()

    drafts = page.get_by_test_id("drafts")
    expect(drafts.locator("tbody tr")).to_have_count(2)
    expect(drafts).to_contain_text("1200.00 kWh")
    expect(drafts).to_contain_text("100.00 kWh")
    page.screenshot(path=str(tmp_path / "allocation-batch-drafts.png"), full_page=True)
    page.get_by_test_id("post-all").click()
    expect(page.locator("body")).to_contain_text("已入账 2 个分摊批次")
    expect(page.locator("#list-table tbody tr")).to_have_count(2)
    expect(page.locator("#list-table")).to_contain_text("已入账")
