"""Bill runs: preview, then post idempotently in batches, with the ledger written in the same transactions."""

import datetime
import io
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from operator import attrgetter, itemgetter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Max, Min, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.money import InvalidAmount, Precision, RoundingMode, money_total, quantize_amount, to_decimal
from aishang.customers.choices import CustomerKind, OccupancyRole
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.estate.models import ParkingSpace, Unit

from .choices import BillingCycle, ChargeMethod
from .discounts import best_grants, grants_post, offers_in_force, run_discounts_grant
from .formula import FormulaError, compile_formula
from .ledger import journal_post
from .models import Account, Bill, BillKind, BillRun, BillRunSchedule, BillRunStatus, BindingTarget, ChargeRule
from .notify import bills_notify_payers
from .payments import run_prepaid_offset
from .periods import Period, due_date, period_containing, period_to_bill
from .pricing import FORMULA_VARIABLES, ChargeError, compute_charge

BATCH_SIZE = 20_000
INSERT_BATCH_SIZE = 2000
COPY_SLICE = 2000  # rows per write: the database parses one slice while the next one is built
CHARGE_CACHE_SIZE = 100_000
SPOOL_IN_MEMORY = 4 << 20  # bytes of rows a run reads into memory before it spools them to disk
NULL = "\\N"
FOREIGN_KEY_VIOLATION = "23503"
SUBJECT_COLUMNS = {"unit": "unit_id", "parking_space": "parking_space_id", "customer": "payer_id"}
BILL_COPY = ("COPY billing_bill (unit_id, parking_space_id, payer_id, amount, computation, project_id, fee_item_id, "
             "rule_id, run_id, kind, period_start, period_end, due_date, created_at) FROM STDIN")


@dataclass(frozen=True)
class Charge:
    rule: ChargeRule
    unit_id: int | None
    building_id: int | None
    payer_id: int | None
    period: Period
    amount: Decimal
    computation: str
    parking_space_id: int | None = None


@dataclass
class Preview:
    count: int
    total: Decimal
    by_fee_item: dict
    by_building: dict
    samples: list
    warnings: list


def rules_outside_project(project, rules):
    """A run or a schedule bills one project: the message for rules of another, or None."""
    if project is not None and any(rule.project_id != project.pk for rule in rules or ()):
        return _("只能选择该项目的收费标准")
    return None


def bill_run_create(*, project, rules, period_month, buildings=(), actor=None):
    run = BillRun.objects.create(project=project, period_month=period_month.replace(day=1), created_by=actor)
    run.rules.set(rules)
    run.buildings.set(buildings)
    return run


def buildings_outside_project(project, buildings):
    if project is not None and any(building.project_id != project.pk for building in buildings or ()):
        return _("只能选择该项目的楼栋")
    return None


def metered_rules(rules):
    """The rules priced by measured usage (水费、电费 …): those a 抄表出账 bills."""
    return [rule for rule in rules if "usage" in rule_facts(rule)]


def rule_units(rule, building_ids=()):
    """The units a rule is bound to, as a queryset (a unit bound twice is charged once), within the buildings
    given, if any."""
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
    units = Unit.objects.filter(condition, project_id=rule.project_id)
    return units.filter(building_id__in=building_ids) if building_ids else units


def payers_on(project, day, *, tenant_first, unit_ids=None):
    """unit id → the customer responsible on a day: the tenant where the rule says so, else the owner."""
    occupancies = Occupancy.objects.current(day).filter(unit__project=project,
                                                        role__in=[OccupancyRole.OWNER, OccupancyRole.TENANT])
    if unit_ids is not None:
        occupancies = occupancies.filter(unit_id__in=unit_ids)
    occupancies = occupancies.order_by("unit_id", "-is_payer", "id").values_list("unit_id", "role", "customer_id")
    owners, tenants = {}, {}
    for unit_id, role, customer_id in occupancies:
        (owners if role == OccupancyRole.OWNER else tenants).setdefault(unit_id, customer_id)
    return {**owners, **tenants} if tenant_first else owners


def _payer_occupancies(day, *, tenant_first):
    """Occupancies on a day that may pay, best first: a tenant where the rule says so, then is_payer, then oldest."""
    roles = [OccupancyRole.OWNER, OccupancyRole.TENANT] if tenant_first else [OccupancyRole.OWNER]
    tenant_before_owner = Case(When(role=OccupancyRole.TENANT, then=Value(0)), default=Value(1))
    return Occupancy.objects.current(day).filter(role__in=roles), (tenant_before_owner, "-is_payer", "id")


def _units_with_payers(rule, day, building_ids=()):
    """The rule's units with their payers in id order, streamed: (rows, parse), where ``parse`` turns a row into
    (id, building id, building area, inner area, hand-over, payer id), or is None when rows come as such tuples.

    Each unit arrives with its payer (as ``payers_on`` chooses it), so a run holds no map of a million payers.
    """
    columns = ("pk", "building_id", "building_area", "inner_area", "delivered_on")
    units = rule_units(rule, building_ids).order_by("pk").values_list(*columns)
    occupancies, best_first = _payer_occupancies(day, tenant_first=rule.charge_tenant)
    if connection.vendor != "postgresql":
        payer = Subquery(occupancies.filter(unit=OuterRef("pk")).order_by(*best_first).values("customer_id")[:1])
        return units.annotate(payer=payer).values_list(*columns, "payer").iterator(chunk_size=BATCH_SIZE), None
    # PostgreSQL merges the units with one payer per unit (DISTINCT ON) in a single pass, reading only the
    # occupancies between the first and the last unit's ids (a project's units lie close together).
    bounds = units.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return iter(()), None
    payers = (occupancies.filter(unit_id__gte=bounds["low"], unit_id__lte=bounds["high"])
              .order_by("unit_id", *best_first).distinct("unit_id").values("unit_id", "customer_id"))
    unit_sql, unit_params = units.query.sql_with_params()
    payer_sql, payer_params = payers.query.sql_with_params()
    # Areas come as text: the run keys its cache by them and makes a Decimal only for a new key.
    sql = (f"SELECT u.pk, u.building_id, u.building_area::text, u.inner_area::text, u.delivered_on, p.customer_id"
           f" FROM ({unit_sql}) u LEFT JOIN ({payer_sql}) p ON p.unit_id = u.pk ORDER BY u.pk")
    return _copied_lines(connection.ops.compose_sql(sql, (*unit_params, *payer_params))), _unit_line


def _unit_line(line):
    unit_id, building_id, building_area, inner_area, delivered_on, payer_id = line[:-1].split("\t")
    return (int(unit_id), int(building_id), None if building_area == NULL else building_area,
            None if inner_area == NULL else inner_area,
            None if delivered_on == NULL else datetime.date.fromisoformat(delivered_on),
            None if payer_id == NULL else int(payer_id))


def _copied_lines(query):
    """The query's rows as COPY text lines, read from the database in one go into a temporary file.

    A run reads a batch of rows, then writes its bills with COPY on the same connection: rows read
    up front let it parse and charge each batch while the database takes in its bills, and hold no
    more than a batch in memory.
    """
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        with connection.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
            for block in copy:
                spool.write(block)
        spool.seek(0)
        yield from io.TextIOWrapper(spool, encoding="utf-8")


def rule_price_changes(rule):
    return [(rule.effective_from, rule.unit_price), *rule.prices.values_list("effective_from", "unit_price")]


# Where usage comes from: the meters app registers a source, called as source(rule, period) and
# answering {unit id: usage of the period}, a number or a MeasuredUsage. Billing itself knows no meters.
_usage_sources = []


@dataclass(frozen=True)
class MeasuredUsage:
    """A unit's usage of a period and how it was measured (its readings, its shared costs), for the bill."""

    value: Decimal
    details: str = ""


def register_usage_source(source):
    if source not in _usage_sources:
        _usage_sources.append(source)


def unregister_usage_source(source):
    if source in _usage_sources:
        _usage_sources.remove(source)


def rule_usage(rule, period):
    usage = {}
    for source in _usage_sources:
        usage.update(source(rule, period))
    return usage


def unit_persons(project_id, day, unit_ids=None):
    """unit id → how many people (individual customers, any role) live in or hold the unit on a day."""
    occupancies = Occupancy.objects.current(day).filter(unit__project_id=project_id,
                                                        customer__kind=CustomerKind.PERSON)
    if unit_ids is not None:
        occupancies = occupancies.filter(unit_id__in=unit_ids)
    return dict(occupancies.order_by().values("unit_id").annotate(persons=Count("customer_id", distinct=True))
                .values_list("unit_id", "persons"))


# A formula's variable names → the unit fact they read.
_FORMULA_FACTS = {
    "面积": "building_area", "建筑面积": "building_area", "area": "building_area", "building_area": "building_area",
    "套内面积": "inner_area", "inner_area": "inner_area", "用量": "usage", "usage": "usage",
    "人数": "persons", "persons": "persons",
}
_METHOD_FACTS = {
    ChargeMethod.BUILDING_AREA: {"building_area"},
    ChargeMethod.INNER_AREA: {"inner_area"},
    ChargeMethod.PERSONS: {"persons"},
    ChargeMethod.USAGE: {"usage"},
    ChargeMethod.TIERED: {"usage"},
}


UNIT_FACTS = ("building_area", "inner_area", "persons", "usage")
AREA_FACTS = {"building_area", "inner_area"}
FACT_LABELS = {"building_area": gettext_lazy("建筑面积"), "inner_area": gettext_lazy("套内面积"),
               "usage": gettext_lazy("用量"), "persons": gettext_lazy("人数")}


def rule_facts(rule):
    """The unit facts (areas, persons, usage) a rule's amount depends on."""
    if rule.method == ChargeMethod.FORMULA:
        try:
            compiled = compile_formula(rule.formula, FORMULA_VARIABLES)
        except FormulaError:
            return set()
        return {_FORMULA_FACTS[name] for name in compiled.variables if name in _FORMULA_FACTS}
    return set(_METHOD_FACTS.get(rule.method, ()))


def _price_text(price):
    """A stored price (four places) as people write it: 1.8000 → 1.80, 0.5125 stays 0.5125."""
    price = Decimal(price)
    shortest = price.normalize()
    return shortest if shortest.as_tuple().exponent < -2 else price.quantize(Decimal("0.01"))


def _price_in_force(price_changes, day):
    ordered = sorted(price_changes)
    in_force = [price for effective_from, price in ordered if effective_from <= day]
    return in_force[-1] if in_force else ordered[0][1]


def _charge(rule, period, price_changes, *, delivered_on=None, facts=None):
    """(amount, computation) for one unit's facts, rounded once with the fee item's rule; None when nothing is owed.

    Raises ChargeError when the unit lacks what the rule needs (no area, no usage, a formula dividing by zero).
    """
    # Charging starts at the later of the rule's start and the unit's hand-over (交付), by days.
    active_from = max(day for day in (rule.effective_from, delivered_on) if day)
    if period.intersection(active_from, rule.effective_to) is None:
        return None
    missing = [str(FACT_LABELS[name]) for name, value in (facts or {}).items() if value is None]
    if missing:
        raise ChargeError(_("缺少%(facts)s") % {"facts": "、".join(missing)})
    measured = (facts or {}).get("usage")
    if isinstance(measured, MeasuredUsage):
        facts = {**facts, "usage": measured.value}
    method = ChargeMethod(rule.method)
    if method.is_time_based:
        pricing = {"price_changes": [(day, _price_text(price)) for day, price in price_changes]}
    else:
        # Usage is measured for the whole period; a price change inside it needs a reading on that day.
        pricing = {"unit_price": _price_text(_price_in_force(price_changes, period.end))}
    computation = compute_charge(
        method, period=period, **pricing, tiers=rule.tiers, tier_limit_basis=rule.tier_limit_basis,
        formula=rule.formula or None, active_from=active_from, active_to=rule.effective_to,
        rounding=rule.fee_item.rounding, precision=rule.fee_item.precision, **(facts or {}))
    if computation.amount <= 0:
        return None
    text = computation.text
    if isinstance(measured, MeasuredUsage) and measured.details:
        text = f"{measured.details}\n{text}"
    part = period.intersection(active_from, rule.effective_to)
    if part != period:
        return computation.amount, _("计费期间 %(part)s\n") % {"part": part.label} + text
    return computation.amount, text


def unit_charge(rule, unit, period, price_changes=None, *, usage=None):
    """What a rule charges one unit for a period: (amount, computation), or None. Raises ChargeError.

    ``usage`` replaces the measured usage, to try a usage rule out before meters are read.
    """
    needed = rule_facts(rule)
    facts = {name: getattr(unit, name) or None for name in ("building_area", "inner_area") if name in needed}
    if "persons" in needed:
        facts["persons"] = unit_persons(unit.project_id, period.start, [unit.pk]).get(unit.pk, 0)
    if "usage" in needed:
        facts["usage"] = usage if usage is not None else rule_usage(rule, period).get(unit.pk)
    if price_changes is None:
        price_changes = rule_price_changes(rule)
    delivered_on = unit.delivered_on if unit.delivered_on and unit.delivered_on > period.start else None
    return _charge(rule, period, price_changes, delivered_on=delivered_on, facts=facts)


@dataclass(frozen=True, eq=False)
class RulePlan:
    """What every bill of one rule in one run shares."""

    rule: ChargeRule
    period: Period
    due_date: datetime.date
    subject: str = "unit"  # what each bill is for: "unit", "parking_space" or "customer"

    @property
    def column(self):
        """The bill's column that tells its subject apart (a customer's bill has no unit or space)."""
        return SUBJECT_COLUMNS[self.subject]


@dataclass(frozen=True)
class UnitCharge:
    """One unit's charge; identical units share one (amount, computation, its COPY text)."""

    amount: Decimal
    computation: str
    copy_text: str

    @classmethod
    def of(cls, amount, computation):
        return cls(amount, computation, f"{amount}\t{_copy_escape(computation)}")


@dataclass(frozen=True, eq=False)
class RuleSource:
    """One rule's subjects in a run, and how they are charged.

    ``rows`` streams the subjects in id order; ``parse`` turns a row into a tuple that starts with the
    subject's id (None: rows are such tuples already); ``charges`` turns rows into (subject id, building
    id, payer id, UnitCharge), leaving out what is not billed. A run reads a batch of rows, then parses
    and charges them while the database takes in their bills.
    """

    plan: RulePlan
    rows: Iterator
    charges: Callable[[Iterable], Iterator]
    parse: Callable | None = None

    def subject_id(self, row):
        return (row if self.parse is None else self.parse(row))[0]


def _copy_escape(text):
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class RunProblems:
    """Units, parking spaces and customers a run cannot bill, counted by rule and reason, for the preview."""

    SAMPLES = 3
    NAMES = {"unit": (Unit, "code"), "parking_space": (ParkingSpace, "number"), "customer": (Customer, "name")}
    MESSAGES = {
        "unit": gettext_lazy("「%(rule)s」有 %(count)s 套房屋无法计费（%(reason)s），如 %(names)s"),
        "parking_space": gettext_lazy("「%(rule)s」有 %(count)s 个车位无法计费（%(reason)s），如 %(names)s"),
        "customer": gettext_lazy("「%(rule)s」有 %(count)s 位客户无法计费（%(reason)s），如 %(names)s"),
    }

    def __init__(self):
        self.counts = defaultdict(int)
        self.samples = defaultdict(list)

    def add(self, plan, reason, subject_id):
        key = (plan.rule.name, plan.subject, reason)
        self.counts[key] += 1
        if len(self.samples[key]) < self.SAMPLES:
            self.samples[key].append(subject_id)

    def warnings(self):
        names = {}
        for subject, (model, field) in self.NAMES.items():
            ids = [pk for (_rule, kind, _reason), pks in self.samples.items() if kind == subject for pk in pks]
            if ids:
                names[subject] = dict(model.objects.filter(pk__in=ids).values_list("pk", field))
        return [self.MESSAGES[subject] % {
                    "rule": rule, "count": count, "reason": reason,
                    "names": "、".join(names[subject].get(pk, str(pk)) for pk in self.samples[rule, subject, reason])}
                for (rule, subject, reason), count in self.counts.items()]


def rule_period(rule, period_month):
    return period_to_bill(rule.cycle, datetime.date(period_month.year, 1, 1), period_month, rule.billing_mode)


def _rule_sources(run, rule, problems=None, building_ids=()):
    """The rule's sources of bills in the run: its parking spaces, or its customers and its units; only the
    units of the buildings given, if any."""
    period = rule_period(rule, run.period_month)
    due = due_date(period, rule=rule.due_date_rule, value=rule.due_day, mode=rule.billing_mode)
    if building_ids and rule.method == ChargeMethod.PARKING_SPACE:
        return
    if rule.method == ChargeMethod.PARKING_SPACE:
        spaces = rule_spaces(rule).order_by("pk").values_list("pk", flat=True)
        yield _flat_source(RulePlan(rule, period, due, "parking_space"), space_payers(spaces), problems)
        return
    customers = sorted(binding.customer_id for binding in rule.bindings.all()
                       if binding.target == BindingTarget.CUSTOMER)
    if customers and not building_ids:
        yield _flat_source(RulePlan(rule, period, due, "customer"), [(pk, pk) for pk in customers], problems)
    needed = rule_facts(rule)
    usage = rule_usage(rule, period) if "usage" in needed else {}
    if "usage" in needed and not usage:
        return
    plan = RulePlan(rule, period, due)
    rows, parse = _units_with_payers(rule, period.start, building_ids)
    yield RuleSource(plan, rows, _unit_charges(run, plan, needed, usage, parse, problems), parse)


def _unit_charges(run, plan, needed, usage, parse, problems):
    """Charges units' rows, computing once per distinct set of facts (areas, persons, usage, hand-over inside
    the period): a project's units share a few hundred areas, not a million.
    """
    rule, period = plan.rule, plan.period
    persons = unit_persons(run.project_id, period.start) if "persons" in needed else {}
    price_changes = rule_price_changes(rule)
    cache = {}
    first_day = period.start
    by_building, by_inner, by_persons, by_usage = (name in needed for name in UNIT_FACTS)

    def charges(rows):
        # The hot loop of a run: one tuple per unit, and the facts spelt out only when a key is new.
        for unit_id, building_id, building_area, inner_area, delivered_on, payer_id in (
                rows if parse is None else map(parse, rows)):
            if delivered_on is not None and delivered_on <= first_day:
                delivered_on = None
            key = (building_area if by_building else None, inner_area if by_inner else None,
                   persons.get(unit_id, 0) if by_persons else None, usage.get(unit_id) if by_usage else None,
                   delivered_on)
            charge = cache.get(key)
            if charge is None:
                if len(cache) >= CHARGE_CACHE_SIZE:
                    cache.clear()
                # An area of 0 is a unit whose area was never entered: refuse it like a missing one.
                facts = {name: (Decimal(value) if isinstance(value, str) else value) or None if name in AREA_FACTS
                         else value for name, value in zip(UNIT_FACTS, key[:-1], strict=True) if name in needed}
                charge = cache[key] = _charge_or_problem(rule, period, price_changes, delivered_on=delivered_on,
                                                         facts=facts)
            if isinstance(charge, UnitCharge):
                yield unit_id, building_id, payer_id, charge
            elif charge and problems is not None:
                problems.add(plan, charge, unit_id)

    return charges


def _charge_or_problem(rule, period, price_changes, **facts):
    """A UnitCharge, the reason the subject cannot be billed, or False when it owes nothing."""
    try:
        result = _charge(rule, period, price_changes, **facts)
    except ChargeError as error:
        return str(error)
    return UnitCharge.of(*result) if result else False


def rule_spaces(rule):
    """The parking spaces a 按车位 rule charges: the project's, or those bound one by one."""
    condition = Q()
    for binding in rule.bindings.all():
        if binding.target == BindingTarget.PROJECT:
            condition |= Q(project_id=rule.project_id)
        elif binding.target == BindingTarget.PARKING_SPACE:
            condition |= Q(pk=binding.parking_space_id)
    if not condition:
        return ParkingSpace.objects.none()
    return ParkingSpace.objects.filter(condition, project_id=rule.project_id)


def space_payers(space_ids):
    """(space id, payer id) in space order: the owner of the first vehicle registered on the space."""
    payers = {}
    for space_id, customer_id in (Vehicle.objects.filter(parking_space_id__in=space_ids, customer__isnull=False)
                                  .order_by("parking_space_id", "pk").values_list("parking_space_id", "customer_id")):
        payers.setdefault(space_id, customer_id)
    return [(space_id, payers.get(space_id)) for space_id in space_ids]


def _flat_source(plan, subjects, problems):
    """Spaces and customers have no area or residents: the rule's price (by days) is the same for each."""
    # A rule that needs a unit's facts (a formula over 面积, say) cannot bill them: say which facts are missing.
    charge = _charge_or_problem(plan.rule, plan.period, rule_price_changes(plan.rule),
                                facts=dict.fromkeys(rule_facts(plan.rule)))
    if not isinstance(charge, UnitCharge):
        if charge and problems is not None:
            for subject_id, _payer_id in subjects:
                problems.add(plan, charge, subject_id)
        subjects = ()

    def charges(rows):
        for subject_id, payer_id in rows:
            yield subject_id, None, payer_id, charge

    return RuleSource(plan, iter(subjects), charges)


def _run_sources(run, problems=None):
    building_ids = list(run.buildings.values_list("pk", flat=True))
    for rule in run.rules.select_related("fee_item").prefetch_related("bindings"):
        if rule.is_active:
            yield from _rule_sources(run, rule, problems, building_ids)


def bill_run_charges(run, problems=None):
    """Every charge the run would post, streamed rule by rule and unit by unit."""
    for source in _run_sources(run, problems):
        plan = source.plan
        for subject_id, building_id, payer_id, charge in source.charges(source.rows):
            yield Charge(plan.rule, subject_id if plan.subject == "unit" else None, building_id, payer_id,
                         plan.period, charge.amount, charge.computation,
                         parking_space_id=subject_id if plan.subject == "parking_space" else None)


def bill_run_preview(run, *, samples=5):
    by_fee_item, by_building = defaultdict(Decimal), defaultdict(Decimal)
    count, total, shown, no_payer = 0, Decimal("0"), [], 0
    problems = RunProblems()
    for charge in bill_run_charges(run, problems):
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
        if not rule.is_active:
            warnings.append(_("「%(rule)s」已停用，不出账") % {"rule": rule.name})
        elif "usage" in rule_facts(rule) and not rule_usage(rule, rule_period(rule, run.period_month)):
            warnings.append(_("「%(rule)s」按用量计费，本期还没有抄表用量，需在抄表后出账") % {"rule": rule.name})
    warnings.extend(problems.warnings())
    return Preview(count, total, dict(by_fee_item), dict(by_building), shown, warnings)


def bill_run_post(run, *, actor=None):
    """Post the run's bills. Re-running it, or resuming one that died half-way, creates only what is missing."""
    BillRun.objects.filter(pk=run.pk).update(status=BillRunStatus.POSTING)
    for source in _run_sources(run):
        # Streamed: no more than one batch of rows is held at a time.
        while rows := list(islice(source.rows, BATCH_SIZE)):
            _post_batch(run, source, rows, actor)
    run_discounts_grant(run, actor=actor)
    run_prepaid_offset(run, actor=actor)
    bills = Bill.objects.filter(run=run)
    totals = {"count": bills.count(), "total": money_total(bills)}
    BillRun.objects.filter(pk=run.pk).update(status=BillRunStatus.POSTED, posted_at=timezone.now(),
                                             bill_count=totals["count"], total_amount=totals["total"] or 0)
    run.refresh_from_db()
    return run


def _post_batch(run, source, rows, actor):
    """Bill the rows that have no bill yet and journal exactly that, in one transaction.

    Two runs of the same rules may race: the unique constraint stops the second insert, and the
    batch is read again, so neither run posts (or journals) a bill twice. A bill pointing at a row
    that is gone (a unit deleted meanwhile) is no race: reading the batch again would not help.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                _insert_missing(run, source, rows, actor)
            return
        except IntegrityError as error:
            if getattr(error.__cause__, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
                raise
            continue
    raise RuntimeError(_("出账批次反复冲突，请稍后重试"))


def _existing_subjects(source, rows):
    """The batch's subjects that already have the plan's bill: one query over the batch's range of ids."""
    plan = source.plan
    bills = Bill.objects.filter(rule_id=plan.rule.pk, period_start=plan.period.start, **{
        f"{plan.column}__gte": source.subject_id(rows[0]), f"{plan.column}__lte": source.subject_id(rows[-1])})
    if plan.subject == "customer":
        bills = bills.filter(unit__isnull=True, parking_space__isnull=True)
    return set(bills.values_list(plan.column, flat=True))


def _insert_missing(run, source, rows, actor):
    existing = _existing_subjects(source, rows)
    if existing:
        rows = [row for row in rows if source.subject_id(row) not in existing]
    if not rows:
        return
    insert = _copy_bills if connection.vendor == "postgresql" else _create_bills
    total = insert(run, source.plan, source.charges(rows), timezone.now())
    if total:
        fee_item = source.plan.rule.fee_item
        journal_post(project=run.project, event="bills_posted", run=run, actor=actor,
                     memo=_("出账 %(month)s %(item)s") % {"month": run.period_month.strftime("%Y-%m"),
                                                         "item": fee_item.name},
                     lines=[(Account.RECEIVABLE, fee_item, total), (Account.REVENUE, fee_item, -total)])


def _create_bills(run, plan, charges, now):
    """Insert the charged bills with the ORM; returns their total."""
    bills = [
        Bill(project_id=run.project_id, **{"payer_id": payer_id, plan.column: subject_id},
             fee_item_id=plan.rule.fee_item_id, rule=plan.rule, run=run, period_start=plan.period.start,
             period_end=plan.period.end, due_date=plan.due_date, amount=charge.amount,
             computation=charge.computation, created_at=now)
        for subject_id, _building_id, payer_id, charge in charges
    ]
    Bill.objects.bulk_create(bills, batch_size=INSERT_BATCH_SIZE)
    return sum((bill.amount for bill in bills), Decimal(0))


def _copy_bills(run, plan, charges, now):
    """COPY the charged bills straight into the bill table; returns their total.

    The rows are charged slice by slice as they are written, so the database takes in one slice while
    the next is computed; what the plan's rows share is formatted once. A concurrent run's rows raise
    IntegrityError here. The bill's references are checked once, at the end of the statement
    (migration 0005).
    """
    rule, period = plan.rule, plan.period
    tail = (f"\t{run.project_id}\t{rule.fee_item_id}\t{rule.pk}\t{run.pk}\t{BillKind.REGULAR.value}"
            f"\t{period.start}\t{period.end}\t{plan.due_date}\t{now.isoformat()}\n")
    # unit_id, parking_space_id, payer_id: the subject's column holds its id, the others \N.
    before, after = {"unit": ("", f"\t{NULL}"), "parking_space": (f"{NULL}\t", ""),
                     "customer": (f"{NULL}\t{NULL}\t", None)}[plan.subject]
    total = Decimal(0)
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.copy(BILL_COPY) as copy:
        while rows := list(islice(charges, COPY_SLICE)):
            if after is None:
                lines = [f"{before}{subject_id}\t{charge.copy_text}{tail}"
                         for subject_id, _building_id, _payer_id, charge in rows]
            else:
                lines = [f"{before}{subject_id}{after}\t{NULL if payer_id is None else payer_id}"
                         f"\t{charge.copy_text}{tail}"
                         for subject_id, _building_id, payer_id, charge in rows]
            copy.write("".join(lines).encode())
            total += sum(map(attrgetter("amount"), map(itemgetter(3), rows)), Decimal(0))
    return total


# 临时收费 and 预缴账单: bills raised one at a time at the desk rather than by a run.


def _refuse_if(errors):
    if errors:
        raise ValidationError(errors)


def _amount_errors(amount, fee_item):
    try:
        amount = to_decimal(amount)
    except InvalidAmount as error:
        return str(error)
    if amount <= 0:
        return _("金额必须大于 0")
    if quantize_amount(amount, precision=fee_item.precision, rounding=fee_item.rounding) != amount:
        return _("「%(item)s」的金额精确到%(precision)s，请填写 %(example)s 这样的金额") % {
            "item": fee_item.name, "precision": Precision(fee_item.precision).label,
            "example": quantize_amount(amount, precision=fee_item.precision, rounding=RoundingMode.DOWN)}
    return None


def temporary_bill_create(*, project, fee_item, amount, reason, due_date, period_start, period_end=None,
                          unit=None, payer=None, actor=None):
    """临时收费 (装修管理费, 垃圾清运费 ...) for a unit or a customer: one bill and its journal entry."""
    period_end = period_end or period_start
    errors = {}
    if fee_item.company_id != project.company_id:
        errors["fee_item"] = _("收费项目不属于该企业")
    if unit is not None and unit.project_id != project.pk:
        errors["unit"] = _("房屋不属于该项目")
    if payer is not None and payer.project_id != project.pk:
        errors["payer"] = _("客户不属于该项目")
    if unit is None and payer is None:
        errors["unit"] = _("请填写房屋或缴费人")
    if "fee_item" not in errors and (problem := _amount_errors(amount, fee_item)):
        errors["amount"] = problem
    if period_end < period_start:
        errors["period_end"] = _("结束日期不能早于开始日期")
    if not (reason or "").strip():
        errors["reason"] = _("请填写收费事由")
    _refuse_if(errors)
    if payer is None:
        payer_id = payers_on(project, period_start, tenant_first=True, unit_ids=[unit.pk]).get(unit.pk)
    else:
        payer_id = payer.pk
    amount = to_decimal(amount)
    with transaction.atomic():
        bill = Bill.objects.create(
            project=project, unit=unit, payer_id=payer_id, fee_item=fee_item, kind=BillKind.TEMPORARY,
            period_start=period_start, period_end=period_end, due_date=due_date, amount=amount,
            computation=_("临时收费：%(reason)s") % {"reason": reason.strip()})
        journal_post(project=project, event="temporary_bill", actor=actor,
                     memo=_("临时收费 %(item)s %(subject)s") % {"item": fee_item.name, "subject": unit or bill.payer},
                     lines=[(Account.RECEIVABLE, fee_item, amount), (Account.REVENUE, fee_item, -amount)])
        grants_post(best_grants([bill], offers_in_force(project, period_start)), project=project, actor=actor)
        bills_notify_payers(Bill.objects.filter(pk=bill.pk))
    return bill


MAX_ADVANCE_PERIODS = 36


@dataclass(frozen=True)
class AdvanceCharge:
    period: Period
    amount: Decimal
    computation: str


def advance_bills_preview(*, rule, unit, periods, today):
    """The next ``periods`` periods of a rule not yet billed to the unit, and what each costs."""
    errors = {}
    if rule.project_id != unit.project_id:
        errors["rule"] = _("收费标准不属于该房屋所在项目")
    elif not ChargeMethod(rule.method).is_time_based or "usage" in rule_facts(rule):
        errors["rule"] = _("按用量计费的收费标准不能预缴")
    elif rule.cycle == BillingCycle.ONE_OFF:
        errors["rule"] = _("一次性收费不能预缴")
    elif not rule_units(rule).filter(pk=unit.pk).exists():
        errors["rule"] = _("该收费标准没有绑定这套房屋")
    if not 1 <= periods <= MAX_ADVANCE_PERIODS:
        errors["periods"] = _("预缴期数须在 1 到 %(max)s 之间") % {"max": MAX_ADVANCE_PERIODS}
    _refuse_if(errors)
    last = Bill.objects.filter(rule=rule, unit=unit).order_by("-period_end").values_list("period_end", flat=True)
    day = last[0] + datetime.timedelta(days=1) if last else today
    price_changes = rule_price_changes(rule)
    charges = []
    while len(charges) < periods:
        period = period_containing(rule.cycle, datetime.date(day.year, 1, 1), day)
        day = period.end + datetime.timedelta(days=1)
        if rule.effective_to and period.start > rule.effective_to:
            message = _("收费标准 %(end)s 失效，最多可预缴到该日") % {"end": rule.effective_to}
            raise ValidationError({"periods": message})
        try:
            charge = unit_charge(rule, unit, period, price_changes)
        except ChargeError as error:
            raise ValidationError({"rule": str(error)}) from error
        if charge is not None:
            charges.append(AdvanceCharge(period, *charge))
    return charges


def advance_bills_create(*, rule, unit, periods, today, actor=None):
    """预缴账单: bill the unit's next N periods now; later runs skip them (one bill per rule, unit and period)."""
    charges = advance_bills_preview(rule=rule, unit=unit, periods=periods, today=today)
    payer_id = payers_on(unit.project, today, tenant_first=rule.charge_tenant, unit_ids=[unit.pk]).get(unit.pk)
    total = sum((charge.amount for charge in charges), Decimal("0"))
    try:
        with transaction.atomic():
            bills = Bill.objects.bulk_create([
                Bill(project_id=unit.project_id, unit=unit, payer_id=payer_id, fee_item_id=rule.fee_item_id, rule=rule,
                     kind=BillKind.ADVANCE, period_start=charge.period.start, period_end=charge.period.end,
                     due_date=today, amount=charge.amount, computation=charge.computation)
                for charge in charges])
            journal_post(project=unit.project, event="advance_bills", actor=actor,
                         memo=_("预缴 %(unit)s %(item)s %(count)s 期") % {"unit": unit.code, "item": rule.fee_item.name,
                                                                        "count": len(charges)},
                         lines=[(Account.RECEIVABLE, rule.fee_item, total), (Account.REVENUE, rule.fee_item, -total)])
            grants_post(best_grants(bills, offers_in_force(unit.project, today), prepaid_periods=bills),
                        project=unit.project, actor=actor)
    except IntegrityError:
        raise ValidationError(_("这些账期刚刚已出账，请刷新后重试")) from None
    return bills


def schedules_due(today):
    """定时出账 schedules whose day of this month has come and whose month is not billed yet."""
    month = today.replace(day=1)
    return (BillRunSchedule.objects.filter(is_active=True, day_of_month__lte=today.day)
            .filter(Q(last_period_month__isnull=True) | Q(last_period_month__lt=month))
            .select_related("project", "created_by").order_by("pk"))


def schedule_next_run(schedule, today):
    """The day the schedule next starts a run (today when it is due and not yet made)."""
    month = today.replace(day=1)
    if schedule.last_period_month is None or schedule.last_period_month < month:
        return max(today, month.replace(day=schedule.day_of_month))
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    return following.replace(day=schedule.day_of_month)


def scheduled_run_create(schedule, today):
    """This month's run of a schedule, created once even if two schedulers fire together; None if already made."""
    month = today.replace(day=1)
    with transaction.atomic():
        schedule = BillRunSchedule.objects.select_for_update().select_related("project").get(pk=schedule.pk)
        if not schedule.is_active or (schedule.last_period_month and schedule.last_period_month >= month):
            return None
        rules = list(schedule.rules.filter(is_active=True))
        if not rules:
            return None
        run = bill_run_create(project=schedule.project, rules=rules, period_month=month, actor=schedule.created_by)
        BillRunSchedule.objects.filter(pk=schedule.pk).update(last_period_month=month)
    return run
