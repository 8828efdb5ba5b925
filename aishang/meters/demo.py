"""The demo's meters: 爱尚花园's flats each have a water and an electricity meter under their building's master
meter, each building a public-lighting meter, and the last three months are read (one rollover, one reading
waiting for review) and allocated (each building's lighting by area, its cable loss by usage), so 抄表出账 and
公摊 have real numbers to work on."""

import datetime
import random
from decimal import Decimal

from aishang.estate.choices import UnitStatus
from aishang.estate.models import Building, Unit

from .choices import (
    AllocationBasis,
    AllocationPurpose,
    AllocationScope,
    LossMethod,
    MeterKind,
    MeterRole,
    ReadingKind,
    ReadingSource,
)
from .models import AllocationRule, Meter, MeterReading
from .readings import reading_usage

READ_MONTHS = 3  # the three months before this one, each read on its last day
INSTALLED = datetime.date(2019, 6, 1)
# kind → (usage of an occupied flat in a month, of an empty one)
MONTHLY_USAGE = {MeterKind.WATER: ((6, 22), (0, 1)), MeterKind.ELECTRICITY: ((90, 420), (2, 12))}
METERED_RULES = [
    # fee item code, name, method, unit price, tiers (per year, 深圳 style), tier basis
    ("SF", "居民阶梯水价", "tiered", "0", [[264, "3.45"], [396, "5.18"], [None, "6.90"]], "per_year"),
    ("DF", "居民阶梯电价", "tiered", "0", [[260, "0.68"], [600, "0.73"], [None, "0.98"]], "per_month"),
]


def _month_ends(today, count):
    first = today.replace(day=1)
    ends = []
    for _ in range(count):
        first_of_previous = (first - datetime.timedelta(days=1)).replace(day=1)
        ends.append(first - datetime.timedelta(days=1))
        first = first_of_previous
    return ends[::-1]


def demo_meters_setup(company, *, today, seed):
    """Meters, three months of readings and the tiered water and electricity rules of 爱尚花园."""
    from aishang.billing.models import BindingTarget, ChargeRule, FeeItem, RuleBinding

    rng = random.Random(f"{seed}-meters")
    project = company.projects.get(name="爱尚花园")
    meters, unit_status = [], {}
    masters = {}
    for building in Building.objects.filter(project=project).order_by("weight", "pk"):
        masters[building.pk] = Meter(project=project, kind=MeterKind.ELECTRICITY, role=MeterRole.MASTER,
                                     number=f"E-{building.code}-ZB", name=f"{building}配电房总表", building=building,
                                     multiplier=Decimal("80"), digits=6, install_date=INSTALLED)
        meters.append(masters[building.pk])
        meters.append(Meter(project=project, kind=MeterKind.ELECTRICITY, role=MeterRole.PUBLIC,
                            number=f"E-{building.code}-GQ", name=f"{building}公区照明", building=building,
                            digits=6, install_date=INSTALLED))
    Meter.objects.bulk_create(meters)
    unit_meters = []
    for unit in Unit.objects.filter(project=project).exclude(status=UnitStatus.UNDELIVERED).order_by("pk"):
        unit_status[unit.pk] = unit.status
        for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
            unit_meters.append(Meter(
                project=project, kind=kind, role=MeterRole.UNIT, number=f"{prefix}-{unit.code}", unit=unit,
                building_id=unit.building_id, install_date=INSTALLED,
                parent=masters[unit.building_id] if kind == MeterKind.ELECTRICITY else None,
                initial_reading=Decimal(rng.randint(100, 3000))))
    # One lived-in flat's old water meter is about to turn past 99999.
    next(meter for meter in unit_meters if meter.kind == MeterKind.WATER
         and unit_status[meter.unit_id] != UnitStatus.VACANT).initial_reading = Decimal("99985")
    Meter.objects.bulk_create(unit_meters)
    _read(project, meters + unit_meters, unit_status, _month_ends(today, READ_MONTHS), rng)

    _allocate(project, masters, _month_ends(today, READ_MONTHS))

    items = {item.code: item for item in FeeItem.objects.filter(company=company)}
    for code, name, method, price, tiers, basis in METERED_RULES:
        rule = ChargeRule.objects.create(project=project, fee_item=items[code], name=name, method=method,
                                         unit_price=price, tiers=tiers, tier_limit_basis=basis,
                                         billing_mode="arrears", effective_from=datetime.date(2024, 1, 1))
        RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)


def _allocate(project, masters, days):
    """Each building's public lighting shared by area and its cable loss by usage, posted for every month read,
    so the electricity bills of those months carry the shares."""
    from .allocation_runs import allocation_post, allocation_preview

    rules = []
    for building_id, master in masters.items():
        lighting = Meter.objects.get(project=project, building_id=building_id, role=MeterRole.PUBLIC)
        for meter, name, purpose, basis in ((lighting, "公区照明公摊", AllocationPurpose.SHARED, AllocationBasis.AREA),
                                            (master, "线损分摊", AllocationPurpose.LOSS, AllocationBasis.USAGE)):
            rule = AllocationRule.objects.create(
                project=project, meter=meter, name=f"{master.building}{name}", purpose=purpose, basis=basis,
                loss_method=LossMethod.USAGE, scope=AllocationScope.BUILDINGS)
            rule.buildings.set([building_id])
            rules.append(rule)
    for day in days:
        for rule in rules:
            run = allocation_preview(rule=rule, period_start=day.replace(day=1), period_end=day, actor=None)
            # Posted knowingly, as finance did then: the months' 待复核 readings stay for the review page to show.
            allocation_post(run=run, actor=None, confirm_unreviewed=True)


def _read(project, meters, unit_status, days, rng):
    """Readings as the grid would record them, made in bulk: the demo reads some 9,000 of them."""
    readings, previous = [], {meter.pk: (meter.initial_reading, meter.install_date) for meter in meters}
    children_usage = {}
    for index, day in enumerate(days):
        for meter in meters:
            if meter.role == MeterRole.MASTER:
                continue
            low, high = _usage_range(meter, unit_status)
            used = Decimal(rng.randint(low, high))
            if index == len(days) - 1 and meter.pk == meters[-1].pk:
                used = Decimal(high * 4)  # a leak: more than three times the usual, waiting for review
            readings.append(_reading(project, meter, previous, day, used))
            if meter.parent_id:
                children_usage[meter.parent_id, day] = children_usage.get((meter.parent_id, day), 0) + used
        for meter in meters:
            if meter.role == MeterRole.MASTER:
                # The master meter counts its flats plus 3–6 % lost in the cables, on an 80× transformer.
                measured = children_usage.get((meter.pk, day), 0) * Decimal(rng.randint(103, 106)) / 100
                readings.append(_reading(project, meter, previous, day, (measured / meter.multiplier).quantize(1)))
    MeterReading.objects.bulk_create(readings, batch_size=2000)


def _usage_range(meter, unit_status):
    if meter.role == MeterRole.PUBLIC:
        return 600, 900
    occupied, empty = MONTHLY_USAGE[meter.kind]
    return empty if unit_status[meter.unit_id] == UnitStatus.VACANT else occupied


def _reading(project, meter, previous, day, dial_advance):
    last_value, last_day = previous[meter.pk]
    value = last_value + dial_advance
    kind = ReadingKind.NORMAL
    if value >= meter.rollover_at:
        value -= meter.rollover_at
        kind = ReadingKind.ROLLOVER
    usage = reading_usage(last_value, value, digits=meter.digits, multiplier=meter.multiplier,
                          rollover=kind == ReadingKind.ROLLOVER)
    previous[meter.pk] = (value, day)
    flagged = meter.role == MeterRole.UNIT and dial_advance > MONTHLY_USAGE[meter.kind][0][1] * 3
    return MeterReading(project=project, meter=meter, kind=kind, read_on=day, value=value, previous_on=last_day,
                        previous_value=last_value, usage=usage, flagged=flagged,
                        flag_reason="用量超过近期平均的 3 倍" if flagged else "", source=ReadingSource.WEB)
