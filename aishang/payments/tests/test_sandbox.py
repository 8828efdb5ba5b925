"""The whole road through the sandbox gateway on a real loopback server: signed requests, the cashier page, signed
(and for WeChat encrypted) callbacks with retries, duplicates, out-of-order and late deliveries, query and refunds."""

import time
import urllib.parse
import urllib.request
from decimal import Decimal
from http.cookiejar import CookieJar

import pytest
from django.core.exceptions import ValidationError

from aishang.billing.approvals import approval_request_create
from aishang.billing.models import Payment, PaymentMethod
from aishang.core.testing import approve_at_every_level, make_bill, make_company, make_project, make_staff
from aishang.payments import wechatpay
from aishang.payments.choices import NotificationOutcome, OrderStatus, RefundKind, RefundStatus, SandboxTradeStatus
from aishang.payments.crypto import GatewayError, rsa_verify
from aishang.payments.models import GatewayNotification, PaymentOrder, SandboxDelivery, SandboxTrade
from aishang.payments.sandbox.services import delivery_send, payment_delivery_create
from aishang.payments.services import order_create, order_prepay, pending_orders_check

from .helpers import sandbox_account, sandbox_configs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(live_server, settings):
    settings.PAYMENTS_PUBLIC_URL = live_server.url
    project = make_project(make_company())
    sandbox_configs(project.company, base_url=live_server.url)
    return project


def confirm_on_cashier(url):
    """What the payer does on the sandbox's cashier page: open it, press 确认支付 (a real browser session)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(url).read().decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    final = opener.open(
        urllib.request.Request(
            url,
            data=urllib.parse.urlencode({"csrfmiddlewaretoken": token, "action": "pay"}).encode(),
            headers={"Referer": url},
        )
    )
    return final.geturl(), final.read().decode()


def test_a_wechat_order_is_prepaid_paid_at_the_cashier_and_booked_by_its_callback(project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "128.50")], actor_label="业主 138****8000")

    params = order_prepay(order, openid="o-owner-1")

    config = order.config
    message = f"{config.app_id}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert rsa_verify(sandbox_account(config).merchant_public_key, message, params["paySign"])
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    assert (trade.amount, trade.payer) == (Decimal("128.50"), "o-owner-1")
    assert params["package"] == f"prepay_id={trade.token}"

    confirm_on_cashier(params["cashier_url"])

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.transaction_id == trade.transaction_id
    payment = Payment.objects.get(online_settlement__order=order)
    assert payment.tenders.get().reference == trade.transaction_id
    assert SandboxDelivery.objects.get(trade=trade).delivered_at is not None


def test_an_alipay_phone_order_goes_through_the_pay_page_and_its_notification(project):
    order = order_create(gateway="alipay", bills=[make_bill(project, "66.00")], actor_label="业主")

    params = order_prepay(order, return_url=project_url("/accounts/login/"))
    landed, _ = confirm_on_cashier(urllib.request.urlopen(params["pay_url"]).geturl())

    assert landed.endswith("/accounts/login/")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(online_settlement__order=order).tenders.get().method == PaymentMethod.ALIPAY


def project_url(path):
    from django.conf import settings

    return settings.PAYMENTS_PUBLIC_URL + path


def test_the_sandbox_refuses_a_request_the_merchant_did_not_sign(project):
    config = project.company.gateway_configs.get(gateway="wechat")
    stranger = wechatpay.WechatPayClient(
        wechatpay.WechatPayAccount(
            **{**config.wechat_account().__dict__, "private_key": sandbox_account(config).platform_private_key}
        )
    )

    with pytest.raises(GatewayError, match="签名错误"):
        stranger.query("AS0000000000")


def test_an_order_the_gateway_refuses_to_place_is_closed_at_once_with_a_clear_message(project):
    config = project.company.gateway_configs.get(gateway="wechat")
    config.private_key = sandbox_account(config).platform_private_key  # not the key the sandbox knows the merchant by
    config.save()
    order = order_create(gateway="wechat", bills=[make_bill(project, "128.50")], actor_label="业主 138****8000")

    with pytest.raises(ValidationError) as refused:
        order_prepay(order, openid="o-owner-1")

    order.refresh_from_db()
    assert "订单已关闭，未扣款" in str(refused.value)
    assert order.status == OrderStatus.CLOSED and "渠道下单失败" in order.close_reason
    assert not SandboxTrade.objects.filter(out_trade_no=order.out_trade_no).exists()


def test_duplicate_out_of_order_and_late_deliveries_book_each_order_once(project):
    first = order_create(gateway="wechat", bills=[make_bill(project, "10.00")], actor_label="业主")
    second = order_create(gateway="wechat", bills=[make_bill(project, "20.00")], actor_label="业主")
    trades = []
    for order in (first, second):
        order_prepay(order, openid="o-1")
        trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
        SandboxTrade.objects.filter(pk=trade.pk).update(status=SandboxTradeStatus.SUCCESS, paid_at=trade.created_at)
        trade.refresh_from_db()
        trades.append(trade)
    deliveries = [payment_delivery_create(trade) for trade in trades]

    # The later order's callback arrives first, then each one five times.
    assert delivery_send(deliveries[1]) and delivery_send(deliveries[0])
    assert all(delivery_send(delivery) for delivery in deliveries * 4)
    # A retry signed ten minutes ago (held up somewhere) is refused and changes nothing.
    assert not delivery_send(deliveries[0], signed_at=int(time.time()) - 600)

    for order in (first, second):
        assert Payment.objects.filter(online_settlement__order=order).count() == 1
        assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.PAID
    outcomes = list(GatewayNotification.objects.values_list("outcome", flat=True))
    assert outcomes.count(NotificationOutcome.ACCEPTED) == 2
    assert outcomes.count(NotificationOutcome.DUPLICATE) == 8
    assert outcomes.count(NotificationOutcome.REFUSED) == 1


def test_a_callback_answered_with_failure_is_delivered_again_until_success(project, settings):
    order = order_create(gateway="wechat", bills=[make_bill(project, "10.00")], actor_label="业主")
    order_prepay(order, openid="o-1")
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    SandboxTrade.objects.filter(pk=trade.pk).update(
        status=SandboxTradeStatus.SUCCESS,
        paid_at=trade.created_at,
        notify_url=trade.notify_url.replace("/notify/", "/nowhere/"),
    )
    trade.refresh_from_db()
    delivery = payment_delivery_create(trade)
    from aishang.payments.sandbox.services import delivery_run

    assert not delivery_run(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == len(settings.PAYMENTS_SANDBOX_RETRY_DELAYS) and delivery.last_status == 404


def test_an_order_without_a_callback_is_found_paid_by_the_periodic_query(project):
    order = order_create(gateway="alipay", bills=[make_bill(project, "30.00")], actor_label="业主")
    order_prepay(order, openid="2088000000000001")
    SandboxTrade.objects.filter(out_trade_no=order.out_trade_no).update(status=SandboxTradeStatus.SUCCESS)
    PaymentOrder.objects.filter(pk=order.pk).update(created_at=order.created_at - _minutes(10))

    assert pending_orders_check()["orders"] == 1

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.last_queried_at is not None
    assert Payment.objects.filter(online_settlement__order=order).count() == 1


def test_an_expired_unpaid_order_is_closed_at_the_gateway_and_here(project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "30.00")], actor_label="业主")
    order_prepay(order, openid="o-1")
    PaymentOrder.objects.filter(pk=order.pk).update(
        created_at=order.created_at - _minutes(60), expires_at=order.created_at - _minutes(30)
    )

    pending_orders_check()

    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.close_reason == "超时未支付"
    assert SandboxTrade.objects.get(out_trade_no=order.out_trade_no).status == SandboxTradeStatus.CLOSED


@pytest.mark.parametrize("gateway", ["wechat", "alipay"])
def test_an_approved_refund_of_an_online_payment_goes_back_through_the_gateway(project, gateway):
    order = order_create(gateway=gateway, bills=[make_bill(project, "200.00")], actor_label="业主")
    params = order_prepay(order, openid="o-1" if gateway == "wechat" else "")
    confirm_on_cashier(params.get("cashier_url") or urllib.request.urlopen(params["pay_url"]).geturl())
    payment = Payment.objects.get(online_settlement__order=order)

    request = approval_request_create(
        action="refund",
        payment=payment,
        amount=Decimal("50.00"),
        refund_method=gateway,
        reason="业主多缴",
        actor=make_staff(project.company, "cashier"),
    )
    approve_at_every_level(request)

    refund = order.refunds.get()
    assert (refund.kind, refund.amount, refund.status) == (RefundKind.PAYMENT, Decimal("50.00"), RefundStatus.SUCCESS)
    assert refund.reversal.payment == payment
    assert SandboxTrade.objects.get(out_trade_no=order.out_trade_no).refunds.get().amount == Decimal("50.00")


def _minutes(count):
    import datetime

    return datetime.timedelta(minutes=count)
