"""WeChat Pay API v3 (直连商户, JSAPI for mini programs), written from the published message formats.

Requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",timestamp="..",
serial_no=".."`` where the signature is SHA256withRSA with the merchant key over
``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n``. Answers and callbacks are signed by the platform key over
``TIMESTAMP\\nNONCE\\nBODY\\n`` (headers ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature``, ``-Serial``); a callback's
``resource`` is AEAD_AES_256_GCM-encrypted with the APIv3 key. Amounts are integers in fen.
"""

import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass

from .crypto import GatewayError, aes_gcm_decrypt, rsa_sign, rsa_verify
from .http import http_call

PRODUCTION_ENDPOINT = "https://api.mch.weixin.qq.com"
MAX_CLOCK_SKEW = 300  # seconds; older or newer signed messages are refused as replays
AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"


@dataclass(frozen=True)
class WechatPayAccount:
    appid: str
    mchid: str
    serial_no: str
    private_key: str
    apiv3_key: str
    platform_public_key: str
    platform_serial: str = ""
    endpoint: str = PRODUCTION_ENDPOINT


def nonce_str():
    return secrets.token_hex(16).upper()


def request_message(method, path, timestamp, nonce, body):
    return f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"


def response_message(timestamp, nonce, body):
    return f"{timestamp}\n{nonce}\n{body}\n"


def pay_sign_message(appid, timestamp, nonce, prepay_id):
    return f"{appid}\n{timestamp}\n{nonce}\nprepay_id={prepay_id}\n"


def authorization(account, method, path, body, *, timestamp=None, nonce=None):
    """The Authorization header of a request to ``path`` (path and query string, as sent)."""
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or nonce_str()
    signature = rsa_sign(account.private_key, request_message(method, path, timestamp, nonce, body))
    return (
        f'{AUTH_SCHEMA} mchid="{account.mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{account.serial_no}"'
    )


def parse_authorization(header):
    """{mchid, nonce_str, signature, timestamp, serial_no} of an Authorization header, or None if not ours."""
    schema, _, rest = (header or "").partition(" ")
    if schema != AUTH_SCHEMA:
        return None
    fields = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value.strip('"')
    return fields


def mini_program_pay_params(account, prepay_id, *, timestamp=None, nonce=None):
    """What the mini program passes to wx.requestPayment."""
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or nonce_str()
    return {
        "appId": account.appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": f"prepay_id={prepay_id}",
        "signType": "RSA",
        "paySign": rsa_sign(account.private_key, pay_sign_message(account.appid, timestamp, nonce, prepay_id)),
    }


def verify_signed(account, headers, body, *, now=None):
    """Refuse an answer or callback not signed by the platform key, or signed more than 5 minutes from now."""
    headers = {name.lower(): value for name, value in headers.items()}
    timestamp = headers.get("wechatpay-timestamp", "")
    nonce = headers.get("wechatpay-nonce", "")
    signature = headers.get("wechatpay-signature", "")
    serial = headers.get("wechatpay-serial", "")
    if not (timestamp and nonce and signature):
        raise GatewayError("缺少微信支付签名", code="unsigned")
    if account.platform_serial and serial != account.platform_serial:
        raise GatewayError(f"平台证书序列号不符：{serial}", code="serial")
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise GatewayError("签名时间戳格式错误", code="timestamp") from None
    if skew > MAX_CLOCK_SKEW:
        raise GatewayError("签名时间与当前时间相差超过 5 分钟", code="stale")
    if not rsa_verify(account.platform_public_key, response_message(timestamp, nonce, body), signature):
        raise GatewayError("微信支付签名验证失败", code="signature")


def notification_parse(account, headers, body, *, now=None):
    """A verified callback as {"id", "event_type", "resource": decrypted dict}; raises GatewayError otherwise."""
    verify_signed(account, headers, body, now=now)
    try:
        envelope = json.loads(body)
        resource = envelope["resource"]
        plain = aes_gcm_decrypt(
            account.apiv3_key, resource["nonce"], resource["ciphertext"], resource.get("associated_data", "")
        )
        return {
            "id": envelope.get("id", ""),
            "event_type": envelope.get("event_type", ""),
            "resource": json.loads(plain),
        }
    except (ValueError, KeyError, TypeError):
        raise GatewayError("通知格式不正确", code="format") from None


class WechatPayClient:
    def __init__(self, account):
        self.account = account

    def call(self, method, path, payload=None):
        """Send a signed request; answer the verified JSON body ({} for 204)."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload is not None else ""
        url = self.account.endpoint.rstrip("/") + path
        signed_path = urllib.parse.urlsplit(url)._replace(scheme="", netloc="").geturl()
        headers = {
            "Authorization": authorization(self.account, method, signed_path, body),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "aishang-payments/1",
        }
        status, answer_headers, raw = http_call(method, url, body=body.encode("utf-8"), headers=headers)
        text = raw.decode("utf-8", errors="replace")
        if status >= 500:
            raise GatewayError(f"微信支付暂不可用（HTTP {status}）", retryable=True, code=f"http_{status}")
        if status >= 400:
            try:
                error = json.loads(text)
            except ValueError:
                error = {}
            raise GatewayError(f"微信支付拒绝了请求：{error.get('message') or status}", code=error.get("code", ""))
        verify_signed(self.account, answer_headers, text)
        return json.loads(text) if text else {}

    def jsapi_prepay(self, *, out_trade_no, description, total_fen, openid, notify_url, time_expire=None):
        payload = {
            "appid": self.account.appid,
            "mchid": self.account.mchid,
            "description": description[:127],
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": {"total": total_fen, "currency": "CNY"},
            "payer": {"openid": openid},
        }
        if time_expire:
            payload["time_expire"] = time_expire
        return self.call("POST", "/v3/pay/transactions/jsapi", payload)["prepay_id"]

    def query(self, out_trade_no):
        quoted = urllib.parse.quote(out_trade_no, safe="")
        return self.call("GET", f"/v3/pay/transactions/out-trade-no/{quoted}?mchid={self.account.mchid}")

    def close(self, out_trade_no):
        quoted = urllib.parse.quote(out_trade_no, safe="")
        self.call("POST", f"/v3/pay/transactions/out-trade-no/{quoted}/close", {"mchid": self.account.mchid})

    def refund(self, *, out_trade_no, out_refund_no, refund_fen, total_fen, reason, notify_url):
        return self.call(
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "reason": reason[:80],
                "notify_url": notify_url,
                "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
            },
        )

    def refund_query(self, out_refund_no):
        return self.call("GET", f"/v3/refund/domestic/refunds/{urllib.parse.quote(out_refund_no, safe='')}")
