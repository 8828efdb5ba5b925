"""WeChat mini-program subscription messages (订阅消息), over the real HTTP protocol.

1. ``GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..`` gives an
   access_token valid for ``expires_in`` seconds; it is cached and shared by all workers.
2. ``POST /cgi-bin/message/subscribe/send?access_token=..`` with ``touser`` (the owner's
   openid), ``template_id``, ``page`` and ``data`` ({"thing1": {"value": ...}}); the answer
   is ``{"errcode": 0, "errmsg": "ok", "msgid": ...}`` or an error code.
"""

import json
from urllib.parse import urlencode

from django.core.cache import cache

from ..rendering import render_text
from . import Delivery, DeliveryError
from .http import request_json

ENDPOINT = "https://api.weixin.qq.com"
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid or expired access_token: fetch a new one and retry
RETRYABLE_ERRORS = {-1, 45009, 45047, *TOKEN_ERRORS}
# A subscription message field carries at most 20 characters for "thing" and 32 for most others.
FIELD_LIMITS = {"thing": 20, "name": 10, "character_string": 32, "phrase": 5}


def _token_key(app_id):
    return f"notifications:wechat-token:{app_id}"


def access_token(config):
    key = _token_key(config.app_id)
    token = cache.get(key)
    if token:
        return token
    endpoint = (config.endpoint or ENDPOINT).rstrip("/")
    query = urlencode({"grant_type": "client_credential", "appid": config.app_id, "secret": config.app_secret})
    _, body = request_json(f"{endpoint}/cgi-bin/token?{query}")
    token = body.get("access_token")
    if not token:
        code = body.get("errcode")
        raise DeliveryError(f"获取 access_token 失败：{code} {body.get('errmsg', '')}", retryable=code == -1,
                            code=str(code))
    cache.set(key, token, max(int(body.get("expires_in", 7200)) - 300, 60))
    return token


def field_value(name, text):
    limit = next((n for prefix, n in FIELD_LIMITS.items() if name.startswith(prefix)), None)
    return text[:limit] if limit else text


class WechatSubscribeBackend:
    name = "wechat"

    def send(self, message):
        from ..models import MessageTemplate, WechatAppConfig

        config = WechatAppConfig.objects.filter(company_id=message.company_id, is_active=True).first()
        if config is None:
            raise DeliveryError("企业未配置微信小程序", retryable=False, code="not_configured")
        template = MessageTemplate.objects.filter(company_id=message.company_id, code=message.template_code).first()
        if template is None or not template.wechat_template_id:
            raise DeliveryError(f"消息模板「{message.template_code}」未填写微信订阅消息模板 ID", retryable=False,
                                code="no_template")
        if not message.address:
            raise DeliveryError("收件人没有绑定微信", retryable=False, code="no_address")
        data = {name: {"value": field_value(name, render_text(text, message.params))}
                for name, text in (template.wechat_fields or {}).items()}
        payload = {"touser": message.address, "template_id": template.wechat_template_id, "data": data,
                   "lang": "zh_CN"}
        if config.page:
            payload["page"] = config.page
        token = access_token(config)
        endpoint = (config.endpoint or ENDPOINT).rstrip("/")
        _, body = request_json(f"{endpoint}/cgi-bin/message/subscribe/send?{urlencode({'access_token': token})}",
                               data=json.dumps(payload, ensure_ascii=False).encode(),
                               headers={"Content-Type": "application/json"}, method="POST")
        code = body.get("errcode", 0)
        if code == 0:
            return Delivery(self.name, str(body.get("msgid", "")))
        if code in TOKEN_ERRORS:
            cache.delete(_token_key(config.app_id))
        raise DeliveryError(f"{code}: {body.get('errmsg', '')}", retryable=code in RETRYABLE_ERRORS, code=str(code))
