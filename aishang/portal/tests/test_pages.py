"""The owner's H5 pages under /m/: sign in with the SMS code, then only the owner's own units, bills and receipts."""

import pytest
from django.conf import settings

from aishang.core.testing import make_message
from aishang.notifications.models import Message
from aishang.portal.views import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, estate):
    from aishang.customers.owners import owner_token_issue

    session = client.session
    session[SESSION_KEY], _ = owner_token_issue(estate.account())
    session.save()
    # With the signed-cookie sessions of SQLite the saved session is the cookie itself.
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def test_an_owner_signs_in_with_the_sms_code_and_lands_on_their_units(client, estate):
    sent = client.post("/m/login/", {"mobile": "13912345678", "action": "send"})
    code = Message.objects.get(template_code="owner_login_code").params["code"]
    signed_in = client.post("/m/login/", {"mobile": "13912345678", "code": code, "action": "login"})
    home = client.get("/m/")

    assert "验证码已发送" in sent.content.decode()
    assert signed_in.status_code == 302 and signed_in["Location"] == "/m/"
    assert estate.unit.code in home.content.decode() and estate.neighbour_unit.code not in home.content.decode()


def test_a_wrong_code_is_shown_at_the_code_field(client, estate):
    client.post("/m/login/", {"mobile": "13912345678", "action": "send"})

    response = client.post("/m/login/", {"mobile": "13912345678", "code": "abc", "action": "login"})

    assert response.status_code == 200 and "请输入 6 位数字验证码" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_pages_ask_for_sign_in_and_come_back(client):
    response = client.get("/m/bills/")

    assert response.status_code == 302 and response["Location"] == "/m/login/?next=/m/bills/"


def test_another_owners_unit_payment_and_receipt_answer_404(owner_client, estate):
    assert owner_client.get(f"/m/units/{estate.neighbour_unit.pk}/").status_code == 404
    assert owner_client.get(f"/m/payments/{estate.neighbour_payment.pk}/").status_code == 404
    assert owner_client.get(f"/m/payments/{estate.neighbour_payment.pk}/receipt.pdf").status_code == 404
    assert owner_client.get(f"/m/units/{estate.unit.pk}/").status_code == 200


def test_the_bills_page_ticks_the_overdue_bills_and_shows_the_servers_total(owner_client, estate):
    page = owner_client.get("/m/bills/").content.decode()

    assert f'value="{estate.february.pk}" id="bill-{estate.february.pk}" checked' in page
    assert "¥645.50" in page  # February, March and the water bill of 2026 are all past their due dates
    assert f'id="bill-{estate.neighbour_bill.pk}"' not in page


def test_ticking_march_without_february_is_refused_in_the_page(owner_client, estate):
    refused = owner_client.post("/m/bills/total/", {"bills": [estate.march.pk]}).content.decode()
    accepted = owner_client.post("/m/bills/total/", {"bills": [estate.february.pk, estate.march.pk]}).content.decode()

    assert "不支持跨时间缴费" in refused and "¥0.00" in refused
    assert "¥600.00" in accepted and "不支持跨时间缴费" not in accepted


def test_paying_shows_the_total_to_confirm(owner_client, estate):
    response = owner_client.post("/m/pay/", {"bills": [estate.february.pk, estate.water_march.pk]})

    page = response.content.decode()
    assert "确认支付" in page and "¥345.50" in page and 'name="confirm"' in page


def test_the_confirm_page_shows_the_late_fee_in_the_total(owner_client, estate):
    from decimal import Decimal

    from aishang.core.testing import make_fee_item

    late = make_fee_item(estate.company, name="停车费", late_fee_enabled=True, late_fee_daily_rate=Decimal("0.001"))
    overdue = estate.bill("200.00", 2, fee_item=late)

    page = owner_client.post("/m/pay/", {"bills": [overdue.pk]}).content.decode()

    assert "滞纳金（按今日计算）" in page and 'data-testid="pay-late-fees"' in page
    assert "¥200.00" in page and "¥200.00</span></button>" not in page  # the total to pay is more than the bill


def test_the_phone_page_pays_by_alipay_even_for_an_owner_who_linked_the_mini_program(owner_client, estate):
    from aishang.customers.models import OwnerWechatIdentity
    from aishang.payments.models import PaymentOrder
    from aishang.payments.tests.helpers import sandbox_configs

    sandbox_configs(estate.company)
    OwnerWechatIdentity.objects.create(account=estate.account(), app_id="wx0123456789abcdef", openid="o-wang-fang")

    response = owner_client.post("/m/pay/", {"bills": [estate.february.pk], "confirm": "1"})

    order = PaymentOrder.objects.get()
    assert (order.gateway, order.amount) == ("alipay", estate.february.amount)
    assert response.status_code == 302 and order.out_trade_no in response["Location"]


def test_a_prepaid_top_up_is_checked_and_refused_in_the_page_without_a_gateway(owner_client, estate):
    from aishang.payments.models import PaymentOrder

    bad = owner_client.post("/m/topup/", {"unit": estate.unit.pk, "amount": "-5"}).content.decode()
    other = owner_client.post("/m/topup/", {"unit": estate.neighbour_unit.pk, "amount": "100"}).content.decode()
    good = owner_client.post("/m/topup/", {"unit": estate.unit.pk, "amount": "100"}, follow=True).content.decode()

    assert "invalid-feedback" in bad and "invalid-feedback" in other
    assert "尚未开通" in good
    assert not PaymentOrder.objects.exists()


def test_history_receipt_and_pdf(owner_client, estate):
    history = owner_client.get("/m/payments/").content.decode()
    receipt = owner_client.get(f"/m/payments/{estate.payment.pk}/").content.decode()
    pdf = owner_client.get(f"/m/payments/{estate.payment.pk}/receipt.pdf")

    assert estate.payment.receipt_number in history and estate.neighbour_payment.receipt_number not in history
    assert "人民币叁佰元整" in receipt
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_opening_a_message_marks_it_read(owner_client, estate):
    message = make_message(estate.company, recipient=estate.owner, channel="in_app", title="缴费提醒")

    listed = owner_client.get("/m/messages/").content.decode()
    owner_client.get(f"/m/messages/{message.pk}/")
    message.refresh_from_db()

    assert "缴费提醒" in listed and "未读" in listed
    assert message.read_at is not None


def test_signing_out_revokes_the_session_token(owner_client):
    owner_client.post("/m/logout/")

    assert owner_client.get("/m/").status_code == 302
