import pytest

from aishang.core.testing import make_company, make_project, make_staff


@pytest.fixture
def project():
    return make_project(make_company())


@pytest.fixture
def finance(project):
    return make_staff(project.company, "finance")
