"""One face for both gateways: what services ask of a gateway, answered in our terms (yuan, 已支付 or not)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from . import alipay, wechatpay
from .choices import Gateway, RefundStatus
from .crypto import GatewayError

CENT = Decimal("0.01")


@dataclass(frozen=True)
class TradeState:
    """A gateway's word on a trade: from a verified callback or a query."""

    out_trade_no: str
    paid: bool
    transaction_id: str = ""
    amount: Decimal | None = None
    merchant_id: str = ""
    app_id: str = ""
    paid_at: datetime.datetime | None = None
    state: str = ""


def to_fen(amount):
    return int((amount * 100).to_integral_value())


def from_fen(fen):
    return (Decimal(int(fen)) / 100).quantize(CENT)


def public_url(path):
    return settings.PAYMENTS_PUBLIC_URL.rstrip("/") + path


def notify_url(config):
    return public_url(reverse(f"payments:notify_{config.gateway}", args=[config.pk]))


def _rfc3339(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _parse_time(text):
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def wechat_trade_state(resource):
    amount = resource.get("amount") or {}
    return TradeState(
        out_trade_no=resource.get("out_trade_no", ""),
        paid=resource.get("trade_state") == "SUCCESS",
        transaction_id=resource.get("transaction_id", ""),
        amount=from_fen(amount["total"]) if "total" in amount else None,
        merchant_id=resource.get("mchid", ""),
        app_id=resource.get("appid", ""),
        paid_at=_parse_time(resource.get("success_time")),
        state=resource.get("trade_state", ""),
    )


def alipay_trade_state(fields):
    try:
        amount = Decimal(fields["total_amount"]).quantize(CENT) if fields.get("total_amount") else None
    except ArithmeticError:
        amount = None
    return TradeState(
        out_trade_no=fields.get("out_trade_no", ""),
        paid=fields.get("trade_status") in alipay.PAID_STATUSES,
        transaction_id=fields.get("trade_no", ""),
        amount=amount,
        merchant_id=fields.get("seller_id", ""),
        app_id=fields.get("app_id", ""),
        paid_at=_parse_time(fields.get("gmt_payment") or fields.get("send_pay_date")),
        state=fields.get("trade_status", ""),
    )


def prepay(order, *, openid="", return_url=""):
    """The client's pay parameters: wx.requestPayment's for WeChat; a trade number (mini program) or a page to open
    (phone browser) for Alipay."""
    config = order.config
    if order.gateway == Gateway.WECHAT:
        account = config.wechat_account()
        prepay_id = wechatpay.WechatPayClient(account).jsapi_prepay(
            out_trade_no=order.out_trade_no,
            description=order.description,
            total_fen=to_fen(order.amount),
            openid=openid,
            notify_url=notify_url(config),
            time_expire=_rfc3339(order.expires_at),
        )
        params = wechatpay.mini_program_pay_params(account, prepay_id)
        if config.is_sandbox:
            params["cashier_url"] = config.endpoint.rstrip("/").rsplit("/", 1)[0] + f"/cashier/{prepay_id}/"
        return prepay_id, params
    client = alipay.AlipayClient(config.alipay_account())
    expire = timezone.localtime(order.expires_at).strftime("%Y-%m-%d %H:%M:%S")
    if openid:
        trade_no = client.trade_create(
            out_trade_no=order.out_trade_no,
            total_amount=str(order.amount),
            subject=order.description,
            buyer_id=openid,
            notify_url=notify_url(config),
            time_expire=expire,
        )
        return trade_no, {"tradeNO": trade_no}
    url = client.wap_pay_url(
        out_trade_no=order.out_trade_no,
        total_amount=str(order.amount),
        subject=order.description,
        notify_url=notify_url(config),
        return_url=return_url,
        quit_url=return_url,
        time_expire=expire,
    )
    return "", {"pay_url": url}


def query(order):
    """The gateway's state of the order's trade; a trade the gateway never saw is unpaid."""
    config = order.config
    try:
        if order.gateway == Gateway.WECHAT:
            return wechat_trade_state(wechatpay.WechatPayClient(config.wechat_account()).query(order.out_trade_no))
        answer = alipay.AlipayClient(config.alipay_account()).query(order.out_trade_no)
        # The query was signed by our app and its answer by Alipay: the trade is ours though the answer names no app.
        return alipay_trade_state({"app_id": config.app_id, **answer})
    except GatewayError as exc:
        if exc.code in ("ORDER_NOT_EXIST", "ORDERNOTEXIST", "ACQ.TRADE_NOT_EXIST"):
            return TradeState(out_trade_no=order.out_trade_no, paid=False, state="NOT_EXIST")
        raise


def close(order):
    config = order.config
    try:
        if order.gateway == Gateway.WECHAT:
            wechatpay.WechatPayClient(config.wechat_account()).close(order.out_trade_no)
        else:
            alipay.AlipayClient(config.alipay_account()).close(order.out_trade_no)
    except GatewayError as exc:
        if exc.code not in ("ORDER_NOT_EXIST", "ORDERNOTEXIST", "ACQ.TRADE_NOT_EXIST", "ORDER_CLOSED"):
            raise


def refund(refund):
    """Ask the gateway to refund; answers (status, gateway refund id, message)."""
    order = refund.order
    config = order.config
    if order.gateway == Gateway.WECHAT:
        answer = wechatpay.WechatPayClient(config.wechat_account()).refund(
            out_trade_no=order.out_trade_no,
            out_refund_no=refund.out_refund_no,
            refund_fen=to_fen(refund.amount),
            total_fen=to_fen(order.amount),
            reason=refund.reason,
            notify_url=notify_url(config),
        )
        return wechat_refund_status(answer.get("status", "")), answer.get("refund_id", ""), answer.get("status", "")
    answer = alipay.AlipayClient(config.alipay_account()).refund(
        out_trade_no=order.out_trade_no,
        refund_amount=str(refund.amount),
        out_request_no=refund.out_refund_no,
        reason=refund.reason,
    )
    # fund_change "Y": money moved now; "N" on a repeated request that had already moved it.
    return RefundStatus.SUCCESS, answer.get("trade_no", ""), answer.get("fund_change", "")


def refund_query(refund):
    answer = wechatpay.WechatPayClient(refund.order.config.wechat_account()).refund_query(refund.out_refund_no)
    return wechat_refund_status(answer.get("status", "")), answer.get("refund_id", "")


def wechat_refund_status(status):
    return {
        "SUCCESS": RefundStatus.SUCCESS,
        "PROCESSING": RefundStatus.PROCESSING,
        "CLOSED": RefundStatus.FAILED,
        "ABNORMAL": RefundStatus.FAILED,
    }.get(status, RefundStatus.PROCESSING)
