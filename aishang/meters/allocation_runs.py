"""Allocation runs: a rule's shares over one period, from the readings in it; preview, post, reverse.

The arithmetic is `meters.allocation`'s; this module gathers its input from the database in a handful of
queries however many units take part (usages summed with one GROUP BY, persons with one, shares written by COPY
or batched inserts), and keeps the one rule that matters for billing: at most one posted run per rule and overlapping
period, so no unit is charged twice for the same usage.
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.billing.formula import FormulaError, compile_formula, evaluate
from aishang.billing.services import unit_persons
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Occupancy
from aishang.estate.choices import UnitStatus
from aishang.estate.models import Unit

from .allocation import AllocationError, AllocationUnit, allocate, allocate_loss, loss
from .choices import USAGE_UNITS, AllocationBasis, AllocationPurpose, AllocationRunStatus, AllocationScope, LossMethod
from .models import WEIGHT_VARIABLES, AllocationRule, AllocationRun, AllocationShare, Meter, MeterReading

PLACES = 2
QUANTUM = Decimal("0.01")
WEIGHT_QUANTUM = Decimal("0.000001")
SHARE_BATCH = 2000
SHARE_COLUMNS = "meters_allocationshare (run_id, unit_id, weight, usage, explanation)"
SHARE_COPY = f"COPY {SHARE_COLUMNS} FROM STDIN"
SHARE_INSERT = f"INSERT INTO {SHARE_COLUMNS} VALUES (%s, %s, %s, %s, %s)"
NAMED_UNITS = 10  # how many units a message names before "等 N 户"
OCCUPIED_STATUSES = (UnitStatus.OWNER_OCCUPIED, UnitStatus.RENTED, UnitStatus.DECORATING)
# Someone living in the unit makes it take part; an owner alone does not (units are often sold before delivery).
LIVING_ROLES = (OccupancyRole.TENANT, OccupancyRole.RESIDENT, OccupancyRole.FAMILY)


def _named(codes):
    codes = list(codes)
    text = "、".join(codes[:NAMED_UNITS])
    if len(codes) > NAMED_UNITS:
        text += _(" 等 %(count)s 户") % {"count": len(codes)}
    return text


def _meter_usage(meters, start, end):
    """Σ usage of the readings of `meters` (a queryset of meters) read within [start, end], and how many."""
    result = (MeterReading.objects.filter(meter__in=meters, read_on__gte=start, read_on__lte=end)
              .aggregate(usage=Sum("usage"), count=Count("id")))
    return result["usage"] or Decimal("0"), result["count"]


def meter_lineage(meter):
    """The meter and the meters it replaced or that replaced it (换表): one meter's usage in a period may be
    read on both, and the sub-meters move to the successor."""
    ids = [meter.pk]
    earlier = meter.replaces_id
    while earlier is not None and earlier not in ids:
        ids.append(earlier)
        earlier = Meter.objects.filter(pk=earlier).values_list("replaces_id", flat=True).first()
    later = meter.pk
    while (later := Meter.objects.filter(replaces_id=later).values_list("pk", flat=True).first()) is not None:
        if later in ids:
            break
        ids.append(later)
    return ids


def participating_units(rule, period_start, period_end):
    """The units a rule shares among in a period: its scope, and unless it includes all units, only those
    delivered by the period's end or lived in (status, or a tenant or resident during the period)."""
    units = Unit.objects.filter(project_id=rule.project_id)
    if rule.scope == AllocationScope.BUILDINGS:
        units = units.filter(building__in=rule.buildings.all())
    elif rule.scope == AllocationScope.ENTRANCES:
        units = units.filter(entrance__in=rule.entrances.all())
    elif rule.scope == AllocationScope.UNITS:
        units = units.filter(pk__in=rule.units.values("pk"))
    if not rule.include_all_units:
        lived_in = Occupancy.objects.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=period_end),
            Q(end_date__isnull=True) | Q(end_date__gte=period_start),
            unit=OuterRef("pk"), role__in=LIVING_ROLES)
        units = units.filter(Q(delivered_on__lte=period_end) | Q(status__in=OCCUPIED_STATUSES) | Exists(lived_in))
    return units.order_by("code")


def _unit_usages(meters, start, end):
    """unit id → Σ usage of its meters among `meters` read within [start, end], in one GROUP BY."""
    rows = (MeterReading.objects.filter(meter__in=meters, meter__unit__isnull=False, read_on__gte=start,
                                        read_on__lte=end)
            .order_by().values("meter__unit_id").annotate(usage=Sum("usage"))
            .values_list("meter__unit_id", "usage"))
    return dict(rows)


class _Input:
    """What a preview reads from the database, before any arithmetic."""

    def __init__(self, rule, period_start, period_end):
        self.rule = rule
        self.start, self.end = period_start, period_end
        meter = rule.meter
        self.kind = meter.kind
        self.label = USAGE_UNITS.get(meter.kind, "")
        lineage = meter_lineage(meter)
        self.meter_usage, self.meter_readings = _meter_usage(Meter.objects.filter(pk__in=lineage), self.start,
                                                             self.end)
        self.sub_meter_usage = None
        if rule.purpose == AllocationPurpose.LOSS:
            self.sub_meter_usage, _count = _meter_usage(Meter.objects.filter(parent_id__in=lineage), self.start,
                                                        self.end)
        self.units = list(participating_units(rule, self.start, self.end)
                          .values_list("pk", "code", "building_area", "inner_area"))
        self.needs = self._facts()
        self.usages = {}
        if "usage" in self.needs:
            if rule.purpose == AllocationPurpose.LOSS:
                # A unit's part of a loss follows what its meters under this master meter measured.
                meters = Meter.objects.filter(parent_id__in=lineage)
            else:
                meters = Meter.objects.filter(project_id=rule.project_id, kind=meter.kind)
            self.usages = _unit_usages(meters, self.start, self.end)
        self.persons = unit_persons(rule.project_id, self.end) if "persons" in self.needs else {}

    def _facts(self):
        rule = self.rule
        if rule.purpose == AllocationPurpose.LOSS:
            return {LossMethod.USAGE: {"usage"}, LossMethod.COEFFICIENT: {"usage"},
                    LossMethod.AREA: {"building_area"}}[LossMethod(rule.loss_method)]
        if rule.basis == AllocationBasis.WEIGHT:
            compiled = compile_formula(rule.formula, WEIGHT_VARIABLES)
            return {WEIGHT_VARIABLES[name] for name in compiled.variables}
        return {AllocationBasis.AREA: {"building_area"}, AllocationBasis.PERSONS: {"persons"},
                AllocationBasis.USAGE: {"usage"}, AllocationBasis.HOUSEHOLD: set()}[AllocationBasis(rule.basis)]

    def facts_of(self, pk, area, inner_area):
        return {"building_area": area, "inner_area": inner_area, "persons": self.persons.get(pk, 0),
                "usage": self.usages.get(pk, Decimal("0"))}


def _refuse(message):
    raise ValidationError(message)


def _check_areas(source):
    if "building_area" not in source.needs:
        return
    missing = [code for _pk, code, area, _inner in source.units if not area]
    if missing:
        _refuse(_("以下 %(count)s 户未登记建筑面积（为 0），不能按面积分摊：%(units)s；请先补录面积，"
                  "或把这些房屋移出分摊范围") % {"count": len(missing), "units": _named(missing)})


def _formula_weights(source):
    compiled = compile_formula(source.rule.formula, WEIGHT_VARIABLES)
    weights, failed, negative = {}, [], []
    for pk, code, area, inner_area in source.units:
        facts = source.facts_of(pk, area, inner_area)
        try:
            weight = evaluate(compiled, {name: facts[fact] for name, fact in WEIGHT_VARIABLES.items()})
        except FormulaError as error:
            failed.append((code, error))
            continue
        weight = weight.quantize(WEIGHT_QUANTUM)
        if weight < 0:
            negative.append(code)
        weights[code] = weight
    if failed:
        _refuse(_("权重公式无法计算：%(error)s（%(units)s）")
                % {"error": failed[0][1], "units": _named(code for code, _error in failed)})
    if negative:
        _refuse(_("权重公式得出负数的房屋：%(units)s") % {"units": _named(negative)})
    return weights


def _shares(source):
    """(total to allocate, list of allocation.Share keyed by unit code), or ValidationError."""
    rule = source.rule
    units = source.units
    if not units:
        _refuse(_("分摊范围内没有参与分摊的房屋（未交付、未入住的房屋默认不参与；可在规则中勾选“含未交付、未入住房屋”）"))
    _check_areas(source)
    if rule.purpose == AllocationPurpose.LOSS:
        if rule.loss_method == LossMethod.COEFFICIENT:
            usages = {code: source.usages.get(pk, Decimal("0")) for pk, code, _a, _i in units}
            shares = allocate_loss(sub_usages=usages, method=LossMethod.COEFFICIENT,
                                   coefficient=rule.loss_coefficient, places=PLACES, unit_label=source.label)
            return sum((share.amount for share in shares), Decimal("0")), shares
        measured = loss(source.meter_usage, [source.sub_meter_usage])
        if rule.loss_method == LossMethod.AREA:
            basis, members = AllocationBasis.AREA, [AllocationUnit(code, area=area) for _pk, code, area, _i in units]
        else:
            basis = AllocationBasis.USAGE
            members = [AllocationUnit(code, usage=source.usages.get(pk, Decimal("0"))) for pk, code, _a, _i in units]
        shares = allocate(measured, basis, members, places=PLACES, unit_label=source.label, subject=_("损耗"))
        if measured < 0:
            warning = _("负损耗：分表合计 %(subs)s %(unit)s 大于总表 %(master)s %(unit)s，请核查读数。") % {
                "subs": source.sub_meter_usage, "master": source.meter_usage, "unit": source.label}
            shares = [type(share)(share.key, share.weight, share.amount, warning + share.explanation)
                      for share in shares]
        return measured, shares
    basis = AllocationBasis(rule.basis)
    if basis == AllocationBasis.WEIGHT:
        weights = _formula_weights(source)
        members = [AllocationUnit(code, weight=weights[code]) for code in weights]
    elif basis == AllocationBasis.PERSONS:
        members = [AllocationUnit(code, persons=source.persons.get(pk, 0)) for pk, code, _a, _i in units]
    elif basis == AllocationBasis.USAGE:
        members = [AllocationUnit(code, usage=source.usages.get(pk, Decimal("0"))) for pk, code, _a, _i in units]
    else:
        members = [AllocationUnit(code, area=area) for _pk, code, area, _i in units]
    return source.meter_usage, allocate(source.meter_usage, basis, members, places=PLACES,
                                        unit_label=source.label)


def overlapping_posted_run(rule_id, period_start, period_end, exclude_pk=None):
    """The posted run of the rule whose period overlaps [period_start, period_end], if any."""
    runs = AllocationRun.objects.filter(rule_id=rule_id, status=AllocationRunStatus.POSTED,
                                        period_start__lte=period_end, period_end__gte=period_start)
    if exclude_pk is not None:
        runs = runs.exclude(pk=exclude_pk)
    return runs.order_by("period_start").first()


def _refuse_overlap(rule, period_start, period_end, exclude_pk=None):
    posted = overlapping_posted_run(rule.pk, period_start, period_end, exclude_pk)
    if posted is not None:
        _refuse(_("分摊规则「%(rule)s」在 %(start)s ～ %(end)s 已有已入账的分摊批次（#%(run)s），期间不能重叠；"
                  "如需重算，请先冲销该批次") % {"rule": rule.name, "start": f"{posted.period_start:%Y-%m-%d}",
                                               "end": f"{posted.period_end:%Y-%m-%d}", "run": posted.pk})


def allocation_preview(*, rule, period_start, period_end, actor):
    """Compute the rule's shares over [period_start, period_end] and store them as a draft run (预览), in place
    of the rule's earlier drafts of the same period.

    Missing data (no reading of the shared meter in the period, units without area, a zero total weight ...)
    is refused with a ValidationError naming the problem and some of the units; nothing is stored then.
    """
    if period_end < period_start:
        raise ValidationError({"period_end": _("期末不能早于期初")})
    rule = AllocationRule.objects.select_related("meter", "project").get(pk=rule.pk)
    if not rule.is_active:
        _refuse(_("分摊规则「%(rule)s」已停用") % {"rule": rule.name})
    _refuse_overlap(rule, period_start, period_end)
    try:
        source = _Input(rule, period_start, period_end)
        needs_master = not (rule.purpose == AllocationPurpose.LOSS and rule.loss_method == LossMethod.COEFFICIENT)
        if needs_master and not source.meter_readings:
            _refuse(_("%(meter)s 在 %(start)s ～ %(end)s 没有抄表读数，无法计算分摊；请先录入该期读数")
                    % {"meter": rule.meter, "start": f"{period_start:%Y-%m-%d}", "end": f"{period_end:%Y-%m-%d}"})
        total, shares = _shares(source)
    except (AllocationError, FormulaError) as error:
        raise ValidationError(str(error)) from None
    allocated = sum((share.amount for share in shares), Decimal("0"))
    if allocated != total:  # allocation.py promises this; a broken promise must not reach the bills
        raise AssertionError(f"shares add up to {allocated}, not {total}")
    ids = {code: pk for pk, code, _area, _inner in source.units}
    measured = source.meter_readings and source.sub_meter_usage is not None
    with transaction.atomic():
        # A new preview replaces the rule's earlier drafts of the same period: each holds a row per unit.
        AllocationRun.objects.filter(rule=rule, status=AllocationRunStatus.DRAFT, period_start=period_start,
                                     period_end=period_end).delete()
        run = AllocationRun.objects.create(
            rule=rule, project_id=rule.project_id, period_start=period_start, period_end=period_end,
            purpose=rule.purpose, method=str(rule.method_display), kind=source.kind, fee_item_id=rule.fee_item_id,
            meter_usage=source.meter_usage if source.meter_readings else None,
            sub_meter_usage=source.sub_meter_usage,
            loss=source.meter_usage - source.sub_meter_usage if measured else None,
            total=total, unit_count=len(shares), created_by=actor)
        _write_shares(run, ((ids[share.key], share.weight.quantize(WEIGHT_QUANTUM), share.amount, share.explanation)
                            for share in shares))
    return run


def _write_shares(run, rows):
    """(unit id, weight, usage, explanation) rows of a run: COPY on PostgreSQL, executemany in batches on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, connection.wrap_database_errors, cursor.copy(SHARE_COPY) as copy:
            for row in rows:
                copy.write_row((run.pk, *row))
        return
    rows = iter(rows)
    with connection.cursor() as cursor:
        while batch := [(run.pk, *row) for row in islice(rows, SHARE_BATCH)]:
            cursor.executemany(SHARE_INSERT, batch)


def run_shares_total(run):
    # SQLite sums decimals as floats; the shares have two places, so rounding back to them is exact.
    total = run.shares.aggregate(total=Sum("usage"))["total"] or Decimal("0")
    return Decimal(total).quantize(QUANTUM)


def allocation_post(*, run, actor):
    """预览 → 已入账: the shares now count for billing. Refused if another posted run of the rule overlaps."""
    with transaction.atomic():
        # Lock the rule, not only the run: two drafts of one rule posted at once must not both pass the
        # overlap check.
        rule = AllocationRule.objects.select_for_update().get(pk=run.rule_id)
        run = AllocationRun.objects.select_for_update().get(pk=run.pk)
        if run.status != AllocationRunStatus.DRAFT:
            _refuse(_("该分摊批次%(status)s，不能再入账") % {"status": run.get_status_display()})
        _refuse_overlap(rule, run.period_start, run.period_end, exclude_pk=run.pk)
        if run_shares_total(run) != run.total:
            _refuse(_("分摊明细合计与分摊总量不符，请重新预览"))
        run.status = AllocationRunStatus.POSTED
        run.posted_by, run.posted_at = actor, timezone.now()
        run.save(update_fields=["status", "posted_by", "posted_at", "updated_at"])
    return run


def allocation_reverse(*, run, actor, reason):
    """已入账 → 已冲销, as a whole, with a reason; the period is free for a new run of the rule."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写冲销原因")})
    with transaction.atomic():
        run = AllocationRun.objects.select_for_update().get(pk=run.pk)
        if run.status != AllocationRunStatus.POSTED:
            _refuse(_("只有已入账的分摊批次可以冲销，该批次%(status)s") % {"status": run.get_status_display()})
        run.status = AllocationRunStatus.REVERSED
        run.reversed_by, run.reversed_at, run.reverse_reason = actor, timezone.now(), reason[:200]
        run.save(update_fields=["status", "reversed_by", "reversed_at", "reverse_reason", "updated_at"])
    return run


def unit_shares(*, project_id, kind=None, fee_item_id=None, start, end):
    """{unit id: [(usage, rule name, explanation), ...]} of the posted runs of a project whose period lies
    within [start, end], in one query.

    `kind` selects the shares that add to the units' own usage of that kind of meter (rules without a fee
    item); `fee_item_id` those billed under that fee item; both: either; neither: all.
    """
    selected = Q()
    if kind is not None:
        selected |= Q(run__fee_item__isnull=True, run__kind=kind)
    if fee_item_id is not None:
        selected |= Q(run__fee_item_id=fee_item_id)
    rows = (AllocationShare.objects
            .filter(selected, run__project_id=project_id, run__status=AllocationRunStatus.POSTED,
                    run__period_start__gte=start, run__period_end__lte=end)
            .order_by("run__period_start", "run_id")
            .values_list("unit_id", "usage", "run__rule__name", "explanation"))
    shares = defaultdict(list)
    for unit_id, usage, rule_name, explanation in rows:
        shares[unit_id].append((usage, rule_name, explanation))
    return dict(shares)


def last_month(today=None):
    """(first day, last day) of the month before `today`: the period a new run starts from."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end
