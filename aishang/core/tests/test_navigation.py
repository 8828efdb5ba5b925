import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from aishang.core.testing import make_company, make_project, make_role, make_staff
from aishang.users.models import User

pytestmark = pytest.mark.django_db


def menu(user, path):
    client = Client()
    client.force_login(user)
    html = client.get(path).content.decode()
    sidebar = html[html.index('id="app-sidebar"'):html.index("</nav>")]
    return sidebar


def test_the_menu_shows_what_the_user_may_open_and_marks_the_current_page():
    company = make_company()
    project = make_project(company)
    clerk = make_staff(company, projects=[project])
    clerk.roles.set([make_role(company, ["estate.view_unit", "estate.view_building"])])
    sidebar = menu(clerk, reverse("estate:unit_list"))
    assert "房屋" in sidebar and "楼栋" in sidebar and "收银台" not in sidebar and "员工" not in sidebar
    assert f'<a class="nav-link active" href="{reverse("estate:unit_list")}" aria-current="page">' in sidebar
    assert sidebar.count("active") == 1
    assert "即将上线" in sidebar  # entries not built yet are greyed out, for everyone
    sidebar = menu(clerk, reverse("estate:building_list"))
    assert f'<a class="nav-link active" href="{reverse("estate:building_list")}"' in sidebar
    assert f'<a class="nav-link" href="{reverse("estate:unit_list")}"' in sidebar

    clerk.roles.get().permissions.add(Permission.objects.get(codename="add_payment"))
    assert "收银台" in menu(User.objects.get(pk=clerk.pk), reverse("estate:unit_list"))


def test_the_menu_follows_the_language():
    company = make_company()
    admin = make_staff(company)
    client = Client()
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("estate:unit_list")).content.decode()
    assert "收银台" not in html[html.index('id="app-sidebar"'):html.index("</nav>")]
