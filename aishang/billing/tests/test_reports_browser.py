"""统计台账 in headless Chromium: from the menu to 收款汇总 with its chart, then 欠费账龄 and a 催缴 for one unit, and a
催缴 of every unit in arrears as a job whose result shows above the report."""

import pytest

from aishang.billing.tests.test_reports import Ledger
from aishang.core.testing import make_staff
from aishang.notifications.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!2026"


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_finance_reads_the_summary_chart_and_reminds_a_unit_in_arrears(page, live_server, tmp_path):
    from playwright.sync_api import expect

    ledger = Ledger()
    finance = make_staff(ledger.company, "finance", projects=[ledger.project], username="report-finance",
                         password=PASSWORD)

    log_in(page, live_server, finance)
    page.get_by_role("link", name="统计台账").click()
    page.get_by_test_id("report-collections-summary").click()
    page.get_by_label("日期从").fill("2026-10-01")
    page.get_by_label("日期到").fill("2026-11-30")
    page.get_by_label("汇总方式").select_option(label="收款方式")
    page.get_by_role("button", name="查询").click()

    expect(page.locator("#report-chart[data-ready=true] canvas")).to_be_visible()
    expect(page.get_by_test_id("totals")).to_contain_text("¥470.00")
    expect(page.get_by_test_id("report-table")).to_contain_text("预存冲抵")
    expect(page.get_by_test_id("report-table")).not_to_contain_text("商业街")
    page.screenshot(path=str(tmp_path / "summary.png"), full_page=True)

    page.goto(f"{live_server.url}/billing/reports/arrears/?as_of=2026-10-31")
    expect(page.get_by_test_id("totals")).to_contain_text("¥400.00")
    page.get_by_label(f"选择 {ledger.unit1.code}").check()
    page.get_by_test_id("remind").click()

    expect(page.get_by_role("alert").first).to_contain_text("已加入发送队列 1 条催缴短信")
    assert Message.objects.filter(template_code="arrears_reminder", recipient_customer=ledger.owner1).count() == 1

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/billing/reports/statement/units/{ledger.unit1.pk}/"
              "?date_from=2026-10-01&date_to=2026-11-30")
    expect(page.get_by_test_id("closing")).to_contain_text("¥250.00")
    page.screenshot(path=str(tmp_path / "statement-phone.png"), full_page=True)


def test_finance_reminds_every_unit_in_arrears_and_sees_the_jobs_result(page, live_server, tmp_path):
    from playwright.sync_api import expect

    ledger = Ledger()
    finance = make_staff(ledger.company, "finance", projects=[ledger.project], username="remind-finance",
                         password=PASSWORD)
    log_in(page, live_server, finance)

    page.goto(f"{live_server.url}/billing/reports/arrears/?as_of=2026-10-31")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("remind-all").click()

    job = page.get_by_test_id("remind-job")
    expect(job.locator("[data-status=succeeded]")).to_be_visible()
    expect(job).to_contain_text("已加入发送队列")
    expect(job).to_contain_text("无缴费人或手机号（户）")
    expect(page.get_by_test_id("totals")).to_contain_text("¥400.00")  # the report stays below
    assert Message.objects.filter(template_code="arrears_reminder").count() == 2
    page.screenshot(path=str(tmp_path / "remind-job.png"), full_page=True)
