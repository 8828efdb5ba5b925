"""The billing flow in headless Chromium: a bill run previewed and posted, then a prepayment from a unit's page."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.choices import ChargeMethod
from aishang.billing.models import Bill, BillKind, BindingTarget, ChargeRule, FeeItem, RuleBinding
from aishang.core.testing import htmx_idle, make_company, make_owner, make_project, make_staff, make_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_finance_posts_a_run_and_a_cashier_takes_a_prepayment(page, live_server, settings):
    from playwright.sync_api import expect

    settings.JOBS_RUN_INLINE = True
    company = make_company()
    project = make_project(company, name="阳光花园")
    unit = make_unit(project, area="120.50")
    make_owner(unit)
    make_unit(project, area="88.00")
    fee_item = FeeItem.objects.create(company=company, code="WY", name="物业费")
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="住宅物业费",
                                     method=ChargeMethod.BUILDING_AREA, unit_price=Decimal("1.80"),
                                     effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    finance = make_staff(company, "finance", username="run-finance", password=PASSWORD)
    cashier = make_staff(company, "cashier", username="run-cashier", password=PASSWORD)

    sign_in(page, live_server, finance)
    page.goto(f"{live_server.url}/billing/runs/add/")
    page.get_by_label("项目").select_option(label="阳光花园")
    htmx_idle(page)  # the project's rules replace the list
    page.get_by_label("住宅物业费").check()
    page.get_by_label("账期月份").fill("2026-11")
    page.get_by_role("button", name="试算预览").click()
    expect(page.get_by_test_id("preview-count")).to_have_text("2")
    expect(page.get_by_test_id("preview-total")).to_have_text("¥375.30")  # 216.90 + 158.40
    page.get_by_role("button", name="确认出账（2 张）").click()
    expect(page.get_by_text("已出账 2 张账单")).to_be_visible()
    assert sorted(Bill.objects.values_list("amount", flat=True)) == [Decimal("158.40"), Decimal("216.90")]

    page.context.clear_cookies()
    sign_in(page, live_server, cashier)
    page.goto(f"{live_server.url}/estate/units/{unit.pk}/?tab=charges")
    expect(page.get_by_test_id("unit-bills")).to_contain_text("¥216.90")
    page.get_by_role("link", name="预缴账单").click()
    htmx_idle(page)
    page.get_by_label("预缴期数").fill("3")
    page.get_by_role("button", name="试算").click()
    expect(page.get_by_test_id("advance-total")).to_have_text("¥650.70")  # December to February, 216.90 each
    page.get_by_role("button", name="确认生成").click()
    expect(page.get_by_role("alert").first).to_contain_text("已生成 3 期预缴账单")
    assert Bill.objects.filter(unit=unit, kind=BillKind.ADVANCE).count() == 3
