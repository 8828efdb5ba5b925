"""HTTP to the gateways with urllib (as notifications.backends.http does), keeping status, headers and raw body:
WeChat Pay signs the exact bytes of its answers."""

import urllib.error
import urllib.request

from django.conf import settings

from .crypto import GatewayError


def http_call(method, url, *, body=b"", headers=None):
    """(status, headers with lower-case names, raw body). Network trouble is a retryable GatewayError."""
    request = urllib.request.Request(url, data=body if method != "GET" else None, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=getattr(settings, "PAYMENTS_HTTP_TIMEOUT", 10)) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise GatewayError(f"网络错误：{getattr(exc, 'reason', exc)}", retryable=True, code="network") from exc
