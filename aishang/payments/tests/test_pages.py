"""Staff pages and API: the order list and detail, 查询 with its permission, the gateway settings with keys masked."""

import io

import openpyxl
import pytest
from django.urls import reverse

from aishang.core.testing import api_client, make_bill, make_company, make_staff
from aishang.payments.choices import OrderStatus
from aishang.payments.models import GatewayConfig, PaymentOrder, PaymentSettings
from aishang.payments.services import order_create

from .helpers import wechat_paid_callback

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(client, project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "88.00")], actor_label="业主 138****8000")
    headers, body = wechat_paid_callback(order, transaction_id="4200000777")
    client.post(
        reverse("payments:notify_wechat", args=[order.config_id]),
        body,
        content_type="application/json",
        headers=headers,
    )
    order.refresh_from_db()
    return order


def test_finance_lists_filters_and_exports_orders(client, project, paid_order):
    pending = order_create(gateway="alipay", bills=[make_bill(project, "12.00")], actor_label="业主")
    client.force_login(make_staff(project.company, "finance"))

    paid_only = client.get(reverse("payments:paymentorder_list"), {"status": "paid", "gateway": "wechat"})
    export = client.get(reverse("payments:paymentorder_list"), {"status": "pending", "export": "xlsx"})

    assert paid_only.status_code == 200
    assert paid_order.out_trade_no in paid_only.text and pending.out_trade_no not in paid_only.text
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.values)
    assert rows[0][0] == "订单号" and [row[0] for row in rows[1:]] == [pending.out_trade_no]


def test_the_detail_shows_the_callback_the_payment_receipt_and_who_placed_it(client, project, paid_order):
    client.force_login(make_staff(project.company, "finance"))

    page = client.get(reverse("payments:paymentorder_detail", args=[paid_order.pk]))

    assert page.status_code == 200
    payment = paid_order.settlements.get().payment
    assert payment.receipt_number in page.text and "4200000777" in page.text
    assert "业主 138****8000" in page.text and "线上支付，无收银员" in page.text
    assert "已入账" in page.text and "通过" in page.text
    assert reverse("billing:payment_receipt", args=[payment.pk]) in page.text


def test_query_needs_its_permission_and_orders_of_other_companies_answer_404(client, project, paid_order):
    cashier = make_staff(project.company, "cashier")
    client.force_login(cashier)
    assert client.get(reverse("payments:paymentorder_detail", args=[paid_order.pk])).status_code == 200
    assert "查询" not in client.get(reverse("payments:paymentorder_detail", args=[paid_order.pk])).text
    assert client.post(reverse("payments:paymentorder_query", args=[paid_order.pk])).status_code == 403

    stranger = make_staff(make_company(), "admin")
    client.force_login(stranger)
    assert client.get(reverse("payments:paymentorder_detail", args=[paid_order.pk])).status_code == 404
    assert client.post(reverse("payments:paymentorder_query", args=[paid_order.pk])).status_code == 404


def test_finance_queries_an_order_and_sees_the_gateways_answer(client, project, monkeypatch):
    order = order_create(gateway="wechat", bills=[make_bill(project, "10.00")], actor_label="业主")
    client.force_login(make_staff(project.company, "finance"))

    response = client.post(reverse("payments:paymentorder_query", args=[order.pk]), follow=True)

    # The sandbox of this test is unreachable: the page says so and nothing changes.
    assert "查询失败" in response.text
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_the_settings_page_masks_keys_and_an_empty_key_field_keeps_the_stored_key(client, project):
    admin = make_staff(project.company, "admin")
    client.force_login(admin)
    config = GatewayConfig.objects.get(company=project.company, gateway="wechat")

    page = client.get(reverse("payments:settings"))
    form = client.get(reverse("payments:gatewayconfig_edit", args=["wechat"]))

    assert page.status_code == 200 and form.status_code == 200
    body = config.private_key.splitlines()[1]
    assert body not in page.text and body not in form.text and config.apiv3_key not in form.text
    assert config.masked_private_key in page.text
    saved = client.post(
        reverse("payments:gatewayconfig_edit", args=["wechat"]),
        {
            "app_id": "wxnewappid",
            "merchant_id": config.merchant_id,
            "merchant_serial_no": config.merchant_serial_no,
            "private_key": "",
            "apiv3_key": "",
            "platform_public_key": config.platform_public_key,
            "platform_serial": config.platform_serial,
            "is_active": "on",
        },
    )
    assert saved.status_code == 302
    config.refresh_from_db()
    assert config.app_id == "wxnewappid" and config.private_key.startswith("-----BEGIN")


def test_a_bad_key_or_policy_is_refused_at_its_field_with_nothing_saved(client, project):
    client.force_login(make_staff(project.company, "admin"))
    config = GatewayConfig.objects.get(company=project.company, gateway="alipay")

    bad_key = client.post(
        reverse("payments:gatewayconfig_edit", args=["alipay"]),
        {"app_id": "2021", "merchant_id": "", "private_key": "not a key", "platform_public_key": "nor this"},
    )
    bad_policy = client.post(
        reverse("payments:settings"),
        {"surplus_policy": "refund", "order_expire_minutes": "0", "query_after_minutes": "5"},
    )

    assert bad_key.status_code == 400 and "私钥格式不正确" in bad_key.text
    assert GatewayConfig.objects.get(pk=config.pk).app_id == config.app_id
    assert bad_policy.status_code == 400 and "5 到 1440" in bad_policy.text
    assert not PaymentSettings.objects.exists()


def test_cashiers_cannot_open_the_gateway_settings(client, project):
    client.force_login(make_staff(project.company, "cashier"))

    assert client.get(reverse("payments:settings")).status_code == 404
    assert client.get(reverse("payments:gatewayconfig_edit", args=["wechat"])).status_code == 404


def test_the_staff_api_lists_reads_and_scopes_orders(project, paid_order):
    finance = api_client(make_staff(project.company, "finance"))

    listing = finance.get("/api/v1/payment-orders/", {"status": "paid"})
    detail = finance.get(f"/api/v1/payment-orders/{paid_order.pk}/")

    assert listing.status_code == 200 and [o["out_trade_no"] for o in listing.json()["results"]] == [
        paid_order.out_trade_no
    ]
    assert detail.json()["notifications"][0]["outcome"] == "accepted"
    assert detail.json()["payments"] == [paid_order.settlements.get().payment_id]
    stranger = api_client(make_staff(make_company(), "finance"))
    assert stranger.get(f"/api/v1/payment-orders/{paid_order.pk}/").status_code == 404
    cashier = api_client(make_staff(project.company, "cashier"))
    assert cashier.post(f"/api/v1/payment-orders/{paid_order.pk}/query/").status_code == 403
    assert finance.post(f"/api/v1/payment-orders/{paid_order.pk}/query/").status_code == 200
