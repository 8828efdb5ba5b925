import json
import urllib.error
import urllib.request

from . import DeliveryError, http_timeout


def request_json(url, *, data=None, headers=None, method=None):
    """(HTTP status, decoded JSON body) of a provider call; network trouble is a retryable DeliveryError.

    Providers answer errors with a JSON body and a 4xx/5xx status, so those bodies are read too.
    """
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json", **(headers or {})},
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=http_timeout()) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"网络错误：{reason}", code="network") from exc
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DeliveryError(f"服务商返回了无法识别的内容（HTTP {status}）", retryable=status >= 500,
                            code=f"http_{status}") from None
    if not isinstance(body, dict):
        raise DeliveryError(f"服务商返回了无法识别的内容（HTTP {status}）", retryable=status >= 500)
    return status, body
