import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from aishang.billing import services
from aishang.billing.choices import ChargeMethod
from aishang.billing.models import Account, Bill, BindingTarget, ChargeRule, FeeItem, JournalEntry, Posting, RuleBinding
from aishang.billing.services import bill_run_create, bill_run_post, bill_run_preview
from aishang.core.testing import make_customer, make_occupancy, make_owner, make_unit
from aishang.customers.choices import OccupancyRole
from aishang.estate.models import Unit

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.date(2026, 11, 1)
BILL_FIELDS = ("unit_id", "payer_id", "fee_item_id", "rule_id", "run_id", "project_id", "kind", "period_start",
               "period_end", "due_date", "amount", "computation", "created_at")


def area_rule(project, price="1.80", method=ChargeMethod.BUILDING_AREA):
    fee_item, _ = FeeItem.objects.get_or_create(company=project.company, code="WY", defaults={"name": "物业费"})
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name=f"物业费 {price}", method=method,
                                     unit_price=Decimal(price), effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    return rule


def bill_rows():
    return list(Bill.objects.order_by("unit_id").values_list(*BILL_FIELDS))


def receivable(project):
    return Posting.objects.filter(project=project, account=Account.RECEIVABLE).aggregate(t=Sum("amount"))["t"]


def test_identical_units_are_computed_once_and_charged_alike(project, monkeypatch):
    units = [make_unit(project, area="88.00") for _ in range(5)]
    units.append(make_unit(project, area="120.50"))
    units.append(make_unit(project, area="88.00", delivered_on=datetime.date(2026, 11, 12)))
    units.append(make_unit(project, area="88.00", delivered_on=datetime.date(2026, 10, 3)))
    rule = ChargeRule.objects.get(pk=area_rule(project).pk)
    calls = []
    real_charge = services._charge
    monkeypatch.setattr(services, "_charge", lambda *args, **kwargs: calls.append(args) or real_charge(*args, **kwargs))

    charges = list(services.bill_run_charges(bill_run_create(project=project, rules=[rule], period_month=NOVEMBER)))

    # 88 ㎡ whole month (also the unit handed over before November), 120.50 ㎡, and 88 ㎡ from the 12th.
    assert len(calls) == 3
    assert [c.unit_id for c in charges] == [u.pk for u in units]
    period = charges[0].period
    for charge, unit in zip(charges, units, strict=True):
        assert (charge.amount, charge.computation) == services.unit_charge(rule, unit, period,
                                                                           services.rule_price_changes(rule))
    assert charges[0].amount == Decimal("158.40")
    assert charges[6].amount == Decimal("100.32")  # 88 × 1.80 × 19/30


def test_the_database_path_inserts_the_same_rows_as_bulk_create(project):
    owned = make_unit(project, area="99.99")
    owner = make_owner(owned)
    make_unit(project, area="120.50", delivered_on=datetime.date(2026, 11, 30))
    make_unit(project, area="0.01")
    run = bill_run_create(project=project, rules=[area_rule(project)], period_month=NOVEMBER)
    source = next(services._run_sources(run))
    rows = list(source.rows)
    now = timezone.now()

    services._create_bills(run, source.plan, source.charges(rows), now)
    created = bill_rows()
    Bill.objects.all().delete()
    insert = services._copy_bills if connection.vendor == "postgresql" else services._create_bills
    insert(run, source.plan, source.charges(rows), now)

    assert bill_rows() == created
    assert created[0][:2] == (owned.pk, owner.pk)
    assert created[1][-2].startswith("计费期间 2026-11-30\n120.50 ㎡ × 1.80 元/㎡/月 × 1/30 月")


def test_a_batch_that_meets_an_existing_bill_in_the_middle_inserts_only_the_rest(project):
    for area in ("80.00", "90.00", "100.00", "110.00", "120.00"):
        make_unit(project, area=area)
    run = bill_run_create(project=project, rules=[area_rule(project)], period_month=NOVEMBER)
    source = next(services._run_sources(run))
    rows = list(source.rows)
    services._post_batch(run, source, rows[2:3], None)

    services._post_batch(run, source, rows, None)

    assert Bill.objects.count() == 5
    assert sorted(Bill.objects.values_list("unit_id", flat=True)) == list(map(source.subject_id, rows))
    assert JournalEntry.objects.count() == 2
    assert receivable(project) == Bill.objects.aggregate(t=Sum("amount"))["t"] == Decimal("900.00")


def test_a_concurrent_run_caught_by_the_unique_constraint_is_read_again(project, monkeypatch):
    for _ in range(4):
        make_unit(project)
    run = bill_run_create(project=project, rules=[area_rule(project)], period_month=NOVEMBER)
    source = next(services._run_sources(run))
    rows = list(source.rows)
    services._post_batch(run, source, rows[1:2], None)
    real_existing, seen = services._existing_subjects, []

    def blind_first_time(source, batch):
        # The other run commits its bill after this run has looked.
        seen.append(1)
        return set() if len(seen) == 1 else real_existing(source, batch)

    monkeypatch.setattr(services, "_existing_subjects", blind_first_time)

    services._post_batch(run, source, rows, None)

    assert len(seen) == 2
    assert Bill.objects.count() == 4
    assert receivable(project) == Bill.objects.aggregate(t=Sum("amount"))["t"]


def test_each_batch_journals_its_own_totals_and_the_run_its_count(project, monkeypatch):
    for _ in range(5):
        make_unit(project, area="100.00")
    run = bill_run_create(project=project, rules=[area_rule(project)], period_month=NOVEMBER)
    preview = bill_run_preview(run)
    monkeypatch.setattr(services, "BATCH_SIZE", 2)

    run = bill_run_post(run)

    assert run.bill_count == preview.count == 5
    assert run.total_amount == preview.total == Decimal("900.00")
    assert sorted(Posting.objects.filter(account=Account.RECEIVABLE).values_list("amount", flat=True)) == [
        Decimal("180.00"), Decimal("360.00"), Decimal("360.00")]


def test_the_bench_command_prints_the_ratio_last_and_leaves_nothing_behind():
    units, bills = Unit.objects.count(), Bill.objects.count()
    out = StringIO()

    call_command("bench_billrun", units=300, stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert "300 bills" in next(line for line in lines if line.startswith("bill run:"))
    assert lines[-1].startswith("ratio: ") and float(lines[-1].split()[1]) > 0
    assert (Unit.objects.count(), Bill.objects.count()) == (units, bills)


# A run mixing rules, areas, hand-overs, owners and tenants.


def mixed_units(project):
    """Areas shared and not, hand-overs before and inside the month, no area, owners, tenants, ended rows."""
    units = [make_unit(project, area=area, inner_area=inner) for area, inner in
             (("88.00", Decimal("70.00")), ("88.00", Decimal("70.00")), ("120.50", None), ("0", None))]
    units.append(make_unit(project, area="88.00", delivered_on=datetime.date(2026, 11, 12), inner_area=Decimal("70")))
    units.append(make_unit(project, area="88.00", delivered_on=datetime.date(2026, 11, 1)))
    units.append(make_unit(project, area="99.99", delivered_on=datetime.date(2026, 10, 3)))
    units.append(make_unit(project, area="66.00", delivered_on=datetime.date(2026, 11, 30)))
    make_owner(units[0])
    make_occupancy(units[0], make_customer(project), role=OccupancyRole.TENANT)
    payer = make_customer(project)
    make_occupancy(units[0], payer, role=OccupancyRole.TENANT, is_payer=True)
    make_occupancy(units[1], make_customer(project), role=OccupancyRole.OWNER)
    make_occupancy(units[1], make_customer(project), role=OccupancyRole.OWNER)  # two owners, neither the payer
    make_occupancy(units[2], make_customer(project), role=OccupancyRole.OWNER, end_date=datetime.date(2026, 10, 31))
    make_occupancy(units[2], make_customer(project), role=OccupancyRole.TENANT)  # a tenant but no owner
    make_occupancy(units[3], make_customer(project), role=OccupancyRole.OWNER, start_date=datetime.date(2026, 11, 2))
    make_owner(units[4])
    make_occupancy(units[4], make_customer(project), role=OccupancyRole.RESIDENT)
    make_owner(units[6])
    make_occupancy(units[6], make_customer(project), role=OccupancyRole.TENANT, end_date=datetime.date(2026, 11, 1))
    return units


def mixed_rules(project):
    fee_item = FeeItem.objects.create(company=project.company, code="GT", name="公摊费")
    rules = [area_rule(project), area_rule(project, price="2.35", method=ChargeMethod.INNER_AREA),
             area_rule(project, price="30", method=ChargeMethod.FIXED),
             ChargeRule.objects.create(project=project, fee_item=fee_item, name="公式", method=ChargeMethod.FORMULA,
                                       formula="(建筑面积 - 套内面积) × 单价 × 月数 + 1", unit_price=Decimal("0.75"),
                                       effective_from=datetime.date(2026, 11, 9))]
    RuleBinding.objects.create(rule=rules[3], target=BindingTarget.PROJECT)
    ChargeRule.objects.filter(pk__in=[rules[1].pk, rules[3].pk]).update(charge_tenant=True)
    return list(ChargeRule.objects.filter(pk__in=[rule.pk for rule in rules]).select_related("fee_item")
                .prefetch_related("bindings").order_by("pk"))


def test_reposting_a_mixed_run_bills_and_journals_once_with_each_rules_payer(project, monkeypatch):
    units = mixed_units(project)
    rules = mixed_rules(project)
    run = bill_run_create(project=project, rules=rules, period_month=NOVEMBER)
    preview = bill_run_preview(run)
    monkeypatch.setattr(services, "BATCH_SIZE", 3)

    run = bill_run_post(run)
    entries = JournalEntry.objects.count()
    run = bill_run_post(run)

    assert JournalEntry.objects.count() == entries
    assert (run.bill_count, run.total_amount) == (preview.count, preview.total) == (
        Bill.objects.count(), receivable(project))
    assert any("无法计费" in warning for warning in preview.warnings)  # the unit without an area
    day = datetime.date(2026, 11, 1)
    for rule in rules:
        expected = services.payers_on(project, day, tenant_first=rule.charge_tenant)
        billed = dict(Bill.objects.filter(rule=rule).values_list("unit_id", "payer_id"))
        assert billed == {unit.pk: expected.get(unit.pk) for unit in units if unit.pk in billed}
    payers = dict(Bill.objects.filter(unit=units[0]).values_list("rule_id", "payer_id"))
    assert payers[rules[1].pk] != payers[rules[0].pk]  # the tenant who pays, not the owner


def test_a_mixed_run_killed_between_batches_and_resumed_bills_each_unit_once(project, monkeypatch):
    mixed_units(project)
    rules = mixed_rules(project)
    run = bill_run_create(project=project, rules=rules, period_month=NOVEMBER)
    preview = bill_run_preview(run)
    monkeypatch.setattr(services, "BATCH_SIZE", 3)
    real_post_batch, batches = services._post_batch, []

    def killed_after_three_batches(run, source, rows, actor):
        if len(batches) == 3:
            raise SystemExit("worker killed")
        batches.append(rows)
        real_post_batch(run, source, rows, actor)

    monkeypatch.setattr(services, "_post_batch", killed_after_three_batches)
    with pytest.raises(SystemExit):
        bill_run_post(run)
    assert 0 < Bill.objects.count() < preview.count
    monkeypatch.setattr(services, "_post_batch", real_post_batch)

    run = bill_run_post(run)

    assert not Bill.objects.values("rule", "unit", "period_start").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert (run.bill_count, run.total_amount) == (preview.count, preview.total) == (
        Bill.objects.count(), receivable(project))
