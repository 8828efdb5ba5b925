import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from aishang.billing import services
from aishang.billing.choices import BillingCycle, ChargeMethod
from aishang.billing.models import Account, Bill, BindingTarget, ChargeRule, FeeItem, Posting, RuleBinding, RulePrice
from aishang.billing.services import bill_run_create, bill_run_post, bill_run_preview
from aishang.core.money import money_total
from aishang.core.testing import (
    make_customer,
    make_owner,
    make_parking_space,
    make_unit,
    make_vehicle,
)
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Occupancy

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.date(2026, 11, 1)


def property_fee(project, *, price="1.80", cycle=BillingCycle.MONTHLY, method=ChargeMethod.BUILDING_AREA,
                 effective_from=datetime.date(2020, 1, 1), **fields):
    fee_item, _ = FeeItem.objects.get_or_create(company=project.company, code="WY", defaults={"name": "物业费"})
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name=f"住宅物业费 {price}", method=method,
                                     unit_price=Decimal(price), cycle=cycle, effective_from=effective_from, **fields)
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    return rule


def run_for(project, rule, month=NOVEMBER):
    return bill_run_create(project=project, rules=[rule], period_month=month)


def receivable_balance(project):
    return money_total(Posting.objects.filter(project=project, account=Account.RECEIVABLE))


def test_a_monthly_area_fee_bills_area_times_price(project):
    unit = make_unit(project, area="120.50")
    rule = property_fee(project)

    bill_run_post(run_for(project, rule))

    bill = Bill.objects.get(unit=unit)
    assert bill.amount == Decimal("216.90")
    assert (bill.period_start, bill.period_end) == (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    assert bill.due_date == datetime.date(2026, 11, 15)
    assert "120.50 ㎡" in bill.computation


def test_a_unit_handed_over_mid_month_pays_by_days(project):
    unit = make_unit(project, delivered_on=datetime.date(2026, 1, 12))
    rule = property_fee(project, price="200", method=ChargeMethod.FIXED)

    bill_run_post(run_for(project, rule, datetime.date(2026, 1, 1)))

    assert Bill.objects.get(unit=unit).amount == Decimal("129.03")


def test_a_price_change_inside_a_quarter_splits_it_by_days(project):
    unit = make_unit(project, area="100.00")
    rule = property_fee(project, price="1.80", cycle=BillingCycle.QUARTERLY)
    RulePrice.objects.create(rule=rule, effective_from=datetime.date(2026, 2, 15), unit_price=Decimal("2.00"))

    bill_run_post(run_for(project, rule, datetime.date(2026, 1, 1)))

    bill = Bill.objects.get(unit=unit)
    # January and 1–14 February at 1.80, 15–28 February and March at 2.00, rounded once.
    expected = Decimal(100) * (Decimal("1.80") * (1 + Decimal(14) / 28) + Decimal("2.00") * (Decimal(14) / 28 + 1))
    assert bill.amount == expected.quantize(Decimal("0.01"))
    assert (bill.period_start, bill.period_end) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))


def test_posting_a_run_twice_creates_each_bill_once_and_journals_it_once(project):
    for _ in range(3):
        make_unit(project)
    rule = property_fee(project)
    run = run_for(project, rule)

    bill_run_post(run)
    bill_run_post(run)
    bill_run_post(run_for(project, rule))

    assert Bill.objects.filter(rule=rule).count() == 3
    assert receivable_balance(project) == money_total(Bill.objects.all())


def test_a_run_killed_half_way_and_started_again_ends_with_exactly_the_preview(project, monkeypatch):
    for _ in range(7):
        make_unit(project)
    rule = property_fee(project)
    run = run_for(project, rule)
    preview = bill_run_preview(run)
    monkeypatch.setattr(services, "BATCH_SIZE", 3)
    real_post_batch, batches = services._post_batch, []

    def dying_after_two_batches(*args, **kwargs):
        if len(batches) == 2:
            raise SystemExit("worker killed")
        batches.append(1)
        real_post_batch(*args, **kwargs)

    monkeypatch.setattr(services, "_post_batch", dying_after_two_batches)
    with pytest.raises(SystemExit):
        bill_run_post(run)
    assert Bill.objects.count() == 6
    monkeypatch.setattr(services, "_post_batch", real_post_batch)

    run = bill_run_post(run)

    assert Bill.objects.count() == preview.count == 7
    assert run.total_amount == preview.total == receivable_balance(project)


def test_every_journal_entry_balances(project):
    make_unit(project)
    bill_run_post(run_for(project, property_fee(project)))

    for entry in Posting.objects.values("entry").annotate(total=Sum("amount")):
        assert entry["total"] == 0


def test_the_owner_pays_unless_the_rule_charges_the_tenant(project):
    unit = make_unit(project)
    owner = make_owner(unit)
    tenant = make_customer(project, name="租客")
    Occupancy.objects.create(unit=unit, customer=tenant, role=OccupancyRole.TENANT,
                             start_date=datetime.date(2025, 1, 1))
    owner_rule = property_fee(project)
    tenant_fee = FeeItem.objects.create(company=project.company, code="SF", name="水费")
    tenant_rule = ChargeRule.objects.create(project=project, fee_item=tenant_fee, name="租户固定费", unit_price=10,
                                            method=ChargeMethod.FIXED, effective_from=datetime.date(2020, 1, 1),
                                            charge_tenant=True)
    RuleBinding.objects.create(rule=tenant_rule, target=BindingTarget.UNIT, unit=unit)

    bill_run_post(bill_run_create(project=project, rules=[owner_rule, tenant_rule], period_month=NOVEMBER))

    assert Bill.objects.get(rule=owner_rule).payer == owner
    assert Bill.objects.get(rule=tenant_rule).payer == tenant


def test_the_preview_warns_about_units_without_a_payer_or_an_area(project):
    make_unit(project)
    make_owner(make_unit(project))
    rule = property_fee(project, method=ChargeMethod.INNER_AREA)

    preview = bill_run_preview(run_for(project, rule))

    assert preview.count == 0
    assert any("2 套房屋无法计费（缺少套内面积）" in warning for warning in preview.warnings)


def test_the_preview_names_the_customers_a_rule_cannot_bill(project):
    rule = property_fee(project, method=ChargeMethod.FORMULA, formula="面积 * 单价")
    rule.bindings.all().delete()
    for name in ("王一", "李二"):
        RuleBinding.objects.create(rule=rule, target=BindingTarget.CUSTOMER, customer=make_customer(project, name))

    preview = bill_run_preview(run_for(project, rule))

    assert preview.count == 0
    warning = next(warning for warning in preview.warnings if "无法计费" in warning)
    assert "2 位客户无法计费（缺少建筑面积）" in warning and "王一" in warning and "李二" in warning


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the insert-only trigger is PostgreSQL's")
def test_postgresql_refuses_to_change_a_journal_row(project):
    from django.db import DatabaseError, transaction

    make_unit(project)
    bill_run_post(run_for(project, property_fee(project)))
    posting = Posting.objects.first()

    with pytest.raises(DatabaseError, match="insert-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=0)


@pytest.fixture
def meter_usage():
    """A stand-in for the meters app: usage per unit for whatever rule and period a run asks about."""
    readings = {}

    def source(rule, period):
        return readings

    services.register_usage_source(source)
    yield readings
    services.unregister_usage_source(source)


def test_a_persons_rule_counts_the_people_of_each_unit(project):
    family = make_unit(project)
    owner = make_owner(family)
    for role in (OccupancyRole.RESIDENT, OccupancyRole.RESIDENT):
        Occupancy.objects.create(unit=family, customer=make_customer(project), role=role,
                                 start_date=datetime.date(2024, 1, 1))
    Occupancy.objects.create(unit=family, customer=make_customer(project), role=OccupancyRole.RESIDENT,
                             start_date=datetime.date(2024, 1, 1), end_date=datetime.date(2026, 10, 31))
    single = make_unit(project)
    make_owner(single)
    rule = property_fee(project, price="8.50", method=ChargeMethod.PERSONS)

    bill_run_post(run_for(project, rule))

    assert Bill.objects.get(unit=family).amount == Decimal("25.50")  # 3 people × 8.50, the one who left not counted
    assert Bill.objects.get(unit=family).payer == owner
    assert Bill.objects.get(unit=single).amount == Decimal("8.50")


def test_usage_rules_wait_for_readings_then_bill_what_was_measured(project, meter_usage):
    metered, unread = make_unit(project), make_unit(project)
    rule = property_fee(project, price="0.55", method=ChargeMethod.USAGE, billing_mode="arrears")

    preview = bill_run_preview(run_for(project, rule))
    assert preview.count == 0
    assert any("需在抄表后出账" in warning for warning in preview.warnings)

    meter_usage[metered.pk] = Decimal("123.4")
    run = run_for(project, rule)
    preview = bill_run_preview(run)
    bill_run_post(run)

    bill = Bill.objects.get(rule=rule)
    assert (bill.unit, bill.amount) == (metered, Decimal("67.87"))  # 123.4 × 0.55 = 67.87
    assert (bill.period_start, bill.period_end) == (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
    assert preview.count == 1 and preview.total == bill.amount
    assert any(f"缺少用量），如 {unread.code}" in warning for warning in preview.warnings)


def test_a_tiered_yearly_rule_in_a_run_gives_the_published_example(project, meter_usage):
    unit = make_unit(project)
    rule = property_fee(project, price="0", method=ChargeMethod.TIERED, cycle=BillingCycle.YEARLY,
                        billing_mode="arrears", tiers=[[2520, "0.55"], [4800, "0.60"], [None, "0.85"]])
    meter_usage[unit.pk] = Decimal("3000")

    bill_run_post(run_for(project, rule, datetime.date(2027, 1, 1)))

    bill = Bill.objects.get(unit=unit)
    assert bill.amount == Decimal("1674.00")  # 2520 × 0.55 + 480 × 0.60
    assert (bill.period_start, bill.period_end) == (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))


def test_a_formula_rule_bills_each_unit_and_reports_the_units_it_cannot(project):
    shop = make_unit(project, area="80.00")
    make_owner(shop)
    empty = make_unit(project, area="0")
    rule = property_fee(project, price="5", method=ChargeMethod.FORMULA, formula="面积 × 单价 × 月数 + 10")

    preview = bill_run_preview(run_for(project, rule))
    bill_run_post(run_for(project, rule))

    bill = Bill.objects.get(rule=rule)
    assert (bill.unit, bill.amount) == (shop, Decimal("410.00"))
    assert bill.computation == "公式：面积 × 单价 × 月数 + 10\n80.00 × 5.00 × 1 + 10 = 410.00"
    assert any(f"如 {empty.code}" in warning for warning in preview.warnings)


def test_a_parking_rule_bills_each_space_to_the_owner_of_the_car_parked_there(project):
    rented, empty = make_parking_space(project), make_parking_space(project)
    driver = make_customer(project)
    make_vehicle(project, customer=driver, parking_space=rented)
    make_unit(project)  # units are not charged by a parking rule
    rule = property_fee(project, price="300", method=ChargeMethod.PARKING_SPACE)

    run = run_for(project, rule)
    preview = bill_run_preview(run)
    bill_run_post(run)
    bill_run_post(run)

    bills = Bill.objects.filter(rule=rule).order_by("parking_space_id")
    assert [(b.parking_space, b.unit, b.payer, b.amount) for b in bills] == [
        (rented, None, driver, Decimal("300.00")), (empty, None, None, Decimal("300.00"))]
    assert preview.count == 2 and preview.total == Decimal("600.00")
    assert receivable_balance(project) == Decimal("600.00")


def test_a_rule_bound_to_a_customer_bills_that_customer_once_a_period(project):
    customer = make_customer(project)
    unit = make_unit(project)
    rule = property_fee(project, price="50", method=ChargeMethod.FIXED)
    rule.bindings.all().delete()
    RuleBinding.objects.create(rule=rule, target=BindingTarget.CUSTOMER, customer=customer)
    RuleBinding.objects.create(rule=rule, target=BindingTarget.UNIT, unit=unit)

    bill_run_post(run_for(project, rule))
    bill_run_post(run_for(project, rule))

    bills = Bill.objects.filter(rule=rule)
    assert bills.count() == 2
    assert bills.get(unit__isnull=True).payer == customer
    assert bills.get(unit=unit).amount == Decimal("50.00")
    assert receivable_balance(project) == Decimal("100.00")
