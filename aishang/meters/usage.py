"""The usage a bill run prices: each unit's meter readings of the period and its shared costs (公摊、损耗).

Registered with billing as a usage source (`billing.services.register_usage_source`), so billing knows no
meters. A water fee item measures the units' water meters, an electricity item their electricity meters, and
so on, plus the units' shares of posted allocation runs (ADR 0023); a reading counts in the period its
本期抄表日期 falls in. Every bill says which readings and shares it was priced by.
"""

from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext as _

from aishang.billing.choices import FeeCategory
from aishang.billing.services import MeasuredUsage
from aishang.core.money import describe_number

from .allocation_runs import unit_shares
from .choices import MeterKind, MeterRole, ReadingKind
from .models import MeterReading

METER_KIND_OF_FEE = {
    FeeCategory.WATER: MeterKind.WATER,
    FeeCategory.ELECTRICITY: MeterKind.ELECTRICITY,
    FeeCategory.GAS: MeterKind.GAS,
    FeeCategory.HEATING: MeterKind.HEAT,
}


def _number(value):
    return describe_number(value, max_places=4)[0]


def _reading_line(meter_label, number, previous_on, previous_value, read_on, value, multiplier, kind, usage):
    line = _("%(meter)s %(number)s：%(previous_on)s 读数 %(previous)s → %(read_on)s 读数 %(value)s") % {
        "meter": meter_label, "number": number, "previous_on": previous_on, "previous": _number(previous_value),
        "read_on": read_on, "value": _number(value)}
    if kind == ReadingKind.ROLLOVER:
        line += _("（翻表）")
    elif kind == ReadingKind.FINAL:
        line += _("（换表拆表读数）")
    if multiplier != 1:
        line += _("，倍率 %(multiplier)s") % {"multiplier": _number(multiplier)}
    return line + _("，用量 %(usage)s") % {"usage": _number(usage)}


def unit_meter_usage(*, project_id, kind, start, end):
    """unit id → (usage, lines): the unit meters of a kind read within [start, end], every reading explained."""
    labels = dict(MeterKind.choices)
    usage, lines = defaultdict(Decimal), defaultdict(list)
    readings = (MeterReading.objects
                .filter(project_id=project_id, meter__kind=kind, meter__role=MeterRole.UNIT,
                        read_on__gte=start, read_on__lte=end)
                .order_by("meter__unit_id", "meter__number", "read_on")
                .values_list("meter__unit_id", "meter__number", "previous_on", "previous_value", "read_on", "value",
                             "meter__multiplier", "kind", "usage"))
    for unit_id, number, *reading in readings.iterator(chunk_size=5000):
        usage[unit_id] += reading[-1]
        lines[unit_id].append(_reading_line(labels[kind], number, *reading))
    return usage, lines


def metered_usage(rule, period):
    """The billing usage source: unit id → MeasuredUsage of the rule's fee item over the period.

    A water (electricity …) fee item measures the units' own meters of that kind plus their shares of posted
    allocation runs of that kind that name no fee item; a fee item that allocation rules name (公摊电费) is
    priced by those shares alone.
    """
    kind = METER_KIND_OF_FEE.get(rule.fee_item.category)
    if kind is not None:
        usage, lines = unit_meter_usage(project_id=rule.project_id, kind=kind, start=period.start, end=period.end)
    else:
        usage, lines = defaultdict(Decimal), defaultdict(list)
    shares = unit_shares(project_id=rule.project_id, kind=kind, fee_item_id=rule.fee_item_id, start=period.start,
                         end=period.end)
    for unit_id, unit_shares_of_period in shares.items():
        for share, rule_name, explanation in unit_shares_of_period:
            usage[unit_id] += share
            lines[unit_id].append(_("分摊「%(rule)s」：%(explanation)s") % {"rule": rule_name,
                                                                         "explanation": explanation})
    return {unit_id: MeasuredUsage(value, _details(lines[unit_id], value)) for unit_id, value in usage.items()}


def _details(lines, total):
    if len(lines) > 1:
        lines = [*lines, _("合计用量 %(usage)s") % {"usage": _number(total)}]
    return "\n".join(lines)
