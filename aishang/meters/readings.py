"""Readings: the usage a reading gives (rollover, multiplier), and recording one with its checks."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import ReadingKind, ReadingSource
from .models import Meter, MeterReading

UNUSUAL_FACTOR = 3  # usage above three times the meter's average is flagged for review (待复核), not refused
HISTORY_FOR_AVERAGE = 6  # readings the average is taken over
MINIMUM_HISTORY = 3  # fewer readings than this give no average to compare with
USAGE_PLACES = Decimal("0.01")


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
    # Stored with two places, as the usage column holds it; rounded half up (as PostgreSQL would) once, here.
    return (difference * multiplier).quantize(USAGE_PLACES, rounding=ROUND_HALF_UP)


def previous_reading(meter):
    """The reading the next one is measured from: the meter's last reading, or its initial reading."""
    last = meter.readings.order_by("-read_on", "-pk").values_list("value", "read_on").first()
    if last is not None:
        return Previous(*last)
    return Previous(meter.initial_reading, meter.install_date)


def unusual_usage(meter, usage, *, before=None):
    """Why the usage wants a second look (more than three times the meter's recent average), or "".

    ``before`` (a date) leaves out the readings on or after it, so a corrected reading is not compared with itself.
    """
    readings = meter.readings.all() if before is None else meter.readings.filter(read_on__lt=before)
    recent = list(readings.order_by("-read_on").values_list("usage", flat=True)[:HISTORY_FOR_AVERAGE])
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
        meter = Meter.objects.select_for_update().get(pk=meter.pk)
        if meter.removed_on is not None:
            raise ValidationError({"meter": _("该表已于 %(day)s 拆除") % {"day": meter.removed_on}})
        if Meter.objects.filter(project_id=meter.project_id, number=number).exists():
            raise ValidationError({"number": _("该项目已有表号为 %(number)s 的仪表") % {"number": number}})
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


@dataclass(frozen=True)
class ReadingRow:
    """One reading to record among many; ``key`` names it in the errors (a grid row, a spreadsheet row number)."""

    key: object
    meter: Meter
    value: Decimal
    read_on: datetime.date
    kind: str = ReadingKind.NORMAL
    note: str = ""


def readings_record_many(*, rows, actor, source=ReadingSource.WEB, dry_run=False):
    """Record every row through ``reading_record`` in one transaction, or none of them.

    Each row is checked even after one is refused, so that every bad row is named at once: a ``ValidationError``
    keyed by the rows' ``key``, each with its messages, and nothing saved. ``dry_run`` checks every row the same
    way and saves nothing even when all pass (the readings returned are then not in the database).
    """
    errors = {}
    recorded = []
    with transaction.atomic():
        for row in rows:
            try:
                recorded.append(reading_record(meter=row.meter, value=row.value, read_on=row.read_on, kind=row.kind,
                                               note=row.note, actor=actor, source=source))
            except ValidationError as error:
                errors[row.key] = error.messages
        if errors:
            raise ValidationError(errors)
        if dry_run:
            transaction.set_rollback(True)
    return recorded


def _latest_reading(meter_id):
    return MeterReading.objects.filter(meter_id=meter_id).order_by("-read_on", "-pk").first()


def _lock_latest(reading):
    """Lock the meter (as recording does) and refuse any reading but its latest: later readings were measured
    from it, so changing an earlier one would leave them measuring from a value that no longer exists."""
    meter = Meter.objects.select_for_update().get(pk=reading.meter_id)
    latest = _latest_reading(meter.pk)
    if latest is None or latest.pk != reading.pk:
        raise ValidationError(_("只能更正或撤销该表最近一次读数（之后的读数以它为上期）"))
    return meter, latest


def reading_approve(*, reading, actor):
    """复核通过: the flagged usage is confirmed as it is; who confirmed it and when are kept."""
    with transaction.atomic():
        reading = MeterReading.objects.select_for_update().get(pk=reading.pk)
        if not reading.flagged:
            raise ValidationError(_("该读数不需要复核"))
        reading.flagged = False
        reading.reviewed_by = actor
        reading.reviewed_at = timezone.now()
        reading.save(update_fields=["flagged", "reviewed_by", "reviewed_at", "updated_at"])
    return reading


def reading_correct(*, reading, value, kind, reason, actor):
    """Correct the meter's latest reading: a new value (and kind), its usage and review flag recomputed from the
    same previous reading; the reason is kept on the reading and in its change log."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写更正原因")})
    with transaction.atomic():
        meter, reading = _lock_latest(reading)
        if reading.kind == ReadingKind.FINAL:
            kind = ReadingKind.FINAL  # a replacement's last reading stays one; only its value can be wrong
        elif kind not in (ReadingKind.NORMAL, ReadingKind.ROLLOVER):
            raise ValidationError({"kind": _("请选择正常抄表或翻表")})
        try:
            usage = reading_usage(reading.previous_value, value, digits=meter.digits, multiplier=meter.multiplier,
                                  rollover=kind == ReadingKind.ROLLOVER)
        except ValidationError as error:
            raise ValidationError({"value": error.messages}) from error
        flag = unusual_usage(meter, usage, before=reading.read_on)
        reading.value, reading.kind, reading.usage = value, kind, usage
        reading.flagged, reading.flag_reason = bool(flag), flag
        reading.review_note = _("更正：%(reason)s") % {"reason": reason}
        reading.reviewed_by, reading.reviewed_at = actor, timezone.now()
        reading.save()
    return reading


def reading_withdraw(*, reading, reason, actor):
    """撤销 the meter's latest reading (read in error): it is deleted, and the change log keeps it with the
    reason, so the next reading is measured from the one before it again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写撤销原因")})
    with transaction.atomic():
        meter, reading = _lock_latest(reading)
        if reading.kind == ReadingKind.FINAL and meter.removed_on is not None:
            raise ValidationError(_("这是换表时的拆表读数，不能撤销；如读数有误请更正"))
        # The deletion's change-log row is written from this in-memory object: it carries the reason.
        reading.review_note = _("撤销：%(reason)s") % {"reason": reason}
        reading.reviewed_by, reading.reviewed_at = actor, timezone.now()
        reading.delete()
    return reading
