"""Alipay open platform (RSA2), written from the published message formats.

A request is the common parameters (app_id, method, charset, sign_type=RSA2, timestamp, version, notify_url ...)
plus ``biz_content`` (JSON), signed with the app's private key (SHA256withRSA) over the non-empty parameters but
``sign``, sorted by name and joined ``k=v&...``. An answer ``{"<method>_response": {...}, "sign": ".."}`` is signed by
Alipay over the response object's exact text. An asynchronous notification is a form verified the same way without
``sign`` and ``sign_type``; only TRADE_SUCCESS and TRADE_FINISHED mean paid; the merchant answers the literal
``success``. Amounts are yuan strings with two decimals.
"""

import json
import urllib.parse
from dataclasses import dataclass

from django.utils import timezone

from .crypto import GatewayError, rsa_sign, rsa_verify
from .http import http_call

PRODUCTION_ENDPOINT = "https://openapi.alipay.com/gateway.do"
PAID_STATUSES = ("TRADE_SUCCESS", "TRADE_FINISHED")
NOTIFY_ANSWER_OK = "success"
NOTIFY_ANSWER_FAILED = "failure"


@dataclass(frozen=True)
class AlipayAccount:
    app_id: str
    private_key: str
    alipay_public_key: str
    seller_id: str = ""
    endpoint: str = PRODUCTION_ENDPOINT


def sign_content(params, *, exclude=("sign",)):
    return "&".join(
        f"{name}={value}" for name, value in sorted(params.items()) if name not in exclude and value not in (None, "")
    )


def signed_params(account, method, biz_content, *, notify_url="", return_url="", timestamp=None):
    params = {
        "app_id": account.app_id,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "version": "1.0",
        "timestamp": timestamp or timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        "notify_url": notify_url,
        "return_url": return_url,
        "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
    }
    params = {name: value for name, value in params.items() if value}
    params["sign"] = rsa_sign(account.private_key, sign_content(params))
    return params


def verify_request(public_key, params):
    """Used by the sandbox: a request's ``sign`` over its other parameters."""
    return rsa_verify(public_key, sign_content(params), params.get("sign", ""))


def notification_verify(account, form):
    """A verified asynchronous notification (a dict of the form); raises GatewayError otherwise."""
    form = {name: value for name, value in form.items()}
    signature = form.get("sign", "")
    if not signature:
        raise GatewayError("缺少支付宝签名", code="unsigned")
    if form.get("sign_type", "RSA2") != "RSA2":
        raise GatewayError("只接受 RSA2 签名", code="sign_type")
    if not rsa_verify(account.alipay_public_key, sign_content(form, exclude=("sign", "sign_type")), signature):
        raise GatewayError("支付宝签名验证失败", code="signature")
    return form


def response_node(text, node):
    """The exact text of ``node``'s object in an answer: Alipay signs those characters, not a re-serialisation."""
    key = f'"{node}"'
    start = text.find(key)
    if start < 0:
        return None
    start = text.index(":", start + len(key)) + 1
    while text[start] in " \t\r\n":
        start += 1
    _, end = json.JSONDecoder().raw_decode(text, start)
    return text[start:end]


class AlipayClient:
    def __init__(self, account):
        self.account = account

    def wap_pay_url(
        self, *, out_trade_no, total_amount, subject, notify_url, return_url="", quit_url="", time_expire=""
    ):
        """Where the phone's browser goes to pay (alipay.trade.wap.pay is a page, not an API call)."""
        biz = {
            "out_trade_no": out_trade_no,
            "total_amount": total_amount,
            "subject": subject[:256],
            "product_code": "QUICK_WAP_WAY",
        }
        if quit_url:
            biz["quit_url"] = quit_url
        if time_expire:
            biz["time_expire"] = time_expire
        params = signed_params(self.account, "alipay.trade.wap.pay", biz, notify_url=notify_url, return_url=return_url)
        return f"{self.account.endpoint}?{urllib.parse.urlencode(params)}"

    def call(self, method, biz_content, *, notify_url=""):
        params = signed_params(self.account, method, biz_content, notify_url=notify_url)
        status, _, raw = http_call(
            "POST",
            self.account.endpoint,
            body=urllib.parse.urlencode(params).encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
        )
        text = raw.decode("utf-8", errors="replace")
        if status >= 500:
            raise GatewayError(f"支付宝暂不可用（HTTP {status}）", retryable=True, code=f"http_{status}")
        node = method.replace(".", "_") + "_response"
        try:
            answer = json.loads(text)
            raw_node = response_node(text, node)
        except ValueError:
            raise GatewayError(f"支付宝返回了无法识别的内容（HTTP {status}）", code="format") from None
        body = answer.get(node) or answer.get("error_response") or {}
        if body.get("code") != "10000":
            raise GatewayError(
                f"支付宝拒绝了请求：{body.get('sub_msg') or body.get('msg') or status}",
                code=body.get("sub_code") or body.get("code", ""),
            )
        if raw_node is None or not rsa_verify(self.account.alipay_public_key, raw_node, answer.get("sign", "")):
            raise GatewayError("支付宝应答签名验证失败", code="signature")
        return body

    def trade_create(self, *, out_trade_no, total_amount, subject, buyer_id, notify_url, time_expire=""):
        """alipay.trade.create for a mini program; the mini program pays the returned trade_no (my.tradePay)."""
        biz = {
            "out_trade_no": out_trade_no,
            "total_amount": total_amount,
            "subject": subject[:256],
            "buyer_id": buyer_id,
            "product_code": "JSAPI_PAY",
        }
        if time_expire:
            biz["time_expire"] = time_expire
        return self.call("alipay.trade.create", biz, notify_url=notify_url)["trade_no"]

    def query(self, out_trade_no):
        return self.call("alipay.trade.query", {"out_trade_no": out_trade_no})

    def close(self, out_trade_no):
        return self.call("alipay.trade.close", {"out_trade_no": out_trade_no})

    def refund(self, *, out_trade_no, refund_amount, out_request_no, reason):
        return self.call(
            "alipay.trade.refund",
            {
                "out_trade_no": out_trade_no,
                "refund_amount": refund_amount,
                "out_request_no": out_request_no,
                "refund_reason": reason[:256],
            },
        )
