"""The sandbox gateway's behaviour: it checks requests as WeChat Pay and Alipay do, signs what it answers, and owes
each merchant callbacks, sent after the payer confirms and sent again until the merchant answers success.

It is mounted only where settings.PAYMENTS_SANDBOX is on (dev, demo, tests; never production).
"""

import json
import secrets
import threading
import time
import urllib.parse

from django.conf import settings
from django.db import close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone

from .. import wechatpay
from ..choices import Gateway, SandboxTradeStatus
from ..crypto import aes_gcm_encrypt, rsa_key_pair, rsa_sign
from ..gateways import public_url, to_fen
from ..http import http_call
from ..models import GatewayConfig, SandboxAccount, SandboxDelivery


def sandbox_config_create(company, gateway, *, base_url=None):
    """A sandbox merchant account for a company: keys made here, the sandbox told the merchant's public key, the
    company's gateway config pointed at the sandbox (replacing an earlier sandbox config of that gateway)."""
    merchant_private, merchant_public = rsa_key_pair()
    platform_private, platform_public = rsa_key_pair()
    base = (base_url or settings.PAYMENTS_PUBLIC_URL).rstrip("/")
    suffix = f"{company.pk:04d}{secrets.token_hex(3)}"
    if gateway == Gateway.WECHAT:
        account = SandboxAccount.objects.create(
            gateway=gateway,
            merchant_id=f"19{suffix}"[:10],
            app_id=f"wxsandbox{suffix}",
            merchant_public_key=merchant_public,
            merchant_serial_no=secrets.token_hex(20).upper(),
            platform_private_key=platform_private,
            platform_serial=f"PUB_KEY_ID_{secrets.token_hex(8).upper()}",
            apiv3_key=secrets.token_hex(16),
        )
        endpoint = base + "/sandbox/wechatpay"
    else:
        account = SandboxAccount.objects.create(
            gateway=gateway,
            merchant_id=f"9021{suffix}",
            app_id=f"9021{suffix}",
            merchant_public_key=merchant_public,
            platform_private_key=platform_private,
        )
        endpoint = base + "/sandbox/alipay/gateway.do"
    config, _ = GatewayConfig.objects.update_or_create(
        company=company,
        gateway=gateway,
        defaults={
            "app_id": account.app_id,
            "merchant_id": account.merchant_id if gateway == Gateway.WECHAT else "",
            "merchant_serial_no": account.merchant_serial_no,
            "private_key": merchant_private,
            "apiv3_key": account.apiv3_key,
            "platform_public_key": platform_public,
            "platform_serial": account.platform_serial,
            "endpoint": endpoint,
            "is_sandbox": True,
            "is_active": True,
        },
    )
    return config


def new_id(prefix, digits=28):
    return prefix + "".join(secrets.choice("0123456789") for _ in range(digits - len(prefix)))


def wechat_signed_headers(account, body, *, timestamp=None):
    """Headers WeChat Pay signs an answer or a callback with."""
    timestamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = wechatpay.nonce_str()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": account.platform_serial,
        "Wechatpay-Signature": rsa_sign(
            account.platform_private_key, wechatpay.response_message(timestamp, nonce, body)
        ),
    }


def wechat_transaction(trade):
    account = trade.account
    resource = {
        "appid": account.app_id,
        "mchid": account.merchant_id,
        "out_trade_no": trade.out_trade_no,
        "trade_state": trade.status,
        "trade_state_desc": trade.get_status_display(),
        "trade_type": "JSAPI",
        "payer": {"openid": trade.payer},
        "amount": {"total": to_fen(trade.amount), "currency": "CNY"},
    }
    if trade.status == SandboxTradeStatus.SUCCESS:
        resource.update(
            {
                "transaction_id": trade.transaction_id,
                "bank_type": "OTHERS",
                "success_time": timezone.localtime(trade.paid_at).isoformat(timespec="seconds"),
                "amount": {**resource["amount"], "payer_total": to_fen(trade.amount), "payer_currency": "CNY"},
            }
        )
    return resource


def alipay_trade_fields(trade):
    account = trade.account
    status = {SandboxTradeStatus.SUCCESS: "TRADE_SUCCESS", SandboxTradeStatus.CLOSED: "TRADE_CLOSED"}.get(
        trade.status, "WAIT_BUYER_PAY"
    )
    fields = {
        "app_id": account.app_id,
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.transaction_id,
        "trade_status": status,
        "total_amount": str(trade.amount),
        "subject": trade.description,
        "buyer_id": trade.payer or "2088000000000001",
        "seller_id": account.merchant_id,
    }
    if trade.paid_at:
        fields["gmt_payment"] = timezone.localtime(trade.paid_at).strftime("%Y-%m-%d %H:%M:%S")
    return fields


def _wechat_callback_body(account, event_type, resource, original_type):
    nonce, associated = secrets.token_hex(6), original_type
    ciphertext = aes_gcm_encrypt(account.apiv3_key, nonce, json.dumps(resource, ensure_ascii=False), associated)
    return json.dumps(
        {
            "id": new_id("EV-", 20),
            "create_time": timezone.localtime().isoformat(timespec="seconds"),
            "event_type": event_type,
            "resource_type": "encrypt-resource",
            "summary": "支付成功" if event_type == "TRANSACTION.SUCCESS" else "退款成功",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": associated,
                "original_type": original_type,
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    )


def _alipay_notification_body(account, fields):
    form = {
        "notify_time": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        "notify_type": "trade_status_sync",
        "notify_id": new_id("ntf", 32),
        "charset": "utf-8",
        "version": "1.0",
        **fields,
    }
    content = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if v not in ("", None))
    form.update({"sign_type": "RSA2", "sign": rsa_sign(account.platform_private_key, content)})
    return urllib.parse.urlencode(form)


def payment_delivery_create(trade):
    """The callback a paid trade owes its merchant (sealed and, for Alipay, signed, now; WeChat signs each send)."""
    account = trade.account
    if account.gateway == Gateway.WECHAT:
        body = _wechat_callback_body(account, "TRANSACTION.SUCCESS", wechat_transaction(trade), "transaction")
    else:
        body = _alipay_notification_body(account, alipay_trade_fields(trade))
    return SandboxDelivery.objects.create(trade=trade, event="payment", url=trade.notify_url, body=body)


def refund_delivery_create(refund):
    trade, account = refund.trade, refund.trade.account
    if account.gateway == Gateway.WECHAT:
        resource = {
            "mchid": account.merchant_id,
            "out_trade_no": trade.out_trade_no,
            "transaction_id": trade.transaction_id,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "refund_status": "SUCCESS",
            "success_time": timezone.localtime().isoformat(timespec="seconds"),
            "amount": {
                "total": to_fen(trade.amount),
                "refund": to_fen(refund.amount),
                "payer_total": to_fen(trade.amount),
                "payer_refund": to_fen(refund.amount),
            },
        }
        body = _wechat_callback_body(account, "REFUND.SUCCESS", resource, "refund")
    else:
        fields = {
            **alipay_trade_fields(trade),
            "out_biz_no": refund.out_refund_no,
            "refund_fee": str(refund.amount),
            "gmt_refund": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        }
        body = _alipay_notification_body(account, fields)
    return SandboxDelivery.objects.create(
        trade=trade, event="refund", url=refund.notify_url or trade.notify_url, body=body
    )


def delivery_send(delivery, *, signed_at=None):
    """Send one delivery once; True when the merchant answered success (WeChat: 2xx; Alipay: the body
    ``success``). ``signed_at`` (a Unix time) sends it as if signed then: a late delivery."""
    account = delivery.trade.account
    if account.gateway == Gateway.WECHAT:
        headers = {
            "Content-Type": "application/json",
            **wechat_signed_headers(account, delivery.body, timestamp=signed_at),
        }
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
    try:
        status, _, raw = http_call("POST", delivery.url, body=delivery.body.encode("utf-8"), headers=headers)
        answer = raw.decode("utf-8", errors="replace")
    except Exception as exc:  # the merchant being unreachable is an answer like any other: retry later
        status, answer = 0, str(exc)
    ok = 200 <= status < 300 if account.gateway == Gateway.WECHAT else answer.strip() == "success"
    SandboxDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts + 1,
        last_status=status or None,
        last_answer=answer[:200],
        delivered_at=timezone.now() if ok else delivery.delivered_at,
    )
    delivery.refresh_from_db()
    return ok


def delivery_run(delivery_id):
    """Send until success, waiting between tries as settings.PAYMENTS_SANDBOX_RETRY_DELAYS says."""
    for delay in settings.PAYMENTS_SANDBOX_RETRY_DELAYS:
        time.sleep(delay)
        delivery = SandboxDelivery.objects.select_related("trade__account").get(pk=delivery_id)
        if delivery.delivered_at or delivery_send(delivery):
            return True
    return False


def delivery_start(delivery):
    """After commit: send it in the background (inline in tests, so they see the outcome when the request ends)."""

    def run():
        if settings.JOBS_RUN_INLINE:
            delivery_run(delivery.pk)
            return

        def background():
            try:
                delivery_run(delivery.pk)
            finally:
                close_old_connections()

        threading.Thread(target=background, daemon=True, name=f"sandbox-delivery-{delivery.pk}").start()

    transaction.on_commit(run)


def cashier_url(trade):
    return public_url(reverse("sandbox:cashier", args=[trade.token]))
