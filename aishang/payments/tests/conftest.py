import itertools

import pytest

from aishang.core.testing import make_company, make_project
from aishang.payments.crypto import rsa_key_pair

from .helpers import sandbox_configs


@pytest.fixture(scope="session")
def _key_pool():
    return [rsa_key_pair() for _ in range(4)]


@pytest.fixture(autouse=True)
def _reused_keys(_key_pool, monkeypatch):
    """Sandbox accounts take their keys from a few made once: a 2048-bit key costs tens of milliseconds each."""
    pool = itertools.cycle(_key_pool)
    monkeypatch.setattr("aishang.payments.sandbox.services.rsa_key_pair", lambda: next(pool))


@pytest.fixture
def project(db):
    """A project whose company has sandbox WeChat and Alipay accounts (the sandbox unreachable: no live server)."""
    project = make_project(make_company())
    sandbox_configs(project.company)
    return project
