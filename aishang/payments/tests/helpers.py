"""Setup shared by the payments tests: a company with sandbox accounts, and callbacks built from the published
formats with the sandbox accounts' keys (by tests/keys.py, not by the code under test)."""

import time
from decimal import Decimal

from aishang.payments.choices import Gateway
from aishang.payments.models import GatewayConfig, SandboxAccount
from aishang.payments.sandbox.services import sandbox_config_create

from .keys import alipay_notification, wechat_callback


def sandbox_configs(company, base_url="http://127.0.0.1:9"):
    """WeChat and Alipay configs pointing at the sandbox under ``base_url`` (unreachable by default)."""
    return {gateway: sandbox_config_create(company, gateway, base_url=base_url) for gateway in Gateway.values}


def sandbox_account(config):
    return SandboxAccount.objects.get(gateway=config.gateway, app_id=config.app_id)


def wechat_paid_callback(
    order,
    *,
    amount=None,
    transaction_id="4200000001202611230000000001",
    mchid=None,
    timestamp=None,
    trade_state="SUCCESS",
):
    config = GatewayConfig.objects.get(pk=order.config_id)
    account = sandbox_account(config)
    total = int(Decimal(amount if amount is not None else order.amount) * 100)
    resource = {
        "appid": config.app_id,
        "mchid": mchid or config.merchant_id,
        "out_trade_no": order.out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "JSAPI",
        "trade_state": trade_state,
        "success_time": "2026-11-23T14:08:00+08:00",
        "payer": {"openid": "o-owner"},
        "amount": {"total": total, "payer_total": total, "currency": "CNY"},
    }
    return wechat_callback(
        account.platform_private_key,
        account.apiv3_key,
        resource,
        timestamp=timestamp or int(time.time()),
        serial=account.platform_serial,
    )


def alipay_paid_notification(
    order, *, amount=None, trade_no="2026112322001400000000000001", trade_status="TRADE_SUCCESS", app_id=None
):
    config = GatewayConfig.objects.get(pk=order.config_id)
    account = sandbox_account(config)
    return alipay_notification(
        account.platform_private_key,
        {
            "app_id": app_id or config.app_id,
            "out_trade_no": order.out_trade_no,
            "trade_no": trade_no,
            "trade_status": trade_status,
            "total_amount": str(amount if amount is not None else order.amount),
            "gmt_payment": "2026-11-23 14:08:00",
            "subject": order.description,
        },
    )
