"""Callbacks from the gateways: verified, recorded, then booked (services.order_settle) or used to move a refund on.

Each answers in the gateway's own terms: WeChat Pay takes 200/204 as received and retries on anything else; Alipay
retries until the body is the literal ``success``.
"""

import json

from django.utils.translation import gettext as _

from . import alipay, gateways, wechatpay
from .choices import Gateway, NotificationKind, NotificationOutcome, RefundStatus
from .crypto import GatewayError
from .models import GatewayConfig, GatewayNotification, GatewayRefund
from .services import order_settle, refund_advance

WECHAT_HEADERS = ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial")
ANSWERED = {
    NotificationOutcome.ACCEPTED,
    NotificationOutcome.DUPLICATE,
    NotificationOutcome.REFUNDED,
    NotificationOutcome.IGNORED,
}


def _refund_notice(record, out_refund_no, status, refund_id):
    refund = GatewayRefund.objects.filter(out_refund_no=out_refund_no, order__config__company=record.company).first()
    record.kind = NotificationKind.REFUND
    if refund is None:
        record.outcome, record.message = NotificationOutcome.REFUSED, _("没有该退款单")
    else:
        refund_advance(refund.pk, status, refund_id=refund_id)
        record.order_id = refund.order_id
        record.outcome, record.message = NotificationOutcome.ACCEPTED, RefundStatus(status).label
    record.save()


def wechat_notification_receive(config_id, headers, body):
    """(HTTP status, JSON answer or None) for a WeChat Pay callback to the config's notify URL."""
    config = GatewayConfig.objects.filter(pk=config_id, gateway=Gateway.WECHAT).select_related("company").first()
    if config is None:
        return 404, {"code": "FAIL", "message": "unknown merchant"}
    record = GatewayNotification(
        company=config.company,
        gateway=Gateway.WECHAT,
        body=body[:20000],
        headers={name: headers.get(name, "") for name in WECHAT_HEADERS},
    )
    try:
        notice = wechatpay.notification_parse(config.wechat_account(), headers, body)
    except GatewayError as exc:
        record.outcome, record.message = NotificationOutcome.REFUSED, str(exc)[:200]
        record.save()
        return 401, {"code": "FAIL", "message": str(exc)}
    record.verified = True
    resource = notice["resource"]
    record.out_trade_no = str(resource.get("out_trade_no", ""))[:64]
    if notice["event_type"].startswith("REFUND."):
        _refund_notice(
            record,
            resource.get("out_refund_no", ""),
            gateways.wechat_refund_status(resource.get("refund_status", "")),
            resource.get("refund_id", ""),
        )
        return 204, None
    outcome, message = order_settle(config=config, state=gateways.wechat_trade_state(resource), notification=record)
    if outcome in ANSWERED:
        return 204, None
    return 400, {"code": "FAIL", "message": message}


def alipay_notification_receive(config_id, form):
    """The body to answer an Alipay asynchronous notification with: ``success`` once handled."""
    config = GatewayConfig.objects.filter(pk=config_id, gateway=Gateway.ALIPAY).select_related("company").first()
    if config is None:
        return alipay.NOTIFY_ANSWER_FAILED
    record = GatewayNotification(
        company=config.company,
        gateway=Gateway.ALIPAY,
        body=json.dumps(form, ensure_ascii=False)[:20000],
        out_trade_no=str(form.get("out_trade_no", ""))[:64],
    )
    try:
        fields = alipay.notification_verify(config.alipay_account(), form)
    except GatewayError as exc:
        record.outcome, record.message = NotificationOutcome.REFUSED, str(exc)[:200]
        record.save()
        return alipay.NOTIFY_ANSWER_FAILED
    record.verified = True
    if fields.get("out_biz_no") and fields.get("refund_fee"):
        # A refund's notification (trade_status stays TRADE_SUCCESS, or TRADE_CLOSED after a full refund).
        _refund_notice(record, fields["out_biz_no"], RefundStatus.SUCCESS, fields.get("trade_no", ""))
        return alipay.NOTIFY_ANSWER_OK
    if fields.get("trade_status") not in alipay.PAID_STATUSES:
        record.outcome = NotificationOutcome.IGNORED
        record.message = _("交易状态 %(state)s，未支付") % {"state": fields.get("trade_status", "--")}
        record.save()
        return alipay.NOTIFY_ANSWER_OK
    outcome, _message = order_settle(config=config, state=gateways.alipay_trade_state(fields), notification=record)
    return alipay.NOTIFY_ANSWER_OK if outcome in ANSWERED else alipay.NOTIFY_ANSWER_FAILED
