"""Tencent Cloud SMS (SendSms 2021-01-11) signed with TC3-HMAC-SHA256, as Tencent Cloud API 3.0 publishes it."""

import datetime
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

from ..rendering import placeholders
from . import Delivery, DeliveryError
from .http import request_json

ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
RETRYABLE_PREFIXES = ("InternalError", "LimitExceeded", "RequestLimitExceeded", "ResourceUnavailable")


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def authorization(*, secret_id, secret_key, host, payload, timestamp):
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join([
        "POST", "/", "", f"content-type:{CONTENT_TYPE}\nhost:{host}\n", "content-type;host",
        hashlib.sha256(payload.encode()).hexdigest(),
    ])
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


class TencentSms:
    name = "tencent"

    def send(self, message, config, template, sign_name):
        # Tencent templates number their variables {1}, {2} ...: they follow the order the
        # placeholders appear in the company's template body.
        params = message.params or {}
        values = [str(params.get(name, "")) for name in placeholders(template.body)]
        phone = message.address if message.address.startswith("+") else f"+86{message.address}"
        payload = json.dumps({"PhoneNumberSet": [phone], "SmsSdkAppId": config.app_id, "SignName": sign_name,
                              "TemplateId": template.sms_template_code, "TemplateParamSet": values,
                              "SessionContext": str(message.pk)}, ensure_ascii=False, separators=(",", ":"))
        endpoint = config.endpoint or ENDPOINT
        host = urlsplit(endpoint).netloc
        timestamp = int(time.time())
        headers = {
            "Content-Type": CONTENT_TYPE, "Host": host, "X-TC-Action": "SendSms", "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp), "X-TC-Region": config.region or "ap-guangzhou",
            "Authorization": authorization(secret_id=config.access_key_id, secret_key=config.access_key_secret,
                                           host=host, payload=payload, timestamp=timestamp),
        }
        status, body = request_json(endpoint, data=payload.encode(), headers=headers, method="POST")
        response = body.get("Response") or {}
        error = response.get("Error")
        if error:
            code = str(error.get("Code", ""))
            raise DeliveryError(f"{code}: {error.get('Message', '')}（RequestId {response.get('RequestId', '')}）",
                                retryable=code.startswith(RETRYABLE_PREFIXES), code=code)
        statuses = response.get("SendStatusSet") or [{}]
        result = statuses[0]
        code = str(result.get("Code", ""))
        if code != "Ok":
            raise DeliveryError(f"{code or f'HTTP {status}'}: {result.get('Message', '')}",
                                retryable=code.startswith(RETRYABLE_PREFIXES), code=code)
        return Delivery(self.name, result.get("SerialNo", ""))
