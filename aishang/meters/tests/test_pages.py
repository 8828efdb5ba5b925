"""The meter pages as clerks use them: the register, the reading grid of a building, the reading list and review."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aishang.core.testing import make_building, make_company, make_project, make_staff, make_unit
from aishang.extras.models import ObjectChange
from aishang.meters.choices import MeterKind, MeterRole, ReadingKind, ReadingSource
from aishang.meters.models import Meter, MeterReading
from aishang.meters.readings import reading_record

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.date(2026, 3, 25)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def water_meter(unit, number, initial="100", **fields):
    return Meter.objects.create(project=unit.project, kind=MeterKind.WATER, role=MeterRole.UNIT, unit=unit,
                                number=number, install_date=datetime.date(2026, 1, 1), initial_reading=D(initial),
                                **fields)


@pytest.fixture
def block():
    """A building of three units, each with a water meter, and a public meter; one project of a company."""
    project = make_project(make_company())
    building = make_building(project, code="1")
    units = [make_unit(project, building=building, number=number) for number in ("101", "102", "201")]
    meters = [water_meter(unit, f"W-{unit.number}") for unit in units]
    public = Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.PUBLIC, building=building,
                                  number="W-P1", name="1号楼公区", install_date=datetime.date(2026, 1, 1))
    return project, building, units, meters, public


def grid_url(project, building, read_on=DAY, kind=MeterKind.WATER):
    return (f"{reverse('meters:reading_entry')}?project={project.pk}&building={building.pk}&kind={kind}"
            f"&read_on={read_on:%Y-%m-%d}")


def grid_post(project, building, values, read_on=DAY, **extra):
    data = {"project": project.pk, "building": building.pk, "entrance": "", "kind": MeterKind.WATER,
            "read_on": f"{read_on:%Y-%m-%d}"}
    data.update({f"value-{meter.pk}": value for meter, value in values.items()})
    data.update(extra)
    return data


def test_the_grid_lists_the_buildings_meters_in_walking_order_with_their_last_reading(block):
    project, building, _units, meters, public = block
    admin = make_staff(project.company)
    reading_record(meter=meters[1], value=D("130"), read_on=datetime.date(2026, 2, 25), actor=admin)

    page = client_for(admin).get(grid_url(project, building))

    html = page.content.decode()
    assert page.status_code == 200
    positions = [html.index(f'data-meter="{m.pk}"') for m in (*meters, public)]
    assert positions == sorted(positions)  # 1-1-101, 1-1-102, 1-1-201, then the public meter
    row = html[positions[1]:positions[2]]
    assert 'data-previous="130.00"' in row and "2026-02-25" in row
    assert "已抄 0/4" in html


def test_saving_the_grid_records_every_filled_row_and_skips_the_empty_ones(block):
    project, building, _units, meters, _public = block
    admin = make_staff(project.company)
    client = client_for(admin)

    saved = client.post(reverse("meters:reading_entry"),
                        grid_post(project, building, {meters[0]: "112", meters[1]: "", meters[2]: "125.5"},
                                  **{f"note-{meters[2].pk}": "门口表"}))

    assert saved.status_code == 302
    readings = {r.meter_id: r for r in MeterReading.objects.all()}
    assert set(readings) == {meters[0].pk, meters[2].pk}
    assert readings[meters[2].pk].usage == D("25.5") and readings[meters[2].pk].note == "门口表"
    assert {r.source for r in readings.values()} == {ReadingSource.WEB}
    assert {r.recorded_by for r in readings.values()} == {admin}
    summary = client.get(saved.url).content.decode()
    assert "已保存 2 条读数" in summary and "没有待复核的读数" in summary and "已抄 2/4" in summary
    bill_the_building = f"/billing/runs/add/metered/?project={project.pk}&amp;buildings={building.pk}"
    assert bill_the_building in summary


def test_one_refused_row_saves_nothing_and_the_grid_comes_back_with_the_values_and_the_error_at_its_row(block):
    project, building, _units, meters, _public = block
    admin = make_staff(project.company)

    refused = client_for(admin).post(reverse("meters:reading_entry"),
                                     grid_post(project, building, {meters[0]: "112", meters[1]: "90",
                                                                   meters[2]: "abc"}))

    assert refused.status_code == 400 and not MeterReading.objects.exists()
    html = refused.content.decode()
    rows = {meter: html[html.index(f'data-meter="{meter.pk}"'):] for meter in meters}
    assert 'value="112"' in rows[meters[0]][:2000] and 'value="90"' in rows[meters[1]][:2000]
    assert "本期读数 90 低于上期 100.00" in rows[meters[1]][:2000]
    assert "请输入数字" in rows[meters[2]][:2000]
    assert "本次未保存任何读数" in html


def test_a_row_refused_by_the_service_rolls_back_the_rows_before_it(block):
    project, building, _units, meters, _public = block
    admin = make_staff(project.company)

    refused = client_for(admin).post(reverse("meters:reading_entry"),
                                     grid_post(project, building, {meters[0]: "112", meters[1]: "90"}))

    assert refused.status_code == 400 and MeterReading.objects.count() == 0
    assert "低于上期" in refused.content.decode()


def test_a_rollover_marked_in_the_grid_counts_the_dials_full_range(block):
    project, building, _units, meters, _public = block
    admin = make_staff(project.company)
    client_for(admin).post(reverse("meters:reading_entry"),
                           grid_post(project, building, {meters[0]: "15"}, **{f"rollover-{meters[0].pk}": "1"}))
    reading = MeterReading.objects.get()
    assert (reading.kind, reading.usage) == (ReadingKind.ROLLOVER, D("99915"))


def test_the_summary_links_the_readings_flagged_for_review(block):
    project, building, _units, meters, _public = block
    admin = make_staff(project.company)
    for month, value in ((1, "110"), (2, "120"), (3, "130")):
        reading_record(meter=meters[0], value=D(value), read_on=datetime.date(2026, month, 20), actor=admin)
    client = client_for(admin)

    saved = client.post(reverse("meters:reading_entry"),
                        grid_post(project, building, {meters[0]: "230"}, read_on=datetime.date(2026, 4, 20)))

    flagged = MeterReading.objects.get(flagged=True)
    summary = client.get(saved.url).content.decode()
    assert "其中 1 条用量异常，待复核" in summary
    assert reverse("meters:reading_review", args=[flagged.pk]) in summary


def test_the_grid_needs_the_right_to_record_readings_and_a_building_in_scope(block):
    project, building, *_ = block
    guard = make_staff(project.company, "guard")
    assert client_for(guard).get(reverse("meters:reading_entry")).status_code == 403
    stranger = make_staff(make_company())
    assert client_for(stranger).get(grid_url(project, building)).status_code == 404
    other_project = make_project(project.company)
    scoped = make_staff(project.company, "steward", projects=[other_project])
    assert client_for(scoped).get(grid_url(project, building)).status_code == 404
    assert client_for(scoped).post(reverse("meters:reading_entry"),
                                   grid_post(project, building, {})).status_code == 404


def test_register_pages_render_for_finance_and_hide_other_projects(block):
    project, _building, units, meters, _public = block
    finance = make_staff(project.company, "finance")
    client = client_for(finance)
    reading_record(meter=meters[0], value=D("112"), read_on=DAY, actor=finance)

    listing = client.get(reverse("meters:meter_list"), {"q": units[0].code}).content.decode()
    assert "W-101" in listing and "W-102" not in listing and "112.00" in listing
    detail = client.get(meters[0].get_absolute_url()).content.decode()
    assert "112.00" in detail and 'data-testid="reading-history"' in detail
    assert client.get(reverse("meters:meter_add")).status_code == 200
    assert client.get(reverse("meters:meter_edit", args=[meters[0].pk])).status_code == 200
    assert client.get(reverse("meters:meterreading_list")).status_code == 200
    assert client.get(reverse("meters:meterreading_list"), {"export": "xlsx"})["Content-Type"].startswith(
        "application/vnd.openxmlformats")

    outsider = make_staff(project.company, "finance", projects=[make_project(project.company)])
    assert client_for(outsider).get(meters[0].get_absolute_url()).status_code == 404
    assert "W-101" not in client_for(outsider).get(reverse("meters:meter_list")).content.decode()
    assert client_for(make_staff(project.company, "guard")).get(reverse("meters:meter_list")).status_code == 403


def test_the_meter_form_takes_the_unit_code_and_keeps_choices_within_the_project(block):
    project, building, units, _meters, _public = block
    finance = make_staff(project.company, "finance")
    client = client_for(finance)
    elsewhere = make_unit(make_project(project.company), number="101")
    base = {"project": project.pk, "kind": MeterKind.ELECTRICITY, "role": MeterRole.UNIT, "number": "E-101",
            "multiplier": "1", "digits": "6", "install_date": "2026-01-01", "initial_reading": "0"}

    refused = client.post(reverse("meters:meter_add"), base | {"unit": elsewhere.code.replace(elsewhere.code,
                                                                                           "9-9-999")})
    assert refused.status_code == 400 and "该项目没有房屋编码为 9-9-999 的房屋" in refused.content.decode()
    refused = client.post(reverse("meters:meter_add"), base)
    assert "户表须选择房屋" in refused.content.decode()

    created = client.post(reverse("meters:meter_add"), base | {"unit": units[0].code})
    meter = Meter.objects.get(number="E-101")
    assert created.status_code == 302 and meter.unit == units[0] and meter.building == building
    taken = client.post(reverse("meters:meter_add"), base | {"unit": units[1].code})
    assert "表号「E-101」在该项目中已存在" in taken.content.decode()


def test_a_meter_is_replaced_through_its_page(block):
    project, _building, _units, meters, _public = block
    finance = make_staff(project.company, "finance")
    client = client_for(finance)
    url = reverse("meters:meter_replace", args=[meters[0].pk])
    assert client.get(url).status_code == 200

    taken = client.post(url, {"final_value": "150", "on": "2026-03-01", "number": "W-102", "initial_reading": "0"})
    assert taken.status_code == 400 and "该项目已有表号为 W-102 的仪表" in taken.content.decode()
    lower = client.post(url, {"final_value": "50", "on": "2026-03-01", "number": "W-9", "initial_reading": "0"})
    assert lower.status_code == 400 and "低于上期" in lower.content.decode()
    assert not Meter.objects.filter(number="W-9").exists()

    replaced = client.post(url, {"final_value": "150", "on": "2026-03-01", "number": "W-9", "initial_reading": "2"})

    successor = Meter.objects.get(number="W-9")
    assert replaced.status_code == 302 and replaced.url == successor.get_absolute_url()
    meters[0].refresh_from_db()
    assert meters[0].removed_on == datetime.date(2026, 3, 1) and successor.replaces == meters[0]
    detail = client.get(successor.get_absolute_url()).content.decode()
    assert 'data-testid="replacement-chain"' in detail and "W-101" in detail
    assert client.get(url).status_code == 302  # a removed meter is not replaced twice
    steward = make_staff(project.company, "steward")
    assert client_for(steward).get(reverse("meters:meter_replace", args=[successor.pk])).status_code == 403


def test_only_the_latest_reading_is_corrected_and_its_usage_and_flag_are_recomputed(block):
    project, _building, _units, meters, _public = block
    steward = make_staff(project.company, "steward")
    readings = [reading_record(meter=meters[0], value=D(v), read_on=datetime.date(2026, m, 20), actor=steward)
                for m, v in ((1, "110"), (2, "120"), (3, "130"), (4, "330"))]
    latest = readings[-1]
    assert latest.flagged
    client = client_for(steward)

    earlier = client.post(reverse("meters:reading_review", args=[readings[2].pk]),
                          {"action": "correct", "correct-value": "131", "correct-kind": "normal",
                           "correct-reason": "抄错"})
    assert earlier.status_code == 400 and "只能更正或撤销该表最近一次读数" in earlier.content.decode()
    no_reason = client.post(reverse("meters:reading_review", args=[latest.pk]),
                            {"action": "correct", "correct-value": "140", "correct-kind": "normal"})
    assert no_reason.status_code == 400

    corrected = client.post(reverse("meters:reading_review", args=[latest.pk]),
                            {"action": "correct", "correct-value": "140", "correct-kind": "normal",
                             "correct-reason": "多按了一位"})

    assert corrected.status_code == 302
    latest.refresh_from_db()
    assert (latest.value, latest.usage, latest.flagged) == (D("140"), D("10"), False)
    assert latest.review_note == "更正：多按了一位" and latest.reviewed_by == steward
    change = ObjectChange.objects.filter(object_id=latest.pk, action="update").latest("time")
    assert D(change.prechange_data["value"]) == D("330") and D(change.postchange_data["usage"]) == D("10")
    readings[2].refresh_from_db()
    assert readings[2].value == D("130")


def test_a_flagged_reading_is_approved_and_keeps_who_and_when(block):
    project, _building, _units, meters, _public = block
    finance = make_staff(project.company, "finance")
    for m, v in ((1, "110"), (2, "120"), (3, "130"), (4, "330")):
        reading = reading_record(meter=meters[0], value=D(v), read_on=datetime.date(2026, m, 20), actor=finance)
    technician = make_staff(project.company, "technician")
    url = reverse("meters:reading_review", args=[reading.pk])
    assert client_for(technician).post(url, {"action": "approve"}).status_code == 403

    assert client_for(finance).post(url, {"action": "approve"}).status_code == 302

    reading.refresh_from_db()
    assert not reading.flagged and reading.reviewed_by == finance and reading.reviewed_at is not None
    assert reading.usage == D("200")


def test_the_latest_reading_is_withdrawn_with_a_reason_and_the_next_one_measures_from_the_one_before(block):
    project, _building, _units, meters, _public = block
    finance = make_staff(project.company, "finance")
    first = reading_record(meter=meters[0], value=D("110"), read_on=datetime.date(2026, 1, 20), actor=finance)
    wrong = reading_record(meter=meters[0], value=D("900"), read_on=datetime.date(2026, 2, 20), actor=finance)
    url = reverse("meters:reading_review", args=[wrong.pk])
    assert client_for(make_staff(project.company, "technician")).post(
        url, {"action": "withdraw", "withdraw-reason": "抄错表"}).status_code == 403
    assert client_for(finance).post(url, {"action": "withdraw"}).status_code == 400

    withdrawn = client_for(finance).post(url, {"action": "withdraw", "withdraw-reason": "抄错表"})

    assert withdrawn.status_code == 302 and list(meters[0].readings.all()) == [first]
    log = ObjectChange.objects.get(object_id=wrong.pk, action="delete")
    assert log.prechange_data["review_note"] == "撤销：抄错表" and log.prechange_data["value"] == "900.00"
    again = reading_record(meter=meters[0], value=D("120"), read_on=datetime.date(2026, 2, 21), actor=finance)
    assert again.previous_value == D("110")


def test_the_reading_list_filters_flagged_readings_and_approves_them_in_bulk(block):
    project, building, _units, meters, _public = block
    finance = make_staff(project.company, "finance")
    for m, v in ((1, "110"), (2, "120"), (3, "130"), (4, "330")):
        reading_record(meter=meters[0], value=D(v), read_on=datetime.date(2026, m, 20), actor=finance)
    reading_record(meter=meters[1], value=D("105"), read_on=datetime.date(2026, 4, 20), actor=finance)
    client = client_for(finance)

    listing = client.get(reverse("meters:meterreading_list"),
                         {"flagged": "1", "building": building.pk, "read_from": "2026-04-01"}).content.decode()
    assert "共 1 条" in listing and "330.00" in listing

    approved = client.post(reverse("meters:meterreading_list"), {"action": "approve", "select_all_matching": "1",
                                                                  "querystring": "flagged=1"})
    assert approved.status_code == 302 and not MeterReading.objects.filter(flagged=True).exists()


def test_the_menu_offers_the_meter_pages_to_who_may_open_them(block):
    project, *_ = block
    html = client_for(make_staff(project.company, "steward")).get(reverse("meters:meter_list")).content.decode()
    sidebar = html[html.index('id="app-sidebar"'):html.index("</nav>")]
    for url_name in ("meters:meter_list", "meters:reading_entry", "meters:meterreading_list"):
        assert f'href="{reverse(url_name)}"' in sidebar
    html = client_for(make_staff(project.company, "guard")).get("/").content.decode()
    assert reverse("meters:reading_entry") not in html


def test_an_entrance_grid_lists_only_its_units_meters_and_another_kind_lists_none(block):
    from aishang.core.testing import make_entrance

    project, building, _units, meters, public = block
    second = make_entrance(building, code="2")
    upstairs = make_unit(project, building=building, number="301")
    upstairs.entrance = second
    upstairs.save()
    upstairs_meter = water_meter(upstairs, "W-301")
    admin = make_staff(project.company)

    html = client_for(admin).get(grid_url(project, building) + f"&entrance={second.pk}").content.decode()

    assert f'data-meter="{upstairs_meter.pk}"' in html
    assert all(f'data-meter="{m.pk}"' not in html for m in (*meters, public))
    none = client_for(admin).get(grid_url(project, building, kind=MeterKind.GAS)).content.decode()
    assert "该楼栋没有在用的此类仪表" in none
