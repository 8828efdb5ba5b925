import base64
import hashlib
import hmac

import pytest
from django.core.cache import cache
from django.utils import timezone

from aishang.core.testing import (
    make_company,
    make_customer,
    make_message_template,
    make_project,
    make_sms_config,
)
from aishang.notifications.backends import aliyun
from aishang.notifications.choices import MessageStatus
from aishang.notifications.models import WechatAppConfig
from aishang.notifications.services import message_deliver, notify

from .standins import (
    AliyunSmsHandler,
    StandIn,
    TencentSmsHandler,
    WechatHandler,
    closed_port_url,
)

pytestmark = pytest.mark.django_db

PARAMS = {"customer": "张三", "project": "爱尚花园", "unit": "1-2-301", "period": "2026年01月", "amount": "216.90",
          "due_date": "2026-01-31", "fee_items": "物业费"}

# Aliyun's published SendSms signature example: its parameters, secret "testSecret" and result.
DOC_PARAMS = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
    "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
}
DOC_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def customer(company):
    return make_customer(make_project(company), name="张三", mobile="13800138000")


@pytest.fixture
def sms_backend(settings):
    settings.NOTIFICATION_SMS_BACKEND = "aishang.notifications.backends.sms.SmsProviderBackend"
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60


@pytest.fixture
def aliyun_standin():
    with StandIn(AliyunSmsHandler) as standin:
        yield standin


def send_bill_sms(company, customer, key="bill-posted:7:sms"):
    message = notify(company=company, recipient=customer, channel="sms", template_code="bill_posted", params=PARAMS,
                     dedupe_key=key)
    return message_deliver(message.pk)


# -- Aliyun signature ------------------------------------------------------------------------------

def test_the_aliyun_signature_matches_the_published_example():
    assert aliyun.signature(DOC_PARAMS, "testSecret") == DOC_SIGNATURE


def test_the_aliyun_signature_follows_the_specification_step_by_step():
    params = {"AccessKeyId": "LTAI-key", "Action": "SendSms", "PhoneNumbers": "13800138000",
              "SignName": "爱尚物业", "TemplateParam": '{"amount":"216.90","unit":"1-2-301 室*~"}',
              "Timestamp": "2026-01-05T08:00:00Z", "SignatureNonce": "n-1"}
    secret = "s3cret/+="
    # 1. sort by name; 2. percent-encode names and values (RFC 3986: space %20, * %2A, ~ kept).
    def encode(text):
        return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.~") else
                       "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text)
    query = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
    assert "1-2-301%20%E5%AE%A4%2A~" in query
    # 3. StringToSign = "GET&%2F&" + the encoded query, encoded once more.
    to_sign = "GET&%2F&" + encode(query)
    # 4. HMAC-SHA1 with the key secret + "&", base64.
    expected = base64.b64encode(hmac.new(b"s3cret/+=&", to_sign.encode(), hashlib.sha1).digest()).decode()
    assert aliyun.string_to_sign(params) == to_sign
    assert aliyun.signature(params, secret) == expected


def test_the_aliyun_signature_ignores_a_signature_already_in_the_parameters():
    assert aliyun.signature({**DOC_PARAMS, "Signature": "old"}, "testSecret") == DOC_SIGNATURE


# -- Aliyun against the stand-in -------------------------------------------------------------------

def test_an_sms_is_sent_through_aliyun_and_the_biz_id_recorded(company, customer, sms_backend, aliyun_standin):
    make_sms_config(company, endpoint=aliyun_standin.url)
    make_message_template(company, sms_template_code="SMS_71390007")
    message = send_bill_sms(company, customer)
    assert message.status == MessageStatus.SENT, message.last_error
    assert (message.provider, message.provider_message_id) == ("aliyun", "9006197469364984^1")
    request = aliyun_standin.requests[0]
    assert request["PhoneNumbers"] == "13800138000"
    assert request["SignName"] == "爱尚物业"
    assert request["TemplateCode"] == "SMS_71390007"
    assert request["OutId"] == str(message.pk)
    assert '"amount":"216.90"' in request["TemplateParam"]


def test_the_templates_own_sign_name_wins_over_the_accounts(company, customer, sms_backend, aliyun_standin):
    make_sms_config(company, endpoint=aliyun_standin.url)
    make_message_template(company, sms_template_code="SMS_1", sms_sign_name="爱尚花园物业")
    assert send_bill_sms(company, customer).status == MessageStatus.SENT
    assert aliyun_standin.requests[0]["SignName"] == "爱尚花园物业"


def test_a_provider_throttling_error_schedules_a_retry_with_the_error_stored(
        company, customer, sms_backend, aliyun_standin):
    make_sms_config(company, endpoint=aliyun_standin.url)
    make_message_template(company, sms_template_code="SMS_1")
    aliyun_standin.responses.append(("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"))
    before = timezone.now()
    message = send_bill_sms(company, customer)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.last_error.startswith("isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1")
    assert message.next_attempt_at >= before + timezone.timedelta(seconds=60)

    message = message_deliver(message.pk, now=message.next_attempt_at)
    assert message.status == MessageStatus.SENT
    assert len(aliyun_standin.requests) == 2
    # Every attempt is signed afresh: the provider refuses a nonce it has seen.
    assert aliyun_standin.requests[0]["SignatureNonce"] != aliyun_standin.requests[1]["SignatureNonce"]


def test_a_bad_signature_is_refused_by_the_provider_and_recorded_as_a_failure(
        company, customer, sms_backend, aliyun_standin):
    make_sms_config(company, endpoint=aliyun_standin.url, access_key_secret="wrong-secret")
    make_message_template(company, sms_template_code="SMS_1")
    message = send_bill_sms(company, customer)
    assert (message.status, message.next_attempt_at) == (MessageStatus.FAILED, None)
    assert message.last_error.startswith("SignatureDoesNotMatch")


def test_a_provider_that_cannot_be_reached_schedules_a_retry(company, customer, sms_backend):
    make_sms_config(company, endpoint=closed_port_url())
    make_message_template(company, sms_template_code="SMS_1")
    message = send_bill_sms(company, customer)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.last_error.startswith("网络错误")
    assert message.next_attempt_at is not None


def test_an_illegal_number_fails_without_retry(company, customer, sms_backend, aliyun_standin):
    make_sms_config(company, endpoint=aliyun_standin.url)
    make_message_template(company, sms_template_code="SMS_1")
    aliyun_standin.responses.append(("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"))
    message = send_bill_sms(company, customer)
    assert message.status == MessageStatus.FAILED


def test_a_company_without_an_sms_account_fails_with_a_clear_reason(company, customer, sms_backend):
    make_message_template(company, sms_template_code="SMS_1")
    message = send_bill_sms(company, customer)
    assert (message.status, message.last_error) == (MessageStatus.FAILED, "企业未配置短信服务")


def test_a_template_without_a_provider_template_code_fails_with_a_clear_reason(
        company, customer, sms_backend, aliyun_standin):
    make_sms_config(company, endpoint=aliyun_standin.url)
    message = send_bill_sms(company, customer)
    assert message.status == MessageStatus.FAILED
    assert "未填写短信模板编号" in message.last_error
    assert aliyun_standin.requests == []


# -- Tencent Cloud against the stand-in ------------------------------------------------------------

def test_an_sms_is_sent_through_tencent_cloud_with_a_tc3_signature(company, customer, sms_backend):
    with StandIn(TencentSmsHandler) as standin:
        make_sms_config(company, kind="tencent", access_key_id="AKIDtest", access_key_secret="tencentSecret",
                        app_id="1400006666", endpoint=standin.url)
        make_message_template(company, sms_template_code="449739", body="{customer}您好，{period}应缴{amount}元")
        message = send_bill_sms(company, customer)
    assert message.status == MessageStatus.SENT, message.last_error
    assert message.provider_message_id == "2028:f825e6b16e23f73f4123"
    body = standin.requests[0]["body"]
    assert body["PhoneNumberSet"] == ["+8613800138000"]
    assert body["TemplateParamSet"] == ["张三", "2026年01月", "216.90"]


def test_a_wrong_tencent_secret_is_refused_and_recorded(company, customer, sms_backend):
    with StandIn(TencentSmsHandler) as standin:
        make_sms_config(company, kind="tencent", access_key_id="AKIDtest", access_key_secret="nope",
                        app_id="1400006666", endpoint=standin.url)
        make_message_template(company, sms_template_code="449739")
        message = send_bill_sms(company, customer)
    assert message.status == MessageStatus.FAILED
    assert message.last_error.startswith("AuthFailure.SignatureFailure")


# -- WeChat subscription messages against the stand-in ---------------------------------------------

@pytest.fixture
def wechat(settings, company):
    settings.NOTIFICATION_WECHAT_BACKEND = "aishang.notifications.backends.wechat.WechatSubscribeBackend"
    cache.clear()
    with StandIn(WechatHandler) as standin:
        WechatAppConfig.objects.create(company=company, app_id="wx-test-app", app_secret="wx-test-secret",
                                       page="pages/bills/index", endpoint=standin.url)
        make_message_template(company, wechat_template_id="tmpl-bill",
                              wechat_fields={"thing1": "{project}{unit}", "amount2": "{amount}元",
                                             "date3": "{due_date}"})
        yield standin
    cache.clear()


def send_wechat(company, customer, key="bill-posted:7:wechat"):
    message = notify(company=company, recipient=customer, channel="wechat", template_code="bill_posted",
                     params=PARAMS, dedupe_key=key, address="o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    return message_deliver(message.pk)


def test_a_wechat_subscription_message_fetches_a_token_and_sends(company, customer, wechat):
    message = send_wechat(company, customer)
    assert message.status == MessageStatus.SENT, message.last_error
    token_request, send_request = wechat.requests
    assert token_request["params"] == {"grant_type": "client_credential", "appid": "wx-test-app",
                                       "secret": "wx-test-secret"}
    assert send_request["params"] == {"access_token": "token-1"}
    assert send_request["body"]["touser"] == "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
    assert send_request["body"]["data"] == {"thing1": {"value": "爱尚花园1-2-301"}, "amount2": {"value": "216.90元"},
                                            "date3": {"value": "2026-01-31"}}


def test_the_wechat_token_is_reused_and_renewed_when_expired(company, customer, wechat):
    send_wechat(company, customer, key="a")
    send_wechat(company, customer, key="b")
    assert [r["path"] for r in wechat.requests].count("/cgi-bin/token") == 1
    wechat.valid_tokens = set()  # WeChat revoked it
    message = send_wechat(company, customer, key="c")
    assert (message.status, message.last_error[:5]) == (MessageStatus.PENDING, "40001")
    message = message_deliver(message.pk, now=message.next_attempt_at)
    assert message.status == MessageStatus.SENT
    assert [r["path"] for r in wechat.requests].count("/cgi-bin/token") == 2


def test_an_owner_who_did_not_subscribe_fails_without_retry(company, customer, wechat):
    wechat.responses.append((43101, "user refuse to accept the msg"))
    message = send_wechat(company, customer)
    assert (message.status, message.last_error) == (MessageStatus.FAILED, "43101: user refuse to accept the msg")

