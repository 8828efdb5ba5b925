"""The allocation API as an integrator or the staff app uses it: rules, preview, post, reverse, shares."""

import pytest

from aishang.core.testing import api_client, make_building, make_company, make_project, make_staff
from aishang.meters.models import AllocationRule, AllocationRun

from .allocation_factories import delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


@pytest.fixture
def project():
    return make_project(make_company())


def test_finance_sets_a_loss_rule_then_previews_posts_and_reverses_a_run(project):
    master = meter(project, role="master")
    household, *others = delivered_units(project, 38)
    read(master, 10000)
    read(meter(project, unit=household, parent=master), 150)
    for unit in others:
        read(meter(project, unit=unit, parent=master), 250)
    finance = api_client(make_staff(project.company, "finance"))

    created = finance.post("/api/v1/allocation-rules/", {"project": project.pk, "name": "1号楼损耗",
                                                         "meter": master.pk, "purpose": "loss",
                                                         "loss_method": "usage"}, format="json")
    assert created.status_code == 201, created.json()
    preview = finance.post("/api/v1/allocation-runs/", {"rule": created.json()["id"], **OCTOBER}, format="json")
    assert preview.status_code == 201, preview.json()
    run = preview.json()
    assert (run["status"], run["meter_usage"], run["sub_meter_usage"], run["loss"], run["total"]) == (
        "draft", "10000.00", "9400.00", "600.00", "600.00")
    shares = finance.get(f"/api/v1/allocation-runs/{run['id']}/shares/", {"page_size": 100}).json()["results"]
    mine = next(share for share in shares if share["unit"] == household.pk)
    assert mine["usage"] == "9.57" and mine["explanation"].startswith("损耗 600 kWh × 本户用量 150")

    posted = finance.post(f"/api/v1/allocation-runs/{run['id']}/post/")
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    again = finance.post(f"/api/v1/allocation-runs/{run['id']}/post/")
    assert again.status_code == 409 and "不能再入账" in again.json()["detail"]
    overlapping = finance.post("/api/v1/allocation-runs/", {"rule": created.json()["id"], **OCTOBER}, format="json")
    assert overlapping.status_code == 400 and "已有已入账的分摊批次" in overlapping.json()["non_field_errors"][0]

    no_reason = finance.post(f"/api/v1/allocation-runs/{run['id']}/reverse/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    reversed_run = finance.post(f"/api/v1/allocation-runs/{run['id']}/reverse/", {"reason": "总表倍率录错"},
                                format="json")
    assert reversed_run.status_code == 200 and reversed_run.json()["status"] == "reversed"
    assert finance.post(f"/api/v1/allocation-runs/{run['id']}/reverse/", {"reason": "再次"},
                        format="json").status_code == 409


def test_a_rule_refuses_a_building_of_another_project_and_a_bad_formula_at_the_field(project):
    lighting = meter(project, role="public")
    finance = api_client(make_staff(project.company, "finance"))
    body = {"project": project.pk, "name": "照明", "meter": lighting.pk}

    elsewhere = finance.post("/api/v1/allocation-rules/", body | {
        "scope": "buildings", "buildings": [make_building(make_project(project.company)).pk]}, format="json")
    empty = finance.post("/api/v1/allocation-rules/", body | {"scope": "buildings"}, format="json")
    formula = finance.post("/api/v1/allocation-rules/", body | {"basis": "weight", "formula": "面积 ×"},
                           format="json")

    assert elsewhere.status_code == 400 and "不属于该项目" in elsewhere.json()["buildings"][0]
    assert empty.status_code == 400 and empty.json()["buildings"] == ["请选择楼栋"]
    assert formula.status_code == 400 and "formula" in formula.json()
    assert not AllocationRule.objects.exists()


def test_changing_the_scope_drops_the_members_of_the_old_one(project):
    lighting = meter(project, role="public")
    building = make_building(project)
    finance = api_client(make_staff(project.company, "finance"))
    created = finance.post("/api/v1/allocation-rules/", {"project": project.pk, "name": "照明", "meter": lighting.pk,
                                                         "scope": "buildings", "buildings": [building.pk]},
                           format="json").json()
    assert created["buildings"] == [building.pk]

    changed = finance.patch(f"/api/v1/allocation-rules/{created['id']}/", {"scope": "project"}, format="json")

    assert changed.status_code == 200 and changed.json()["buildings"] == []


def test_missing_readings_answer_400_and_nothing_is_stored(project):
    delivered_units(project, 2)
    silent = rule(project, meter(project, role="public", name="地库照明"))
    finance = api_client(make_staff(project.company, "finance"))

    response = finance.post("/api/v1/allocation-runs/", {"rule": silent.pk, **OCTOBER}, format="json")

    assert response.status_code == 400 and "没有抄表读数" in response.json()["non_field_errors"][0]
    assert not AllocationRun.objects.exists()


def test_a_steward_reads_runs_but_cannot_preview_post_or_set_rules(project):
    delivered_units(project, 2)
    lighting = meter(project, role="public")
    read(lighting, 10)
    shared = rule(project, lighting)
    finance, steward = (api_client(make_staff(project.company, code)) for code in ("finance", "steward"))
    run = finance.post("/api/v1/allocation-runs/", {"rule": shared.pk, **OCTOBER}, format="json").json()

    assert steward.get(f"/api/v1/allocation-runs/{run['id']}/").status_code == 200
    assert steward.post("/api/v1/allocation-runs/", {"rule": shared.pk, **OCTOBER}, format="json").status_code == 403
    assert steward.post(f"/api/v1/allocation-runs/{run['id']}/post/").status_code == 403
    assert steward.patch(f"/api/v1/allocation-rules/{shared.pk}/", {"notes": "x"}, format="json").status_code == 403
    cashier = api_client(make_staff(project.company, "cashier"))
    assert cashier.get("/api/v1/allocation-runs/").status_code == 403
    assert AllocationRun.objects.get().status == "draft"
