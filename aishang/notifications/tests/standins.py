"""Local stand-ins for the providers: real HTTP on 127.0.0.1, checking requests as the provider does.

Each stand-in verifies signatures with its own code written from the provider's specification,
not with the code under test, so a wrong signer fails here as it would in production.
"""

import base64
import collections
import datetime
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn:
    def __init__(self, handler):
        self.requests = []
        self.responses = collections.deque()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.standin = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    @property
    def standin(self):
        return self.server.standin


def java_style_encode(value):
    # Aliyun's reference: java.net.URLEncoder (UTF-8), then "+"→"%20", "*"→"%2A", "%7E"→"~".
    return (urllib.parse.quote_plus(value, encoding="utf-8")
            .replace("+", "%20").replace("*", "%2A").replace("%7E", "~"))


def aliyun_expected_signature(params, secret):
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    query = "&".join(java_style_encode(k) + "=" + java_style_encode(v) for k, v in pairs)
    to_sign = "GET&" + java_style_encode("/") + "&" + java_style_encode(query)
    mac = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class AliyunSmsHandler(_Handler):
    """dysmsapi SendSms: checks the key, the signature, the nonce and the time, then answers."""

    secrets = {"testId": "testSecret"}
    required = ("AccessKeyId", "Action", "PhoneNumbers", "SignName", "SignatureMethod", "SignatureNonce",
                "SignatureVersion", "TemplateCode", "Timestamp", "Version", "Signature")

    def do_GET(self):
        standin = self.standin
        query = urllib.parse.urlsplit(self.path).query
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        standin.requests.append(params)
        request_id = f"REQ-{len(standin.requests)}"
        missing = [name for name in self.required if name not in params]
        if missing:
            return self.answer(400, {"Code": "MissingParameter", "Message": f"missing {missing[0]}",
                                     "RequestId": request_id})
        secret = self.secrets.get(params["AccessKeyId"])
        if secret is None:
            return self.answer(404, {"Code": "InvalidAccessKeyId.NotFound",
                                     "Message": "Specified access key is not found.", "RequestId": request_id})
        if params["Signature"] != aliyun_expected_signature(params, secret):
            return self.answer(400, {"Code": "SignatureDoesNotMatch",
                                     "Message": "Specified signature is not matched with our calculation.",
                                     "RequestId": request_id})
        nonces = [p["SignatureNonce"] for p in standin.requests if p.get("SignatureNonce")]
        if nonces.count(params["SignatureNonce"]) > 1:
            return self.answer(400, {"Code": "SignatureNonceUsed", "Message": "The nonce has been used.",
                                     "RequestId": request_id})
        sent_at = datetime.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
        if abs((datetime.datetime.now(datetime.UTC) - sent_at).total_seconds()) > 15 * 60:
            return self.answer(400, {"Code": "InvalidTimeStamp.Expired", "Message": "expired",
                                     "RequestId": request_id})
        if standin.responses:
            code, message = standin.responses.popleft()
            return self.answer(200, {"Code": code, "Message": message, "RequestId": request_id})
        return self.answer(200, {"Code": "OK", "Message": "OK", "BizId": f"9006197469364984^{len(nonces)}",
                                 "RequestId": request_id})


def tc3_expected_authorization(secret_id, secret_key, host, payload, timestamp):
    day = datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC).date().isoformat()
    hashed_payload = hashlib.sha256(payload).hexdigest()
    canonical = (f"POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\n"
                 f"content-type;host\n{hashed_payload}")
    scope = f"{day}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (day, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


class TencentSmsHandler(_Handler):
    secrets = {"AKIDtest": "tencentSecret"}

    def do_POST(self):
        standin = self.standin
        payload = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        standin.requests.append({"headers": dict(self.headers), "body": json.loads(payload)})
        authorization = self.headers.get("Authorization", "")
        secret_id = authorization.partition("Credential=")[2].partition("/")[0]
        secret_key = self.secrets.get(secret_id, "")
        expected = tc3_expected_authorization(secret_id, secret_key, self.headers.get("Host"), payload,
                                              self.headers.get("X-TC-Timestamp"))
        if not secret_key or authorization != expected:
            return self.answer(200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure",
                                                            "Message": "The provided credentials could not be "
                                                                       "validated."}, "RequestId": "T-1"}})
        return self.answer(200, {"Response": {"SendStatusSet": [{
            "SerialNo": "2028:f825e6b16e23f73f4123", "PhoneNumber": json.loads(payload)["PhoneNumberSet"][0],
            "Fee": 1, "Code": "Ok", "Message": "send success", "IsoCode": "CN"}], "RequestId": "T-2"}})


class WechatHandler(_Handler):
    apps = {"wx-test-app": "wx-test-secret"}

    def do_GET(self):
        standin = self.standin
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        standin.requests.append({"path": url.path, "params": params})
        if url.path != "/cgi-bin/token" or params.get("grant_type") != "client_credential":
            return self.answer(404, {"errcode": 404, "errmsg": "not found"})
        if self.apps.get(params.get("appid")) != params.get("secret"):
            return self.answer(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
        standin.token_count = getattr(standin, "token_count", 0) + 1
        token = f"token-{standin.token_count}"
        standin.valid_tokens = {*getattr(standin, "valid_tokens", set()), token}
        return self.answer(200, {"access_token": token, "expires_in": 7200})

    def do_POST(self):
        standin = self.standin
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        standin.requests.append({"path": url.path, "params": params, "body": body})
        if params.get("access_token") not in getattr(standin, "valid_tokens", set()):
            return self.answer(200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        if standin.responses:
            code, message = standin.responses.popleft()
            return self.answer(200, {"errcode": code, "errmsg": message})
        return self.answer(200, {"errcode": 0, "errmsg": "ok", "msgid": 294402298110051942})


def closed_port_url():
    """An address where nothing listens: the connection is refused, as when the provider is unreachable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
