"""The owner API: sign in by SMS code, then only the owner's own units, bills, payments, receipts and messages."""

import urllib.request
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from aishang.billing.models import Bill
from aishang.core.testing import api_client, make_custom_field, make_fee_item, make_message, make_staff
from aishang.customers.models import OwnerLoginCode, OwnerToken
from aishang.customers.owners import owner_token_issue
from aishang.notifications.models import Message

pytestmark = pytest.mark.django_db


def test_an_owner_signs_in_with_the_code_sent_by_sms_and_sees_their_units(estate):
    client = APIClient()

    sent = client.post("/api/v1/owner/auth/sms-code/", {"mobile": "13912345678"}, format="json")
    code = Message.objects.get(template_code="owner_login_code").params["code"]
    signed_in = client.post("/api/v1/owner/auth/sms-login/", {"mobile": "13912345678", "code": code}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['token']}")
    me = client.get("/api/v1/owner/me/").json()
    units = client.get("/api/v1/owner/units/").json()

    assert sent.status_code == 200 and sent.json()["resend_after"] == 60
    assert signed_in.status_code == 200 and signed_in.json()["owner"]["mobile"] == "139****5678"
    assert me["unit_count"] == 1
    assert [unit["id"] for unit in units] == [estate.unit.pk]


def test_a_second_code_within_a_minute_answers_429(estate):
    client = APIClient()
    client.post("/api/v1/owner/auth/sms-code/", {"mobile": "13912345678"}, format="json")

    response = client.post("/api/v1/owner/auth/sms-code/", {"mobile": "13912345678"}, format="json")

    assert response.status_code == 429 and "1 分钟" in response.json()["detail"]


def test_a_wrong_code_answers_400_at_the_field_and_counts(estate):
    client = APIClient()
    client.post("/api/v1/owner/auth/sms-code/", {"mobile": "13912345678"}, format="json")
    code = Message.objects.get(template_code="owner_login_code").params["code"]

    response = client.post("/api/v1/owner/auth/sms-login/",
                           {"mobile": "13912345678", "code": f"{(int(code) + 7) % 10**6:06d}"}, format="json")

    assert response.status_code == 400 and "还可以再试 4 次" in response.json()["code"][0]


def test_a_bad_mobile_is_refused_at_its_field(estate):
    response = APIClient().post("/api/v1/owner/auth/sms-code/", {"mobile": "12345"}, format="json")

    assert response.status_code == 400 and "mobile" in response.json()


def test_the_unit_shows_the_family_and_only_the_custom_fields_owners_may_see(estate, owner_api):
    make_custom_field(estate.company, "orientation", label="朝向", owner_visible=True)
    make_custom_field(estate.company, "internal_note", label="内部备注")
    estate.unit.custom_field_data = {"orientation": "南北通透", "internal_note": "业主难沟通"}
    estate.unit.save()

    unit = owner_api.get(f"/api/v1/owner/units/{estate.unit.pk}/").json()

    assert unit["custom_fields"] == [{"label": "朝向", "value": "南北通透"}]
    assert unit["roles"] == ["业主"]
    assert [(m["name"], m["mobile"]) for m in unit["members"]] == [("王芳", "139****5678")]


def test_another_owners_unit_payment_receipt_and_bills_are_not_found(estate, owner_api):
    assert owner_api.get(f"/api/v1/owner/units/{estate.neighbour_unit.pk}/").status_code == 404
    assert owner_api.get(f"/api/v1/owner/receipts/{estate.neighbour_payment.pk}/pdf/").status_code == 404
    assert owner_api.get("/api/v1/owner/units/999999999999/").status_code == 404
    listed = {bill["id"] for bill in owner_api.get("/api/v1/owner/bills/").json()["results"]}
    assert estate.neighbour_bill.pk not in listed and estate.february.pk in listed
    refused = owner_api.post("/api/v1/owner/bills/selection/", {"bills": [estate.neighbour_bill.pk]}, format="json")
    assert refused.status_code == 400 and "不存在" in refused.json()["bills"][0]
    assert {p["id"] for p in owner_api.get("/api/v1/owner/payments/").json()["results"]} == {estate.payment.pk}


def test_bills_filter_by_status_fee_item_and_month_with_their_amounts(estate, owner_api):
    open_bills = owner_api.get("/api/v1/owner/bills/", {"status": "open"}).json()["results"]
    paid = owner_api.get("/api/v1/owner/bills/", {"status": "paid"}).json()["results"]
    water = owner_api.get("/api/v1/owner/bills/", {"fee_item": estate.water.pk}).json()["results"]
    march = owner_api.get("/api/v1/owner/bills/", {"period": "2026-03"}).json()["results"]

    assert {b["id"] for b in open_bills} == {estate.february.pk, estate.march.pk, estate.water_march.pk}
    property_fees = [b["id"] for b in open_bills if b["fee_item"] == "物业费"]
    assert property_fees == [estate.february.pk, estate.march.pk]
    assert [(b["id"], b["paid"], b["outstanding"], b["status"]) for b in paid] == [
        (estate.january.pk, "300.00", "0.00", "已缴清")]
    assert [b["id"] for b in water] == [estate.water_march.pk]
    assert {b["id"] for b in march} == {estate.march.pk, estate.water_march.pk}
    assert {"amount", "discounted", "late_fee", "due_date"} <= set(open_bills[0])


def test_a_bad_month_filter_is_a_400_not_a_500(owner_api):
    response = owner_api.get("/api/v1/owner/bills/", {"period": "2026-13"})

    assert response.status_code == 400 and "period" in response.json()


def test_skipping_februarys_open_bill_to_pay_march_is_refused(estate, owner_api):
    response = owner_api.post("/api/v1/owner/bills/selection/", {"bills": [estate.march.pk]}, format="json")

    assert response.status_code == 400
    assert "不支持跨时间缴费" in response.json()["bills"][0] and "2026-02" in response.json()["bills"][0]


def test_oldest_first_across_fee_items_is_accepted_with_the_servers_total(estate, owner_api):
    response = owner_api.post("/api/v1/owner/bills/selection/",
                              {"bills": [estate.february.pk, estate.water_march.pk]}, format="json")

    assert response.status_code == 200 and response.json()["total"] == "345.50"


def test_the_selection_total_includes_the_late_fee_the_order_will_charge(estate, owner_api):
    from aishang.payments.services import order_create
    from aishang.payments.tests.helpers import sandbox_configs

    sandbox_configs(estate.company)
    late = make_fee_item(estate.company, name="停车费", late_fee_enabled=True, late_fee_daily_rate=Decimal("0.001"))
    overdue = estate.bill("200.00", 2, fee_item=late)
    days = (timezone.localdate() - overdue.due_date).days
    late_fee = min(Decimal("200.00") * Decimal("0.001") * days, Decimal("200.00")).quantize(Decimal("0.01"))

    answer = owner_api.post("/api/v1/owner/bills/selection/", {"bills": [overdue.pk]}, format="json").json()
    listed = owner_api.get("/api/v1/owner/bills/", {"fee_item": late.pk}).json()["results"]
    order = order_create(gateway="alipay", bills=[overdue], actor_label="业主")

    assert late_fee > 0
    assert (answer["total"], answer["late_fees"], answer["discount"]) == (
        f"{Decimal('200.00') + late_fee}", f"{late_fee}", "0.00")
    assert listed[0]["late_fee"] == f"{late_fee}"
    assert order.amount == Decimal(answer["total"])


@pytest.mark.django_db(transaction=True)
def test_paying_online_places_an_order_the_sandbox_pays_and_the_owner_sees_its_receipt(
        estate, owner_api, live_server, settings):
    from aishang.payments.tests.helpers import sandbox_configs
    from aishang.payments.tests.test_sandbox import confirm_on_cashier

    settings.PAYMENTS_PUBLIC_URL = live_server.url
    sandbox_configs(estate.project.company, base_url=live_server.url)

    response = owner_api.post("/api/v1/owner/pay/", {"bills": [estate.february.pk, estate.water_march.pk],
                                                     "return_url": f"{live_server.url}/m/"}, format="json")
    assert response.status_code == 200, response.json()
    started = response.json()
    assert (started["gateway"], started["amount"]) == ("alipay", "345.50")
    order_url = f"/api/v1/owner/orders/{started['out_trade_no']}/"
    assert owner_api.get(order_url).json()["status"] == "pending"

    confirm_on_cashier(urllib.request.urlopen(started["pay"]["pay_url"]).geturl())

    order = owner_api.get(order_url).json()
    assert order["status"] == "paid" and len(order["payments"]) == 1
    assert owner_api.get(f"/api/v1/owner/receipts/{order['payments'][0]}/pdf/").status_code == 200
    assert estate.february.__class__.objects.get(pk=estate.february.pk).allocations.exists()
    neighbour = APIClient()
    neighbour.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_token_issue(estate.account('13987654321'))[0]}")
    assert neighbour.get(order_url).status_code == 404
    stranger = owner_api.post("/api/v1/owner/topup/", {"unit": estate.neighbour_unit.pk, "amount": "100"},
                              format="json")
    assert stranger.status_code == 404


def test_paying_online_without_a_gateway_of_the_company_is_refused_with_nothing_placed(estate, owner_api):
    from aishang.payments.models import PaymentOrder

    response = owner_api.post("/api/v1/owner/pay/", {"bills": [estate.february.pk]}, format="json")

    assert response.status_code == 400 and "尚未开通" in str(response.json())
    assert not PaymentOrder.objects.exists()
    assert owner_api.get("/api/v1/owner/orders/NOSUCHORDER1/").status_code == 404


def test_wechat_pay_without_a_wechat_sign_in_is_refused_before_any_order_is_placed(estate, owner_api):
    from aishang.payments.models import PaymentOrder
    from aishang.payments.tests.helpers import sandbox_configs

    sandbox_configs(estate.company)

    response = owner_api.post("/api/v1/owner/pay/", {"bills": [estate.february.pk], "gateway": "wechat"},
                              format="json")

    assert response.status_code == 400 and "需先用微信登录" in str(response.json())
    assert not PaymentOrder.objects.exists()


def test_the_receipt_of_the_owners_payment_is_a_pdf(estate, owner_api):
    payment = owner_api.get("/api/v1/owner/payments/").json()["results"][0]

    response = owner_api.get(payment["receipt_pdf"])

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_message_centre_lists_counts_and_marks_the_owners_in_app_messages(estate, owner_api):
    mine = make_message(estate.company, recipient=estate.owner, channel="in_app", title="2026年03月账单已出")
    make_message(estate.company, recipient=estate.owner, channel="sms", title="短信：2026年03月账单已出")
    make_message(estate.company, recipient=estate.neighbour, channel="in_app", title="邻居的账单")
    make_message(estate.company, recipient=estate.owner, channel="sms", template_code="owner_login_code",
                 title="登录验证码")

    listed = owner_api.get("/api/v1/owner/messages/").json()["results"]
    before = owner_api.get("/api/v1/owner/messages/unread-count/").json()["unread"]
    marked = owner_api.post("/api/v1/owner/messages/read/", {"ids": [mine.pk]}, format="json").json()["marked"]
    after = owner_api.get("/api/v1/owner/messages/unread-count/").json()["unread"]

    assert [m["title"] for m in listed] == ["2026年03月账单已出"]
    assert (before, marked, after) == (1, 1, 0)


def test_logout_revokes_the_token(owner_api):
    assert owner_api.post("/api/v1/owner/auth/logout/").status_code == 204

    assert owner_api.get("/api/v1/owner/me/").status_code == 401
    assert OwnerToken.objects.get().revoked_at is not None


def test_an_owner_token_reaches_nothing_of_the_staff_api(owner_api, estate):
    for path in ("/api/v1/units/", f"/api/v1/units/{estate.unit.pk}/", "/api/v1/bills/", "/api/v1/payments/",
                 "/api/v1/customers/"):
        assert owner_api.get(path).status_code in (401, 403), path


def test_a_staff_token_or_session_is_not_an_owner(estate, client):
    admin = make_staff(estate.company, "admin")
    client.force_login(admin)

    assert api_client(admin).get("/api/v1/owner/units/").status_code == 401
    assert client.get("/api/v1/owner/units/").status_code == 401
    response = client.get("/m/")
    assert response.status_code == 302 and response["Location"].startswith("/m/login/")


def test_a_forwarded_chain_counts_against_its_callers_limit_and_is_not_stored_as_an_address(estate):
    client = APIClient()

    response = client.post("/api/v1/owner/auth/sms-code/", {"mobile": "13912345678"}, format="json",
                           HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.1")

    assert response.status_code == 200 and OwnerLoginCode.objects.get().ip_address is None


def test_bills_posted_and_a_payment_reach_the_message_centre_and_staffs_message_log(estate, owner_api, client):
    from aishang.billing.notify import bills_notify_payers

    bills_notify_payers(Bill.objects.filter(pk__in=[estate.march.pk, estate.neighbour_bill.pk]))
    estate.pay([estate.february])

    listed = owner_api.get("/api/v1/owner/messages/").json()["results"]
    unread = owner_api.get("/api/v1/owner/messages/unread-count/").json()["unread"]
    me = owner_api.get("/api/v1/owner/me/").json()

    assert [m["title"] for m in listed] == ["阳光花园缴费成功", "阳光花园2026年03月账单已出"]
    assert "300.00元" in listed[0]["body"] and unread == me["unread_messages"] == 2
    # The neighbour never signed in: an SMS only, nothing in-app.
    assert not Message.objects.filter(recipient_customer=estate.neighbour, channel="in_app").exists()
    client.force_login(make_staff(estate.company, "admin"))
    log = client.get("/notifications/messages/?channel=in_app").content.decode()
    assert "阳光花园缴费成功" in log and "阳光花园2026年03月账单已出" in log
