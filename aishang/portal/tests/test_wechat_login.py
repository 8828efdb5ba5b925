"""WeChat mini program login: wx.login's code exchanged for an openid by code2session, against a stand-in on
127.0.0.1 that speaks the protocol (GET /sns/jscode2session?appid&secret&js_code&grant_type)."""

import urllib.parse

import pytest
from rest_framework.test import APIClient

from aishang.customers.models import OwnerWechatIdentity
from aishang.customers.owners import owner_token_issue
from aishang.notifications.models import WechatAppConfig
from aishang.notifications.tests.standins import StandIn, _Handler

pytestmark = pytest.mark.django_db

APP_ID, SECRET = "wx1234567890abcdef", "s3cr3t"


class Code2SessionHandler(_Handler):
    """Known codes give an openid once; anything else is 40029, as WeChat answers."""

    codes = {"code-wang": "o-wang-openid", "code-wang-2": "o-wang-openid", "code-stranger": "o-stranger"}

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.standin.requests.append({"path": url.path, **query})
        if url.path != "/sns/jscode2session" or query.get("grant_type") != "authorization_code":
            return self.answer(404, {"errcode": 40001, "errmsg": "invalid request"})
        if query.get("appid") != APP_ID or query.get("secret") != SECRET:
            return self.answer(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
        openid = self.codes.get(query.get("js_code"))
        if openid is None:
            return self.answer(200, {"errcode": 40029, "errmsg": "invalid code"})
        return self.answer(200, {"openid": openid, "session_key": "tiihtNczf5v6AKRyjwEUhQ==", "unionid": "u-1"})


@pytest.fixture
def code2session(estate):
    with StandIn(Code2SessionHandler) as standin:
        WechatAppConfig.objects.create(company=estate.company, app_id=APP_ID, app_secret=SECRET,
                                       endpoint=standin.url)
        yield standin


def wechat_login(client, code):
    return client.post("/api/v1/owner/auth/wechat-login/", {"app_id": APP_ID, "code": code}, format="json")


def test_an_unlinked_wechat_user_is_asked_to_verify_the_mobile_first(code2session):
    response = wechat_login(APIClient(), "code-stranger")

    assert response.status_code == 400 and response.json()["code"] == "not_linked"
    assert code2session.requests[0] == {"path": "/sns/jscode2session", "appid": APP_ID, "secret": SECRET,
                                        "js_code": "code-stranger", "grant_type": "authorization_code"}


def test_an_owner_signed_in_by_sms_links_wechat_and_later_signs_in_with_it_alone(estate, code2session):
    key, _ = owner_token_issue(estate.account())
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    linked = wechat_login(signed_in, "code-wang")
    later = wechat_login(APIClient(), "code-wang-2")

    assert linked.status_code == 200 and later.status_code == 200
    identity = OwnerWechatIdentity.objects.get()
    assert (identity.openid, identity.account.mobile) == ("o-wang-openid", "13912345678")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {later.json()['token']}")
    assert [unit["id"] for unit in client.get("/api/v1/owner/units/").json()] == [estate.unit.pk]


def test_an_invalid_login_code_is_a_clear_400(code2session):
    response = wechat_login(APIClient(), "expired")

    assert response.status_code == 400 and "登录凭证无效" in response.json()["code"][0]


def test_an_unknown_mini_program_is_refused_without_calling_wechat(code2session):
    response = APIClient().post("/api/v1/owner/auth/wechat-login/", {"app_id": "wx-unknown", "code": "code-wang"},
                                format="json")

    assert response.status_code == 400 and "app_id" in response.json()
    assert code2session.requests == []
