import pytest

from aishang.core.testing import (
    api_client,
    make_custom_field,
    make_customer,
    make_owner,
    make_parking_space,
    make_resident_id,
    make_staff,
    make_unit,
)
from aishang.core.tests.api_specs import World, assert_crud_round_trip, company_admin, crud_routes, route_id
from aishang.customers.models import Customer, Vehicle
from aishang.extras.choices import AuditKind
from aishang.extras.models import AuditEvent

pytestmark = pytest.mark.django_db

ID_NUMBER = make_resident_id("19800101", "123")


@pytest.fixture
def world():
    return World()


@pytest.fixture
def client(world):
    return api_client(company_admin(world))


@pytest.fixture
def customer(world):
    return make_customer(world.project_a, mobile="13812345678", id_type="resident_id", id_number=ID_NUMBER,
                         emergency_phone="13987654321")


def service_clerk(world):
    """客服: may read and edit customers but not see their phone and ID numbers."""
    return make_staff(world.company, "service", projects=[world.project_a])


def steward(world):
    """管家: may see phone and ID numbers in plain text."""
    return make_staff(world.company, "steward", projects=[world.project_a])


@pytest.mark.parametrize("route", crud_routes("customers"), ids=route_id)
def test_an_administrator_can_create_read_change_and_delete(world, client, route):
    assert_crud_round_trip(client, route, world)


def test_a_resident_id_with_a_wrong_check_digit_is_refused_at_the_field(world, client):
    wrong = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")

    response = client.post("/api/v1/customers/", {"project": world.project_a.pk, "name": "张三",
                                                  "id_type": "resident_id", "id_number": wrong}, format="json")

    assert response.status_code == 400
    assert response.json() == {"id_number": ["身份证号校验位错误"]}


def test_a_malformed_mobile_is_refused_in_chinese(world, client):
    response = client.post("/api/v1/customers/", {"project": world.project_a.pk, "name": "张三",
                                                  "mobile": "2381234"}, format="json")

    assert response.status_code == 400
    assert response.json()["mobile"] == ["手机号格式不正确，应为 11 位数字且以 1 开头"]


def test_an_id_number_without_an_id_type_is_refused(world, client):
    response = client.post("/api/v1/customers/", {"project": world.project_a.pk, "name": "张三",
                                                  "id_number": ID_NUMBER}, format="json")

    assert response.status_code == 400
    assert response.json() == {"id_type": ["填写证件号码时须选择证件类型"]}


def test_customer_custom_fields_are_validated_at_their_key(world, client):
    make_custom_field(world.company, "birth_month", target="customer", field_type="integer", label="生日月份")

    response = client.post("/api/v1/customers/", {"project": world.project_a.pk, "name": "张三",
                                                  "custom_field_data": {"birth_month": "五月"}}, format="json")

    assert response.status_code == 400
    assert response.json() == {"custom_field_data": {"birth_month": ["「生日月份」应为整数"]}}


def test_phone_and_id_numbers_are_masked_without_the_pii_permission(world, customer):
    response = api_client(service_clerk(world)).get(f"/api/v1/customers/{customer.pk}/")

    data = response.json()
    assert (data["mobile"], data["id_number"], data["emergency_phone"]) == (
        "138****5678", ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:], "139****4321")
    assert not AuditEvent.objects.exists()


def test_a_masked_list_writes_no_audit_event(world, customer):
    response = api_client(service_clerk(world)).get("/api/v1/customers/")

    assert response.json()["results"][0]["mobile"] == "138****5678"
    assert not AuditEvent.objects.exists()


def test_a_user_with_the_pii_permission_sees_plain_values_and_the_view_is_audited(world, customer):
    user = steward(world)

    response = api_client(user).get(f"/api/v1/customers/{customer.pk}/")

    assert (response.json()["mobile"], response.json()["id_number"]) == ("13812345678", ID_NUMBER)
    event = AuditEvent.objects.get()
    assert (event.kind, event.user, event.object_ids) == (AuditKind.PII_VIEW, user, [customer.pk])


def test_a_plain_list_writes_one_audit_event_with_the_ids_of_the_page(world, customer):
    other = make_customer(world.project_a, mobile="13700000000")
    make_customer(world.project_b, mobile="13600000000")

    api_client(steward(world)).get("/api/v1/customers/")

    event = AuditEvent.objects.get()
    assert sorted(event.object_ids) == sorted([customer.pk, other.pk])


def test_the_pii_endpoint_returns_plain_values_and_logs_the_view(world, customer):
    user = steward(world)

    response = api_client(user).get(f"/api/v1/customers/{customer.pk}/pii/")

    assert response.status_code == 200
    assert response.json()["id_number"] == ID_NUMBER
    assert AuditEvent.objects.filter(kind=AuditKind.PII_VIEW, user=user, object_ids=[customer.pk]).count() == 1


def test_the_pii_endpoint_answers_404_without_the_permission(world, customer):
    response = api_client(service_clerk(world)).get(f"/api/v1/customers/{customer.pk}/pii/")

    assert response.status_code == 404
    assert not AuditEvent.objects.exists()


def test_the_pii_endpoint_answers_404_for_a_customer_outside_the_scope(world):
    theirs = make_customer(world.project_b)

    assert api_client(steward(world)).get(f"/api/v1/customers/{theirs.pk}/pii/").status_code == 404


def test_sending_back_masked_values_keeps_the_stored_ones(world, customer):
    client = api_client(service_clerk(world))
    data = client.get(f"/api/v1/customers/{customer.pk}/").json()

    response = client.put(f"/api/v1/customers/{customer.pk}/", {**data, "occupation": "医生"}, format="json")

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.mobile, customer.id_number, customer.occupation) == ("13812345678", ID_NUMBER, "医生")


def test_customers_filter_by_unit_and_role(world, client):
    unit = make_unit(world.project_a)
    owner = make_owner(unit)
    make_customer(world.project_a)

    response = client.get("/api/v1/customers/", {"unit": unit.pk, "role": "owner"})

    assert [row["id"] for row in response.json()["results"]] == [owner.pk]


def test_customers_can_be_searched_by_mobile(world, client, customer):
    make_customer(world.project_a, mobile="13700000000")

    response = client.get("/api/v1/customers/", {"search": "13812345678"})

    assert [row["id"] for row in response.json()["results"]] == [customer.pk]


def test_a_customer_who_owns_a_unit_cannot_be_deleted(world, client):
    owner = make_owner(make_unit(world.project_a))

    response = client.delete(f"/api/v1/customers/{owner.pk}/")

    assert response.status_code == 409
    assert "不能删除" in response.json()["detail"]
    assert Customer.objects.filter(pk=owner.pk).exists()


def test_an_occupancy_of_a_customer_from_another_project_is_refused(world, client):
    response = client.post("/api/v1/occupancies/", {"unit": make_unit(world.project_a).pk,
                                                    "customer": make_customer(world.project_b).pk,
                                                    "role": "owner"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"customer": ["客户与房屋不属于同一项目"]}


def test_an_occupancy_ending_before_it_starts_is_refused(world, client):
    unit = make_unit(world.project_a)

    response = client.post("/api/v1/occupancies/", {
        "unit": unit.pk, "customer": make_customer(world.project_a).pk, "role": "tenant",
        "start_date": "2026-05-01", "end_date": "2026-04-01"}, format="json")

    assert response.status_code == 400
    assert response.json()["end_date"] == ["结束日期不能早于开始日期"]


def test_current_occupancies_can_be_listed_alone(world, client):
    unit = make_unit(world.project_a)
    current = make_owner(unit).occupancies.get()
    client.post("/api/v1/occupancies/", {"unit": unit.pk, "customer": make_customer(world.project_a).pk,
                                         "role": "tenant", "start_date": "2020-01-01", "end_date": "2021-01-01"},
                format="json")

    response = client.get("/api/v1/occupancies/", {"unit": unit.pk, "current": "true"})

    assert [row["id"] for row in response.json()["results"]] == [current.pk]


def test_a_malformed_plate_is_refused_in_chinese(world, client):
    response = client.post("/api/v1/vehicles/", {"project": world.project_a.pk, "plate": "ABC123"}, format="json")

    assert response.status_code == 400
    assert response.json()["plate"] == ["车牌号格式不正确，例如 粤B12345 或 粤BD12345"]


def test_a_plate_is_stored_in_upper_case(world, client):
    space = make_parking_space(world.project_a)

    response = client.post("/api/v1/vehicles/", {"project": world.project_a.pk, "plate": "粤b12345",
                                                 "parking_space": space.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Vehicle.objects.get(pk=response.json()["id"]).plate == "粤B12345"
