"""Production settings for ``bench_owner_api``'s loopback server only: plain HTTP, its own URL conf with the bare
view beside the real ones, and throttles that a load test does not trip. Never deployed."""

import os

from .prod import *  # noqa: F403
from .prod import REST_FRAMEWORK

ROOT_URLCONF = "config.bench_urls"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The same throttles run, with rates no load test reaches. Their window is a second: a throttle keeps the times of
# every request in its window, and one owner sending a minute's load test would carry thousands where an owner
# using the app carries a few.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": {scope: "1000000/s" for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
}
BENCH_OWNER_SQL_FILE = os.environ.get("BENCH_OWNER_SQL_FILE", "")
