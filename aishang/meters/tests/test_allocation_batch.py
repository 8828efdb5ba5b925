"""一键分摊: many rules of a project previewed and posted at once give what previewing them one by one gives."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aishang.core.testing import (
    make_building,
    make_customer,
    make_entrance,
    make_occupancy,
    make_project,
    make_unit,
)
from aishang.estate.models import Unit
from aishang.meters.allocation_runs import (
    _write_shares,
    allocation_post,
    allocation_post_many,
    allocation_preview,
    allocation_preview_many,
    batch_rules,
)
from aishang.meters.models import AllocationRun, AllocationShare
from aishang.meters.readings import meter_replace

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
D = Decimal
START, END = OCTOBER


def estate_of_rules(project, finance):
    """Two buildings and a rule of every kind over them: losses, public meters, scopes, bases, a replaced meter."""
    north, south = make_building(project), make_building(project)
    north_units = delivered_units(project, 7, area="89.37", building=north)
    south_units = delivered_units(project, 4, area="120.5", building=south)
    west = make_entrance(south, code="2")
    Unit.objects.filter(pk=south_units[0].pk).update(entrance=west)
    make_unit(project, building=north, area="70", status="undelivered")
    lived_in = make_unit(project, building=south, area="66.6")
    make_occupancy(lived_in, make_customer(project), role="resident", start_date=datetime.date(2026, 10, 10))
    for unit in north_units[:3]:
        make_occupancy(unit, make_customer(project), role="resident")
    north_master, south_master = meter(project, role="master"), meter(project, role="master")
    for index, unit in enumerate(north_units):
        read(meter(project, unit=unit, parent=north_master), 13 + index * D("7.31"))
    for index, unit in enumerate(south_units):
        read(meter(project, unit=unit, parent=south_master), 40 + index)
    read(north_master, 1000, on=datetime.date(2026, 10, 10))
    _final, successor = meter_replace(meter=north_master, final_value=north_master.initial_reading + 1100,
                                      on=datetime.date(2026, 10, 15), number="M-NEW", initial_reading=D("0"),
                                      actor=finance)
    read(successor, 37)
    read(south_master, 100)  # less than its sub-meters: a negative loss
    lighting, water = meter(project, role="public"), meter(project, role="public", kind="water")
    read(lighting, D("777.77"))
    read(water, 50)
    return [
        rule(project, north_master, purpose="loss", loss_method="usage"),
        rule(project, south_master, purpose="loss", loss_method="area"),
        rule(project, south_master, purpose="loss", loss_method="coefficient", loss_coefficient="0.07"),
        rule(project, lighting),
        rule(project, lighting, scope="buildings", buildings=[north, south], include_all_units=True),
        rule(project, lighting, scope="entrances", entrances=[west, north_units[0].entrance], basis="household"),
        rule(project, lighting, scope="units", units=[south_units[2], north_units[4], lived_in], basis="persons",
             include_all_units=True),
        rule(project, lighting, basis="usage"),
        rule(project, water, basis="weight", formula="建筑面积 + 人数 × 10"),
    ]


def snapshot(runs):
    return [((run.rule_id, run.total, run.meter_usage, run.sub_meter_usage, run.loss, run.unit_count, run.method),
             list(AllocationShare.objects.filter(run=run).order_by("id")
                  .values_list("unit_id", "weight", "usage", "explanation")))
            for run in runs]


def test_previewing_many_rules_at_once_gives_what_previewing_them_one_by_one_gives(project, finance):
    rules = estate_of_rules(project, finance)
    one_by_one = snapshot([allocation_preview(rule=r, period_start=START, period_end=END, actor=finance)
                           for r in rules])

    at_once = allocation_preview_many(rules=rules, period_start=START, period_end=END, actor=finance)

    assert snapshot(at_once) == one_by_one
    assert AllocationRun.objects.count() == len(rules)  # the one-by-one drafts were replaced
    assert any("负损耗" in explanation for _run, shares in one_by_one for *_s, explanation in shares)
    assert any("精确值" in explanation for _run, shares in one_by_one for *_s, explanation in shares)


def test_many_rules_take_the_queries_of_one(project, finance, django_assert_max_num_queries):
    rules = estate_of_rules(project, finance)

    with django_assert_max_num_queries(16):
        runs = allocation_preview_many(rules=rules, period_start=START, period_end=END, actor=finance)
    with django_assert_max_num_queries(8):
        allocation_post_many(runs=runs, actor=finance)

    assert set(AllocationRun.objects.values_list("status", flat=True)) == {"posted"}


def test_a_batch_with_failing_rules_is_refused_naming_each_and_nothing_is_stored(project, finance):
    units = delivered_units(project, 2)
    lighting, dark = meter(project, role="public"), meter(project, role="public", name="地库照明")
    read(lighting, 100)
    good = rule(project, lighting, name="照明公摊")
    unread = rule(project, dark, name="地库公摊")
    nobody = rule(project, lighting, name="空单元公摊", scope="units", units=[make_unit(project, area="80")])
    allocation_post(run=allocation_preview(rule=good, period_start=START, period_end=END, actor=finance),
                    actor=finance)
    again = rule(project, lighting, name="照明公摊二")

    with pytest.raises(ValidationError) as refused:
        allocation_preview_many(rules=[again, unread, nobody, good], period_start=START, period_end=END,
                                actor=finance)

    messages = refused.value.messages
    assert len(messages) == 3
    assert messages[0].startswith("分摊规则「地库公摊」：") and "没有抄表读数" in messages[0]
    assert messages[1].startswith("分摊规则「空单元公摊」：") and "没有参与分摊的房屋" in messages[1]
    assert "分摊规则「照明公摊」在 2026-10-01 ～ 2026-10-31 已有已入账的分摊批次" in messages[2]
    assert AllocationRun.objects.count() == 1 and len(units) == 2


def test_posting_many_is_all_or_nothing_and_names_each_refused_run(project, finance):
    delivered_units(project, 2)
    lighting = meter(project, role="public")
    read(lighting, 100)
    first, second = rule(project, lighting, name="甲"), rule(project, lighting, name="乙")
    runs = allocation_preview_many(rules=[first, second], period_start=START, period_end=END, actor=finance)
    overlapping = allocation_preview(rule=second, period_start=datetime.date(2026, 10, 15),
                                     period_end=datetime.date(2026, 11, 14), actor=finance)
    allocation_post(run=runs[0], actor=finance)

    with pytest.raises(ValidationError) as refused:
        allocation_post_many(runs=[*runs, overlapping], actor=finance)

    assert refused.value.messages == [
        f"分摊批次 #{runs[0].pk}（甲）：该分摊批次已入账，不能再入账",
        f"分摊批次 #{overlapping.pk}（乙）：分摊规则「乙」在 2026-10-01 ～ 2026-10-31 已有已入账的分摊批次"
        f"（#{runs[1].pk}），期间不能重叠；如需重算，请先冲销该批次"]
    assert AllocationRun.objects.get(pk=runs[1].pk).status == "draft"

    posted = allocation_post_many(runs=[runs[1]], actor=finance)
    assert posted[0].status == "posted" and posted[0].posted_by == finance


def test_rules_of_two_projects_are_not_allocated_together(project, finance):
    other = make_project(project.company)
    rules = []
    for each in (project, other):
        delivered_units(each, 1)
        lighting = meter(each, role="public")
        read(lighting, 10)
        rules.append(rule(each, lighting))

    with pytest.raises(ValidationError, match="一次只能分摊同一项目的分摊规则"):
        allocation_preview_many(rules=rules, period_start=START, period_end=END, actor=finance)


def test_batch_rules_are_the_projects_active_rules_less_those_posted_for_the_period(project, finance):
    delivered_units(project, 1)
    lighting = meter(project, role="public")
    read(lighting, 10)
    posted, pending = rule(project, lighting, name="甲"), rule(project, lighting, name="乙")
    rule(project, lighting, name="丙", is_active=False)
    allocation_post(run=allocation_preview(rule=posted, period_start=START, period_end=END, actor=finance),
                    actor=finance)

    assert batch_rules(project=project, period_start=START, period_end=END) == ([pending], [posted])


def test_shares_written_in_bulk_keep_tabs_newlines_and_backslashes(project, finance):
    unit = delivered_units(project, 1)[0]
    lighting = meter(project, role="public")
    read(lighting, 10)
    run = allocation_preview(rule=rule(project, lighting), period_start=START, period_end=END, actor=finance)
    text = "甲\t乙\\丙\n丁\r戊"
    run.shares.all().delete()

    _write_shares([(run.pk, unit.pk, D("1.500000"), D("-0.01"), text)])

    written = AllocationShare.objects.get(run=run)
    assert (written.explanation, written.weight, written.usage) == (text, D("1.5"), D("-0.01"))
