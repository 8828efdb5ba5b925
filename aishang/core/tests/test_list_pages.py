import pytest

from aishang.core.testing import make_company, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    company = make_company()
    project = make_project(company)
    for _ in range(3):
        make_unit(project)
    client.force_login(make_staff(company, "admin"))
    return client


def test_sort_and_export_links_keep_the_filters_in_one_query_string(admin_client):
    page = admin_client.get("/estate/units/?q=1&status=vacant").content.decode()

    assert 'href="?q=1&amp;status=vacant&amp;sort=code"' in page
    assert "??" not in page


def test_a_list_answers_htmx_with_the_table_only_and_varies_its_cache_on_it(admin_client):
    full = admin_client.get("/estate/units/")
    partial = admin_client.get("/estate/units/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-table")

    assert "<nav" in full.content.decode() and "<nav class" not in partial.content.decode()
    assert 'id="list-table"' in partial.content.decode()
    assert "HX-Request" in full["Vary"] and "HX-Request" in partial["Vary"]
