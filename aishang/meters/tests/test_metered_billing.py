"""抄表出账: bill runs price the units' readings of the period, tiered where the rule says so, per building."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from aishang.billing.choices import BillingMode, ChargeMethod, FeeCategory, TierLimitBasis
from aishang.billing.models import Bill, BillRun
from aishang.billing.periods import Period
from aishang.billing.services import bill_run_create, bill_run_post, bill_run_preview
from aishang.core.testing import (
    api_client,
    make_building,
    make_charge_rule,
    make_company,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    make_unit,
)
from aishang.meters.allocation_runs import allocation_post, allocation_preview, allocation_reverse
from aishang.meters.choices import MeterKind, MeterRole, ReadingKind
from aishang.meters.models import Meter
from aishang.meters.readings import reading_record
from aishang.meters.usage import metered_usage

from .allocation_factories import meter
from .allocation_factories import read as read_usage
from .allocation_factories import rule as allocation_rule

D = Decimal
DECEMBER = datetime.date(2026, 12, 1)  # a 后收 monthly run in December bills November's readings

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    project = make_project(make_company())
    one, two = make_building(project), make_building(project)
    units = [make_unit(project, building=one), make_unit(project, building=one), make_unit(project, building=two)]
    for unit in units:
        make_owner(unit)
    return project, (one, two), units, make_staff(project.company)


def water_meter(unit, number, *, initial="100", **fields):
    return Meter.objects.create(project=unit.project, kind=MeterKind.WATER, role=MeterRole.UNIT, unit=unit,
                                number=number, install_date=datetime.date(2026, 1, 1), initial_reading=D(initial),
                                **fields)


def read(meter, value, day, actor, **kwargs):
    return reading_record(meter=meter, value=D(value), read_on=day, actor=actor, **kwargs)


def water_rule(project, **fields):
    item = make_fee_item(project.company, name="水费", category=FeeCategory.WATER)
    fields.setdefault("method", ChargeMethod.USAGE)
    return make_charge_rule(project, fee_item=item, price="4.20", billing_mode=BillingMode.ARREARS, **fields)


def test_a_run_bills_each_unit_its_readings_of_the_period_and_shows_them(estate):
    project, _buildings, (first, second, _third), clerk = estate
    meter = water_meter(first, "W-101")
    read(meter, "112", datetime.date(2026, 10, 31), clerk)  # October: not this period
    read(meter, "130", datetime.date(2026, 11, 30), clerk)
    kitchen, garden = water_meter(second, "W-201"), water_meter(second, "W-202", initial="99990", digits=5)
    read(kitchen, "110", datetime.date(2026, 11, 28), clerk)
    read(garden, "15", datetime.date(2026, 11, 28), clerk, kind=ReadingKind.ROLLOVER)
    rule = water_rule(project)

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=DECEMBER))

    bills = {bill.unit_id: bill for bill in Bill.objects.filter(rule=rule)}
    assert set(bills) == {first.pk, second.pk}  # the third unit has no reading: no bill yet
    assert bills[first.pk].amount == D("75.60")  # 18 × 4.20
    assert (bills[first.pk].period_start, bills[first.pk].period_end) == (datetime.date(2026, 11, 1),
                                                                          datetime.date(2026, 11, 30))
    assert "水表 W-101：2026-10-31 读数 112 → 2026-11-30 读数 130，用量 18" in bills[first.pk].computation
    assert bills[second.pk].amount == D("147.00")  # (10 + 25) × 4.20: two meters (一户多表), one rolled over
    assert "水表 W-202：2026-01-01 读数 99990 → 2026-11-28 读数 15（翻表），用量 25" in bills[second.pk].computation
    assert "W-201" in bills[second.pk].computation


def test_a_metered_bill_in_arrears_falls_due_in_the_month_it_is_billed(client, estate):
    project, _buildings, (unit, _second, _third), clerk = estate
    read(water_meter(unit, "W-101"), "118", datetime.date(2026, 11, 30), clerk)
    rule = water_rule(project, due_day=15)

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=DECEMBER))

    bill = Bill.objects.get(rule=rule)
    assert bill.period_end == datetime.date(2026, 11, 30)
    assert bill.due_date == datetime.date(2026, 12, 15)  # November's usage, billed in December, due in December
    client.force_login(make_staff(project.company, "finance"))
    assert "账期结束后次月 15 日" in client.get(reverse("billing:chargerule_detail", args=[rule.pk])).content.decode()


def test_tier_limits_are_scaled_to_the_period(estate):
    project, _buildings, (unit, _second, _third), clerk = estate
    read(water_meter(unit, "W-101", initial="0"), "300", datetime.date(2026, 11, 30), clerk)
    rule = water_rule(project, method=ChargeMethod.TIERED, tier_limit_basis=TierLimitBasis.PER_YEAR,
                      tiers=[[2520, "3.45"], [4800, "4.83"], [None, "5.83"]])

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=DECEMBER))

    bill = Bill.objects.get(rule=rule)
    # 2520 a year is 210 a month: 210 × 3.45 + 90 × 4.83 = 724.50 + 434.70
    assert bill.amount == D("1159.20")
    assert "折算到本期 = 210" in bill.computation


def test_a_metered_run_for_one_building_leaves_the_others_for_later(estate):
    project, (one, _two), (first, second, third), clerk = estate
    for unit, number in ((first, "W-1"), (second, "W-2"), (third, "W-3")):
        read(water_meter(unit, number), "110", datetime.date(2026, 11, 30), clerk)
    rule = water_rule(project)

    run = bill_run_create(project=project, rules=[rule], period_month=DECEMBER, buildings=[one])
    assert bill_run_preview(run).count == 2
    bill_run_post(run)
    assert set(Bill.objects.filter(rule=rule).values_list("unit_id", flat=True)) == {first.pk, second.pk}

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=DECEMBER))
    assert Bill.objects.filter(rule=rule).count() == 3  # the whole project's run adds only the other building's


def test_the_metered_run_page_offers_usage_rules_and_the_project_buildings(client, estate):
    project, (one, two), _units, clerk = estate
    rule = water_rule(project)
    area_rule = make_charge_rule(project, name="物业费标准")
    other_building = make_building(make_project(project.company))
    client.force_login(clerk)

    page = client.get(f"/billing/runs/add/metered/?project={project.pk}")
    assert page.status_code == 200
    rules = list(page.context["form"].fields["rules"].queryset)
    assert rules == [rule] and area_rule not in rules
    assert set(page.context["form"].fields["buildings"].queryset) == {one, two}

    refused = client.post("/billing/runs/add/metered/", {
        "project": project.pk, "period_month": "2026-12", "rules": [rule.pk], "buildings": [other_building.pk]})
    assert refused.status_code == 400 and "buildings" in refused.context["form"].errors
    assert not BillRun.objects.exists()

    created = client.post("/billing/runs/add/metered/", {
        "project": project.pk, "period_month": "2026-12", "rules": [rule.pk], "buildings": [one.pk]})
    run = BillRun.objects.get()
    assert created.status_code == 302 and list(run.buildings.all()) == [one]
    assert str(one) in client.get(run.get_absolute_url()).content.decode()


def test_the_api_creates_a_run_for_some_buildings(estate):
    project, (one, _two), _units, clerk = estate
    rule = water_rule(project)
    api = api_client(clerk)

    created = api.post("/api/v1/bill-runs/", {"project": project.pk, "rules": [rule.pk], "buildings": [one.pk],
                                              "period_month": "2026-12"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["buildings"] == [one.pk]

    elsewhere = make_building(make_project(project.company))
    refused = api.post("/api/v1/bill-runs/", {"project": project.pk, "rules": [rule.pk],
                                              "buildings": [elsewhere.pk], "period_month": "2026-12"}, format="json")
    assert refused.status_code == 400 and "buildings" in refused.json()


def test_posted_shares_add_to_the_units_usage_and_a_named_fee_item_bills_them_apart(estate):
    project, (one, _two), (first, second, _third), clerk = estate
    for unit in (first, second):
        unit.delivered_on = datetime.date(2026, 1, 1)
        unit.building_area = D("100.00")
        unit.save()
    lighting, lift = meter(project, role="public", name="公区照明"), meter(project, role="public", name="电梯")
    read_usage(lighting, 30)
    read_usage(lift, 50)
    for unit in (first, second):
        read_usage(meter(project, unit=unit), 100)
    lift_fee = make_fee_item(project.company, name="电梯公摊电费", category=FeeCategory.SHARED)
    electricity = make_fee_item(project.company, name="电费", category=FeeCategory.ELECTRICITY)
    runs = [allocation_preview(rule=allocation_rule(project, lighting, scope="buildings", buildings=[one]),
                               period_start=datetime.date(2026, 10, 1), period_end=datetime.date(2026, 10, 31),
                               actor=clerk),
            allocation_preview(rule=allocation_rule(project, lift, scope="buildings", buildings=[one],
                                                    fee_item=lift_fee),
                               period_start=datetime.date(2026, 10, 1), period_end=datetime.date(2026, 10, 31),
                               actor=clerk)]
    for run in runs:
        allocation_post(run=run, actor=clerk)
    rules = [make_charge_rule(project, fee_item=item, price="0.60", method=ChargeMethod.USAGE,
                              billing_mode=BillingMode.ARREARS) for item in (electricity, lift_fee)]

    bill_run_post(bill_run_create(project=project, rules=rules, period_month=datetime.date(2026, 11, 1)))

    own = Bill.objects.get(rule=rules[0], unit=first)
    assert own.amount == D("69.00")  # (100 own + 15 of the lighting's 30 by area) × 0.60
    assert "分摊「" in own.computation
    assert "公摊 30 kWh × 本户面积 100 ㎡ / 总面积 200 ㎡ = 15.00 kWh" in own.computation
    assert "合计用量 115" in own.computation
    apart = Bill.objects.get(rule=rules[1], unit=first)
    assert apart.amount == D("15.00")  # 25 of the lift's 50 × 0.60, on its own fee item
    assert Bill.objects.filter(rule=rules[1]).count() == 2

    allocation_reverse(run=runs[0], actor=clerk, reason="读数有误")
    october = Period(own.period_start, own.period_end)
    assert metered_usage(rules[0], october)[first.pk].value == D("100")  # a reversed run's shares no longer count
