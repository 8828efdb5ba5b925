"""Allocation runs: a rule's shares over one period, from the readings in it; preview, post, reverse.

The arithmetic is `meters.allocation`'s; this module gathers its input from the database in a handful of
queries however many units take part (usages summed with one GROUP BY, persons with one, shares written by COPY
or batched inserts), and keeps the one rule that matters for billing: at most one posted run per rule and overlapping
period, so no unit is charged twice for the same usage.
"""

import datetime
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.copy import QueuedLibpqWriter

from aishang.billing.formula import FormulaError, compile_formula, evaluate
from aishang.billing.services import unit_persons
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Occupancy
from aishang.estate.choices import UnitStatus
from aishang.estate.models import Unit

from .allocation import AllocationError, allocate_facts, allocate_loss, loss
from .choices import USAGE_UNITS, AllocationBasis, AllocationPurpose, AllocationRunStatus, AllocationScope, LossMethod
from .models import WEIGHT_VARIABLES, AllocationRule, AllocationRun, AllocationShare, Meter, MeterReading

PLACES = 2
QUANTUM = Decimal("0.01")
WEIGHT_QUANTUM = Decimal("0.000001")
ZERO = Decimal("0")
SHARE_BATCH = 2000
SHARE_COLUMNS = "meters_allocationshare (run_id, unit_id, weight, usage, explanation)"
SHARE_COPY = f"COPY {SHARE_COLUMNS} FROM STDIN"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
SHARE_INSERT = f"INSERT INTO {SHARE_COLUMNS} VALUES (%s, %s, %s, %s, %s)"
NAMED_UNITS = 10  # how many units a message names before "等 N 户"
NAMED_READINGS = 5
OCCUPIED_STATUSES = (UnitStatus.OWNER_OCCUPIED, UnitStatus.RENTED, UnitStatus.DECORATING)
# Someone living in the unit makes it take part; an owner alone does not (units are often sold before delivery).
LIVING_ROLES = (OccupancyRole.TENANT, OccupancyRole.RESIDENT, OccupancyRole.FAMILY)


def _named(codes):
    codes = list(codes)
    text = "、".join(codes[:NAMED_UNITS])
    if len(codes) > NAMED_UNITS:
        text += _(" 等 %(count)s 户") % {"count": len(codes)}
    return text


def _sum_or_zero(values):
    return sum(values, Decimal("0")) or Decimal("0")


class _MeterTree:
    """A project's meters (kind, master meter, the meter replaced, unit), read in one query: which meters are a
    meter's lineage through 换表, and which are its sub-meters."""

    def __init__(self, project_ids):
        self.meters = {pk: (kind, parent, replaces, unit) for pk, kind, parent, replaces, unit in
                       Meter.objects.filter(project_id__in=project_ids)
                       .values_list("pk", "kind", "parent_id", "replaces_id", "unit_id")}
        self.successor = {replaces: pk for pk, (_k, _p, replaces, _u) in self.meters.items() if replaces is not None}
        self.children = defaultdict(list)
        for pk, (_kind, parent, _replaces, _unit) in self.meters.items():
            if parent is not None:
                self.children[parent].append(pk)

    def lineage(self, meter_id):
        """The meter and the meters it replaced or that replaced it (换表): one meter's usage in a period may be
        read on both, and the sub-meters move to the successor."""
        ids = [meter_id]
        earlier = self.meters.get(meter_id, (None, None, None, None))[2]
        while earlier is not None and earlier not in ids:
            ids.append(earlier)
            earlier = self.meters.get(earlier, (None, None, None, None))[2]
        later = meter_id
        while (later := self.successor.get(later)) is not None and later not in ids:
            ids.append(later)
        return ids

    def sub_meters(self, lineage):
        return [pk for parent in lineage for pk in self.children.get(parent, ())]


class _ProjectFacts(_MeterTree):
    """What the rules of one project need from the database for one period, read once for all of them: the
    project's meters, their usage in the period (one GROUP BY), its units, who lived in them, persons."""

    def __init__(self, project_id, rules, start, end, *, persons):
        super().__init__([project_id])
        self.start, self.end = start, end
        self.read = {meter: (usage, count) for meter, usage, count in
                     MeterReading.objects.filter(project_id=project_id, read_on__gte=start, read_on__lte=end)
                     .order_by().values("meter_id").annotate(usage=Sum("usage"), count=Count("id"))
                     .values_list("meter_id", "usage", "count")}
        self._kind_usages = {}
        self.units = list(Unit.objects.filter(project_id=project_id).order_by("code").values_list(
            "pk", "code", "building_area", "inner_area", "building_id", "entrance_id", "delivered_on", "status"))
        self.position = {row[0]: index for index, row in enumerate(self.units)}
        self.by_building, self.by_entrance = defaultdict(list), defaultdict(list)
        for row in self.units:
            self.by_building[row[4]].append(row)
            self.by_entrance[row[5]].append(row)
        self.lived_in = set()
        if any(not rule.include_all_units for rule in rules):
            self.lived_in = set(Occupancy.objects.filter(
                Q(start_date__isnull=True) | Q(start_date__lte=end), Q(end_date__isnull=True) | Q(end_date__gte=start),
                unit__project_id=project_id, role__in=LIVING_ROLES).values_list("unit_id", flat=True).distinct())
        self.members = self._scope_members(rules)
        self.persons = unit_persons(project_id, end) if persons else {}

    @staticmethod
    def _scope_members(rules):
        """rule id → the ids of its chosen buildings, entrances or units, one query per scope in use."""
        members = defaultdict(set)
        for scope, field, column in ((AllocationScope.BUILDINGS, AllocationRule.buildings, "building_id"),
                                     (AllocationScope.ENTRANCES, AllocationRule.entrances, "entrance_id"),
                                     (AllocationScope.UNITS, AllocationRule.units, "unit_id")):
            ids = [rule.pk for rule in rules if rule.scope == scope]
            if ids:
                for rule_id, member in field.through.objects.filter(allocationrule_id__in=ids).values_list(
                        "allocationrule_id", column):
                    members[rule_id].add(member)
        return members

    def usage(self, meter_ids):
        """Σ usage of the meters' readings in the period, and how many readings."""
        read = [self.read[pk] for pk in meter_ids if pk in self.read]
        return _sum_or_zero(usage for usage, _count in read), sum(count for _usage, count in read)

    def unit_usages(self, meter_ids):
        """unit id → Σ usage of its meters among `meter_ids` in the period."""
        usages = {}
        for pk in meter_ids:
            unit = self.meters[pk][3]
            if unit is not None and pk in self.read:
                usage = self.read[pk][0]
                usages[unit] = usages[unit] + usage if unit in usages else usage
        return usages

    def kind_usages(self, kind):
        if kind not in self._kind_usages:
            self._kind_usages[kind] = self.unit_usages([pk for pk, row in self.meters.items() if row[0] == kind])
        return self._kind_usages[kind]

    def participating_units(self, rule):
        """(id, code, building area, inner area) of the units a rule shares among, by code: its scope, and unless
        it includes all units, only those delivered by the period's end or lived in (status, or a tenant or
        resident during the period)."""
        members = self.members.get(rule.pk, set())
        if rule.scope == AllocationScope.BUILDINGS:
            rows = [row for building in members for row in self.by_building.get(building, ())]
        elif rule.scope == AllocationScope.ENTRANCES:
            rows = [row for entrance in members for row in self.by_entrance.get(entrance, ())]
        elif rule.scope == AllocationScope.UNITS:
            rows = [self.units[self.position[pk]] for pk in members if pk in self.position]
        else:
            rows = self.units
        if rule.scope != AllocationScope.PROJECT and len(members) > 1:
            rows.sort(key=lambda row: self.position[row[0]])
        if not rule.include_all_units:
            end = self.end
            rows = [row for row in rows if (row[6] is not None and row[6] <= end) or row[7] in OCCUPIED_STATUSES
                    or row[0] in self.lived_in]
        return [row[:4] for row in rows]


def _facts_needed(rule):
    if rule.purpose == AllocationPurpose.LOSS:
        return {LossMethod.USAGE: {"usage"}, LossMethod.COEFFICIENT: {"usage"},
                LossMethod.AREA: {"building_area"}}[LossMethod(rule.loss_method)]
    if rule.basis == AllocationBasis.WEIGHT:
        compiled = compile_formula(rule.formula, WEIGHT_VARIABLES)
        return {WEIGHT_VARIABLES[name] for name in compiled.variables}
    return {AllocationBasis.AREA: {"building_area"}, AllocationBasis.PERSONS: {"persons"},
            AllocationBasis.USAGE: {"usage"}, AllocationBasis.HOUSEHOLD: set()}[AllocationBasis(rule.basis)]


class _Input:
    """What a preview of one rule reads from the project's facts, before any arithmetic."""

    def __init__(self, rule, facts, needs):
        self.rule = rule
        self.start, self.end = facts.start, facts.end
        meter = rule.meter
        self.kind = meter.kind
        self.label = USAGE_UNITS.get(meter.kind, "")
        lineage = facts.lineage(meter.pk)
        self.meter_usage, self.meter_readings = facts.usage(lineage)
        sub_meters = facts.sub_meters(lineage)
        self.sub_meter_usage = None
        if rule.purpose == AllocationPurpose.LOSS:
            self.sub_meter_usage, _count = facts.usage(sub_meters)
        self.units = facts.participating_units(rule)
        self.needs = needs
        self.usages = {}
        if "usage" in needs:
            # A unit's part of a loss follows what its meters under this master meter measured.
            self.usages = (facts.unit_usages(sub_meters) if rule.purpose == AllocationPurpose.LOSS
                           else facts.kind_usages(meter.kind))
        self.persons = facts.persons

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
            basis, facts = AllocationBasis.AREA, [(code, area) for _pk, code, area, _i in units]
        else:
            basis = AllocationBasis.USAGE
            facts = [(code, source.usages.get(pk, ZERO)) for pk, code, _a, _i in units]
        shares = allocate_facts(measured, basis, facts, places=PLACES, unit_label=source.label, subject=_("损耗"))
        if measured < 0:
            warning = _("负损耗：分表合计 %(subs)s %(unit)s 大于总表 %(master)s %(unit)s，请核查读数。") % {
                "subs": source.sub_meter_usage, "master": source.meter_usage, "unit": source.label}
            shares = [type(share)(share.key, share.weight, share.amount, warning + share.explanation)
                      for share in shares]
        return measured, shares
    basis = AllocationBasis(rule.basis)
    if basis == AllocationBasis.WEIGHT:
        facts = list(_formula_weights(source).items())
    elif basis == AllocationBasis.PERSONS:
        facts = [(code, source.persons.get(pk, 0)) for pk, code, _a, _i in units]
    elif basis == AllocationBasis.USAGE:
        facts = [(code, source.usages.get(pk, ZERO)) for pk, code, _a, _i in units]
    elif basis == AllocationBasis.HOUSEHOLD:
        facts = [(code, 1) for _pk, code, _a, _i in units]
    else:
        facts = [(code, area) for _pk, code, area, _i in units]
    return source.meter_usage, allocate_facts(source.meter_usage, basis, facts, places=PLACES,
                                              unit_label=source.label)


def _first_overlap(posted, rule_id, period_start, period_end):
    """The earliest of `posted` (runs by period start) of the rule whose period overlaps the given one."""
    for run in posted:
        if run.rule_id == rule_id and run.period_start <= period_end and run.period_end >= period_start:
            return run
    return None


def _overlap_message(rule, posted):
    return _("分摊规则「%(rule)s」在 %(start)s ～ %(end)s 已有已入账的分摊批次（#%(run)s），期间不能重叠；"
             "如需重算，请先冲销该批次") % {"rule": rule.name, "start": f"{posted.period_start:%Y-%m-%d}",
                                          "end": f"{posted.period_end:%Y-%m-%d}", "run": posted.pk}


def _message(error):
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


def _refuse_all(errors, *, alone):
    """Refuse a batch with a message per failure, naming what failed unless it was `alone` in the batch."""
    if alone:
        raise ValidationError(errors[0][1])
    raise ValidationError([prefix + message for prefix, message in errors])


def batch_rules(*, project, period_start, period_end):
    """The project's active rules for a 一键分摊 of the period, by name: (to allocate, already posted for it)."""
    rules = list(AllocationRule.objects.filter(project=project, is_active=True).order_by("name"))
    posted = set(AllocationRun.objects.filter(
        rule__in=rules, status=AllocationRunStatus.POSTED, period_start__lte=period_end,
        period_end__gte=period_start).values_list("rule_id", flat=True))
    return [rule for rule in rules if rule.pk not in posted], [rule for rule in rules if rule.pk in posted]


def allocation_preview_many(*, rules, period_start, period_end, actor):
    """Compute the shares of all `rules` (of one project) over [period_start, period_end] and store each as a
    draft run (预览), in place of the rules' earlier drafts of the same period; returns the runs in the rules'
    order. The database is read once for all of them and the shares written in one COPY.

    All or nothing: if any rule cannot be computed (inactive, already posted for an overlapping period, no
    reading of its meter, units without area, ...), a ValidationError names each failing rule and what is wrong,
    and nothing is stored.
    """
    if period_end < period_start:
        raise ValidationError({"period_end": _("期末不能早于期初")})
    ids = list(dict.fromkeys(rule.pk for rule in rules))
    if not ids:
        _refuse(_("没有可分摊的分摊规则"))
    found = AllocationRule.objects.select_related("meter", "project").in_bulk(ids)
    rules = [found[pk] for pk in ids]
    if len({rule.project_id for rule in rules}) > 1:
        _refuse(_("一次只能分摊同一项目的分摊规则"))
    posted = list(AllocationRun.objects.filter(rule_id__in=ids, status=AllocationRunStatus.POSTED,
                                               period_start__lte=period_end, period_end__gte=period_start)
                  .order_by("period_start", "pk"))
    errors, computable = {}, []  # rule id → (what names it, the message): reported in the rules' order
    for rule in rules:
        overlap = _first_overlap(posted, rule.pk, period_start, period_end)
        if not rule.is_active:
            errors[rule.pk] = ("", _("分摊规则「%(rule)s」已停用") % {"rule": rule.name})
        elif overlap is not None:
            errors[rule.pk] = ("", _overlap_message(rule, overlap))
        else:
            try:
                computable.append((rule, _facts_needed(rule)))
            except FormulaError as error:
                errors[rule.pk] = (_("分摊规则「%(rule)s」：") % {"rule": rule.name}, str(error))
    if not computable:
        _refuse_all([errors[rule.pk] for rule in rules], alone=len(rules) == 1)
    facts = _ProjectFacts(rules[0].project_id, [rule for rule, _needs in computable], period_start, period_end,
                          persons=any("persons" in needs for _rule, needs in computable))
    prefix = _("分摊规则「%(rule)s」：")
    planned = []  # (rule, its input, (total, shares) if only the shares tell the total, else None)
    for rule, needs in computable:
        try:
            source = _Input(rule, facts, needs)
            _refuse_unread(rule, source)
            planned.append((rule, source, _computed(source) if _total_of(source) is None else None))
        except (ValidationError, AllocationError, FormulaError) as error:
            errors[rule.pk] = (prefix % {"rule": rule.name}, _message(error))
    if errors:
        for rule, source, computed in planned:  # the others' arithmetic may fail too: say so now, not after a fix
            try:
                computed or _computed(source)
            except (ValidationError, AllocationError, FormulaError) as error:
                errors[rule.pk] = (prefix % {"rule": rule.name}, _message(error))
        _refuse_all([errors[rule.pk] for rule in rules if rule.pk in errors], alone=len(rules) == 1)
    with transaction.atomic():
        # A new preview replaces the rules' earlier drafts of the same period: each holds a row per unit.
        AllocationRun.objects.filter(rule_id__in=ids, status=AllocationRunStatus.DRAFT, period_start=period_start,
                                     period_end=period_end).delete()
        # The runs are made first, their totals known from the readings: then each rule's shares go to the
        # database as soon as they are computed, and PostgreSQL stores them while the next rules are computed.
        runs = AllocationRun.objects.bulk_create([_draft(rule, source, computed, actor)
                                                  for rule, source, computed in planned])
        with _share_writer() as write:
            for run, (rule, source, computed) in zip(runs, planned, strict=True):
                try:
                    total, shares = computed or _computed(source)
                except (ValidationError, AllocationError, FormulaError) as error:
                    errors[rule.pk] = (prefix % {"rule": rule.name}, _message(error))
                    continue
                if total != run.total:
                    raise AssertionError(f"{rule.name}: computed {total}, planned {run.total}")
                if not errors:
                    write(_share_rows(run, source, shares))
        if errors:  # raised inside the transaction: the runs and shares written so far are rolled back
            _refuse_all([errors[rule.pk] for rule in rules if rule.pk in errors], alone=len(rules) == 1)
    return runs


def _measures_meter(rule):
    """Whether the rule's total is its meter's usage: a fixed loss coefficient reads only the sub-meters."""
    return not (rule.purpose == AllocationPurpose.LOSS and rule.loss_method == LossMethod.COEFFICIENT)


def _refuse_unread(rule, source):
    if _measures_meter(rule) and not source.meter_readings:
        _refuse(_("%(meter)s 在 %(start)s ～ %(end)s 没有抄表读数，无法计算分摊；请先录入该期读数")
                % {"meter": rule.meter, "start": f"{source.start:%Y-%m-%d}", "end": f"{source.end:%Y-%m-%d}"})


def _total_of(source):
    """What a rule allocates, known before its shares: the meter's usage, or the measured loss; None for a fixed
    loss coefficient, whose total is the sum of the rounded shares."""
    rule = source.rule
    if rule.purpose != AllocationPurpose.LOSS:
        return source.meter_usage
    if rule.loss_method == LossMethod.COEFFICIENT:
        return None
    return loss(source.meter_usage, [source.sub_meter_usage])


def _computed(source):
    """(total, shares) of one rule, or ValidationError / AllocationError / FormulaError."""
    total, shares = _shares(source)
    allocated = sum((share.amount for share in shares), Decimal("0"))
    if allocated != total:  # allocation.py promises this; a broken promise must not reach the bills
        raise AssertionError(f"shares add up to {allocated}, not {total}")
    return total, shares


def _share_rows(run, source, shares):
    unit_ids = {code: pk for pk, code, _area, _inner in source.units}
    return [(run.pk, unit_ids[share.key], share.weight.quantize(WEIGHT_QUANTUM), share.amount, share.explanation)
            for share in shares]


def _draft(rule, source, computed, actor):
    measured = source.meter_readings and source.sub_meter_usage is not None
    return AllocationRun(
        rule=rule, project_id=rule.project_id, period_start=source.start, period_end=source.end,
        purpose=rule.purpose, method=str(rule.method_display), kind=source.kind, fee_item_id=rule.fee_item_id,
        meter_usage=source.meter_usage if source.meter_readings else None, sub_meter_usage=source.sub_meter_usage,
        loss=source.meter_usage - source.sub_meter_usage if measured else None,
        total=computed[0] if computed else _total_of(source), unit_count=len(source.units), created_by=actor)


def allocation_preview(*, rule, period_start, period_end, actor):
    """Compute the rule's shares over [period_start, period_end] and store them as a draft run (预览), in place
    of the rule's earlier drafts of the same period.

    Missing data (no reading of the shared meter in the period, units without area, a zero total weight ...)
    is refused with a ValidationError naming the problem and some of the units; nothing is stored then.
    """
    return allocation_preview_many(rules=[rule], period_start=period_start, period_end=period_end, actor=actor)[0]


def _copy_text(text):
    # translate() is slow on Chinese text; explanations almost never hold a character COPY must escape.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(COPY_ESCAPES)
    return text


def _write_shares(rows):
    """(run id, unit id, weight, usage, explanation) rows of shares."""
    with _share_writer() as write:
        write(rows)


@contextmanager
def _share_writer():
    """A function that stores lists of share rows: COPY on PostgreSQL, through a queue that a thread of psycopg's
    sends while the caller goes on computing; executemany in batches on SQLite."""
    if connection.vendor == "postgresql":
        with (connection.cursor() as cursor, connection.wrap_database_errors,
              cursor.cursor.copy(SHARE_COPY, writer=QueuedLibpqWriter(cursor.cursor)) as copy):
            def write(rows):
                # COPY's text format, built here: psycopg's write_row per row costs more than a share's arithmetic.
                for start in range(0, len(rows), SHARE_BATCH):
                    copy.write("".join(f"{run}\t{unit}\t{weight}\t{usage}\t{_copy_text(explanation)}\n"
                                       for run, unit, weight, usage, explanation in rows[start:start + SHARE_BATCH]))
            yield write
        return
    pending = []
    with connection.cursor() as cursor:
        def write(rows):
            pending.extend(rows)
            while len(pending) >= SHARE_BATCH:
                cursor.executemany(SHARE_INSERT, pending[:SHARE_BATCH])
                del pending[:SHARE_BATCH]
        yield write
        if pending:
            cursor.executemany(SHARE_INSERT, pending)


@dataclass(frozen=True)
class UnreviewedReading:
    """A 待复核 reading (flagged as unusual, not reviewed yet) that a run was computed from."""

    pk: int
    meter_id: int
    read_on: datetime.date
    usage: Decimal
    reason: str
    meter_number: str
    place: str

    def __str__(self):
        return _("%(number)s（%(place)s）%(date)s 用量 %(usage)s") % {
            "number": self.meter_number, "place": self.place, "date": f"{self.read_on:%Y-%m-%d}", "usage": self.usage}


def _needs_usage(rule):
    try:
        return "usage" in _facts_needed(rule)
    except FormulaError:  # a formula broken since the preview: its shares may have read usage
        return True


def unreviewed_readings(runs):
    """run id → the 待复核 readings among those each run was computed from, by date: its meter's in the period (and
    the meters it replaced or that replaced it), for 损耗 its sub-meters', and when its shares follow usage, those of
    its units' meters of its kind. One query when no reading of the period is flagged, four otherwise."""
    runs = list(runs)
    if not runs:
        return {}
    flagged = [UnreviewedReading(pk, meter, read_on, usage, reason, number, unit_code or name) for
               pk, meter, read_on, usage, reason, number, name, unit_code in MeterReading.objects.filter(
                   project_id__in={run.project_id for run in runs}, flagged=True,
                   read_on__gte=min(run.period_start for run in runs),
                   read_on__lte=max(run.period_end for run in runs)).order_by("read_on", "pk").values_list(
                   "pk", "meter_id", "read_on", "usage", "flag_reason", "meter__number", "meter__name",
                   "meter__unit__code")]
    if not flagged:
        return {}
    tree = _MeterTree({run.project_id for run in runs})
    rules = AllocationRule.objects.in_bulk({run.rule_id for run in runs})
    by_usage = [run.pk for run in runs if _needs_usage(rules[run.rule_id])]
    flagged_units = {tree.meters[reading.meter_id][3] for reading in flagged} - {None}
    run_units = defaultdict(set)
    if by_usage and flagged_units:
        for run_id, unit_id in AllocationShare.objects.filter(run_id__in=by_usage, unit_id__in=flagged_units) \
                .values_list("run_id", "unit_id"):
            run_units[run_id].add(unit_id)
    unreviewed = {}
    for run in runs:
        rule = rules[run.rule_id]
        lineage = tree.lineage(rule.meter_id)
        sources = set(lineage) if _measures_meter(rule) else set()
        if run.purpose == AllocationPurpose.LOSS:
            sources.update(tree.sub_meters(lineage))
        units = run_units.get(run.pk, set())
        found = [reading for reading in flagged if run.period_start <= reading.read_on <= run.period_end and (
            reading.meter_id in sources or (tree.meters[reading.meter_id][0] == run.kind
                                            and tree.meters[reading.meter_id][3] in units))]
        if found:
            unreviewed[run.pk] = found
    return unreviewed


def unreviewed_message(readings):
    named = "、".join(str(reading) for reading in readings[:NAMED_READINGS])
    if len(readings) > NAMED_READINGS:
        named += _(" 等 %(count)s 条") % {"count": len(readings)}
    return _("所用读数中有 %(count)s 条待复核：%(readings)s；请先复核这些读数，或确认使用待复核读数后再入账") % {
        "count": len(readings), "readings": named}


def run_shares_total(run):
    return _shares_totals([run.pk]).get(run.pk, Decimal("0.00"))


def _shares_totals(run_ids):
    """run id → Σ of its shares, in one GROUP BY."""
    rows = (AllocationShare.objects.filter(run_id__in=run_ids).order_by().values("run_id")
            .annotate(total=Sum("usage")).values_list("run_id", "total"))
    # SQLite sums decimals as floats; the shares have two places, so rounding back to them is exact.
    return {run_id: Decimal(total or 0).quantize(QUANTUM) for run_id, total in rows}


def allocation_post_many(*, runs, actor, confirm_unreviewed=False):
    """预览 → 已入账 for all `runs` at once, in one transaction: the shares now count for billing.

    All or nothing: a run that is not a draft, whose rule has a posted run of an overlapping period (or another
    run of the batch does), or whose shares no longer add up, refuses the batch with a message per run. A run
    computed from readings still 待复核 is refused too unless `confirm_unreviewed`; when that is all that stops
    the batch, the ValidationError is on the field ``confirm_unreviewed``.
    """
    run_ids = list(dict.fromkeys(run.pk for run in runs))
    if not run_ids:
        _refuse(_("没有要入账的分摊批次"))
    with transaction.atomic():
        # Lock the rules, not only the runs, in id order: two drafts of one rule posted at once must not both pass
        # the overlap check, and two batches must not wait on each other's locks.
        rules = {rule.pk: rule for rule in AllocationRule.objects.select_for_update().filter(
            pk__in={run.rule_id for run in runs}).order_by("pk")}
        locked = AllocationRun.objects.select_for_update().filter(pk__in=run_ids).order_by("pk").in_bulk()
        runs = [locked[pk] for pk in run_ids]
        posted = list(AllocationRun.objects.filter(
            rule_id__in=rules, status=AllocationRunStatus.POSTED, period_start__lte=max(r.period_end for r in runs),
            period_end__gte=min(r.period_start for r in runs)).exclude(pk__in=run_ids).order_by("period_start", "pk"))
        totals = _shares_totals(run_ids)
        errors = []
        for run in runs:
            rule = rules[run.rule_id]
            overlap = _first_overlap(posted, rule.pk, run.period_start, run.period_end)
            if run.status != AllocationRunStatus.DRAFT:
                message = _("该分摊批次%(status)s，不能再入账") % {"status": run.get_status_display()}
            elif overlap is not None:
                message = _overlap_message(rule, overlap)
            elif totals.get(run.pk, Decimal("0.00")) != run.total:
                message = _("分摊明细合计与分摊总量不符，请重新预览")
            else:
                posted.append(run)  # a later run of the same rule and period in this batch overlaps it
                continue
            errors.append((_("分摊批次 #%(run)s（%(rule)s）：") % {"run": run.pk, "rule": rule.name}, message))
        if errors:
            _refuse_all(errors, alone=len(runs) == 1)
        if not confirm_unreviewed and (unreviewed := unreviewed_readings(runs)):
            unconfirmed = [(_("分摊批次 #%(run)s（%(rule)s）：") % {"run": run.pk, "rule": rules[run.rule_id].name},
                            unreviewed_message(unreviewed[run.pk])) for run in runs if run.pk in unreviewed]
            refusals = [unconfirmed[0][1]] if len(runs) == 1 else [prefix + text for prefix, text in unconfirmed]
            raise ValidationError({"confirm_unreviewed": refusals})
        now = timezone.now()
        AllocationRun.objects.filter(pk__in=run_ids).update(status=AllocationRunStatus.POSTED, posted_by=actor,
                                                            posted_at=now, updated_at=now)
    for run in runs:
        run.status, run.posted_by, run.posted_at, run.updated_at = AllocationRunStatus.POSTED, actor, now, now
    return runs


def allocation_post(*, run, actor, confirm_unreviewed=False):
    """预览 → 已入账: the shares now count for billing. Refused if another posted run of the rule overlaps, or
    if it was computed from readings still 待复核 and that is not confirmed."""
    return allocation_post_many(runs=[run], actor=actor, confirm_unreviewed=confirm_unreviewed)[0]


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
