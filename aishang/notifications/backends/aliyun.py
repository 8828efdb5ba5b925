"""Aliyun SMS (dysmsapi 2017-05-25, SendSms), RPC style, signature version 1.0 with HMAC-SHA1.

The signature follows Aliyun's published rules: percent-encode every name and value as
RFC 3986 (UTF-8, space as %20, ``*`` as %2A, ``~`` kept), sort by name, join as a query,
sign ``GET&%2F&`` + the encoded query with the key ``secret + "&"``, and send it base64-encoded.
"""

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from urllib.parse import quote

from . import Delivery, DeliveryError
from .http import request_json

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
# Worth another attempt later: throttling and the provider's own trouble. Everything else (bad
# number, unapproved template, bad key or signature) needs a person to change something first.
RETRYABLE_CODES = {"isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling",
                   "Throttling.User", "ServiceUnavailable", "InternalError", "SignatureNonceUsed"}


def percent_encode(value):
    return quote(str(value), safe="")


def canonical_query(params):
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(params, method="GET"):
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(params, secret, method="GET"):
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(unsigned, method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def send_sms_params(*, access_key_id, phone, sign_name, template_code, template_params, out_id="",
                    region="cn-hangzhou", nonce=None, timestamp=None):
    params = {
        "AccessKeyId": access_key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": phone,
        "RegionId": region,
        "SignName": sign_name,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "TemplateCode": template_code,
        "Timestamp": timestamp or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": API_VERSION,
    }
    if template_params:
        params["TemplateParam"] = json.dumps(template_params, ensure_ascii=False, separators=(",", ":"))
    if out_id:
        params["OutId"] = out_id
    return params


def signed_url(endpoint, params, secret):
    signed = f"Signature={percent_encode(signature(params, secret))}&{canonical_query(params)}"
    return f"{endpoint.rstrip('/')}/?{signed}"


def send_sms(config, *, phone, sign_name, template_code, template_params, out_id=""):
    params = send_sms_params(access_key_id=config.access_key_id, phone=phone, sign_name=sign_name,
                             template_code=template_code, template_params=template_params, out_id=out_id,
                             region=config.region or "cn-hangzhou")
    status, body = request_json(signed_url(config.endpoint or ENDPOINT, params, config.access_key_secret))
    code = str(body.get("Code", ""))
    if code == "OK":
        return body.get("BizId", "")
    text = f"{code or f'HTTP {status}'}: {body.get('Message', '')}".strip()
    if body.get("RequestId"):
        text += f"（RequestId {body['RequestId']}）"
    raise DeliveryError(text, retryable=code in RETRYABLE_CODES or (not code and status >= 500), code=code)


class AliyunSms:
    name = "aliyun"

    def send(self, message, config, template, sign_name):
        # Aliyun template variables are the template's own names, so only plain values are passed.
        template_params = {k: "" if v is None else str(v) for k, v in (message.params or {}).items()}
        biz_id = send_sms(config, phone=message.address, sign_name=sign_name,
                          template_code=template.sms_template_code, template_params=template_params,
                          out_id=str(message.pk))
        return Delivery(self.name, biz_id)
