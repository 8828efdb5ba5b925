import uuid
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from aishang.core.context import change_context
from aishang.core.testing import make_company, make_custom_field, make_project, make_staff, make_unit
from aishang.estate.models import Unit
from aishang.extras.models import ObjectChange
from aishang.extras.services import register_object_save

pytestmark = pytest.mark.django_db


def unit_changes(unit_id):
    return ObjectChange.objects.filter(object_type=ContentType.objects.get_for_model(Unit),
                                       object_id=unit_id).order_by("id")


@pytest.fixture
def setup():
    company = make_company()
    project = make_project(company)
    admin = make_staff(company, "admin")
    return company, project, admin


def test_create_update_delete_of_a_unit_write_one_row_each_with_actor_and_request(setup):
    company, project, admin = setup
    request_id = uuid.uuid4()
    with change_context(actor=admin, source="web", request_id=request_id, remote_addr="10.0.0.8"):
        unit = make_unit(project, number="301", area="88.00")
        unit.building_area = Decimal("90.50")
        unit.layout = "三室两厅"
        unit.save()
        unit_id = unit.pk
        unit.delete()

    create, update, delete = unit_changes(unit_id)
    assert [create.action, update.action, delete.action] == ["create", "update", "delete"]
    for change in (create, update, delete):
        assert change.user == admin
        assert change.user_name == admin.username
        assert change.request_id == request_id
        assert change.source == "web"
        assert change.remote_addr == "10.0.0.8"
        assert change.company_id == company.pk
        assert change.project_id == project.pk

    assert create.prechange_data is None
    assert create.postchange_data["building_area"] == "88.00"
    assert create.postchange_data["project"] == project.name
    assert update.prechange_data["building_area"] == "88.00"
    assert update.postchange_data["building_area"] == "90.50"
    assert update.prechange_data["layout"] == ""
    assert update.postchange_data["layout"] == "三室两厅"
    assert ("建筑面积(㎡)", "88.00", "90.50") in update.diff()
    assert ("户型", "--", "三室两厅") in update.diff()
    assert len(update.diff()) == 2
    assert delete.postchange_data is None
    assert delete.prechange_data["building_area"] == "90.50"
    assert delete.object_repr == unit.code


def test_an_update_that_changes_nothing_writes_no_row(setup):
    _, project, admin = setup
    with change_context(actor=admin):
        unit = make_unit(project)
        unit.save()
        Unit.objects.get(pk=unit.pk).save()
    assert [c.action for c in unit_changes(unit.pk)] == ["create"]


def test_custom_field_values_are_logged_as_cf_name_and_shown_with_their_label(setup):
    company, project, admin = setup
    make_custom_field(company, "pet_count", field_type="integer", label="宠物数量")
    with change_context(actor=admin):
        unit = make_unit(project)
        register_object_save(obj=unit, custom_values={"pet_count": "2"}, actor=admin)
        register_object_save(obj=unit, custom_values={"pet_count": "3"}, actor=admin)
    _, first, second = unit_changes(unit.pk)
    assert first.postchange_data["cf.pet_count"] == 2
    assert first.diff() == [("宠物数量", "--", "2")]
    assert second.prechange_data["cf.pet_count"] == 2
    assert second.postchange_data["cf.pet_count"] == 3
    assert second.diff() == [("宠物数量", "2", "3")]


def test_choice_fields_show_their_chinese_labels_in_the_diff(setup):
    _, project, admin = setup
    with change_context(actor=admin):
        unit = make_unit(project, status="vacant")
        unit.status = "rented"
        unit.save()
    update = unit_changes(unit.pk).last()
    assert update.prechange_data["status"] == "vacant"
    assert update.diff() == [("房屋状态", "空置", "出租")]


def test_changes_without_an_actor_are_written_as_the_system(setup):
    _, project, _ = setup
    unit = make_unit(project)
    change = unit_changes(unit.pk).get()
    assert change.user is None
    assert change.user_name == "系统"
