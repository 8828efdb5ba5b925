"""The 公摊与损耗 pages: rules, a run from preview to 入账 and 冲销, the export, and who may do what."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aishang.core.testing import make_company, make_project, make_staff
from aishang.meters.allocation_runs import allocation_post, allocation_preview, last_month
from aishang.meters.models import AllocationRule, AllocationRun

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
START, END = OCTOBER


@pytest.fixture
def project():
    return make_project(make_company())


@pytest.fixture
def lighting(project):
    lighting = meter(project, role="public", name="公区照明")
    read(lighting, 1200)
    return lighting


def rule_form(project, lighting, **fields):
    return {"project": project.pk, "name": "公区照明公摊", "meter": lighting.pk, "purpose": "shared",
            "basis": "area", "loss_method": "usage", "scope": "project", "is_active": "on", **fields}


def test_finance_sets_up_a_rule_for_a_set_of_units_typed_as_codes(client, project, lighting):
    first, second, _third = delivered_units(project, 3)
    client.force_login(make_staff(project.company, "finance"))

    unknown = client.post(reverse("meters:allocationrule_add"),
                          rule_form(project, lighting, scope="units", unit_codes=f"{first.code} 9-9-909"))
    assert unknown.status_code == 400 and "该项目没有这些房屋：9-9-909" in unknown.content.decode()
    bad_formula = client.post(reverse("meters:allocationrule_add"),
                              rule_form(project, lighting, basis="weight", formula="建筑面积 × 楼层"))
    assert bad_formula.status_code == 400 and "楼层" in bad_formula.content.decode()
    assert not AllocationRule.objects.exists()

    saved = client.post(reverse("meters:allocationrule_add"),
                        rule_form(project, lighting, scope="units", unit_codes=f"{first.code}，{second.code}"))

    created = AllocationRule.objects.get()
    assert saved.status_code == 302 and saved.url == created.get_absolute_url()
    assert set(created.units.all()) == {first, second}
    detail = client.get(created.get_absolute_url()).content.decode()
    assert first.code in detail and "已交付或已入住的房屋" in detail
    edit = client.get(reverse("meters:allocationrule_edit", args=[created.pk])).content.decode()
    assert f"{first.code} {second.code}" in edit or f"{second.code} {first.code}" in edit
    assert "公区照明公摊" in client.get(reverse("meters:allocationrule_list")).content.decode()


def test_a_run_is_previewed_posted_and_reversed_from_its_page(client, project, lighting):
    delivered_units(project, 100)
    shared = rule(project, lighting, name="公区照明")
    client.force_login(make_staff(project.company, "finance"))

    form = client.get(reverse("meters:allocationrun_add"), {"rule": shared.pk})
    start, end = last_month()
    assert form.status_code == 200 and f'value="{start:%Y-%m-%d}"' in form.content.decode()
    assert f'value="{end:%Y-%m-%d}"' in form.content.decode()
    created = client.post(reverse("meters:allocationrun_add"),
                          {"rule": shared.pk, "period_start": START, "period_end": END})
    run = AllocationRun.objects.get()
    assert created.status_code == 302 and created.url == run.get_absolute_url()

    page = client.get(run.get_absolute_url()).content.decode()
    assert "总表用量（kWh）" in page and "1200.00" in page and "与分摊总量一致" in page
    assert "公摊 1200 kWh × 本户面积 100 ㎡ / 总面积 10000 ㎡ = 12.00 kWh" in page
    assert "确认入账（100 户）" in page

    client.post(reverse("meters:allocationrun_post", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "posted"
    assert "冲销本批次" in client.get(run.get_absolute_url()).content.decode()

    refused = client.post(reverse("meters:allocationrun_reverse", args=[run.pk]), {"reason": ""}, follow=True)
    assert "请填写冲销原因" in refused.content.decode()
    run.refresh_from_db()
    assert run.status == "posted"
    client.post(reverse("meters:allocationrun_reverse", args=[run.pk]), {"reason": "照明表读数有误"})
    run.refresh_from_db()
    assert (run.status, run.reverse_reason) == ("reversed", "照明表读数有误")


def test_a_preview_without_readings_says_so_on_the_form_and_stores_nothing(client, project):
    delivered_units(project, 2)
    silent = rule(project, meter(project, role="public", name="地库照明"))
    client.force_login(make_staff(project.company, "finance"))

    response = client.post(reverse("meters:allocationrun_add"),
                           {"rule": silent.pk, "period_start": START, "period_end": END})

    assert response.status_code == 400
    assert "地库照明 在 2026-10-01 ～ 2026-10-31 没有抄表读数" in response.content.decode()
    assert not AllocationRun.objects.exists()


def test_a_second_post_over_the_same_period_is_refused_with_a_message(client, project, lighting):
    delivered_units(project, 2)
    shared = rule(project, lighting)
    finance = make_staff(project.company, "finance")
    first = allocation_preview(rule=shared, period_start=START, period_end=END, actor=finance)
    second = allocation_preview(rule=shared, period_start=START.replace(day=2), period_end=END, actor=finance)
    allocation_post(run=first, actor=finance)
    client.force_login(finance)

    response = client.post(reverse("meters:allocationrun_post", args=[second.pk]), follow=True)

    assert "已有已入账的分摊批次" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "draft"


def test_a_runs_shares_export_to_xlsx_with_their_explanations(client, project, lighting):
    units = delivered_units(project, 3)
    finance = make_staff(project.company, "finance")
    run = allocation_preview(rule=rule(project, lighting), period_start=START, period_end=END, actor=finance)
    client.force_login(finance)

    response = client.get(run.get_absolute_url(), {"export": "xlsx"})

    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "房屋编码" and len(rows) == 4
    assert {row[0] for row in rows[1:]} == {unit.code for unit in units}
    assert sum(row[4] for row in rows[1:]) == 1200 and rows[1][5].startswith("公摊 1200 kWh")


def test_a_steward_sees_runs_but_cannot_preview_post_or_export(client, project, lighting):
    delivered_units(project, 2)
    finance = make_staff(project.company, "finance")
    run = allocation_preview(rule=rule(project, lighting), period_start=START, period_end=END, actor=finance)
    client.force_login(make_staff(project.company, "steward"))

    assert client.get(reverse("meters:allocationrun_list")).status_code == 200
    assert client.get(run.get_absolute_url()).status_code == 200
    assert client.get(reverse("meters:allocationrun_add")).status_code == 403
    assert client.post(reverse("meters:allocationrun_post", args=[run.pk])).status_code == 403
    assert client.get(run.get_absolute_url(), {"export": "xlsx"}).status_code == 403
    run.refresh_from_db()
    assert run.status == "draft"


def test_a_user_without_the_right_is_refused_and_another_projects_run_is_not_found(client, project, lighting):
    delivered_units(project, 2)
    finance = make_staff(project.company, "finance")
    run = allocation_preview(rule=rule(project, lighting), period_start=START, period_end=END, actor=finance)

    client.force_login(make_staff(project.company, "cashier"))
    assert client.get(reverse("meters:allocationrun_list")).status_code == 403
    assert client.get(reverse("meters:allocationrule_list")).status_code == 403

    elsewhere = make_staff(project.company, "finance", projects=[make_project(project.company)])
    client.force_login(elsewhere)
    assert client.get(run.get_absolute_url()).status_code == 404
    assert client.get(run.rule.get_absolute_url()).status_code == 404
    assert client.post(reverse("meters:allocationrun_post", args=[run.pk])).status_code == 404
    run.refresh_from_db()
    assert run.status == "draft"
