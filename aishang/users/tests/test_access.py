"""A staff member's permissions, projects and names are cached, and every change reaches the next request."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aishang.core.testing import make_company, make_project, make_role, make_staff
from aishang.users.access import user_access
from aishang.users.models import User

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request loads them."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def clerk(company):
    first = make_project(company)
    role = make_role(company, ["estate.view_unit"], name="前台")
    user = make_staff(company, projects=[first])
    user.roles.set([role])
    return user


def test_a_second_request_reads_nothing_from_the_database(clerk):
    assert fresh(clerk).has_perm("estate.view_unit")
    user = fresh(clerk)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("estate.view_unit") and not user.has_perm("estate.delete_unit")
        assert len(user.permitted_project_ids()) == 1
        assert user_access(user).role_names == ("前台",)
    assert len(queries) == 0


def test_roles_and_their_permissions_reach_the_next_request(company, clerk):
    assert not fresh(clerk).has_perm("estate.change_unit")
    role = clerk.roles.get()
    role.permissions.add(Permission.objects.get(codename="change_unit"))
    assert fresh(clerk).has_perm("estate.change_unit")
    role.permissions.remove(Permission.objects.get(codename="view_unit"))
    assert not fresh(clerk).has_perm("estate.view_unit")
    cashier = make_role(company, ["billing.add_payment"], name="收银员")
    cashier.users.add(clerk)  # from the role's side
    assert fresh(clerk).has_perm("billing.add_payment") and set(user_access(fresh(clerk)).role_names) == {
        "前台", "收银员"}
    cashier.users.clear()
    assert not fresh(clerk).has_perm("billing.add_payment")
    clerk.roles.clear()
    assert fresh(clerk).get_all_permissions() == set()
    role.name = "客服"
    role.save()
    clerk.roles.add(role)
    assert user_access(fresh(clerk)).role_names == ("客服",)


def test_own_permissions_and_deactivation_reach_the_next_request(clerk):
    clerk.user_permissions.add(Permission.objects.get(codename="delete_unit"))
    assert fresh(clerk).has_perm("estate.delete_unit")
    clerk.is_active = False
    clerk.save()
    assert not fresh(clerk).has_perm("estate.view_unit")


def test_projects_in_scope_follow_the_user_and_the_company(company, clerk):
    first = fresh(clerk).permitted_project_ids()
    second = make_project(company)
    assert fresh(clerk).permitted_project_ids() == first
    clerk.projects.add(second)
    assert sorted(fresh(clerk).permitted_project_ids()) == sorted([*first, second.pk])
    clerk.scope_all_projects = True
    clerk.save()
    third = make_project(company)
    assert third.pk in fresh(clerk).permitted_project_ids()
    third.delete()
    assert third.pk not in fresh(clerk).permitted_project_ids()
    make_project(make_company())  # another company's project is never in scope
    assert len(fresh(clerk).permitted_project_ids()) == 2


def test_the_top_bar_shows_the_company_as_renamed(company, clerk):
    assert user_access(fresh(clerk)).company_name == company.name
    company.name = "爱尚物业（新）"
    company.save()
    assert user_access(fresh(clerk)).company_name == "爱尚物业（新）"


def test_the_request_users_lazy_object_is_read_like_the_user(clerk):
    from django.utils.functional import SimpleLazyObject

    lazy = SimpleLazyObject(lambda: fresh(clerk))
    assert user_access(lazy).role_names == ("前台",) and lazy.has_perm("estate.view_unit")
