"""Keys made for the tests, and checks written straight from the published formats with `cryptography` itself,
not with the code under test."""

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aishang.payments.crypto import rsa_key_pair


def key_pairs(count):
    return [rsa_key_pair() for _ in range(count)]


def spec_verify(public_pem, message, signature_b64):
    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        key.verify(base64.b64decode(signature_b64), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:  # any failure means "not signed by this key"
        return False
    return True


def spec_sign(private_pem, message):
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def wechat_callback(
    platform_private,
    apiv3_key,
    resource,
    *,
    timestamp,
    nonce="N0nce",
    event_type="TRANSACTION.SUCCESS",
    serial="PLATFORM-SERIAL",
):
    """(headers, body) of a WeChat Pay callback as the platform sends it: resource sealed with the APIv3 key."""
    resource_nonce, associated = "abcdefghijkl", "transaction"
    sealed = AESGCM(apiv3_key.encode()).encrypt(
        resource_nonce.encode(), json.dumps(resource).encode(), associated.encode()
    )
    body = json.dumps(
        {
            "id": "EV-1",
            "create_time": "2026-11-23T14:08:00+08:00",
            "event_type": event_type,
            "resource_type": "encrypt-resource",
            "summary": "支付成功",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(sealed).decode(),
                "associated_data": associated,
                "original_type": "transaction",
                "nonce": resource_nonce,
            },
        },
        ensure_ascii=False,
    )
    signature = spec_sign(platform_private, f"{timestamp}\n{nonce}\n{body}\n")
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": serial,
    }, body


def alipay_notification(alipay_private, fields):
    """An asynchronous notification form as Alipay posts it."""
    form = {
        "notify_time": "2026-11-23 14:08:00",
        "notify_type": "trade_status_sync",
        "notify_id": "ntf1",
        "charset": "utf-8",
        "version": "1.0",
        **fields,
    }
    content = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if v != "")
    return {**form, "sign_type": "RSA2", "sign": spec_sign(alipay_private, content)}
