"""The owner's phone (390×844) in headless Chromium: sign in with the SMS code, tick bills, see the total."""

from pathlib import Path

import pytest

from aishang.notifications.models import Message

SHOTS = Path("/tmp/shots")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_an_owner_signs_in_with_the_code_and_pays_oldest_first_on_a_phone(phone, live_server, estate, settings):
    from playwright.sync_api import expect

    from aishang.payments.tests.helpers import sandbox_configs

    settings.PAYMENTS_PUBLIC_URL = live_server.url
    sandbox_configs(estate.project.company, base_url=live_server.url)

    phone.goto(f"{live_server.url}/m/bills/")
    phone.get_by_label("手机号").fill("13912345678")
    phone.get_by_role("button", name="获取验证码").click()
    expect(phone.get_by_role("status")).to_contain_text("验证码已发送")
    code = Message.objects.get(template_code="owner_login_code").params["code"]
    phone.get_by_label("验证码").fill(code)
    phone.get_by_role("button", name="登录").click()

    phone.wait_for_url(f"{live_server.url}/m/bills/")
    total = phone.get_by_test_id("selection-total")
    expect(total).to_have_text("¥645.50")  # the overdue bills come ticked
    pay_button = phone.get_by_role("button", name="立即缴费 ¥645.50")
    expect(pay_button).to_be_in_viewport()
    assert pay_button.bounding_box()["height"] >= 44

    phone.get_by_label("物业费 2026-02").uncheck()
    expect(phone.get_by_test_id("selection-error")).to_contain_text("不支持跨时间缴费")
    expect(phone.get_by_role("button", name="立即缴费")).to_be_disabled()
    phone.get_by_label("物业费 2026-03").uncheck()
    expect(total).to_have_text("¥45.50")
    phone.get_by_label("物业费 2026-02").check()
    expect(total).to_have_text("¥345.50")

    phone.get_by_role("button", name="立即缴费 ¥345.50").click()
    expect(phone.get_by_test_id("pay-total")).to_have_text("¥345.50")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_test_id("pay-confirm").click()

    phone.get_by_role("button", name="确认支付").click()  # the sandbox gateway's cashier page
    expect(phone.get_by_test_id("order-state")).to_contain_text("支付成功")
    expect(phone.get_by_test_id("order-state")).to_contain_text("¥345.50")
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=SHOTS / "owner_paid_390.png")
    phone.get_by_test_id("order-receipt").click()
    expect(phone.locator("body")).to_contain_text("叁佰肆拾伍元伍角")
