import datetime
import io
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aishang.core.context import change_context
from aishang.core.testing import (
    make_company,
    make_custom_field,
    make_customer,
    make_project,
    make_role,
    make_staff,
    make_unit,
)
from aishang.estate.models import Unit
from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind
from aishang.extras.models import CustomField, ObjectChange
from aishang.extras.services import register_object_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def admin(company):
    return make_staff(company, "admin")


def field_errors(response, name):
    return [str(e) for e in response.context["form"].errors.get(name, [])]


# -- custom fields ---------------------------------------------------------------------------------

def custom_field_data(**overrides):
    data = {"target": "unit", "property_type": "", "label": "宠物", "name": "pet", "field_type": "choice",
            "choices": "猫\n狗\n\n 猫 \n鸟", "help_text": "", "weight": "10", "required": "", "filterable": "on"}
    data.update(overrides)
    return data


def test_custom_fields_are_listed_and_filtered_by_target_and_property_type(client, company, admin):
    shop = company.property_types.get(name="商铺")
    make_custom_field(company, "hobby", target="customer", label="兴趣爱好")
    make_custom_field(make_company(), "secret", label="别家字段")
    client.force_login(admin)
    content = client.get(reverse("extras:customfield_list")).content.decode()
    assert "兴趣爱好" in content and "租赁状态" in content and "别家字段" not in content

    response = client.get(reverse("extras:customfield_list"), {"target": "customer"})
    assert [obj.name for obj, _ in response.context["rows"]] == ["hobby"]
    response = client.get(reverse("extras:customfield_list"), {"property_type": shop.pk})
    assert {obj.name for obj, _ in response.context["rows"]} == {"lease_status", "business_scope"}


def test_a_custom_field_is_created_with_one_choice_per_line(client, company, admin):
    client.force_login(admin)
    response = client.post(reverse("extras:customfield_add"), custom_field_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("extras:customfield_list")
    field = CustomField.objects.get(company=company, name="pet")
    assert field.choices == ["猫", "狗", "鸟"]
    assert field.property_type is None and field.filterable

    response = client.get(reverse("extras:customfield_edit", args=[field.pk]))
    assert response.context["form"]["choices"].value() == "猫\n狗\n鸟"


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": "Pet-1"}, "name", "字段编码须以小写字母开头，只含小写字母、数字和下划线"),
    ({"name": "1pet"}, "name", "字段编码须以小写字母开头，只含小写字母、数字和下划线"),
    ({"choices": "\n  \n"}, "choices", "单选、多选字段至少需要一个选项"),
    ({"field_type": "multichoice", "choices": ""}, "choices", "单选、多选字段至少需要一个选项"),
    ({"label": ""}, "label", "该字段是必填项。"),
])
def test_custom_field_validation_speaks_chinese(client, company, admin, overrides, field, message):
    client.force_login(admin)
    response = client.post(reverse("extras:customfield_add"), custom_field_data(**overrides))
    assert response.status_code == 400
    assert message in field_errors(response, field)
    assert message in response.content.decode()
    assert not CustomField.objects.filter(company=company, label="宠物").exists()


def test_every_mistake_is_shown_at_once_and_only_once(client, company, admin):
    shop = company.property_types.get(name="商铺")
    client.force_login(admin)
    response = client.post(reverse("extras:customfield_add"), custom_field_data(
        target="customer", property_type=shop.pk, name="Bad Name", choices=""))
    assert response.status_code == 400
    assert field_errors(response, "name") == ["字段编码须以小写字母开头，只含小写字母、数字和下划线"]
    assert field_errors(response, "choices") == ["单选、多选字段至少需要一个选项"]
    assert field_errors(response, "property_type") == ["只有房屋字段可以按业态区分"]
    assert response.context["form"]["choices"].value() == ""


def test_property_types_only_apply_to_unit_fields_and_codes_are_unique(client, company, admin):
    shop = company.property_types.get(name="商铺")
    client.force_login(admin)
    response = client.post(reverse("extras:customfield_add"),
                           custom_field_data(target="customer", property_type=shop.pk))
    assert response.status_code == 400
    assert field_errors(response, "property_type") == ["只有房屋字段可以按业态区分"]

    response = client.post(reverse("extras:customfield_add"), custom_field_data(name="lease_status"))
    assert response.status_code == 400
    assert field_errors(response, "name") == ["房屋已有编码为“lease_status”的字段"]

    response = client.post(reverse("extras:customfield_add"),
                           custom_field_data(target="customer", name="lease_status"))
    assert response.status_code == 302


def test_a_property_type_of_another_company_is_refused(client, company, admin):
    foreign = make_company().property_types.get(name="商铺")
    client.force_login(admin)
    response = client.post(reverse("extras:customfield_add"), custom_field_data(property_type=foreign.pk))
    assert response.status_code == 400
    assert field_errors(response, "property_type")


def test_changing_the_type_of_a_field_with_values_warns_but_saves(client, company, admin):
    field = make_custom_field(company, "pet_count", field_type="text", label="宠物数量")
    unit = make_unit(make_project(company))
    register_object_save(obj=unit, custom_values={"pet_count": "两只"})
    client.force_login(admin)
    url = reverse("extras:customfield_edit", args=[field.pk])
    response = client.get(url)
    assert response.context["value_count"] == 1
    assert "已有 1 条房屋填写了该字段" in response.content.decode()

    response = client.post(url, custom_field_data(target="unit", name="pet_count", label="宠物数量",
                                                  field_type="integer", choices=""), follow=True)
    assert response.status_code == 200
    field.refresh_from_db()
    assert field.field_type == "integer"
    assert field.target == "unit" and field.name == "pet_count"
    assert any("类型由“文本”改为“整数”" in str(m) for m in response.context["messages"])


def test_the_code_and_target_cannot_be_changed_after_creation(client, company, admin):
    field = make_custom_field(company, "pet_count", field_type="integer", label="宠物数量")
    client.force_login(admin)
    client.post(reverse("extras:customfield_edit", args=[field.pk]),
                custom_field_data(target="customer", name="renamed", label="宠物只数", field_type="integer"))
    field.refresh_from_db()
    assert (field.target, field.name, field.label) == ("unit", "pet_count", "宠物只数")


def test_deleting_a_field_keeps_the_stored_values(client, company, admin):
    field = make_custom_field(company, "pet_count", field_type="integer", label="宠物数量")
    unit = make_unit(make_project(company))
    register_object_save(obj=unit, custom_values={"pet_count": 2})
    client.force_login(admin)
    url = reverse("extras:customfield_delete", args=[field.pk])
    content = client.get(url).content.decode()
    assert "已保存的值仍留在" in content and "不再显示" in content
    assert "已有 <strong>1</strong> 条房屋填写了该字段" in content

    response = client.post(url)
    assert response["Location"] == reverse("extras:customfield_list")
    assert not CustomField.objects.filter(pk=field.pk).exists()
    unit.refresh_from_db()
    assert unit.custom_field_data == {"pet_count": 2}


def test_custom_fields_of_another_company_answer_404_and_need_permissions(client, company, admin):
    foreign = make_custom_field(make_company(), "other")
    client.force_login(admin)
    assert client.get(reverse("extras:customfield_edit", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("extras:customfield_delete", args=[foreign.pk])).status_code == 404
    assert CustomField.objects.filter(pk=foreign.pk).exists()

    cashier = make_staff(company, "cashier")
    client.force_login(cashier)
    assert client.get(reverse("extras:customfield_list")).status_code == 403
    assert client.get(reverse("extras:customfield_add")).status_code == 404


# -- change log ------------------------------------------------------------------------------------

@pytest.fixture
def two_projects(company, admin):
    project_a, project_b = make_project(company, name="爱尚花园"), make_project(company, name="爱尚商业街")
    with change_context(actor=admin):
        unit_a, unit_b = make_unit(project_a, number="101"), make_unit(project_b, number="202")
    with change_context(actor=admin, request_id=uuid.UUID(int=1)):
        unit_a.status = "rented"
        unit_a.save()
        unit_b.status = "rented"
        unit_b.save()
    return project_a, project_b, unit_a, unit_b


def change_of(unit, action="update"):
    return ObjectChange.objects.get(object_type=ContentType.objects.get_for_model(Unit), object_id=unit.pk,
                                    action=action)


def listed(response):
    return [obj for obj, _ in response.context["rows"]]


def test_a_project_scoped_user_sees_only_changes_of_their_projects(client, company, two_projects):
    project_a, _, unit_a, unit_b = two_projects
    viewer = make_staff(company, "finance", projects=[project_a])
    client.force_login(viewer)
    response = client.get(reverse("extras:objectchange_list"))
    assert response.status_code == 200
    changes = listed(response)
    assert change_of(unit_a) in changes
    assert all(change.project_id == project_a.pk for change in changes)
    assert change_of(unit_b) not in changes
    assert unit_b.code not in response.content.decode()

    assert client.get(reverse("extras:objectchange_detail", args=[change_of(unit_a).pk])).status_code == 200
    assert client.get(reverse("extras:objectchange_detail", args=[change_of(unit_b).pk])).status_code == 404
    response = client.get(reverse("extras:objectchange_list"), {"request_id": str(uuid.UUID(int=1))})
    assert listed(response) == [change_of(unit_a)]


def test_changes_of_another_company_are_never_listed(client, two_projects):
    other = make_company()
    outsider = make_staff(other, "admin")
    client.force_login(outsider)
    response = client.get(reverse("extras:objectchange_list"))
    assert all(change.company_id == other.pk for change in listed(response))
    assert client.get(reverse("extras:objectchange_detail", args=[change_of(two_projects[2]).pk])).status_code == 404


def test_the_change_log_needs_its_permission(client, company, two_projects):
    cashier = make_staff(company, "cashier")
    client.force_login(cashier)
    assert client.get(reverse("extras:objectchange_list")).status_code == 403
    assert client.get(reverse("extras:objectchange_detail", args=[change_of(two_projects[2]).pk])).status_code == 404


def test_change_log_filters(client, company, admin, two_projects):
    project_a, project_b, unit_a, unit_b = two_projects
    clerk = make_staff(company, "service")
    customer = make_customer(project_a)
    with change_context(actor=clerk):
        customer.name = "改名客户"
        customer.save()
    client.force_login(admin)
    url = reverse("extras:objectchange_list")

    def ids(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {change.pk for change in listed(response)}

    assert ids(object_type="customers.customer") == set(
        ObjectChange.objects.filter(object_type__model="customer").values_list("pk", flat=True))
    assert ids(object_type="estate.unit", action="update") == {change_of(unit_a).pk, change_of(unit_b).pk}
    assert ids(user=clerk.pk) == {ObjectChange.objects.get(user=clerk).pk}
    assert ids(project=project_b.pk, object_type="estate.unit") == {change_of(unit_b, "create").pk,
                                                                     change_of(unit_b).pk}
    assert ids(q=unit_b.code) >= {change_of(unit_b).pk}
    assert change_of(unit_a).pk not in ids(q=unit_b.code)
    assert ids(request_id=str(uuid.UUID(int=1))) == {change_of(unit_a).pk, change_of(unit_b).pk}

    today = timezone.localdate()
    assert change_of(unit_a).pk in ids(date_from=today.isoformat(), date_to=today.isoformat())
    assert ids(date_from=(today + datetime.timedelta(days=1)).isoformat()) == set()
    old = change_of(unit_b)
    ObjectChange.objects.filter(pk=old.pk).update(time=timezone.now() - datetime.timedelta(days=10))
    assert old.pk not in ids(date_from=(today - datetime.timedelta(days=2)).isoformat())
    assert old.pk in ids(date_to=(today - datetime.timedelta(days=5)).isoformat())

    response = client.get(url, {"request_id": "not-a-uuid"})
    assert response.status_code == 200 and listed(response) == []


def test_the_change_detail_shows_before_after_actor_and_request(client, admin, two_projects):
    unit_a = two_projects[2]
    client.force_login(admin)
    response = client.get(reverse("extras:objectchange_detail", args=[change_of(unit_a).pk]))
    content = response.content.decode()
    assert response.context["rows"] == [("房屋状态", "空置", "出租", None, None)]
    assert "空置" in content and "出租" in content
    assert admin.username in content and admin.display_name in content
    assert str(uuid.UUID(int=1)) in content
    assert f"?request_id={uuid.UUID(int=1)}" in content
    assert "同一请求共 2 条变更" in content
    assert unit_a.get_absolute_url() in content


def test_the_change_log_exports_to_xlsx(client, admin, two_projects):
    _, _, unit_a, _ = two_projects
    client.force_login(admin)
    response = client.get(reverse("extras:objectchange_list"), {"export": "xlsx", "action": "update"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:5] == ("时间", "操作人", "操作", "对象类型", "对象")
    assert {row[4] for row in rows[1:]} == {unit_a.code, two_projects[3].code}
    change = change_of(unit_a)
    exported = next(row for row in rows[1:] if row[4] == unit_a.code)
    assert abs(exported[0] - timezone.localtime(change.time).replace(tzinfo=None)) < datetime.timedelta(seconds=1)
    assert exported[2] == "修改" and exported[6] == "房屋状态"


def test_the_change_log_lists_staff_role_changes_readably(client, company, admin):
    clerk = make_staff(company, "cashier")
    client.force_login(admin)
    client.post(reverse("users:user_edit", args=[clerk.pk]), {
        "username": clerk.username, "display_name": clerk.display_name, "mobile": "", "email": "",
        "roles": [company.roles.get(code="cashier").pk, company.roles.get(code="finance").pk], "scope": "all",
        "is_active": "on"})
    change = ObjectChange.objects.filter(object_id=clerk.pk, object_type__model="user").latest("id")
    response = client.get(reverse("extras:objectchange_detail", args=[change.pk]))
    assert ("角色", "收银员", "收银员、财务", ["财务"], []) in response.context["rows"]


# -- audit events ----------------------------------------------------------------------------------

def test_audit_events_are_listed_for_auditors_only(client, company, admin):
    other = make_company()
    project = make_project(company)
    steward = make_staff(company, "steward", projects=[project])
    with change_context(actor=steward):
        audit_record(kind=AuditKind.PII_VIEW, user=steward, model=Unit, object_ids=[7, 8],
                     detail={"path": "/customers/7/"})
        audit_record(kind=AuditKind.EXPORT, user=admin, model=Unit, object_ids=[1],
                     detail={"count": 1, "query": "status=rented&export=xlsx"})
    audit_record(kind=AuditKind.EXPORT, user=make_staff(other, "admin"), detail={"count": 3})
    client.force_login(admin)
    url = reverse("extras:auditevent_list")
    response = client.get(url)
    assert response.status_code == 200
    assert len(listed(response)) == 2
    content = response.content.decode()
    assert "查看个人信息明文" in content and "status=rented" in content and "export=xlsx" not in content

    assert [e.kind for e in listed(client.get(url, {"kind": "pii_view"}))] == ["pii_view"]
    assert [e.user for e in listed(client.get(url, {"user": admin.pk}))] == [admin]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert listed(client.get(url, {"date_from": tomorrow})) == []

    client.force_login(steward)
    assert client.get(url).status_code == 403
    auditor = make_staff(company, make_role(company, ["extras.view_auditevent"], code="auditor").code,
                         projects=[project])
    client.force_login(auditor)
    assert [e.user for e in listed(client.get(url))] == [steward]
