"""A run computed from readings still 待复核 says so on its preview, and is posted only when that is confirmed."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aishang.core.testing import api_client
from aishang.meters.allocation_runs import (
    allocation_post,
    allocation_post_many,
    allocation_preview,
    allocation_preview_many,
    unreviewed_readings,
)
from aishang.meters.models import AllocationRun, MeterReading
from aishang.meters.readings import reading_approve

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
START, END = OCTOBER


def flag(reading, reason="用量 900 超过近 3 期平均 100 的 3 倍"):
    MeterReading.objects.filter(pk=reading.pk).update(flagged=True, flag_reason=reason)
    reading.refresh_from_db()
    return reading


@pytest.fixture
def building(project):
    """A master meter over three flats' meters, and a public lighting meter, all read in October."""
    master = meter(project, role="master", name="1号楼总表")
    lighting = meter(project, role="public", name="1号楼公区照明")
    units = delivered_units(project, 3)
    flats = [meter(project, unit=unit, parent=master) for unit in units]
    readings = {
        "master": read(master, 1000),
        "lighting": read(lighting, 300),
        "flats": [read(flat, 300) for flat in flats],
    }
    return master, lighting, units, flats, readings


def test_a_master_meter_reading_flagged_as_unusual_is_named_on_the_loss_runs_preview(project, finance):
    master = meter(project, role="master", name="1号楼总表")
    (unit,) = delivered_units(project, 1)
    read(meter(project, unit=unit, parent=master), 50)
    for day in (5, 10, 15):
        read(master, 100, on=datetime.date(2026, 10, day))
    unusual = read(master, 900)  # more than three times the average of 100
    assert unusual.flagged

    run = allocation_preview(
        rule=rule(project, master, purpose="loss"), period_start=START, period_end=END, actor=finance
    )

    assert [reading.pk for reading in unreviewed_readings([run])[run.pk]] == [unusual.pk]
    assert str(unreviewed_readings([run])[run.pk][0]) == f"{master.number}（1号楼总表）2026-10-31 用量 900.00"


def test_a_loss_run_is_computed_from_its_sub_meters_too_but_a_shared_run_by_area_is_not(project, finance, building):
    master, _lighting, _units, _flats, readings = building
    flat_reading = flag(readings["flats"][1])
    loss = rule(project, master, purpose="loss")
    by_area = rule(project, master, purpose="shared", basis="area", name="总表按面积")

    loss_run, area_run = allocation_preview_many(
        rules=[loss, by_area], period_start=START, period_end=END, actor=finance
    )

    found = unreviewed_readings([loss_run, area_run])
    assert {run_id: [reading.pk for reading in readings] for run_id, readings in found.items()} == {
        loss_run.pk: [flat_reading.pk]
    }


def test_a_run_by_usage_names_only_the_flagged_readings_of_its_own_units(project, finance, building):
    _master, lighting, units, flats, readings = building
    flag(readings["flats"][0])
    flag(readings["flats"][2])
    by_usage = rule(project, lighting, basis="usage", scope="units", units=units[:2])

    run = allocation_preview(rule=by_usage, period_start=START, period_end=END, actor=finance)

    assert [reading.meter_id for reading in unreviewed_readings([run])[run.pk]] == [flats[0].pk]


def test_a_fixed_loss_coefficient_does_not_read_the_master_meter(project, finance, building):
    master, _lighting, _units, _flats, readings = building
    flag(readings["master"])
    coefficient = rule(project, master, purpose="loss", loss_method="coefficient", loss_coefficient="0.05")

    run = allocation_preview(rule=coefficient, period_start=START, period_end=END, actor=finance)

    assert unreviewed_readings([run]) == {}


def test_posting_a_run_with_unreviewed_readings_needs_a_confirmation(project, finance, building):
    master, _lighting, _units, _flats, readings = building
    flag(readings["master"])
    run = allocation_preview(
        rule=rule(project, master, purpose="loss"), period_start=START, period_end=END, actor=finance
    )

    with pytest.raises(Exception) as refused:
        allocation_post(run=run, actor=finance)

    assert list(refused.value.message_dict) == ["confirm_unreviewed"]
    assert refused.value.message_dict["confirm_unreviewed"][0].startswith(
        f"所用读数中有 1 条待复核：{master.number}（1号楼总表）2026-10-31 用量 1000.00；请先复核这些读数"
    )
    run.refresh_from_db()
    assert run.status == "draft"
    assert allocation_post(run=run, actor=finance, confirm_unreviewed=True).status == "posted"


def test_a_reading_reviewed_after_the_preview_lets_the_run_post_without_a_confirmation(project, finance, building):
    master, _lighting, _units, _flats, readings = building
    flag(readings["master"])
    run = allocation_preview(
        rule=rule(project, master, purpose="loss"), period_start=START, period_end=END, actor=finance
    )

    reading_approve(reading=readings["master"], actor=finance)

    assert allocation_post(run=run, actor=finance).status == "posted"


def test_a_batch_names_each_run_that_needs_a_confirmation_and_posts_none(project, finance, building):
    master, lighting, _units, _flats, readings = building
    flag(readings["lighting"])
    loss, shared = rule(project, master, purpose="loss", name="损耗"), rule(project, lighting, name="照明")
    runs = allocation_preview_many(rules=[loss, shared], period_start=START, period_end=END, actor=finance)

    with pytest.raises(Exception) as refused:
        allocation_post_many(runs=runs, actor=finance)

    assert refused.value.message_dict["confirm_unreviewed"] == [
        f"分摊批次 #{runs[1].pk}（照明）：所用读数中有 1 条待复核：{lighting.number}（1号楼公区照明）2026-10-31 用量 "
        "300.00；请先复核这些读数，或确认使用待复核读数后再入账"
    ]
    assert set(AllocationRun.objects.values_list("status", flat=True)) == {"draft"}
    allocation_post_many(runs=runs, actor=finance, confirm_unreviewed=True)
    assert set(AllocationRun.objects.values_list("status", flat=True)) == {"posted"}


def test_finding_the_unreviewed_readings_of_many_runs_takes_four_queries(project, finance, building):
    master, lighting, _units, _flats, readings = building
    flag(readings["master"])
    flag(readings["flats"][0])
    rules = [
        rule(project, master, purpose="loss"),
        rule(project, lighting, basis="usage"),
        rule(project, lighting, basis="area", name="照明按面积"),
    ]
    runs = allocation_preview_many(rules=rules, period_start=START, period_end=END, actor=finance)

    with CaptureQueriesContext(connection) as queries:
        found = unreviewed_readings(runs)

    assert len(queries) == 4
    assert {run_id: len(found_readings) for run_id, found_readings in found.items()} == {runs[0].pk: 2, runs[1].pk: 1}


# Pages


def test_the_preview_page_warns_and_posts_only_with_the_box_ticked(client, project, finance, building):
    master, _lighting, _units, _flats, readings = building
    flag(readings["master"])
    run = allocation_preview(
        rule=rule(project, master, purpose="loss"), period_start=START, period_end=END, actor=finance
    )
    client.force_login(finance)

    page = client.get(run.get_absolute_url()).content.decode()
    assert "本批次所用读数中有 1 条待复核" in page and "确认使用待复核读数" in page
    assert reverse("meters:reading_review", args=[readings["master"].pk]) in page

    refused = client.post(reverse("meters:allocationrun_post", args=[run.pk]), follow=True)
    assert "所用读数中有 1 条待复核" in refused.content.decode()
    run.refresh_from_db()
    assert run.status == "draft"

    client.post(reverse("meters:allocationrun_post", args=[run.pk]), {"confirm_unreviewed": "1"})
    run.refresh_from_db()
    assert run.status == "posted"
    assert "本批次所用读数中有" not in client.get(run.get_absolute_url()).content.decode()


def test_the_batch_page_warns_and_posts_all_only_with_the_box_ticked(client, project, finance, building):
    master, lighting, _units, _flats, readings = building
    flag(readings["lighting"])
    runs = allocation_preview_many(
        rules=[rule(project, master, purpose="loss"), rule(project, lighting)],
        period_start=START,
        period_end=END,
        actor=finance,
    )
    client.force_login(finance)
    query = {"project": project.pk, "month": "2026-10"}

    page = client.get(reverse("meters:allocationrun_batch"), query).content.decode()
    assert "这些批次所用读数中有 1 条待复核" in page and 'name="confirm_unreviewed"' in page
    body = {"run": [run.pk for run in runs]}

    refused = client.post(reverse("meters:allocationrun_post_batch"), body, follow=True)
    assert "所用读数中有 1 条待复核" in refused.content.decode()
    assert set(AllocationRun.objects.values_list("status", flat=True)) == {"draft"}
    client.post(reverse("meters:allocationrun_post_batch"), {**body, "confirm_unreviewed": "1"})
    assert set(AllocationRun.objects.values_list("status", flat=True)) == {"posted"}


# API


def test_the_api_preview_lists_the_unreviewed_readings_and_post_needs_confirm_unreviewed(project, finance, building):
    master, _lighting, _units, _flats, readings = building
    flag(readings["master"])
    loss = rule(project, master, purpose="loss")
    api = api_client(finance)

    preview = api.post(
        "/api/v1/allocation-runs/", {"rule": loss.pk, "period_start": START, "period_end": END}, format="json"
    )

    assert preview.status_code == 201, preview.json()
    run = preview.json()
    assert run["unreviewed_readings"] == [
        {
            "id": readings["master"].pk,
            "meter": master.pk,
            "meter_number": master.number,
            "place": "1号楼总表",
            "read_on": "2026-10-31",
            "usage": "1000.00",
            "reason": "用量 900 超过近 3 期平均 100 的 3 倍",
        }
    ]
    assert api.get(f"/api/v1/allocation-runs/{run['id']}/").json()["unreviewed_readings"] == run["unreviewed_readings"]
    refused = api.post(f"/api/v1/allocation-runs/{run['id']}/post/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["confirm_unreviewed"][0].startswith("所用读数中有 1 条待复核")
    posted = api.post(f"/api/v1/allocation-runs/{run['id']}/post/", {"confirm_unreviewed": True}, format="json")
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    assert posted.json()["unreviewed_readings"] == []


def test_the_api_batch_shows_and_needs_the_confirmation_too(project, finance, building):
    master, lighting, _units, _flats, readings = building
    flag(readings["lighting"])
    rule(project, master, purpose="loss", name="损耗")
    rule(project, lighting, name="照明")
    api = api_client(finance)

    drafts = api.post(
        "/api/v1/allocation-runs/batch/",
        {"project": project.pk, "period_start": START, "period_end": END},
        format="json",
    ).json()

    assert [len(run["unreviewed_readings"]) for run in drafts] == [0, 1]
    ids = [run["id"] for run in drafts]
    refused = api.post("/api/v1/allocation-runs/post-batch/", {"runs": ids}, format="json")
    assert refused.status_code == 400 and refused.json()["confirm_unreviewed"][0].startswith(f"分摊批次 #{ids[1]}")
    listed = api.get("/api/v1/allocation-runs/", {"status": "draft"}).json()["results"]
    assert sorted(len(run["unreviewed_readings"]) for run in listed) == [0, 1]
    posted = api.post("/api/v1/allocation-runs/post-batch/", {"runs": ids, "confirm_unreviewed": True}, format="json")
    assert posted.status_code == 200 and {run["status"] for run in posted.json()} == {"posted"}
