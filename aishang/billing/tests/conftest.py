"""Fixtures most billing tests share; a test module defines its own where it needs another shape."""

import pytest

from aishang.core.testing import make_company, make_owner, make_project, make_staff, make_unit


@pytest.fixture
def project():
    return make_project(make_company())


@pytest.fixture
def cashier(client, project):
    """A cashier of the project's company, signed in on ``client``."""
    user = make_staff(project.company, "cashier")
    client.force_login(user)
    return user


@pytest.fixture
def unit(project):
    """A unit of the project with an owner."""
    unit = make_unit(project)
    make_owner(unit)
    return unit
