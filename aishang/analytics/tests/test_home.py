import pytest

from aishang.core.testing import make_company, make_parking_space, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db


def test_the_home_page_counts_each_project_register_separately(client, django_assert_max_num_queries):
    company = make_company()
    garden, street = make_project(company, name="花园"), make_project(company, name="商业街")
    for _ in range(3):
        make_unit(garden, status="vacant")
    make_unit(garden, status="occupied")
    make_parking_space(garden)
    make_parking_space(garden)
    make_unit(street)
    client.force_login(make_staff(company, "admin"))

    with django_assert_max_num_queries(12):
        page = client.get("/")

    projects = {p.name: p for p in page.context["projects"]}
    assert (projects["花园"].unit_count, projects["花园"].vacant_count) == (4, 3)
    assert (projects["花园"].building_count, projects["花园"].parking_count) == (4, 2)
    assert (projects["商业街"].unit_count, projects["商业街"].parking_count) == (1, 0)


def test_the_home_page_lists_only_projects_in_scope(client):
    company = make_company()
    mine, other = make_project(company, name="我的项目"), make_project(company, name="别人的项目")
    client.force_login(make_staff(company, "steward", projects=[mine]))

    names = [p.name for p in client.get("/").context["projects"]]

    assert names == ["我的项目"]
    assert other.name not in names
