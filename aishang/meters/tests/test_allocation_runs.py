"""Allocation runs end to end: readings in, shares out, preview → post → reverse, and the billing selector."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from aishang.core.testing import (
    make_building,
    make_customer,
    make_entrance,
    make_fee_item,
    make_occupancy,
    make_project,
    make_unit,
)
from aishang.estate.models import Unit
from aishang.meters.allocation_runs import allocation_post, allocation_preview, allocation_reverse, unit_shares
from aishang.meters.models import AllocationRule, AllocationRun, AllocationShare
from aishang.meters.readings import meter_replace

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
D = Decimal
START, END = OCTOBER


def preview(a_rule, actor, start=START, end=END):
    return allocation_preview(rule=a_rule, period_start=start, period_end=end, actor=actor)


def shares_of(run):
    return {share.unit_id: share for share in run.shares.all()}


def test_a_master_of_10000_over_sub_meters_of_9400_gives_a_150_kwh_household_9_57_kwh_of_the_600_loss(
        project, finance):
    master = meter(project, role="master", name="1号楼总表")
    household, *others = delivered_units(project, 38)
    read(master, 10000)
    read(meter(project, unit=household, parent=master), 150)
    for unit in others:
        read(meter(project, unit=unit, parent=master), 250)  # 37 × 250 = 9250, with the household 9400
    loss_rule = rule(project, master, purpose="loss", loss_method="usage")

    run = preview(loss_rule, finance)

    assert (run.meter_usage, run.sub_meter_usage, run.loss, run.total) == (D("10000"), D("9400"), D("600"), D("600"))
    share = shares_of(run)[household.pk]
    assert share.usage == D("9.57") and share.weight == D("150")
    assert share.explanation.startswith("损耗 600 kWh × 本户用量 150 / 分表合计 9400 = 9.57 kWh")
    assert run.shares.aggregate(total=Sum("usage"))["total"] == D("600.00")
    assert run.status == "draft" and run.unit_count == 38


def test_1200_kwh_of_public_lighting_over_10000_square_metres_gives_a_100_square_metre_unit_12_kwh(
        project, finance):
    lighting = meter(project, role="public", name="公区照明")
    units = delivered_units(project, 100)
    read(lighting, 1200)

    run = preview(rule(project, lighting), finance)

    assert run.total == D("1200") and run.purpose == "shared" and run.method == "按面积"
    assert {share.usage for share in run.shares.all()} == {D("12.00")}
    assert shares_of(run)[units[0].pk].explanation == "公摊 1200 kWh × 本户面积 100 ㎡ / 总面积 10000 ㎡ = 12.00 kWh"


def test_shares_across_a_building_of_uneven_areas_add_up_exactly_and_remainders_are_explained(project, finance):
    building = make_building(project)
    units = [make_unit(project, building=building, area=area, delivered_on=datetime.date(2026, 1, 1))
             for area in ("89.37", "120.50", "143.21", "66.66", "101.01", "77.77", "98.30")]
    elsewhere = delivered_units(project, 2)  # another building: outside the rule's scope
    lighting = meter(project, role="public", kind="water")
    read(lighting, D("100.01"))

    run = preview(rule(project, lighting, scope="buildings", buildings=[building]), finance)

    shares = shares_of(run)
    assert set(shares) == {unit.pk for unit in units} and not set(shares) & {unit.pk for unit in elsewhere}
    assert sum(share.usage for share in shares.values()) == D("100.01")
    assert any("按最大余数法补足尾差" in share.explanation for share in shares.values())
    assert all("m³" in share.explanation for share in shares.values())


def test_vacant_undelivered_units_are_left_out_unless_the_rule_includes_all_units(project, finance):
    building = make_building(project)
    delivered = make_unit(project, building=building, area="100", delivered_on=datetime.date(2026, 10, 20))
    later = make_unit(project, building=building, area="100", delivered_on=datetime.date(2026, 11, 5))
    undelivered = make_unit(project, building=building, area="100", status="undelivered")
    rented = make_unit(project, building=building, area="100", status="rented")
    lived_in = make_unit(project, building=building, area="100")
    make_occupancy(lived_in, make_customer(project), role="resident", start_date=datetime.date(2026, 10, 10))
    owned_only = make_unit(project, building=building, area="100")
    make_occupancy(owned_only, make_customer(project), role="owner")
    lighting = meter(project, role="public")
    read(lighting, 300)

    by_default = shares_of(preview(rule(project, lighting), finance))
    everyone = shares_of(preview(rule(project, lighting, include_all_units=True), finance))

    assert set(by_default) == {delivered.pk, rented.pk, lived_in.pk}
    assert set(everyone) == {delivered.pk, later.pk, undelivered.pk, rented.pk, lived_in.pk, owned_only.pk}
    assert sum(share.usage for share in everyone.values()) == D("300")


def test_an_entrance_or_a_set_of_units_can_be_the_scope(project, finance):
    building = make_building(project)
    east_units = delivered_units(project, 3, area="80", building=building)
    east = east_units[0].entrance
    west_unit = delivered_units(project, 1, area="80", building=building)[0]
    west = make_entrance(building, code="2")
    Unit.objects.filter(pk=west_unit.pk).update(entrance=west)
    elevator = meter(project, role="public", name="1单元电梯")
    read(elevator, 90)

    by_entrance = shares_of(preview(rule(project, elevator, scope="entrances", entrances=[east]), finance))
    chosen = shares_of(preview(rule(project, elevator, scope="units", units=[east_units[0], west_unit],
                                    basis="household"), finance))

    assert set(by_entrance) == {unit.pk for unit in east_units}
    assert {share.usage for share in by_entrance.values()} == {D("30.00")}
    assert set(chosen) == {east_units[0].pk, west_unit.pk}
    assert chosen[west_unit.pk].usage == D("45.00") and "÷ 2 户" in chosen[west_unit.pk].explanation


def test_a_formula_basis_weighs_each_unit_by_its_area_and_persons(project, finance):
    small, large = delivered_units(project, 1, area="50")[0], delivered_units(project, 1, area="150")[0]
    for _ in range(2):
        make_occupancy(small, make_customer(project), role="resident")
    lift = meter(project, role="public")
    read(lift, 100)

    run = preview(rule(project, lift, basis="weight", formula="建筑面积 + 人数 × 25"), finance)

    shares = shares_of(run)
    assert (shares[small.pk].weight, shares[large.pk].weight) == (D("100"), D("150"))
    assert (shares[small.pk].usage, shares[large.pk].usage) == (D("40.00"), D("60.00"))
    assert "本户权重 100 / 权重合计 250" in shares[small.pk].explanation


def test_persons_and_usage_bases_read_occupancies_and_the_units_own_meters(project, finance):
    first, second = delivered_units(project, 2)
    make_occupancy(first, make_customer(project), role="resident")
    for _ in range(3):
        make_occupancy(second, make_customer(project), role="resident")
    read(meter(project, unit=first), 30)
    read(meter(project, unit=second), 10)
    read(meter(project, unit=second), 20)  # a unit's meters of the same kind add up
    pump = meter(project, role="public")
    read(pump, 80)

    by_persons = shares_of(preview(rule(project, pump, basis="persons"), finance))
    by_usage = shares_of(preview(rule(project, pump, basis="usage"), finance))

    assert (by_persons[first.pk].usage, by_persons[second.pk].usage) == (D("20.00"), D("60.00"))
    assert (by_usage[first.pk].usage, by_usage[second.pk].usage) == (D("40.00"), D("40.00"))


def test_a_fixed_loss_coefficient_gives_each_unit_its_usage_times_the_coefficient(project, finance):
    master = meter(project, role="master")
    first, second = delivered_units(project, 2)
    read(meter(project, unit=first, parent=master), 150)
    read(meter(project, unit=second, parent=master), D("33.3"))

    run = preview(rule(project, master, purpose="loss", loss_method="coefficient", loss_coefficient="0.05"), finance)

    shares = shares_of(run)
    assert (shares[first.pk].usage, shares[second.pk].usage) == (D("7.50"), D("1.67"))
    assert run.total == D("9.17") and run.meter_usage is None and run.loss is None


def test_a_negative_loss_is_allocated_as_it_is_and_every_share_warns(project, finance):
    master = meter(project, role="master")
    first, second = delivered_units(project, 2)
    read(master, 100)
    read(meter(project, unit=first, parent=master), 60)
    read(meter(project, unit=second, parent=master), 60)

    run = preview(rule(project, master, purpose="loss", loss_method="area"), finance)

    assert run.loss == D("-20") and run.total == D("-20")
    assert all(share.explanation.startswith("负损耗") and share.usage == D("-10.00") for share in run.shares.all())


def test_missing_data_is_refused_with_the_problem_and_the_units_named_and_nothing_stored(project, finance):
    lighting = meter(project, role="public", name="地库照明")
    zero = delivered_units(project, 1, area="0")[0]
    delivered_units(project, 2)
    by_area = rule(project, lighting)

    with pytest.raises(ValidationError, match="地库照明 在 2026-10-01 ～ 2026-10-31 没有抄表读数"):
        preview(by_area, finance)
    read(lighting, 50)
    with pytest.raises(ValidationError, match=f"未登记建筑面积.*{zero.code}"):
        preview(by_area, finance)
    nobody = rule(project, lighting, basis="persons")
    with pytest.raises(ValidationError, match="人数合计为 0"):
        preview(nobody, finance)
    empty = rule(project, lighting, scope="buildings", buildings=[make_building(project)])
    with pytest.raises(ValidationError, match="没有参与分摊的房屋"):
        preview(empty, finance)
    assert not AllocationRun.objects.exists() and not AllocationShare.objects.exists()


def test_a_formula_that_cannot_be_evaluated_names_the_units(project, finance):
    without_inner_area = delivered_units(project, 1)[0]
    lighting = meter(project, role="public")
    read(lighting, 10)
    formula_rule = rule(project, lighting, basis="weight", formula="套内面积")

    with pytest.raises(ValidationError, match=f"缺少变量「套内面积」的值.*{without_inner_area.code}"):
        preview(formula_rule, finance)


def test_a_rule_checks_its_meter_formula_and_coefficient_at_the_field(project):
    public, unit_meter = meter(project, role="public"), meter(project, unit=delivered_units(project, 1)[0])
    cases = [
        (dict(meter=public, purpose="loss"), "meter", "计算损耗须选择总表"),
        (dict(meter=unit_meter), "meter", "公摊须选择公区表或总表，不能是户表"),
        (dict(meter=public, basis="weight", formula="面积 × "), "formula", "公式"),
        (dict(meter=public, basis="weight", formula="楼层"), "formula", "楼层"),
        (dict(meter=meter(project, role="master"), purpose="loss", loss_method="coefficient"), "loss_coefficient",
         "须填写损耗系数"),
        (dict(meter=meter(make_project(project.company), role="public")), "meter", "不属于该项目"),
    ]
    for fields, field, message in cases:
        with pytest.raises(ValidationError) as refused:
            AllocationRule(project=project, name="规则", **fields).full_clean()
        assert message in " ".join(refused.value.message_dict[field]), (fields, refused.value.message_dict)


def test_preview_post_reverse_and_the_period_is_free_again(project, finance):
    delivered_units(project, 4)
    lighting = meter(project, role="public")
    read(lighting, 40)
    lighting_rule = rule(project, lighting)

    run = allocation_post(run=preview(lighting_rule, finance), actor=finance)
    assert run.status == "posted" and run.posted_by == finance and run.posted_at

    with pytest.raises(ValidationError, match="不能再入账"):
        allocation_post(run=run, actor=finance)
    with pytest.raises(ValidationError, match="已有已入账的分摊批次"):
        preview(lighting_rule, finance, start=datetime.date(2026, 10, 15), end=datetime.date(2026, 11, 14))
    with pytest.raises(ValidationError) as no_reason:
        allocation_reverse(run=run, actor=finance, reason="  ")
    assert no_reason.value.message_dict == {"reason": ["请填写冲销原因"]}

    run = allocation_reverse(run=run, actor=finance, reason="总表读数抄错")
    assert (run.status, run.reversed_by, run.reverse_reason) == ("reversed", finance, "总表读数抄错")
    with pytest.raises(ValidationError, match="只有已入账的分摊批次可以冲销"):
        allocation_reverse(run=run, actor=finance, reason="再冲一次")
    again = allocation_post(run=preview(lighting_rule, finance), actor=finance)
    assert again.status == "posted"


def test_of_two_drafts_over_overlapping_periods_only_the_first_posts(project, finance):
    delivered_units(project, 2)
    lighting = meter(project, role="public")
    read(lighting, 40)
    lighting_rule = rule(project, lighting)
    first = preview(lighting_rule, finance)
    second = preview(lighting_rule, finance, start=datetime.date(2026, 10, 2))
    other_rule_run = preview(rule(project, lighting), finance)

    allocation_post(run=first, actor=finance)

    with pytest.raises(ValidationError, match=f"（#{first.pk}）"):
        allocation_post(run=second, actor=finance)
    second.refresh_from_db()
    assert second.status == "draft"
    assert allocation_post(run=other_rule_run, actor=finance).status == "posted"


def test_unit_shares_returns_posted_runs_only_by_kind_or_fee_item(project, finance):
    unit = delivered_units(project, 1)[0]
    lighting, water = meter(project, role="public"), meter(project, role="public", kind="water")
    read(lighting, 40)
    read(water, 7)
    fee_item = make_fee_item(project.company, name="公摊电费")
    kind_rule = rule(project, lighting, name="公区照明")
    billed_rule = rule(project, lighting, name="电梯", fee_item=fee_item)
    posted = allocation_post(run=preview(kind_rule, finance), actor=finance)
    allocation_post(run=preview(billed_rule, finance), actor=finance)
    allocation_post(run=preview(rule(project, water, name="二次供水"), finance), actor=finance)
    preview(rule(project, lighting, name="草稿"), finance)  # a draft never counts
    reversed_run = allocation_post(run=preview(rule(project, lighting, name="冲销的"), finance), actor=finance)
    allocation_reverse(run=reversed_run, actor=finance, reason="重算")

    electricity = unit_shares(project_id=project.pk, kind="electricity", start=START, end=END)
    billed = unit_shares(project_id=project.pk, fee_item_id=fee_item.pk, start=START, end=END)

    assert electricity == {unit.pk: [(D("40.00"), "公区照明", posted.shares.get().explanation)]}
    assert [(usage, name) for usage, name, _text in billed[unit.pk]] == [(D("40.00"), "电梯")]
    assert unit_shares(project_id=project.pk, kind="water", start=START, end=END)[unit.pk][0][1] == "二次供水"
    assert unit_shares(project_id=project.pk, kind="electricity", start=START,
                       end=datetime.date(2026, 10, 30)) == {}  # the run's period is not within the range


def test_unit_shares_costs_one_query(project, finance, django_assert_num_queries):
    delivered_units(project, 5)
    lighting = meter(project, role="public")
    read(lighting, 40)
    allocation_post(run=preview(rule(project, lighting), finance), actor=finance)

    with django_assert_num_queries(1):
        shares = unit_shares(project_id=project.pk, kind="electricity", start=START, end=END)
    assert len(shares) == 5


def test_a_preview_takes_a_handful_of_queries_however_many_units(project, finance, django_assert_max_num_queries):
    master = meter(project, role="master")
    units = delivered_units(project, 60)
    read(master, 1000)
    for unit in units:
        read(meter(project, unit=unit, parent=master), 15)
    loss_rule = rule(project, master, purpose="loss", loss_method="usage")

    with django_assert_max_num_queries(12):
        run = preview(loss_rule, finance)
    assert run.unit_count == 60 and run.total == D("100")


def test_an_inactive_rule_is_not_previewed(project, finance):
    delivered_units(project, 1)
    lighting = meter(project, role="public")
    read(lighting, 1)
    stopped = rule(project, lighting, is_active=False)
    with pytest.raises(ValidationError, match="已停用"):
        preview(stopped, finance)
    assert AllocationRule.objects.get(pk=stopped.pk).runs.count() == 0


def test_a_shared_meter_replaced_in_the_period_counts_the_old_and_the_new_meters_usage(project, finance):
    delivered_units(project, 2)
    master = meter(project, role="master")
    unit_meters = [meter(project, unit=unit, parent=master) for unit in Unit.objects.filter(project=project)]
    read(master, 100, on=datetime.date(2026, 10, 10))
    _final, successor = meter_replace(meter=master, final_value=D("150"), on=datetime.date(2026, 10, 15),
                                      number="M-NEW", initial_reading=D("0"), actor=finance)  # 50 more on the old
    read(successor, 30)
    for unit_meter in unit_meters:
        read(unit_meter, 80)

    run = preview(rule(project, master, purpose="loss", loss_method="usage"), finance)

    assert (run.meter_usage, run.sub_meter_usage, run.loss) == (D("180"), D("160"), D("20"))


def test_a_new_preview_replaces_the_rules_earlier_draft_of_the_same_period_only(project, finance):
    delivered_units(project, 3)
    lighting = meter(project, role="public")
    read(lighting, 30)
    lighting_rule = rule(project, lighting)
    posted = allocation_post(run=preview(lighting_rule, finance, end=datetime.date(2026, 10, 31)), actor=finance)
    allocation_reverse(run=posted, actor=finance, reason="重算")
    other_period = preview(lighting_rule, finance, start=datetime.date(2026, 10, 2))
    first = preview(lighting_rule, finance)

    second = preview(lighting_rule, finance)

    assert set(AllocationRun.objects.values_list("pk", flat=True)) == {posted.pk, other_period.pk, second.pk}
    assert not AllocationShare.objects.filter(run_id=first.pk).exists()
