"""审批流程设置 in headless Chromium: rows added, moved and removed by htmx, then saved with Enter."""

from decimal import Decimal

import pytest

from aishang.billing.models import ApprovalAction, ApprovalFlow
from aishang.core.testing import htmx_idle, make_company, make_role, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def test_an_administrator_adds_moves_and_removes_levels_then_saves(page, live_server):
    from playwright.sync_api import expect

    company = make_company()
    make_role(company, ["billing.view_approvalrequest"], code="manager", name="总经理")
    admin = make_staff(company, "admin", username="flow-admin", password=PASSWORD)
    make_staff(company, "finance", username="flow-finance")  # so no level is flagged as having nobody to decide
    flow = ApprovalFlow.objects.get(company=company, action=ApprovalAction.WAIVER)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="审批流程设置").click()
    page.get_by_role("region", name="减免审批").get_by_role("link", name="编辑").click()
    rows = page.get_by_test_id("level-row")
    expect(rows).to_have_count(2)

    page.get_by_role("button", name="添加级次").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(2).get_by_role("combobox")).to_be_focused()
    rows.nth(2).get_by_role("combobox").select_option(label="总经理")
    rows.nth(2).get_by_role("textbox").fill("5000")
    page.get_by_role("button", name="删除第 1 级").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_test_id("level-number")).to_have_text("第 1 级")
    expect(rows.nth(0).get_by_role("combobox")).to_have_value(str(company.roles.get(code="admin").pk))
    page.get_by_role("button", name="第 2 级上移").click()
    expect(rows.nth(0).get_by_role("combobox")).to_have_value(
        str(company.roles.get(code="manager").pk))
    # 总经理 from ¥5,000 now sits first, which the page refuses: level 1 must apply to every amount.
    htmx_idle(page)
    page.get_by_label("起审金额（第 1 级）").press("Enter")
    expect(page.get_by_role("alert").filter(has_text="第 1 级须对所有金额生效")).to_be_visible()
    page.get_by_role("button", name="第 1 级下移").click()
    expect(rows.nth(1).get_by_role("textbox")).to_have_value("5000")
    page.get_by_label("流程名称").fill("减免审批（管理员、总经理）")
    page.get_by_label("起审金额（第 1 级）").fill("")  # 管理员 came with ¥500.01 from the default flow
    htmx_idle(page)
    page.get_by_label("起审金额（第 1 级）").press("Enter")

    page.wait_for_url(f"{live_server.url}/billing/approval-flows/")
    expect(page.get_by_role("alert").first).to_contain_text("已保存")
    flow.refresh_from_db()
    assert flow.name == "减免审批（管理员、总经理）"
    assert list(flow.levels.order_by("level").values_list("level", "role__code", "min_amount")) == [
        (1, "admin", None), (2, "manager", Decimal("5000.00"))]
