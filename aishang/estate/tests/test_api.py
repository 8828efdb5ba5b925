from decimal import Decimal

import pytest

from aishang.core.testing import (
    api_client,
    make_building,
    make_company,
    make_custom_field,
    make_entrance,
    make_owner,
    make_project,
    make_staff,
    make_unit,
    property_type,
)
from aishang.core.tests.api_specs import World, assert_crud_round_trip, company_admin, crud_routes, route_id
from aishang.estate.models import Company, Project, Unit
from aishang.extras.choices import ChangeAction
from aishang.extras.models import ObjectChange
from aishang.users.models import User

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


def unit_body(project, building, **fields):
    return {"project": project.pk, "building": building.pk, "number": "301", "floor": 3,
            "property_type": property_type(project.company).pk, "building_area": "120.50", **fields}


@pytest.mark.parametrize("route", crud_routes("estate"), ids=route_id)
def test_an_administrator_can_create_read_change_and_delete(world, client, route):
    assert_crud_round_trip(client, route, world)


def test_a_change_through_the_api_is_logged_with_the_api_user(world, admin, client):
    building = make_building(world.project_a)

    response = client.patch(f"/api/v1/buildings/{building.pk}/", {"name": "一号楼"}, format="json")

    assert response.status_code == 200
    change = ObjectChange.objects.get(object_id=building.pk, object_type__model="building",
                                      action=ChangeAction.UPDATE)
    assert (change.user, change.source) == (admin, "api")
    assert change.postchange_data["name"] == "一号楼"


def test_unit_code_is_composed_of_building_entrance_and_number(world, client):
    building = make_building(world.project_a, code="5")
    entrance = make_entrance(building, code="2")

    response = client.post("/api/v1/units/", unit_body(world.project_a, building, entrance=entrance.pk),
                           format="json")

    assert response.status_code == 201, response.content
    assert response.json()["code"] == "5-2-301"


def test_unit_code_cannot_be_written(world, client):
    unit = make_unit(world.project_a)

    client.patch(f"/api/v1/units/{unit.pk}/", {"code": "X-X-X"}, format="json")

    unit.refresh_from_db()
    assert unit.code != "X-X-X"


def test_an_inner_area_larger_than_the_building_area_is_refused_at_the_field(world, client):
    body = unit_body(world.project_a, make_building(world.project_a), inner_area="130.00")

    response = client.post("/api/v1/units/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"inner_area": ["套内面积不能大于建筑面积"]}


def test_a_second_unit_with_the_same_code_is_refused_at_the_number(world, client):
    building = make_building(world.project_a)
    client.post("/api/v1/units/", unit_body(world.project_a, building), format="json")

    response = client.post("/api/v1/units/", unit_body(world.project_a, building), format="json")

    assert response.status_code == 400
    assert "已存在" in response.json()["number"][0]


def test_a_building_of_another_project_than_the_unit_is_refused(world, client):
    body = unit_body(world.project_a, make_building(world.project_b))

    response = client.post("/api/v1/units/", body, format="json")

    assert response.status_code == 400
    assert response.json()["building"] == ["楼栋不属于该项目"]


def test_a_building_outside_the_callers_scope_reads_as_not_existing(world):
    clerk = make_staff(world.company, "admin", projects=[world.project_a])
    building_b = make_building(world.project_b)

    response = api_client(clerk).post("/api/v1/units/", unit_body(world.project_a, building_b), format="json")

    assert response.status_code == 400
    assert response.json()["building"] == [f"对象不存在（编号 {building_b.pk}）"]


def test_custom_field_data_is_a_json_object_in_and_out(world, client):
    body = unit_body(world.project_a, make_building(world.project_a),
                     property_type=property_type(world.company, "商铺").pk,
                     custom_field_data={"lease_status": "已出租", "business_scope": "餐饮"})

    response = client.post("/api/v1/units/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["custom_field_data"] == {"lease_status": "已出租", "business_scope": "餐饮"}
    assert Unit.objects.get(pk=response.json()["id"]).custom_field_data["lease_status"] == "已出租"


def test_an_unknown_custom_field_key_is_refused_at_that_key(world, client):
    body = unit_body(world.project_a, make_building(world.project_a), custom_field_data={"colour": "红"})

    response = client.post("/api/v1/units/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"custom_field_data": {"colour": ["没有编码为“colour”的自定义字段"]}}


def test_a_custom_field_value_outside_its_choices_is_refused_at_that_key(world, client):
    body = unit_body(world.project_a, make_building(world.project_a),
                     property_type=property_type(world.company, "商铺").pk,
                     custom_field_data={"lease_status": "已倒闭"})

    response = client.post("/api/v1/units/", body, format="json")

    assert response.status_code == 400
    assert "不在可选项中" in response.json()["custom_field_data"]["lease_status"][0]


def test_a_required_custom_field_left_out_is_refused(world, client):
    make_custom_field(world.company, "orientation", label="朝向", required=True)

    response = client.post("/api/v1/units/", unit_body(world.project_a, make_building(world.project_a)),
                           format="json")

    assert response.status_code == 400
    assert response.json()["custom_field_data"] == {"orientation": ["「朝向」为必填项"]}


def test_custom_field_data_that_is_not_an_object_is_refused(world, client):
    body = unit_body(world.project_a, make_building(world.project_a), custom_field_data=["a"])

    response = client.post("/api/v1/units/", body, format="json")

    assert response.status_code == 400
    assert response.json()["custom_field_data"] == ["自定义字段应为对象（键为字段编码）"]


def test_patching_one_custom_field_keeps_the_others(world, client):
    unit = make_unit(world.project_a, type_name="商铺",
                     custom_field_data={"lease_status": "自营", "business_scope": "零售"})

    response = client.patch(f"/api/v1/units/{unit.pk}/", {"custom_field_data": {"lease_status": "已出租"}},
                            format="json")

    assert response.status_code == 200, response.content
    assert response.json()["custom_field_data"] == {"lease_status": "已出租", "business_scope": "零售"}


def test_units_filter_by_building_status_and_custom_field(world, client):
    building = make_building(world.project_a)
    wanted = make_unit(world.project_a, building=building, type_name="商铺", status="rented",
                       custom_field_data={"lease_status": "已出租"})
    make_unit(world.project_a, building=building, type_name="商铺", status="rented",
              custom_field_data={"lease_status": "自营"})
    make_unit(world.project_a, status="rented")

    response = client.get("/api/v1/units/", {"building": building.pk, "status": "rented",
                                             "cf_lease_status": "已出租"})

    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_units_can_be_searched_by_code_and_ordered_by_area(world, client):
    building = make_building(world.project_a, code="东9")
    small = make_unit(world.project_a, building=building, number="101", area="50.00")
    large = make_unit(world.project_a, building=building, number="102", area="150.00")
    make_unit(world.project_a, number="103")

    response = client.get("/api/v1/units/", {"search": "东9-1-10", "ordering": "-building_area"})

    assert [row["id"] for row in response.json()["results"]] == [large.pk, small.pk]


def test_a_unit_with_an_owner_cannot_be_deleted(world, client):
    unit = make_unit(world.project_a)
    make_owner(unit)

    response = client.delete(f"/api/v1/units/{unit.pk}/")

    assert response.status_code == 409
    assert "仍有关联的入住关系" in response.json()["detail"]
    assert Unit.objects.filter(pk=unit.pk).exists()


def test_an_administrator_sees_and_edits_only_their_own_company(world, client):
    response = client.get("/api/v1/companies/")
    patched = client.patch(f"/api/v1/companies/{world.company.pk}/", {"short_name": "爱尚"}, format="json")

    assert [row["id"] for row in response.json()["results"]] == [world.company.pk]
    assert patched.status_code == 200
    assert client.get(f"/api/v1/companies/{world.other_company.pk}/").status_code == 404


def test_only_the_platform_operator_creates_or_deletes_companies(world, client):
    assert client.post("/api/v1/companies/", {"name": "新物业"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/companies/{world.company.pk}/").status_code == 403
    assert Company.objects.filter(pk=world.company.pk).exists()


def test_a_company_created_by_the_operator_gets_the_standard_property_types_and_roles():
    operator = User.objects.create_superuser("operator", password="Operat0r!2026")

    response = api_client(operator).post("/api/v1/companies/", {"name": "新物业", "short_name": "新"},
                                         format="json")

    assert response.status_code == 201, response.content
    company = Company.objects.get(pk=response.json()["id"])
    assert company.property_types.filter(name="商铺").exists()
    assert company.roles.filter(code="admin").exists()


def test_a_project_scoped_user_may_not_create_projects(world):
    manager = make_staff(world.company, "admin", projects=[world.project_a])

    response = api_client(manager).post("/api/v1/projects/", {"code": "X1", "name": "新项目"}, format="json")

    assert response.status_code == 403
    assert not Project.objects.filter(code="X1").exists()


def test_a_project_is_created_in_the_callers_company_with_its_property_types(world, client):
    shop = property_type(world.company, "商铺")

    response = client.post("/api/v1/projects/", {"code": "X1", "name": "新项目", "property_types": [shop.pk]},
                           format="json")

    assert response.status_code == 201, response.content
    project = Project.objects.get(pk=response.json()["id"])
    assert project.company == world.company
    assert list(project.property_types.all()) == [shop]


def test_a_project_code_used_twice_in_a_company_is_refused(world, client):
    response = client.post("/api/v1/projects/", {"code": world.project_a.code, "name": "重复"}, format="json")

    assert response.status_code == 400


def test_a_property_type_of_another_company_cannot_be_given_to_a_building(world, client):
    foreign = property_type(world.other_company)

    response = client.post("/api/v1/buildings/", {"project": world.project_a.pk, "code": "77",
                                                  "property_type": foreign.pk}, format="json")

    assert response.status_code == 400
    assert "对象不存在" in response.json()["property_type"][0]


def test_an_idempotency_key_answers_a_retried_create_with_the_first_answer(world, client):
    body = {"project": world.project_a.pk, "number": "A-001"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "3f1c2a"}

    first = client.post("/api/v1/parking-spaces/", body, format="json", **headers)
    retry = client.post("/api/v1/parking-spaces/", body, format="json", **headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert world.project_a.parking_spaces.count() == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(world, client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    client.post("/api/v1/parking-spaces/", {"project": world.project_a.pk, "number": "A-001"}, format="json",
                **headers)

    response = client.post("/api/v1/parking-spaces/", {"project": world.project_a.pk, "number": "A-002"},
                           format="json", **headers)

    assert response.status_code == 422
    assert world.project_a.parking_spaces.count() == 1


def test_a_failed_request_does_not_use_up_its_idempotency_key(world, client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    client.post("/api/v1/parking-spaces/", {"project": world.project_a.pk}, format="json", **headers)

    response = client.post("/api/v1/parking-spaces/", {"project": world.project_a.pk}, format="json", **headers)

    assert response.status_code == 400


def test_decimal_areas_come_back_as_strings(world, client):
    unit = make_unit(world.project_a, area="88.80")

    response = client.get(f"/api/v1/units/{unit.pk}/")

    assert response.json()["building_area"] == "88.80"
    assert Decimal(response.json()["building_area"]) == unit.building_area


def test_an_anonymous_request_is_refused(world):
    make_project(make_company())

    assert api_client().get("/api/v1/projects/").status_code == 401


@pytest.mark.parametrize("value", [{"a": 1}, [["nested"]], "bad\x00text"])
def test_a_custom_field_value_no_field_can_hold_is_refused_at_its_key(world, client, value):
    unit = make_unit(world.project_a, type_name="商铺")

    response = client.patch(f"/api/v1/units/{unit.pk}/", {"custom_field_data": {"business_scope": value}},
                            format="json")

    assert response.status_code == 400
    assert list(response.json()["custom_field_data"]) == ["business_scope"]


def test_a_multiple_choice_value_given_as_a_single_number_is_refused_not_crashed(world, client):
    make_custom_field(world.company, "features", label="特色", field_type="multichoice", choices=["临街", "转角"])
    unit = make_unit(world.project_a)

    response = client.patch(f"/api/v1/units/{unit.pk}/", {"custom_field_data": {"features": 5}}, format="json")

    assert response.status_code == 400
    assert "不在可选项中" in response.json()["custom_field_data"]["features"][0]
