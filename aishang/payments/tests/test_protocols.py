"""The gateway adapters against the published message formats, with keys generated here."""

import time

import pytest

from aishang.payments import alipay, wechatpay
from aishang.payments.crypto import GatewayError

from .keys import alipay_notification, key_pairs, spec_sign, spec_verify, wechat_callback

APIV3_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def keys():
    (merchant_private, merchant_public), (platform_private, platform_public) = key_pairs(2)
    return {
        "merchant_private": merchant_private,
        "merchant_public": merchant_public,
        "platform_private": platform_private,
        "platform_public": platform_public,
    }


@pytest.fixture(scope="module")
def wechat_account(keys):
    return wechatpay.WechatPayAccount(
        appid="wx8888888888888888",
        mchid="1900009191",
        serial_no="MERCHANT-SERIAL",
        private_key=keys["merchant_private"],
        apiv3_key=APIV3_KEY,
        platform_public_key=keys["platform_public"],
        platform_serial="PLATFORM-SERIAL",
    )


@pytest.fixture(scope="module")
def alipay_account(keys):
    return alipay.AlipayAccount(
        app_id="2021000000000001", private_key=keys["merchant_private"], alipay_public_key=keys["platform_public"]
    )


def test_a_wechat_request_is_signed_over_method_path_timestamp_nonce_and_body(wechat_account, keys):
    body = '{"mchid":"1900009191"}'

    header = wechatpay.authorization(
        wechat_account,
        "POST",
        "/v3/pay/transactions/jsapi",
        body,
        timestamp=1554208460,
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )

    assert header.startswith(
        'WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
    )
    fields = wechatpay.parse_authorization(header)
    assert (fields["timestamp"], fields["serial_no"]) == ("1554208460", "MERCHANT-SERIAL")
    message = f"POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{body}\n"
    assert spec_verify(keys["merchant_public"], message, fields["signature"])
    assert not spec_verify(keys["merchant_public"], message.replace("POST", "GET"), fields["signature"])


def test_the_mini_program_pay_sign_covers_appid_timestamp_nonce_and_package(wechat_account, keys):
    params = wechatpay.mini_program_pay_params(
        wechat_account,
        "wx201410272009395522657a690389285100",
        timestamp=1414561699,
        nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )

    assert {k: v for k, v in params.items() if k != "paySign"} == {
        "appId": "wx8888888888888888",
        "timeStamp": "1414561699",
        "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "package": "prepay_id=wx201410272009395522657a690389285100",
        "signType": "RSA",
    }
    message = (
        "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
        "prepay_id=wx201410272009395522657a690389285100\n"
    )
    assert spec_verify(keys["merchant_public"], message, params["paySign"])


def test_a_wechat_callback_verifies_and_decrypts(wechat_account, keys):
    transaction = {
        "appid": "wx8888888888888888",
        "mchid": "1900009191",
        "out_trade_no": "AS20261123000001",
        "transaction_id": "4200000001202611230000000001",
        "trade_state": "SUCCESS",
        "amount": {"total": 12345, "payer_total": 12345, "currency": "CNY"},
    }
    now = int(time.time())
    headers, body = wechat_callback(keys["platform_private"], APIV3_KEY, transaction, timestamp=now)

    notice = wechatpay.notification_parse(wechat_account, headers, body, now=now + 10)

    assert notice["event_type"] == "TRANSACTION.SUCCESS"
    assert notice["resource"] == transaction


def test_a_wechat_callback_with_a_bad_signature_is_refused(wechat_account, keys):
    now = int(time.time())
    headers, body = wechat_callback(keys["platform_private"], APIV3_KEY, {"out_trade_no": "X1"}, timestamp=now)
    forged = body.replace("支付成功", "支付失败")

    with pytest.raises(GatewayError) as refused:
        wechatpay.notification_parse(wechat_account, headers, forged, now=now)
    assert refused.value.code == "signature"

    signed_by_someone_else = {
        **headers,
        "Wechatpay-Signature": spec_sign(keys["merchant_private"], f"{now}\nN0nce\n{body}\n"),
    }
    with pytest.raises(GatewayError):
        wechatpay.notification_parse(wechat_account, signed_by_someone_else, body, now=now)


def test_a_wechat_callback_signed_more_than_five_minutes_ago_is_refused(wechat_account, keys):
    signed_at = int(time.time()) - 301
    headers, body = wechat_callback(keys["platform_private"], APIV3_KEY, {"out_trade_no": "X1"}, timestamp=signed_at)

    with pytest.raises(GatewayError) as refused:
        wechatpay.notification_parse(wechat_account, headers, body)
    assert refused.value.code == "stale"
    assert wechatpay.notification_parse(wechat_account, headers, body, now=signed_at + 299)


def test_a_wechat_callback_sealed_with_another_apiv3_key_is_refused(wechat_account, keys):
    now = int(time.time())
    headers, body = wechat_callback(
        keys["platform_private"], "ffffffffffffffffffffffffffffffff", {"out_trade_no": "X1"}, timestamp=now
    )

    with pytest.raises(GatewayError) as refused:
        wechatpay.notification_parse(wechat_account, headers, body, now=now)
    assert refused.value.code == "decrypt"


def test_a_wechat_callback_from_another_platform_certificate_serial_is_refused(wechat_account, keys):
    now = int(time.time())
    headers, body = wechat_callback(keys["platform_private"], APIV3_KEY, {}, timestamp=now, serial="OTHER")

    with pytest.raises(GatewayError) as refused:
        wechatpay.notification_parse(wechat_account, headers, body, now=now)
    assert refused.value.code == "serial"


def test_an_alipay_request_is_signed_over_its_sorted_parameters(alipay_account, keys):
    params = alipay.signed_params(
        alipay_account, "alipay.trade.query", {"out_trade_no": "AS1"}, timestamp="2026-11-23 14:08:00"
    )

    expected = (
        'app_id=2021000000000001&biz_content={"out_trade_no":"AS1"}&charset=utf-8&format=JSON'
        "&method=alipay.trade.query&sign_type=RSA2&timestamp=2026-11-23 14:08:00&version=1.0"
    )
    assert spec_verify(keys["merchant_public"], expected, params["sign"])


def test_an_alipay_notification_verifies_without_sign_and_sign_type(alipay_account, keys):
    form = alipay_notification(
        keys["platform_private"],
        {
            "app_id": "2021000000000001",
            "out_trade_no": "AS1",
            "trade_no": "2026112322001",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "123.45",
            "subject": "物业费 2026-11",
        },
    )

    assert alipay.notification_verify(alipay_account, form)["total_amount"] == "123.45"


def test_an_alipay_notification_with_a_changed_amount_or_a_foreign_signature_is_refused(alipay_account, keys):
    form = alipay_notification(
        keys["platform_private"],
        {"app_id": "2021000000000001", "out_trade_no": "AS1", "trade_status": "TRADE_SUCCESS", "total_amount": "1.00"},
    )

    with pytest.raises(GatewayError):
        alipay.notification_verify(alipay_account, {**form, "total_amount": "100.00"})
    foreign = alipay_notification(
        keys["merchant_private"],
        {"app_id": "2021000000000001", "out_trade_no": "AS1", "trade_status": "TRADE_SUCCESS", "total_amount": "1.00"},
    )
    with pytest.raises(GatewayError):
        alipay.notification_verify(alipay_account, foreign)
    with pytest.raises(GatewayError):
        alipay.notification_verify(alipay_account, {k: v for k, v in form.items() if k != "sign"})


def test_an_alipay_answer_is_verified_over_the_exact_text_of_its_response_object():
    text = '{"alipay_trade_query_response" : {"code":"10000","msg":"Success","total_amount":"1.00"},"sign":"x"}'

    assert alipay.response_node(text, "alipay_trade_query_response") == (
        '{"code":"10000","msg":"Success","total_amount":"1.00"}'
    )
