import datetime
import io
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from openpyxl import load_workbook

from aishang.core.testing import (
    make_building,
    make_company,
    make_custom_field,
    make_customer,
    make_occupancy,
    make_parking_space,
    make_project,
    make_resident_id,
    make_role,
    make_staff,
    make_unit,
    make_vehicle,
)
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.extras.choices import AuditKind
from aishang.extras.models import AuditEvent, ObjectChange

pytestmark = pytest.mark.django_db

MOBILE = "13812345678"
MASKED_MOBILE = "138****5678"
ID_NUMBER = make_resident_id("19800101", "002")
MASKED_ID = f"{ID_NUMBER[:4]}**********{ID_NUMBER[-4:]}"
LIST_URL = reverse("customers:customer_list")


@pytest.fixture
def estate():
    company = make_company()
    project = make_project(company, name="阳光花园")
    building = make_building(project, code="1")
    unit = make_unit(project, building=building, number="301")
    customer = make_customer(project, name="王建国", mobile=MOBILE, id_type="resident_id", id_number=ID_NUMBER,
                             occupation="教师", tags=["VIP"])
    make_occupancy(unit, customer, is_payer=True)
    return company, project, unit, customer


def detail_url(customer, **params):
    url = reverse("customers:customer_detail", kwargs={"pk": customer.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def edit_url(customer):
    return reverse("customers:customer_edit", kwargs={"pk": customer.pk})


def pii_url(customer, field="mobile"):
    return reverse("customers:customer_pii", kwargs={"pk": customer.pk}) + f"?field={field}"


def form_data(customer, **changes):
    data = {name: getattr(customer, name) or "" for name in (
        "kind", "name", "mobile", "phone", "id_type", "id_number", "gender", "occupation", "employer",
        "emergency_contact", "emergency_phone", "email", "notes")}
    data.update(birth_date="", move_in_date="", tags="、".join(customer.tags))
    data.update(changes)
    return data


def pii_events():
    return AuditEvent.objects.filter(kind=AuditKind.PII_VIEW)


def exported_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


# List and export


def test_list_masks_mobile_and_id_for_a_cashier(client, estate):
    company, _, _, _ = estate
    client.force_login(make_staff(company, "cashier"))

    body = client.get(LIST_URL).content.decode()

    assert "王建国" in body
    assert MASKED_MOBILE in body and MOBILE not in body
    assert MASKED_ID in body and ID_NUMBER not in body
    assert "1-1-301 业主" in re.sub(r"<[^>]+>", "", body)
    assert not pii_events().exists()


def test_list_shows_personal_data_to_a_role_with_the_permission_and_audits_it(client, estate):
    company, _, _, customer = estate
    other = make_customer(customer.project, name="无号码", mobile="")
    finance = make_staff(company, "finance")
    client.force_login(finance)

    body = client.get(LIST_URL).content.decode()

    assert MOBILE in body and ID_NUMBER in body
    event = pii_events().get()
    assert event.user == finance
    assert event.object_ids == [customer.pk]
    assert other.pk not in event.object_ids
    assert event.object_type == ContentType.objects.get_for_model(Customer)


def test_export_masks_personal_data_without_the_permission(client, estate):
    company, _, _, _ = estate
    role = make_role(company, ["customers.view_customer", "customers.export_customer"], code="exporter")
    client.force_login(make_staff(company, role.code))

    response = client.get(LIST_URL, {"export": "xlsx"})

    assert response.status_code == 200
    rows = exported_rows(response)
    assert rows[0][:5] == ("姓名/名称", "当前房屋", "手机号", "证件号码", "客户类型")
    assert rows[1][:5] == ("王建国", "1-1-301 业主", MASKED_MOBILE, MASKED_ID, "个人")
    assert not pii_events().exists()
    assert AuditEvent.objects.filter(kind=AuditKind.EXPORT).exists()


def test_export_shows_personal_data_with_the_permission_and_audits_it(client, estate):
    company, _, _, customer = estate
    finance = make_staff(company, "finance")
    client.force_login(finance)

    rows = exported_rows(client.get(LIST_URL, {"export": "xlsx"}))

    assert rows[1][2:4] == (MOBILE, ID_NUMBER)
    event = pii_events().get()
    assert event.object_ids == [customer.pk]
    assert event.detail["export"] == "xlsx"


def test_export_is_refused_without_the_export_permission(client, estate):
    company, _, _, _ = estate
    client.force_login(make_staff(company, "cashier"))

    assert client.get(LIST_URL, {"export": "xlsx"}).status_code == 403
    assert not AuditEvent.objects.exists()


def test_search_by_the_last_four_digits_of_the_mobile(client, estate):
    company, project, _, _ = estate
    make_customer(project, name="李四", mobile="13900001111")
    client.force_login(make_staff(company, "cashier"))

    body = client.get(LIST_URL, {"q": "5678"}).content.decode()

    assert "王建国" in body and "李四" not in body


@pytest.mark.parametrize("term", [MOBILE, "1-1-301", "王建", ID_NUMBER, "粤B88888"])
def test_search_by_mobile_unit_name_id_or_plate(client, estate, term):
    company, project, _, customer = estate
    make_vehicle(project, customer=customer, plate="粤B88888")
    make_customer(project, name="李四", mobile="13900001111")
    client.force_login(make_staff(company, "admin"))

    body = client.get(LIST_URL, {"q": term}).content.decode()

    assert "王建国" in body and "李四" not in body


def test_filters_by_role_tag_and_building(client, estate):
    company, project, unit, _ = estate
    tenant = make_customer(project, name="租客小张", mobile="13900001111", tags=["老人独居"])
    other_unit = make_unit(project, building=make_building(project, code="2"), number="101")
    make_occupancy(other_unit, tenant, role="tenant")
    client.force_login(make_staff(company, "admin"))

    def names(**params):
        body = client.get(LIST_URL, params).content.decode()
        return {name for name in ("王建国", "租客小张") if name in body}

    assert names(role="tenant") == {"租客小张"}
    assert names(role="owner") == {"王建国"}
    assert names(tag="老人独居") == {"租客小张"}
    assert names(tag="老人") == set()
    assert names(building=unit.building_id) == {"王建国"}
    assert names(kind="organization") == set()


def test_ended_occupancies_do_not_count_as_a_current_role(client, estate):
    company, _, _, customer = estate
    Occupancy.objects.filter(customer=customer).update(end_date=datetime.date(2021, 1, 1))
    client.force_login(make_staff(company, "admin"))

    body = client.get(LIST_URL, {"role": "owner"}).content.decode()

    assert "王建国" not in body


def test_custom_field_filter(client, estate):
    company, project, _, customer = estate
    make_custom_field(company, "hobby", target="customer", label="兴趣爱好")
    customer.custom_field_data = {"hobby": "钓鱼"}
    customer.save()
    make_customer(project, name="李四", custom_field_data={"hobby": "书法"})
    client.force_login(make_staff(company, "admin"))

    body = client.get(LIST_URL, {"cf_hobby": "钓鱼"}).content.decode()

    assert "兴趣爱好" in body
    assert "王建国" in body and "李四" not in body


def test_list_query_count_does_not_grow_with_rows(client, estate, django_assert_max_num_queries):
    company, project, _, _ = estate
    building = make_building(project)
    for number in range(25):
        customer = make_customer(project, mobile=f"1390000{number:04d}")
        make_occupancy(make_unit(project, building=building, number=f"{number + 1}01"), customer)
        make_occupancy(make_unit(project, building=building, number=f"{number + 1}02"), customer, role="tenant")
    client.force_login(make_staff(company, "finance"))
    client.get(LIST_URL)

    with django_assert_max_num_queries(18):
        response = client.get(LIST_URL, {"sort": "-name"})

    assert response.status_code == 200
    assert len(response.context["rows"]) == 26


# Detail and the unmasked-value endpoint


def test_detail_shows_masked_values_and_reveal_buttons_only_with_the_permission(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "service"))
    body = client.get(detail_url(customer)).content.decode()
    assert MASKED_MOBILE in body and MOBILE not in body and ID_NUMBER not in body
    assert f"customers/{customer.pk}/pii/" not in body

    client.force_login(make_staff(company, "steward"))
    body = client.get(detail_url(customer)).content.decode()
    assert MASKED_MOBILE in body and MOBILE not in body
    assert pii_url(customer, "mobile") in body and pii_url(customer, "id_number") in body
    assert not pii_events().exists()


def test_pii_endpoint_returns_the_value_and_logs_it(client, estate):
    company, _, _, customer = estate
    steward = make_staff(company, "steward")
    client.force_login(steward)

    response = client.get(pii_url(customer, "id_number"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert ID_NUMBER in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    event = pii_events().get()
    assert (event.user, event.object_ids, event.detail["field"]) == (steward, [customer.pk], "id_number")


def test_pii_endpoint_is_404_without_the_permission(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "service"))

    assert client.get(pii_url(customer)).status_code == 404
    client.force_login(make_staff(company, "steward"))
    assert client.get(pii_url(customer, "notes")).status_code == 404
    assert not pii_events().exists()


def test_detail_tabs(client, estate):
    company, project, _, customer = estate
    make_vehicle(project, customer=customer, plate="粤B12345", parking_space=make_parking_space(project, "A-001"))
    make_custom_field(company, "hobby", target="customer", label="兴趣爱好")
    customer.custom_field_data = {"hobby": "钓鱼"}
    customer.save()
    client.force_login(make_staff(company, "admin"))

    assert "1-1-301" in client.get(detail_url(customer, tab="units")).content.decode()
    vehicles = client.get(detail_url(customer, tab="vehicles")).content.decode()
    assert "粤B12345" in vehicles and "A-001" in vehicles
    custom = client.get(detail_url(customer, tab="custom")).content.decode()
    assert "兴趣爱好" in custom and "钓鱼" in custom
    info = client.get(detail_url(customer)).content.decode()
    assert "教师" in info and "VIP" in info


# Add and edit


def test_bad_resident_id_check_digit_shows_at_the_field_and_changes_nothing(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "steward"))
    wrong_check = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")

    response = client.post(edit_url(customer), form_data(customer, id_number=wrong_check, occupation="医生"))

    assert response.status_code == 400
    assert response.context["form"].errors["id_number"] == ["身份证号校验位错误"]
    assert "身份证号校验位错误" in response.content.decode()
    customer.refresh_from_db()
    assert (customer.id_number, customer.occupation) == (ID_NUMBER, "教师")
    assert not ObjectChange.objects.filter(action="update", object_id=customer.pk).exists()


def test_bad_birth_date_in_the_resident_id_shows_at_the_field(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "steward"))

    response = client.post(edit_url(customer), form_data(customer, id_number=make_resident_id("19801301")))

    assert response.context["form"].errors["id_number"] == ["身份证号中的出生日期无效"]


def test_bad_mobile_shows_at_the_field_and_changes_nothing(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "steward"))

    response = client.post(edit_url(customer), form_data(customer, mobile="12345678901", occupation="医生"))

    assert response.status_code == 400
    assert response.context["form"].errors["mobile"] == ["手机号格式不正确，应为 11 位数字且以 1 开头"]
    customer.refresh_from_db()
    assert (customer.mobile, customer.occupation) == (MOBILE, "教师")


def test_edit_writes_a_change_log_row_shown_in_the_changelog_tab(client, estate):
    company, _, _, customer = estate
    steward = make_staff(company, "steward")
    client.force_login(steward)

    response = client.post(edit_url(customer), form_data(customer, occupation="医生", tags="VIP，老人独居、VIP"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.occupation == "医生"
    assert customer.tags == ["VIP", "老人独居"]
    change = ObjectChange.objects.filter(object_id=customer.pk, action="update",
                                         object_type=ContentType.objects.get_for_model(Customer)).get()
    assert change.user == steward
    assert ("职业", "教师", "医生") in change.diff()

    client.force_login(make_staff(company, "admin"))
    body = client.get(detail_url(customer, tab="changelog")).content.decode()
    assert "教师" in body and "医生" in body and steward.display_name in body


def test_edit_form_shows_real_values_to_a_user_with_the_permission_and_logs_it(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "steward"))

    body = client.get(edit_url(customer)).content.decode()

    assert f'value="{MOBILE}"' in body and f'value="{ID_NUMBER}"' in body
    assert pii_events().get().detail["action"] == "edit"


def test_edit_without_the_permission_shows_masked_values_and_keeps_the_stored_ones(client, estate):
    company, _, _, customer = estate
    client.force_login(make_staff(company, "service"))

    body = client.get(edit_url(customer)).content.decode()
    assert MASKED_MOBILE in body and MOBILE not in body and ID_NUMBER not in body

    response = client.post(edit_url(customer), form_data(customer, mobile="13999999999", id_number="",
                                                          occupation="医生"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.mobile, customer.id_number, customer.occupation) == (MOBILE, ID_NUMBER, "医生")


def test_changelog_masks_personal_data_for_a_user_without_the_permission(client, estate):
    company, _, _, customer = estate
    customer.mobile = "13900001111"
    customer.save()
    client.force_login(make_staff(company, "service"))

    body = client.get(detail_url(customer, tab="changelog")).content.decode()

    assert "139****1111" in body and MASKED_MOBILE in body
    assert "13900001111" not in body and MOBILE not in body


def test_add_customer_with_custom_field(client, estate):
    company, project, _, _ = estate
    make_custom_field(company, "hobby", target="customer", label="兴趣爱好", required=True)
    client.force_login(make_staff(company, "steward", projects=[project]))
    data = {"project": project.pk, "kind": "person", "name": "赵六", "mobile": "13700001234", "gender": "unknown",
            "tags": "新业主"}

    response = client.post(reverse("customers:customer_add"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["cf_hobby"] == ["该字段是必填项。"]

    response = client.post(reverse("customers:customer_add"), {**data, "cf_hobby": "围棋"})
    customer = Customer.objects.get(name="赵六")
    assert response.url == customer.get_absolute_url()
    assert (customer.tags, customer.custom_field_data) == (["新业主"], {"hobby": "围棋"})


# Scope


def test_a_project_scoped_user_never_reaches_another_projects_customers(client, estate):
    company, project_a, _, customer_a = estate
    project_b = make_project(company)
    customer_b = make_customer(project_b, name="乙项目客户", mobile="13700000000")
    vehicle_b = make_vehicle(project_b, customer=customer_b)
    client.force_login(make_staff(company, "admin", projects=[project_a]))

    for url in (detail_url(customer_b), edit_url(customer_b), pii_url(customer_b),
                reverse("customers:vehicle_detail", kwargs={"pk": vehicle_b.pk}),
                reverse("customers:vehicle_edit", kwargs={"pk": vehicle_b.pk})):
        assert client.get(url).status_code == 404, url
    assert client.post(edit_url(customer_b), form_data(customer_b, occupation="x")).status_code == 404
    assert client.get(detail_url(customer_a)).status_code == 200

    assert "乙项目客户" not in client.get(LIST_URL).content.decode()
    exported = exported_rows(client.get(LIST_URL, {"export": "xlsx", "project": project_b.pk}))
    assert exported[1:] == [] or all("乙项目客户" not in row for row in exported)
    names = [row[0] for row in exported_rows(client.get(LIST_URL, {"export": "xlsx"}))[1:]]
    assert names == ["王建国"]
    plates = client.get(reverse("customers:vehicle_list")).content.decode()
    assert vehicle_b.plate not in plates


# Occupancies


def test_end_an_occupancy(client, estate):
    company, _, _, customer = estate
    occupancy = customer.occupancies.get()
    client.force_login(make_staff(company, "steward"))
    url = reverse("customers:occupancy_end", kwargs={"pk": occupancy.pk})

    response = client.post(url, {"end_date": "2019-01-01", "next": detail_url(customer, tab="units")})
    occupancy.refresh_from_db()
    assert occupancy.end_date is None
    assert "结束日期不能早于开始日期" in client.get(response.url).content.decode()

    response = client.post(url, {"end_date": "2024-06-30"})
    assert response.url == detail_url(customer, tab="units")
    occupancy.refresh_from_db()
    assert occupancy.end_date == datetime.date(2024, 6, 30)
    assert ObjectChange.objects.filter(object_id=occupancy.pk, action="update").exists()
    body = client.get(response.url).content.decode()
    assert "已结束" in body and "2024-06-30" in body


def test_end_is_404_outside_the_scope_or_without_permission(client, estate):
    company, _, _, customer = estate
    occupancy = customer.occupancies.get()
    url = reverse("customers:occupancy_end", kwargs={"pk": occupancy.pk})
    client.force_login(make_staff(company, "cashier"))
    assert client.post(url, {"end_date": "2024-06-30"}).status_code == 404
    client.force_login(make_staff(company, "admin", projects=[make_project(company)]))
    assert client.post(url, {"end_date": "2024-06-30"}).status_code == 404


def test_add_occupancy_prefilled_from_a_customer_and_validated(client, estate):
    company, project, _, customer = estate
    other_project = make_project(company)
    other_unit = make_unit(other_project)
    new_unit = make_unit(project, number="302")
    client.force_login(make_staff(company, "admin"))
    url = reverse("customers:occupancy_add")

    form = client.get(url, {"customer": customer.pk}).context["form"]
    assert form.initial["customer"] == str(customer.pk)
    assert other_unit not in form.fields["unit"].queryset

    data = {"customer": customer.pk, "unit": other_unit.pk, "role": "tenant", "relation": "self",
            "start_date": "2024-01-01", "end_date": "2023-01-01"}
    response = client.post(f"{url}?customer={customer.pk}", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["customer"] == ["客户与房屋不属于同一项目"]
    assert errors["end_date"] == ["结束日期不能早于开始日期"]

    response = client.post(f"{url}?customer={customer.pk}", {**data, "unit": new_unit.pk, "end_date": ""})
    assert response.url == detail_url(customer, tab="units")
    assert customer.occupancies.filter(unit=new_unit, role="tenant").exists()


def test_transfer_ownership(client, estate):
    company, project, unit, owner = estate
    buyer = make_customer(project, name="买家", mobile="13600001111")
    client.force_login(make_staff(company, "steward"))
    url = reverse("customers:unit_transfer", kwargs={"unit_pk": unit.pk})

    assert "王建国" in client.get(url).content.decode()
    response = client.post(url, {"new_owner": buyer.pk, "on_date": "2025-03-01", "is_payer": "on"})

    assert response.status_code == 302
    old = owner.occupancies.get()
    new = buyer.occupancies.get()
    assert old.end_date == datetime.date(2025, 2, 28)
    assert (new.role, new.start_date, new.is_payer, new.unit) == ("owner", datetime.date(2025, 3, 1), True, unit)

    response = client.post(url, {"new_owner": buyer.pk, "on_date": "2025-04-01"})
    assert response.status_code == 400
    assert "已是该房屋的业主" in response.content.decode()


# Vehicles


def test_vehicle_plate_is_validated(client, estate):
    company, project, _, customer = estate
    client.force_login(make_staff(company, "steward", projects=[project]))
    url = reverse("customers:vehicle_add")
    data = {"project": project.pk, "customer": customer.pk, "plate": "AB12345", "kind": "fuel"}

    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["plate"] == ["车牌号格式不正确，例如 粤B12345 或 粤BD12345"]
    assert not Vehicle.objects.exists()

    response = client.post(url, {**data, "plate": " 粤bd12345 "})
    vehicle = Vehicle.objects.get()
    assert vehicle.plate == "粤BD12345"
    assert response.url == vehicle.get_absolute_url()


def test_vehicle_choices_stay_in_the_project_and_scope(client, estate):
    company, project, _, customer = estate
    other_project = make_project(company)
    outsider = make_customer(other_project, name="外项目车主")
    other_space = make_parking_space(other_project, "Z-9")
    client.force_login(make_staff(company, "admin"))

    form = client.get(reverse("customers:vehicle_add"), {"customer": customer.pk}).context["form"]
    assert form.initial["project"] == project.pk
    assert outsider not in form.fields["customer"].queryset
    assert other_space not in form.fields["parking_space"].queryset

    response = client.post(reverse("customers:vehicle_add"), {
        "project": project.pk, "customer": outsider.pk, "plate": "粤B12345", "kind": "fuel",
        "parking_space": other_space.pk})
    errors = response.context["form"].errors
    assert errors["customer"] == ["车主不属于该项目"]
    assert errors["parking_space"] == ["车位不属于该项目"]

    scoped = make_staff(company, "steward", projects=[project])
    client.force_login(scoped)
    form = client.get(reverse("customers:vehicle_add")).context["form"]
    assert set(form.fields["customer"].queryset) == {customer}


def test_vehicle_list_filters_and_search(client, estate):
    company, project, _, customer = estate
    make_vehicle(project, customer=customer, plate="粤B11111", parking_space=make_parking_space(project))
    make_vehicle(project, plate="粤B22222", kind="new_energy")
    client.force_login(make_staff(company, "guard", projects=[project]))
    url = reverse("customers:vehicle_list")

    def plates(**params):
        body = client.get(url, params).content.decode()
        return {plate for plate in ("粤B11111", "粤B22222") if plate in body}

    assert plates() == {"粤B11111", "粤B22222"}
    assert plates(has_parking_space="yes") == {"粤B11111"}
    assert plates(has_parking_space="no") == {"粤B22222"}
    assert plates(kind="new_energy") == {"粤B22222"}
    assert plates(q="王建") == {"粤B11111"}
    assert plates(q="22222") == {"粤B22222"}


def test_vehicle_delete(client, estate):
    company, project, _, _ = estate
    vehicle = make_vehicle(project)
    client.force_login(make_staff(company, "admin"))

    response = client.post(reverse("customers:vehicle_delete", kwargs={"pk": vehicle.pk}))

    assert response.url == reverse("customers:vehicle_list")
    assert not Vehicle.objects.exists()


def test_several_projects_add_the_project_column_and_filter(client, estate):
    company, project, _, _ = estate
    other = make_project(company, name="翠湖苑")
    make_customer(other, name="翠湖业主")
    space = make_parking_space(other, "Z-1")
    client.force_login(make_staff(company, "admin"))

    response = client.get(LIST_URL, {"project": other.pk})
    assert [c.label for c in response.context["columns"]][:2] == ["姓名/名称", "项目"]
    body = response.content.decode()
    assert "翠湖业主" in body and "王建国" not in body

    # Choosing another project reloads the form with that project's owners and spaces, keeping what was typed.
    form = client.get(reverse("customers:vehicle_add"), {"project": other.pk, "plate": "粤B54321"},
                      headers={"HX-Request": "true"}).context["form"]
    assert form.initial["plate"] == "粤B54321"
    assert list(form.fields["parking_space"].queryset) == [space]
    assert [c.name for c in form.fields["customer"].queryset] == ["翠湖业主"]

    client.force_login(make_staff(company, "admin", projects=[project]))
    response = client.get(LIST_URL)
    assert "项目" not in [c.label for c in response.context["columns"]]
    assert "project" not in response.context["filterset"].form.fields


def test_the_customer_export_carries_the_company_custom_fields(client):
    import io

    from openpyxl import load_workbook

    company = make_company()
    project = make_project(company)
    field = make_custom_field(company, "hobby", target="customer", label="兴趣爱好")
    make_customer(project, name="赵六", custom_field_data={field.name: "围棋"})
    client.force_login(make_staff(company, "admin"))

    response = client.get("/customers/customers/", {"export": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert row["兴趣爱好"] == "围棋"
