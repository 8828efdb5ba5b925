"""Bill runs: preview, then post idempotently in batches, with the ledger written in the same transactions."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.core.money import fraction_to_decimal, money_total, quantize_amount
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Occupancy
from aishang.estate.models import Unit

from .choices import ChargeMethod
from .ledger import journal_post
from .models import Account, Bill, BillKind, BillRun, BillRunStatus, BindingTarget, ChargeRule
from .periods import Period, due_date, period_to_bill, split_by_effective_dates

BATCH_SIZE = 20_000
INSERT_BATCH_SIZE = 2000
CHARGE_CACHE_SIZE = 100_000
NULL = "\\N"
BILL_COPY = ("COPY billing_bill (unit_id, payer_id, amount, computation, project_id, fee_item_id, rule_id, run_id, "
             "kind, period_start, period_end, due_date, created_at) FROM STDIN")
AREA_METHODS = {
    ChargeMethod.BUILDING_AREA: ("building_area", "建筑面积"),
    ChargeMethod.INNER_AREA: ("inner_area", "套内面积"),
}
RUN_METHODS = {ChargeMethod.FIXED, ChargeMethod.BUILDING_AREA, ChargeMethod.INNER_AREA}


@dataclass(frozen=True)
class Charge:
    rule: ChargeRule
    unit_id: int
    building_id: int
    payer_id: int | None
    period: Period
    amount: Decimal
    computation: str


@dataclass
class Preview:
    count: int
    total: Decimal
    by_fee_item: dict
    by_building: dict
    samples: list
    warnings: list


def bill_run_create(*, project, rules, period_month, actor=None):
    run = BillRun.objects.create(project=project, period_month=period_month.replace(day=1), created_by=actor)
    run.rules.set(rules)
    return run


def rule_units(rule):
    """The units a rule is bound to, as a queryset (a unit bound twice is charged once)."""
    condition = Q()
    for binding in rule.bindings.all():
        if binding.target == BindingTarget.PROJECT:
            condition |= Q(project_id=rule.project_id)
        elif binding.target == BindingTarget.BUILDING:
            condition |= Q(building_id=binding.building_id)
        elif binding.target == BindingTarget.PROPERTY_TYPE:
            condition |= Q(property_type_id=binding.property_type_id)
        elif binding.target == BindingTarget.UNIT:
            condition |= Q(pk=binding.unit_id)
    if not condition:
        return Unit.objects.none()
    return Unit.objects.filter(condition, project_id=rule.project_id)


def payers_on(project, day, *, tenant_first):
    """unit id → the customer responsible on a day: the tenant where the rule says so, else the owner."""
    occupancies = (Occupancy.objects.current(day).filter(unit__project=project,
                                                         role__in=[OccupancyRole.OWNER, OccupancyRole.TENANT])
                   .order_by("unit_id", "-is_payer", "id").values_list("unit_id", "role", "customer_id"))
    owners, tenants = {}, {}
    for unit_id, role, customer_id in occupancies:
        (owners if role == OccupancyRole.OWNER else tenants).setdefault(unit_id, customer_id)
    return {**owners, **tenants} if tenant_first else owners


def rule_price_changes(rule):
    return [(rule.effective_from, rule.unit_price), *rule.prices.values_list("effective_from", "unit_price")]


def unit_charge(rule, unit, period, price_changes):
    """The amount and its computation for one unit and period, rounded once with the fee item's rule."""
    quantity = getattr(unit, AREA_METHODS[rule.method][0]) if rule.method in AREA_METHODS else None
    return _charge(rule, quantity, unit.delivered_on, period, price_changes)


def _charge(rule, quantity, delivered_on, period, price_changes):
    fee_item = rule.fee_item
    # Charging starts at the later of the rule's start and the unit's hand-over (交付), by days.
    starts = [day for day in (rule.effective_from, delivered_on) if day]
    active = period.intersection(max(starts), rule.effective_to)
    if active is None:
        return None
    if rule.method in AREA_METHODS:
        label = AREA_METHODS[rule.method][1]
        if not quantity:
            return None
        unit_label = f"{quantity} ㎡ × "
    else:
        quantity, label, unit_label = Decimal(1), "", ""
    total = Fraction(0)
    steps = []
    for priced in split_by_effective_dates(active, price_changes):
        months = priced.period.months
        part = Fraction(quantity) * Fraction(priced.price) * months
        total += part
        steps.append(f"{unit_label}{priced.price} 元 × {fraction_to_decimal(months, 4).normalize()} 月"
                     f"（{priced.period.label}）")
    amount = quantize_amount(total, precision=fee_item.precision, rounding=fee_item.rounding)
    text = " + ".join(steps) + f" = {fraction_to_decimal(total, 4).normalize()} → {amount}"
    return amount, (f"{label} " if label else "") + text


@dataclass(frozen=True, eq=False)
class RulePlan:
    """What every bill of one rule in one run shares."""

    rule: ChargeRule
    period: Period
    due_date: datetime.date


@dataclass(frozen=True)
class UnitCharge:
    """One unit's charge; identical units share one (amount, computation, its COPY text)."""

    amount: Decimal
    computation: str
    copy_text: str


def _copy_escape(text):
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _rule_charges(run, rule):
    """(plan, unit id, building id, payer id, UnitCharge) for each unit the rule bills, in unit order.

    Units come as plain tuples, and the charge is computed once per distinct (quantity, hand-over
    inside the period): a project's units share a few hundred areas, not a million.
    """
    period = period_to_bill(rule.cycle, datetime.date(run.period_month.year, 1, 1), run.period_month,
                            rule.billing_mode)
    plan = RulePlan(rule, period, due_date(period, rule=rule.due_date_rule, value=rule.due_day))
    payers = payers_on(run.project, period.start, tenant_first=rule.charge_tenant)
    price_changes = rule_price_changes(rule)
    quantity_field = AREA_METHODS[rule.method][0] if rule.method in AREA_METHODS else None
    quantity = Value(None, output_field=DecimalField()) if quantity_field is None else F(quantity_field)
    units = rule_units(rule).order_by("pk").values_list("pk", "building_id", quantity, "delivered_on")
    first_day = period.start
    cache = {}
    for unit_id, building_id, quantity, delivered_on in units.iterator(chunk_size=BATCH_SIZE):
        if delivered_on is not None and delivered_on <= first_day:
            delivered_on = None
        key = (quantity, delivered_on)
        charge = cache.get(key)
        if charge is None:
            if len(cache) >= CHARGE_CACHE_SIZE:
                cache.clear()
            result = _charge(rule, quantity, delivered_on, period, price_changes)
            charge = cache[key] = (UnitCharge(result[0], result[1], f"{result[0]}\t{_copy_escape(result[1])}")
                                   if result else False)
        if charge:
            yield plan, unit_id, building_id, payers.get(unit_id), charge


def _run_charges(run):
    for rule in run.rules.select_related("fee_item").prefetch_related("bindings"):
        if rule.method in RUN_METHODS and rule.is_active:
            yield from _rule_charges(run, rule)


def bill_run_charges(run):
    """Every charge the run would post, streamed rule by rule and unit by unit."""
    for plan, unit_id, building_id, payer_id, charge in _run_charges(run):
        yield Charge(plan.rule, unit_id, building_id, payer_id, plan.period, charge.amount, charge.computation)


def bill_run_preview(run, *, samples=5):
    by_fee_item, by_building = defaultdict(Decimal), defaultdict(Decimal)
    count, total, shown, no_payer = 0, Decimal("0"), [], 0
    for charge in bill_run_charges(run):
        count += 1
        total += charge.amount
        by_fee_item[charge.rule.fee_item.name] += charge.amount
        by_building[charge.building_id] += charge.amount
        no_payer += charge.payer_id is None
        if len(shown) < samples:
            shown.append(charge)
    warnings = []
    if no_payer:
        warnings.append(_("%(count)s 套房屋没有缴费人（无业主或租户）") % {"count": no_payer})
    for rule in run.rules.all():
        if rule.method not in RUN_METHODS:
            warnings.append(_("「%(rule)s」按用量计费，需在抄表后出账") % {"rule": rule.name})
        elif rule.method in AREA_METHODS:
            field = AREA_METHODS[rule.method][0]
            missing = rule_units(rule).filter(Q(**{f"{field}__isnull": True}) | Q(**{field: 0})).count()
            if missing:
                message = _("「%(rule)s」有 %(count)s 套房屋没有面积，不出账")
                warnings.append(message % {"rule": rule.name, "count": missing})
    return Preview(count, total, dict(by_fee_item), dict(by_building), shown, warnings)


def bill_run_post(run, *, actor=None):
    """Post the run's bills. Re-running it, or resuming one that died half-way, creates only what is missing."""
    BillRun.objects.filter(pk=run.pk).update(status=BillRunStatus.POSTING)
    batch = []
    for item in _run_charges(run):
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            _post_batch(run, batch, actor)
            batch = []
    if batch:
        _post_batch(run, batch, actor)
    bills = Bill.objects.filter(run=run)
    totals = {"count": bills.count(), "total": money_total(bills)}
    BillRun.objects.filter(pk=run.pk).update(status=BillRunStatus.POSTED, posted_at=timezone.now(),
                                             bill_count=totals["count"], total_amount=totals["total"] or 0)
    run.refresh_from_db()
    return run


def _post_batch(run, items, actor):
    """Insert what is not there yet and journal exactly that, in one transaction.

    Two runs of the same rules may race: the unique constraint stops the second insert, and the
    batch is read again, so neither run posts (or journals) a bill twice.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                _insert_missing(run, items, actor)
            return
        except IntegrityError:
            continue
    raise RuntimeError(_("出账批次反复冲突，请稍后重试"))


def _existing_keys(items):
    """(plan, unit id) of the batch that already have a bill; a plan's units are in id order, so one range each."""
    ranges = {}
    for plan, unit_id, *_rest in items:
        low, high = ranges.get(plan, (unit_id, unit_id))
        ranges[plan] = (min(low, unit_id), max(high, unit_id))
    condition = Q()
    for plan, (low, high) in ranges.items():
        condition |= Q(rule_id=plan.rule.pk, period_start=plan.period.start, unit_id__gte=low, unit_id__lte=high)
    plans = {(plan.rule.pk, plan.period.start): plan for plan in ranges}
    return {(plans[rule_id, start], unit_id) for rule_id, start, unit_id
            in Bill.objects.filter(condition).values_list("rule_id", "period_start", "unit_id")}


def _insert_missing(run, items, actor):
    existing = _existing_keys(items)
    fresh = [item for item in items if (item[0], item[1]) not in existing] if existing else items
    if not fresh:
        return
    now = timezone.now()
    (_copy_bills if connection.vendor == "postgresql" else _create_bills)(run, fresh, now)
    by_fee_item = defaultdict(Decimal)
    fee_items = {}
    for plan, _unit_id, _building_id, _payer_id, charge in fresh:
        by_fee_item[plan.rule.fee_item_id] += charge.amount
        fee_items[plan.rule.fee_item_id] = plan.rule.fee_item
    for fee_item_id, amount in by_fee_item.items():
        journal_post(project=run.project, event="bills_posted", run=run, actor=actor,
                     memo=_("出账 %(month)s %(item)s") % {"month": run.period_month.strftime("%Y-%m"),
                                                         "item": fee_items[fee_item_id].name},
                     lines=[(Account.RECEIVABLE, fee_items[fee_item_id], amount),
                            (Account.REVENUE, fee_items[fee_item_id], -amount)])


def _create_bills(run, items, now):
    Bill.objects.bulk_create([
        Bill(project_id=run.project_id, unit_id=unit_id, payer_id=payer_id, fee_item_id=plan.rule.fee_item_id,
             rule=plan.rule, run=run, period_start=plan.period.start, period_end=plan.period.end,
             due_date=plan.due_date, amount=charge.amount, computation=charge.computation, created_at=now)
        for plan, unit_id, _building_id, payer_id, charge in items
    ], batch_size=INSERT_BATCH_SIZE)


def _copy_bills(run, items, now):
    """COPY the rows straight into the bill table; a concurrent run's rows raise IntegrityError here."""
    created_at = now.isoformat()
    tails = {}
    lines = []
    for plan, unit_id, _building_id, payer_id, charge in items:
        tail = tails.get(plan)
        if tail is None:
            rule, period = plan.rule, plan.period
            tail = tails[plan] = (f"\t{run.project_id}\t{rule.fee_item_id}\t{rule.pk}\t{run.pk}"
                                  f"\t{BillKind.REGULAR.value}\t{period.start}\t{period.end}\t{plan.due_date}\t{created_at}\n")
        lines.append(f"{unit_id}\t{payer_id if payer_id is not None else NULL}\t{charge.copy_text}{tail}")
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.copy(BILL_COPY) as copy:
        copy.write("".join(lines).encode())
