import datetime

import pytest
from django.utils import timezone

from aishang.core.context import change_context
from aishang.core.testing import api_client, make_building, make_customer, make_staff, make_unit, property_type
from aishang.core.tests.api_specs import World, assert_crud_round_trip, company_admin, crud_routes, route_id
from aishang.extras.models import CustomField, ObjectChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


@pytest.fixture
def admin(world):
    return company_admin(world)


@pytest.fixture
def client(admin):
    return api_client(admin)


@pytest.mark.parametrize("route", crud_routes("extras"), ids=route_id)
def test_an_administrator_can_create_read_change_and_delete(world, client, route):
    assert_crud_round_trip(client, route, world)


def test_a_custom_field_is_created_in_the_callers_company(world, client):
    response = client.post("/api/v1/custom-fields/", {"target": "customer", "name": "hobby", "label": "兴趣爱好"},
                           format="json")

    assert response.status_code == 201, response.content
    assert CustomField.objects.get(pk=response.json()["id"]).company == world.company


def test_a_choice_field_without_choices_is_refused(client):
    response = client.post("/api/v1/custom-fields/", {"target": "unit", "name": "orientation", "label": "朝向",
                                                      "field_type": "choice"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"choices": ["单选、多选字段至少需要一个选项"]}


def test_a_custom_field_code_must_be_lower_case_letters_digits_and_underscores(client):
    response = client.post("/api/v1/custom-fields/", {"target": "unit", "name": "Orientation", "label": "朝向"},
                           format="json")

    assert response.status_code == 400
    assert response.json()["name"] == ["字段编码须以小写字母开头，只含小写字母、数字和下划线"]


def test_a_customer_field_cannot_be_tied_to_a_property_type(world, client):
    response = client.post("/api/v1/custom-fields/", {
        "target": "customer", "name": "hobby", "label": "兴趣爱好",
        "property_type": property_type(world.company).pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"property_type": ["只有房屋字段可以按业态区分"]}


def test_the_code_of_a_custom_field_cannot_change(world, client):
    field = CustomField.objects.create(company=world.company, target="unit", name="orientation", label="朝向")

    response = client.patch(f"/api/v1/custom-fields/{field.pk}/", {"name": "facing"}, format="json")

    assert response.status_code == 400
    field.refresh_from_db()
    assert field.name == "orientation"


def test_the_change_log_is_read_only(client):
    assert client.post("/api/v1/object-changes/", {}, format="json").status_code == 405


def test_the_change_log_filters_by_object_type_and_id(world, client):
    unit = make_unit(world.project_a)
    make_unit(world.project_a)

    response = client.get("/api/v1/object-changes/", {"object_type": "estate.unit", "object_id": unit.pk})

    rows = response.json()["results"]
    assert [(row["object_type"], row["object_id"], row["action"]) for row in rows] == [
        ("estate.unit", unit.pk, "create")]


def test_the_change_log_filters_by_user_and_action(world, admin, client):
    building = make_building(world.project_a)
    client.patch(f"/api/v1/buildings/{building.pk}/", {"name": "一号楼"}, format="json")

    response = client.get("/api/v1/object-changes/", {"user": admin.pk, "action": "update"})

    assert [(row["object_id"], row["user_name"]) for row in response.json()["results"]] == [
        (building.pk, admin.username)]


def test_the_change_log_filters_by_time_range_and_project(world, client):
    old = make_building(world.project_a)
    ObjectChange.objects.filter(object_id=old.pk, object_type__model="building").update(
        time=timezone.now() - datetime.timedelta(days=10))
    recent = make_building(world.project_a)
    make_building(world.project_b)
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    response = client.get("/api/v1/object-changes/", {"project": world.project_a.pk, "time_after": since,
                                                      "object_type": "estate.building"})

    assert [row["object_id"] for row in response.json()["results"]] == [recent.pk]


def test_a_project_scoped_user_sees_no_change_log_rows_of_other_projects(world):
    make_building(world.project_a)
    make_building(world.project_b)
    clerk = make_staff(world.company, "service", projects=[world.project_a])

    response = api_client(clerk).get("/api/v1/object-changes/", {"page_size": 500})

    assert {row["project"] for row in response.json()["results"]} == {world.project_a.pk}


def test_customer_phone_numbers_in_the_change_log_are_masked_without_the_pii_permission(world):
    with change_context(source="test"):
        make_customer(world.project_a, mobile="13812345678")
    clerk = make_staff(world.company, "service", projects=[world.project_a])

    response = api_client(clerk).get("/api/v1/object-changes/", {"object_type": "customers.customer"})

    assert response.json()["results"][0]["postchange_data"]["mobile"] == "138****5678"


def test_customer_phone_numbers_in_the_change_log_are_plain_with_the_pii_permission(world):
    make_customer(world.project_a, mobile="13812345678")
    finance = make_staff(world.company, "finance", projects=[world.project_a])

    response = api_client(finance).get("/api/v1/object-changes/", {"object_type": "customers.customer"})

    assert response.json()["results"][0]["postchange_data"]["mobile"] == "13812345678"


def test_a_time_filter_with_an_unusual_utc_offset_is_compared_in_utc(world, client):
    make_building(world.project_a)

    response = client.get("/api/v1/object-changes/", {"time_after": "2000-01-01T00:00:00-19:32"})

    assert response.status_code == 200
    assert response.json()["count"] >= 1
