"""The cryptography the gateways share: SHA256withRSA signatures (base64) and AEAD_AES_256_GCM."""

import base64
import binascii

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class GatewayError(Exception):
    """A gateway call or message that cannot be trusted or did not succeed; ``retryable`` when trying later may help."""

    def __init__(self, message, *, retryable=False, code=""):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def _pem(text):
    return text.strip().encode("ascii") if isinstance(text, str) else text


def load_private_key(pem):
    try:
        return serialization.load_pem_private_key(_pem(pem), password=None)
    except (ValueError, TypeError):
        raise GatewayError("私钥格式不正确（需 PEM 格式的 RSA 私钥）", code="bad_key") from None


def load_public_key(pem):
    """An RSA public key from a PEM public key or a PEM certificate (WeChat's platform certificate)."""
    data = _pem(pem)
    try:
        if b"CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise GatewayError("公钥或证书格式不正确（需 PEM 格式）", code="bad_key") from None


def rsa_sign(private_key_pem, message):
    key = load_private_key(private_key_pem)
    signature = key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa_verify(public_key_pem, message, signature):
    """True when ``signature`` (base64) is the SHA256withRSA signature of ``message``."""
    key = load_public_key(public_key_pem)
    try:
        raw = base64.b64decode(signature or "", validate=True)
        key.verify(raw, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def aes_gcm_decrypt(key, nonce, ciphertext_b64, associated_data):
    try:
        plain = AESGCM(key.encode("utf-8")).decrypt(
            nonce.encode("utf-8"), base64.b64decode(ciphertext_b64), (associated_data or "").encode("utf-8")
        )
    except (InvalidTag, binascii.Error, ValueError):
        raise GatewayError("通知内容解密失败（APIv3 密钥不符或内容被改动）", code="decrypt") from None
    return plain.decode("utf-8")


def aes_gcm_encrypt(key, nonce, plaintext, associated_data):
    sealed = AESGCM(key.encode("utf-8")).encrypt(
        nonce.encode("utf-8"), plaintext.encode("utf-8"), (associated_data or "").encode("utf-8")
    )
    return base64.b64encode(sealed).decode("ascii")


def rsa_key_pair():
    """(private PEM, public PEM) of a new 2048-bit key: for sandbox accounts, the demo and tests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private, public


def public_key_of(private_key_pem):
    return (
        load_private_key(private_key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
