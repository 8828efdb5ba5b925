"""Readings: the usage a reading gives (rollover, multiplier), and recording one with its checks."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .choices import ReadingKind, ReadingSource
from .models import Meter, MeterReading

UNUSUAL_FACTOR = 3  # usage above three times the meter's average is flagged for review (待复核), not refused
HISTORY_FOR_AVERAGE = 6  # readings the average is taken over
MINIMUM_HISTORY = 3  # fewer readings than this give no average to compare with


@dataclass(frozen=True)
class Previous:
    value: Decimal
    read_on: datetime.date


def reading_usage(previous, current, *, digits, multiplier, rollover=False):
    """(current − previous) × multiplier; a rollover (翻表) adds the dial's full range, 10 ** digits.

    A reading below the previous one is refused unless it is marked as a rollover; a rollover whose reading is
    not below the previous one is refused too (it would count a whole extra turn of the dial).
    """
    full_range = Decimal(10) ** digits
    if current < 0 or current >= full_range:
        raise ValidationError(_("读数应在 0 到 %(top)s 之间（%(digits)s 位表）")
                              % {"top": full_range - 1, "digits": digits})
    if rollover:
        if current >= previous:
            raise ValidationError(_("标记为翻表，但本期读数 %(current)s 不低于上期 %(previous)s")
                                  % {"current": current, "previous": previous})
        difference = current + full_range - previous
    else:
        if current < previous:
            raise ValidationError(_("本期读数 %(current)s 低于上期 %(previous)s；如为翻表或换表，请标明")
                                  % {"current": current, "previous": previous})
        difference = current - previous
    return difference * multiplier


def previous_reading(meter):
    """The reading the next one is measured from: the meter's last reading, or its initial reading."""
    last = meter.readings.order_by("-read_on", "-pk").values_list("value", "read_on").first()
    if last is not None:
        return Previous(*last)
    return Previous(meter.initial_reading, meter.install_date)


def unusual_usage(meter, usage):
    """Why the usage wants a second look (more than three times the meter's recent average), or ""."""
    recent = list(meter.readings.order_by("-read_on").values_list("usage", flat=True)[:HISTORY_FOR_AVERAGE])
    return unusual_reason(usage, recent)


def unusual_reason(usage, recent):
    """``unusual_usage`` for a meter whose last usages, newest first, are ``recent`` (at most six are used)."""
    recent = recent[:HISTORY_FOR_AVERAGE]
    if len(recent) < MINIMUM_HISTORY:
        return ""
    average = sum(recent) / len(recent)
    if average > 0 and usage > average * UNUSUAL_FACTOR:
        return _("用量 %(usage)s 超过近 %(count)s 期平均 %(average)s 的 %(factor)s 倍") % {
            "usage": usage, "count": len(recent), "average": average.quantize(Decimal("0.01")),
            "factor": UNUSUAL_FACTOR}
    return ""


def reading_record(*, meter, value, read_on, actor, kind=ReadingKind.NORMAL, note="", source=ReadingSource.WEB):
    """Record a reading after the meter's last one; refused with the reason at its field, nothing saved."""
    with transaction.atomic():
        meter = Meter.objects.select_for_update().get(pk=meter.pk)
        if meter.removed_on is not None and kind != ReadingKind.FINAL:
            raise ValidationError({"meter": _("该表已于 %(day)s 拆除") % {"day": meter.removed_on}})
        previous = previous_reading(meter)
        if read_on <= previous.read_on:
            raise ValidationError({"read_on": _("本期抄表日期须晚于上期 %(day)s") % {"day": previous.read_on}})
        try:
            usage = reading_usage(previous.value, value, digits=meter.digits, multiplier=meter.multiplier,
                                  rollover=kind == ReadingKind.ROLLOVER)
        except ValidationError as error:
            raise ValidationError({"value": error.messages}) from error
        reason = unusual_usage(meter, usage)
        return MeterReading.objects.create(
            project_id=meter.project_id, meter=meter, kind=kind, read_on=read_on, value=value,
            previous_on=previous.read_on, previous_value=previous.value, usage=usage, flagged=bool(reason),
            flag_reason=reason, source=source, note=note, recorded_by=actor)


def meter_replace(*, meter, final_value, on, number, initial_reading, actor):
    """换表: the old meter's last reading (its usage counts as usual) and a new meter, in the old one's place,
    starting from its own initial reading."""
    with transaction.atomic():
        final = reading_record(meter=meter, value=final_value, read_on=on, actor=actor, kind=ReadingKind.FINAL,
                               note=_("换表拆表读数"))
        meter = Meter.objects.get(pk=meter.pk)
        meter.removed_on = on
        meter.save(update_fields=["removed_on", "updated_at"])
        fields = {name: getattr(meter, name) for name in (
            "project_id", "kind", "role", "name", "unit_id", "building_id", "parent_id", "multiplier", "digits")}
        successor = Meter.objects.create(**fields, number=number, install_date=on, initial_reading=initial_reading,
                                         replaces=meter)
        for child in Meter.objects.filter(parent=meter):
            child.parent = successor
            child.save(update_fields=["parent", "updated_at"])
    return final, successor
