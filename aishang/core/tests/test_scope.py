import pytest

from aishang.core.testing import make_company, make_project, make_staff, make_unit
from aishang.estate.models import Unit

pytestmark = pytest.mark.django_db


def test_a_project_scoped_user_sees_only_units_of_that_project():
    company = make_company()
    project_a, project_b = make_project(company), make_project(company)
    unit_a, unit_b = make_unit(project_a), make_unit(project_b)
    clerk = make_staff(company, "service", projects=[project_a])

    assert list(Unit.objects.restrict(clerk)) == [unit_a]
    assert unit_b not in Unit.objects.restrict(clerk)


def test_a_company_wide_user_sees_no_other_company():
    company, other = make_company(), make_company()
    unit = make_unit(make_project(company))
    make_unit(make_project(other))
    admin = make_staff(company, "admin")

    assert list(Unit.objects.restrict(admin)) == [unit]


def test_a_user_without_the_view_permission_sees_nothing():
    company = make_company()
    project = make_project(company)
    make_unit(project)
    guard = make_staff(company, "guard", projects=[project])

    assert not Unit.objects.restrict(guard).exists()
