import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from aishang.core.testing import (
    make_building,
    make_company,
    make_custom_field,
    make_customer,
    make_entrance,
    make_owner,
    make_parking_space,
    make_project,
    make_staff,
    make_unit,
    make_vehicle,
    property_type,
)
from aishang.customers.models import Occupancy
from aishang.estate.models import Building, Entrance, ParkingSpace, PropertyType, Unit
from aishang.extras.models import ObjectChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def project(company):
    return make_project(company, name="爱尚花园")


@pytest.fixture
def admin(company):
    return make_staff(company, "admin")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def url(name, *args, **query):
    path = reverse(f"estate:{name}", args=args)
    if query:
        from urllib.parse import urlencode

        path = f"{path}?{urlencode(query)}"
    return path


def changes_of(obj, action=None):
    changes = ObjectChange.objects.filter(object_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    return changes.filter(action=action) if action else changes


def unit_post_data(project, building, entrance=None, **overrides):
    data = {
        "project": project.pk, "building": building.pk, "entrance": entrance.pk if entrance else "",
        "number": "301", "floor": 3, "property_type": property_type(project.company).pk,
        "building_area": "98.50", "inner_area": "80.00", "layout": "三室两厅", "decoration": "",
        "status": "vacant", "delivered_on": "", "notes": "",
    }
    data.update(overrides)
    return data


def codes_in(response):
    return {obj.code for obj, _ in response.context["rows"]}


# Property types


def test_property_type_list_and_detail_show_the_company_types_and_their_custom_fields(admin_client, company):
    shop = property_type(company, "商铺")
    make_custom_field(company, "facing", label="朝向")

    response = admin_client.get(url("propertytype_list"))
    assert response.status_code == 200
    names = {obj.name for obj, _ in response.context["rows"]}
    assert {"住宅", "商铺", "写字楼"} <= names

    response = admin_client.get(url("propertytype_detail", shop.pk, tab="fields"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "租赁状态" in content and "经营范围" in content
    assert "朝向" in content  # a field for every type is listed as common
    assert "/system/custom-fields/" in content or reverse("extras:customfield_list") in content


def test_property_type_add_edit_and_delete(admin_client, company):
    response = admin_client.post(url("propertytype_add"), {"name": "公寓", "kind": "residential",
                                                           "description": "长租公寓", "weight": 50})
    created = PropertyType.objects.get(company=company, name="公寓")
    assert response.status_code == 302 and response.url == created.get_absolute_url()

    response = admin_client.post(url("propertytype_edit", created.pk), {"name": "服务式公寓", "kind": "residential",
                                                                        "description": "", "weight": 50})
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.name == "服务式公寓"

    response = admin_client.post(url("propertytype_delete", created.pk))
    assert response.status_code == 302
    assert not PropertyType.objects.filter(pk=created.pk).exists()


def test_a_duplicate_property_type_name_is_refused_at_the_name_field(admin_client, company):
    before = PropertyType.objects.count()

    response = admin_client.post(url("propertytype_add"), {"name": "住宅", "kind": "residential", "weight": 1})

    assert response.status_code == 400
    assert "业态「住宅」已存在" in response.context["form"].errors["name"]
    assert PropertyType.objects.count() == before


def test_a_property_type_in_use_cannot_be_deleted(admin_client, project):
    unit = make_unit(project)

    response = admin_client.post(url("propertytype_delete", unit.property_type_id), follow=True)

    assert PropertyType.objects.filter(pk=unit.property_type_id).exists()
    assert "不能删除" in response.content.decode()


# Buildings and entrances


def test_building_list_filters_by_project_property_type_and_phase_and_searches(admin_client, company, project):
    other = make_project(company)
    first = make_building(project, code="1", phase="一期", property_type=property_type(company))
    second = make_building(project, code="2", phase="二期", property_type=property_type(company, "商铺"))
    elsewhere = make_building(other, code="9", phase="一期")

    def listed(**query):
        response = admin_client.get(url("building_list", **query))
        assert response.status_code == 200
        return {obj for obj, _ in response.context["rows"]}

    assert listed() == {first, second, elsewhere}
    assert listed(project=project.pk) == {first, second}
    assert listed(phase="一期") == {first, elsewhere}
    assert listed(property_type=property_type(company, "商铺").pk) == {second}
    assert listed(q="9") == {elsewhere}


def test_building_detail_tabs(admin_client, project):
    building = make_building(project, code="3", name="3号楼")
    entrance = make_entrance(building, code="1")
    unit = make_unit(project, building=building, number="101", floor=1)
    owner = make_owner(unit)

    for tab in ("info", "entrances", "units", "tiles", "changelog"):
        response = admin_client.get(url("building_detail", building.pk, tab=tab))
        assert response.status_code == 200, tab
        assert response.context["active_tab"] == tab
    content = admin_client.get(url("building_detail", building.pk, tab="units")).content.decode()
    assert unit.code in content and owner.name in content
    content = admin_client.get(url("building_detail", building.pk, tab="entrances")).content.decode()
    assert reverse("estate:entrance_edit", args=[entrance.pk]) in content


def test_building_add_edit_delete_and_duplicate_code(admin_client, company, project):
    data = {"project": project.pk, "code": "5", "name": "5号楼", "property_type": property_type(company).pk,
            "phase": "一期", "height_class": "高层", "floors_above": 18, "floors_below": 1, "completed_on": "",
            "weight": 0}
    response = admin_client.post(url("building_add"), data)
    building = Building.objects.get(project=project, code="5")
    assert response.status_code == 302 and response.url == building.get_absolute_url()

    response = admin_client.post(url("building_add"), {**data, "name": "另一栋"})
    assert response.status_code == 400
    assert "楼栋编号「5」在该项目中已存在" in response.context["form"].errors["code"]
    assert Building.objects.filter(project=project).count() == 1

    response = admin_client.post(url("building_edit", building.pk), {**data, "name": "五号楼", "phase": "二期"})
    assert response.status_code == 302
    building.refresh_from_db()
    assert (building.name, building.phase) == ("五号楼", "二期")

    response = admin_client.post(url("building_delete", building.pk))
    assert response.status_code == 302 and response.url == reverse("estate:building_list")
    assert not Building.objects.filter(pk=building.pk).exists()


def test_a_building_with_units_keeps_its_code(admin_client, company, project):
    building = make_building(project, code="7")
    make_unit(project, building=building)
    data = {"project": project.pk, "code": "8", "name": "", "property_type": "", "phase": "", "height_class": "",
            "floors_above": "", "floors_below": "", "completed_on": "", "weight": 0}

    admin_client.post(url("building_edit", building.pk), data)

    building.refresh_from_db()
    assert building.code == "7"


def test_entrances_are_added_edited_and_deleted_from_the_building_page(admin_client, project):
    building = make_building(project, code="2")

    response = admin_client.post(url("entrance_add", building.pk), {"code": "1", "name": "", "has_elevator": "on"})
    entrance = Entrance.objects.get(building=building, code="1")
    assert response.status_code == 302 and response.url == f"{building.get_absolute_url()}?tab=entrances"
    assert entrance.project == project and entrance.has_elevator

    response = admin_client.post(url("entrance_add", building.pk), {"code": "1"})
    assert response.status_code == 400
    assert "单元编号「1」在该楼栋中已存在" in response.context["form"].errors["code"]

    response = admin_client.post(url("entrance_edit", entrance.pk), {"code": "1", "name": "东单元"})
    assert response.status_code == 302
    entrance.refresh_from_db()
    assert entrance.name == "东单元" and not entrance.has_elevator

    assert admin_client.get(url("entrance_list", building=building.pk)).url == f"{building.get_absolute_url()}" \
                                                                               "?tab=entrances"
    response = admin_client.post(url("entrance_delete", entrance.pk))
    assert response.status_code == 302 and response.url.endswith("?tab=entrances")
    assert not Entrance.objects.filter(pk=entrance.pk).exists()


def test_the_tile_view_shows_every_unit_of_the_building_top_floor_first(admin_client, project):
    building = make_building(project, code="1")
    east, west = make_entrance(building, code="1"), make_entrance(building, code="2")
    units = []
    for floor in (1, 2, 10):
        for entrance in (east, west):
            for number in ("01", "02"):
                units.append(Unit.objects.create(project=project, building=building, entrance=entrance, floor=floor,
                                                 number=f"{floor}{number}", building_area=Decimal("90"),
                                                 property_type=property_type(project.company),
                                                 status="rented" if number == "01" else "vacant"))
    make_unit(project)  # another building's unit stays out

    response = admin_client.get(url("building_detail", building.pk, tab="tiles"))

    grid = response.context["grid"]
    assert [row["floor"] for row in grid["rows"]] == [10, 2, 1]
    tiled = [unit for row in grid["rows"] for cell in row["cells"] for unit in cell]
    assert sorted(u.pk for u in tiled) == sorted(u.pk for u in units)
    content = response.content.decode()
    assert content.count('data-testid="tile"') == len(units)
    for unit in units:
        assert unit.get_absolute_url() in content
    assert "出租 6" in content and "空置 6" in content and "未交付 0" in content


# Units: list, filters, export, bulk actions


@pytest.fixture
def estate(company, project):
    """Two buildings, one with two entrances; owners on some units."""
    one, two = make_building(project, code="1"), make_building(project, code="2")
    entrance_1, entrance_2 = make_entrance(one, code="1"), make_entrance(one, code="2")
    residential, shop = property_type(company), property_type(company, "商铺")

    def unit(building, entrance, number, floor, area, status="vacant", kind=residential):
        return Unit.objects.create(project=project, building=building, entrance=entrance, number=number, floor=floor,
                                   building_area=Decimal(area), property_type=kind, status=status)

    units = {
        "a": unit(one, entrance_1, "101", 1, "60.00"),
        "b": unit(one, entrance_1, "1501", 15, "120.00", "occupied"),
        "c": unit(one, entrance_2, "902", 9, "95.50", "rented"),
        "d": unit(two, None, "S01", 1, "200.00", kind=shop),
    }
    make_owner(units["b"], make_customer(project, name="张三丰", mobile="13912345678"))
    make_owner(units["c"], make_customer(project, name="李四"))
    return {"buildings": (one, two), "entrances": (entrance_1, entrance_2), "units": units}


def test_the_unit_list_filters_kept_in_the_url(admin_client, project, estate):
    units = estate["units"]
    one, two = estate["buildings"]
    entrance_1, entrance_2 = estate["entrances"]

    def listed(**query):
        response = admin_client.get(url("unit_list", **query))
        assert response.status_code == 200
        return {obj for obj, _ in response.context["rows"]}

    assert listed() == set(units.values())
    assert listed(project=project.pk) == set(units.values())
    assert listed(building=two.pk) == {units["d"]}
    assert listed(building=one.pk, entrance=entrance_2.pk) == {units["c"]}
    assert listed(property_type=property_type(project.company, "商铺").pk) == {units["d"]}
    assert listed(status="rented") == {units["c"]}
    assert listed(floor_min=2, floor_max=10) == {units["c"]}
    assert listed(area_min="90", area_max="150") == {units["b"], units["c"]}
    assert listed(has_owner="yes") == {units["b"], units["c"]}
    assert listed(has_owner="no") == {units["a"], units["d"]}
    assert listed(q="张三") == {units["b"]}
    assert listed(q="1-1-101") == {units["a"]}
    assert listed(q="S01") == {units["d"]}
    assert listed(building=one.pk, status="vacant", has_owner="no") == {units["a"]}

    response = admin_client.get(url("unit_list", building=one.pk, entrance=entrance_1.pk))
    form = response.context["filterset"].form
    assert set(form.fields["entrance"].queryset) == {entrance_1, entrance_2}
    assert form["building"].value() == str(one.pk) and form["entrance"].value() == str(entrance_1.pk)


def test_the_unit_list_sorts_and_paginates(admin_client, estate):
    response = admin_client.get(url("unit_list", sort="-building_area"))
    assert [obj.code for obj, _ in response.context["rows"]] == ["2-S01", "1-1-1501", "1-2-902", "1-1-101"]

    project = estate["units"]["a"].project
    building = make_building(project, code="9")
    for number in range(60):
        make_unit(project, building=building, number=f"{number:03d}")
    response = admin_client.get(url("unit_list", building=building.pk, page=2))
    assert response.context["page"].number == 2 and len(response.context["rows"]) == 10
    assert "page=1" in response.content.decode()


def test_the_unit_list_shows_owners_status_and_a_custom_field_filter(admin_client, company, estate):
    facing = make_custom_field(company, "facing", label="朝向", field_type="choice", choices=["南", "北"])
    units = estate["units"]
    units["a"].custom_field_data = {facing.name: "南"}
    units["a"].save()

    response = admin_client.get(url("unit_list"))
    content = response.content.decode()
    assert "张三丰" in content and "李四" in content
    assert "自住" in content and "出租" in content
    assert 'name="cf_facing"' in content

    assert codes_in(admin_client.get(url("unit_list", cf_facing="南"))) == {units["a"].code}


def test_fifty_units_list_in_a_bounded_number_of_queries(admin_client, project, django_assert_max_num_queries):
    building = make_building(project, code="1")
    for number in range(50):
        unit = make_unit(project, building=building, number=f"{number + 1:03d}")
        make_owner(unit)

    with django_assert_max_num_queries(25):
        response = admin_client.get(url("unit_list"))

    assert len(response.context["rows"]) == 50


def test_export_is_an_xlsx_with_custom_fields_and_owner_names(admin_client, company, estate):
    facing = make_custom_field(company, "facing", label="朝向")
    units = estate["units"]
    units["b"].custom_field_data = {facing.name: "南北通透"}
    units["b"].save()

    response = admin_client.get(url("unit_list", export="xlsx", building=estate["buildings"][0].pk))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = rows[0]
    assert headers[:3] == ("房屋编码", "楼栋", "单元")
    assert "业主" in headers and "朝向" in headers and "租赁状态" in headers
    assert len(rows) - 1 == 3
    by_code = {row[0]: dict(zip(headers, row, strict=True)) for row in rows[1:]}
    assert by_code["1-1-1501"]["业主"] == "张三丰"
    assert by_code["1-1-1501"]["朝向"] == "南北通透"
    assert by_code["1-1-1501"]["房屋状态"] == "自住"
    assert by_code["1-1-1501"]["建筑面积(㎡)"] == 120


def test_export_is_refused_without_the_export_permission(client, company, project, estate):
    service = make_staff(company, "service")
    client.force_login(service)

    assert client.get(url("unit_list")).status_code == 200
    assert 'data-testid="export"' not in client.get(url("unit_list")).content.decode()
    assert client.get(url("unit_list", export="xlsx")).status_code == 403


def test_bulk_status_change_saves_each_unit_with_a_change_log_row(admin_client, admin, estate):
    units = estate["units"]
    chosen = [units["a"], units["d"]]

    response = admin_client.post(url("unit_list"), {"action": "set_status", "status": "decorating",
                                                    "pk": [u.pk for u in chosen], "querystring": "status=vacant"})

    assert response.status_code == 302 and response.url.endswith("?status=vacant")
    for unit in chosen:
        unit.refresh_from_db()
        assert unit.status == "decorating"
        change = changes_of(unit, "update").get()
        assert change.user == admin
        assert ("房屋状态", "空置", "装修中") in change.diff()
    units["b"].refresh_from_db()
    assert units["b"].status == "occupied"


def test_bulk_status_change_needs_a_status(admin_client, estate):
    unit = estate["units"]["a"]

    response = admin_client.post(url("unit_list"), {"action": "set_status", "status": "", "pk": [unit.pk]},
                                 follow=True)

    unit.refresh_from_db()
    assert unit.status == "vacant"
    assert "请先在批量操作栏选择新的房屋状态" in response.content.decode()


def test_bulk_status_change_of_all_matching_units_keeps_to_the_filter(admin_client, estate):
    one = estate["buildings"][0]
    units = estate["units"]

    admin_client.post(f"{url('unit_list')}?building={one.pk}",
                      {"action": "set_status", "status": "undelivered", "select_all_matching": "1",
                       "querystring": f"building={one.pk}"})

    assert set(Unit.objects.filter(status="undelivered")) == {units["a"], units["b"], units["c"]}
    units["d"].refresh_from_db()
    assert units["d"].status == "vacant"


def test_bulk_delete_removes_the_chosen_units_and_refuses_units_with_residents(admin_client, estate):
    units = estate["units"]

    response = admin_client.post(url("unit_list"), {"action": "delete", "pk": [units["a"].pk, units["d"].pk]})
    assert response.status_code == 302
    assert not Unit.objects.filter(pk__in=[units["a"].pk, units["d"].pk]).exists()

    response = admin_client.post(url("unit_list"), {"action": "delete", "pk": [units["b"].pk, units["c"].pk]},
                                 follow=True)
    assert Unit.objects.filter(pk__in=[units["b"].pk, units["c"].pk]).count() == 2
    assert "不能删除" in response.content.decode()


def test_the_list_offers_import_when_the_import_page_exists(admin_client):
    content = admin_client.get(url("unit_list")).content.decode()

    assert reverse("customers:unit_import") in content


# Units: detail


def test_unit_detail_summary_shows_owners_with_masked_phones(admin_client, estate):
    unit = estate["units"]["b"]

    response = admin_client.get(unit.get_absolute_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert "张三丰" in content and "139****5678" in content and "13912345678" not in content
    assert "1-1-1501" in content and "自住" in content and "120.00" in content
    assert f"{unit.building.get_absolute_url()}?tab=tiles#unit-{unit.pk}" in content


def test_unit_detail_residents_tab_lists_current_and_past_occupancies(admin_client, project, estate):
    unit = estate["units"]["b"]
    tenant = make_customer(project, name="王五")
    Occupancy.objects.create(unit=unit, customer=tenant, role="tenant", start_date=datetime.date(2019, 1, 1),
                             end_date=datetime.date(2019, 12, 31))

    response = admin_client.get(url("unit_detail", unit.pk, tab="residents"))

    occupants = response.context["occupants"]
    assert [(o.customer.name, o.current) for o in occupants] == [("张三丰", True), ("王五", False)]
    content = response.content.decode()
    assert "业主" in content and "租户" in content and "2019-12-31" in content and "历史" in content
    assert occupants[0].customer.get_absolute_url() in content


def test_unit_detail_custom_field_tab(admin_client, company, estate):
    unit = estate["units"]["d"]  # a shop: its type's fields apply
    unit.custom_field_data = {"business_scope": "餐饮"}
    unit.save()

    response = admin_client.get(url("unit_detail", unit.pk, tab="custom"))

    labels = {field.label: value for field, value in response.context["custom_values"]}
    assert labels["经营范围"] == "餐饮"


# Units: add and edit


def test_a_unit_is_added_with_its_composed_code_and_custom_fields(admin_client, company, project):
    building = make_building(project, code="3")
    entrance = make_entrance(building, code="2")
    make_custom_field(company, "facing", label="朝向")

    response = admin_client.post(url("unit_add"), unit_post_data(project, building, entrance, cf_facing="南"))

    unit = Unit.objects.get(project=project)
    assert response.status_code == 302 and response.url == unit.get_absolute_url()
    assert unit.code == "3-2-301" and unit.custom_field_data == {"facing": "南"}
    assert changes_of(unit, "create").exists()


def test_inner_area_larger_than_building_area_is_refused_at_its_field(admin_client, project):
    building = make_building(project)

    response = admin_client.post(url("unit_add"), unit_post_data(project, building, inner_area="120.00"))

    assert response.status_code == 400
    assert response.context["form"].errors["inner_area"] == ["套内面积不能大于建筑面积"]
    assert "套内面积不能大于建筑面积" in response.content.decode()
    assert not Unit.objects.exists()


def test_a_duplicate_unit_code_in_a_project_is_refused_at_the_room_number(admin_client, project):
    building = make_building(project, code="1")
    entrance = make_entrance(building, code="1")
    Unit.objects.create(project=project, building=building, entrance=entrance, number="301", floor=3,
                        building_area=Decimal("90"), property_type=property_type(project.company))

    response = admin_client.post(url("unit_add"), unit_post_data(project, building, entrance))

    assert response.status_code == 400
    assert response.context["form"].errors["number"] == ["房屋编码「1-1-301」在该项目中已存在"]
    assert Unit.objects.count() == 1


def test_an_entrance_of_another_building_is_not_offered(admin_client, project):
    building, other = make_building(project), make_building(project)
    foreign = make_entrance(other)

    response = admin_client.post(url("unit_add"), unit_post_data(project, building, foreign))

    assert response.status_code == 400
    assert "entrance" in response.context["form"].errors
    assert not Unit.objects.exists()


def test_a_required_custom_field_of_the_chosen_type_is_checked(admin_client, company, project):
    shop = property_type(company, "商铺")
    make_custom_field(company, "licence", label="营业执照号", required=True, property_type=shop)
    building = make_building(project)

    response = admin_client.post(url("unit_add"), unit_post_data(project, building, property_type=shop.pk))

    assert response.status_code == 400
    assert "cf_licence" in response.context["form"].errors
    assert not Unit.objects.exists()


def test_edit_writes_a_change_log_row_shown_on_the_changelog_tab(admin_client, admin, company, project):
    building = make_building(project, code="1")
    entrance = make_entrance(building, code="1")
    unit = Unit.objects.create(project=project, building=building, entrance=entrance, number="301", floor=3,
                               building_area=Decimal("98.50"), property_type=property_type(company))

    response = admin_client.post(url("unit_edit", unit.pk),
                                 unit_post_data(project, building, entrance, building_area="99.00", status="rented"))

    assert response.status_code == 302
    change = changes_of(unit, "update").get()
    assert ("建筑面积(㎡)", "98.50", "99.00") in change.diff()
    assert ("房屋状态", "空置", "出租") in change.diff()
    content = admin_client.get(url("unit_detail", unit.pk, tab="changelog")).content.decode()
    assert admin.display_name in content
    assert '<span class="diff-before">98.50</span>' in content and '<span class="diff-after">99.00</span>' in content


def test_changing_the_property_type_on_edit_offers_and_keeps_the_new_types_fields(admin_client, company, project):
    unit = make_unit(project)
    shop = property_type(company, "商铺")
    building = unit.building

    response = admin_client.post(url("unit_edit", unit.pk), unit_post_data(
        project, building, unit.entrance, number=unit.number, property_type=shop.pk, cf_business_scope="零售"))

    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.property_type == shop and unit.custom_field_data["business_scope"] == "零售"


def test_the_add_form_is_prefilled_from_the_query_string(admin_client, project):
    building = make_building(project, code="6")

    response = admin_client.get(url("unit_add", project=project.pk, building=building.pk))

    form = response.context["form"]
    assert form["building"].value() == str(building.pk)
    assert 'hx-get="/estate/units/form/entrances/"' in response.content.decode()


def test_htmx_partials_narrow_entrances_and_follow_the_property_type(admin_client, company, project):
    building, other = make_building(project, code="1"), make_building(project, code="2")
    mine, foreign = make_entrance(building, code="1"), make_entrance(other, code="1")
    existing = make_unit(project, building=building, number="101")

    response = admin_client.get(url("unit_entrance_options", project=project.pk, building=building.pk))
    assert response.status_code == 200
    assert list(response.context["form"].fields["entrance"].queryset) == [mine]
    assert foreign not in response.context["form"].fields["entrance"].queryset
    assert 'id="field-entrance"' in response.content.decode()

    response = admin_client.get(url("unit_code_preview", building=building.pk, entrance=mine.pk, number="101"))
    assert response.context["preview"] == {"code": existing.code, "taken": True}
    assert "该编码在项目中已存在" in response.content.decode()

    response = admin_client.get(url("unit_building_options", project=project.pk))
    assert set(response.context["form"].fields["building"].queryset) == {building, other}

    response = admin_client.get(url("unit_custom_fields", property_type=property_type(company, "商铺").pk))
    content = response.content.decode()
    assert 'id="unit-custom-fields"' in content and "租赁状态" in content
    response = admin_client.get(url("unit_custom_fields", property_type=property_type(company).pk))
    assert "租赁状态" not in response.content.decode()


def test_unit_delete(admin_client, estate):
    unit = estate["units"]["a"]

    response = admin_client.post(url("unit_delete", unit.pk))

    assert response.status_code == 302 and response.url == reverse("estate:unit_list")
    assert not Unit.objects.filter(pk=unit.pk).exists()
    assert changes_of(unit, "delete").exists()


# Scope


@pytest.fixture
def two_projects(company):
    project_a, project_b = make_project(company, name="A苑"), make_project(company, name="B苑")
    unit_a, unit_b = make_unit(project_a, number="101"), make_unit(project_b, number="202")
    return {
        "a": project_a, "b": project_b, "unit_a": unit_a, "unit_b": unit_b,
        "space_b": make_parking_space(project_b), "clerk": make_staff(company, "admin", projects=[project_a]),
    }


def test_a_project_scoped_user_gets_404_for_the_other_projects_objects(client, two_projects):
    client.force_login(two_projects["clerk"])
    unit_b, space_b = two_projects["unit_b"], two_projects["space_b"]
    targets = {"unit": unit_b, "building": unit_b.building, "parkingspace": space_b}

    for name, obj in targets.items():
        for action in ("detail", "edit", "delete"):
            assert client.get(url(f"{name}_{action}", obj.pk)).status_code == 404, (name, action)
        assert client.post(url(f"{name}_delete", obj.pk)).status_code == 404
        assert client.post(url(f"{name}_edit", obj.pk), {}).status_code == 404
        assert type(obj).objects.filter(pk=obj.pk).exists()
    assert client.get(url("entrance_add", unit_b.building_id)).status_code == 404


def test_the_other_projects_units_never_appear_in_the_list_or_export(client, two_projects):
    client.force_login(two_projects["clerk"])

    assert codes_in(client.get(url("unit_list"))) == {two_projects["unit_a"].code}
    assert codes_in(client.get(url("unit_list", q=two_projects["unit_b"].code))) == set()
    assert codes_in(client.get(url("unit_list", project=two_projects["b"].pk))) == set()
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url("unit_list", export="xlsx")).content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [two_projects["unit_a"].code]


def test_forms_offer_only_projects_and_buildings_in_scope(client, two_projects):
    clerk, project_b = two_projects["clerk"], two_projects["b"]
    client.force_login(clerk)

    form = client.get(url("unit_add")).context["form"]
    assert list(form.fields["project"].queryset) == [two_projects["a"]]
    assert list(form.fields["building"].queryset) == [two_projects["unit_a"].building]

    building_b = two_projects["unit_b"].building
    response = client.post(url("unit_add"), unit_post_data(project_b, building_b, number="999"))
    assert response.status_code == 400
    assert {"project", "building"} <= set(response.context["form"].errors)
    assert not Unit.objects.filter(number="999").exists()

    response = client.get(url("unit_entrance_options", building=building_b.pk))
    assert not response.context["form"].fields["entrance"].queryset.exists()


def test_bulk_actions_cannot_reach_the_other_projects_units(client, two_projects):
    client.force_login(two_projects["clerk"])
    unit_b = two_projects["unit_b"]

    client.post(url("unit_list"), {"action": "set_status", "status": "rented", "pk": [unit_b.pk]})
    client.post(url("unit_list"), {"action": "delete", "pk": [unit_b.pk]})

    unit_b.refresh_from_db()
    assert unit_b.status == "vacant"


# Parking spaces


def test_parking_list_filters_and_searches(admin_client, company, project):
    other = make_project(company)
    free = make_parking_space(project, number="B1-001", zone="地下一层", kind="owned", status="free")
    sold = make_parking_space(project, number="B1-002", zone="地下一层", kind="owned", status="sold")
    rented = make_parking_space(project, number="G-01", zone="地面", kind="leased", status="rented")
    elsewhere = make_parking_space(other, number="X-01", zone="地面")

    def listed(**query):
        response = admin_client.get(url("parkingspace_list", **query))
        assert response.status_code == 200
        return {obj for obj, _ in response.context["rows"]}

    assert listed() == {free, sold, rented, elsewhere}
    assert listed(project=project.pk) == {free, sold, rented}
    assert listed(kind="leased") == {rented}
    assert listed(status="sold") == {sold}
    assert listed(zone="地面") == {rented, elsewhere}
    assert listed(q="B1-") == {free, sold}


def test_parking_add_edit_delete_and_duplicate_number(admin_client, project):
    data = {"project": project.pk, "number": "B2-018", "zone": "地下二层", "kind": "owned", "status": "free",
            "area": "12.50", "notes": ""}
    response = admin_client.post(url("parkingspace_add"), data)
    space = ParkingSpace.objects.get(project=project, number="B2-018")
    assert response.status_code == 302 and response.url == space.get_absolute_url()

    response = admin_client.post(url("parkingspace_add"), data)
    assert response.status_code == 400
    assert "车位编号「B2-018」在该项目中已存在" in response.context["form"].errors["number"]

    response = admin_client.post(url("parkingspace_edit", space.pk), {**data, "status": "rented"})
    assert response.status_code == 302
    space.refresh_from_db()
    assert space.status == "rented"

    response = admin_client.post(url("parkingspace_delete", space.pk))
    assert response.status_code == 302 and not ParkingSpace.objects.filter(pk=space.pk).exists()


def test_parking_detail_lists_its_vehicles(admin_client, project):
    space = make_parking_space(project, number="B1-066")
    owner = make_customer(project, name="赵六")
    vehicle = make_vehicle(project, customer=owner, parking_space=space)
    make_vehicle(project)  # not on this space

    response = admin_client.get(url("parkingspace_detail", space.pk, tab="vehicles"))

    assert response.status_code == 200
    assert [v.plate for v in response.context["vehicles"]] == [vehicle.plate]
    content = response.content.decode()
    assert vehicle.plate in content and "赵六" in content
    assert vehicle.plate in admin_client.get(url("parkingspace_list")).content.decode()


# Project detail


def test_project_detail_has_buildings_and_parking_tabs(admin_client, project):
    building = make_building(project, code="1", name="1号楼")
    for number in ("101", "102", "201"):
        make_unit(project, building=building, number=number)
    make_building(project, code="2")
    make_parking_space(project, zone="地下一层", status="sold")
    make_parking_space(project, zone="地下一层", status="free")

    response = admin_client.get(url("project_detail", project.pk, tab="buildings"))
    counts = {b.code: b.unit_count for b in response.context["buildings"]}
    assert counts == {"1": 3, "2": 0}
    assert "1号楼" in response.content.decode()

    response = admin_client.get(url("project_detail", project.pk, tab="parking"))
    parking = response.context["parking"]
    assert parking["total"] == 2
    assert dict((label, n) for _, label, n in parking["by_status"])["已售"] == 1
    assert "地下一层" in response.content.decode()

    response = admin_client.get(url("project_detail", project.pk))
    assert response.context["active_tab"] == "info" and project.code in response.content.decode()


def test_the_menu_links_to_every_register_page(admin_client):
    content = admin_client.get(url("unit_list")).content.decode()

    for name in ("project_list", "building_list", "unit_list", "parkingspace_list", "propertytype_list"):
        assert f'href="{reverse(f"estate:{name}")}"' in content
