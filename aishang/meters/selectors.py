"""Reads of meters and readings for the pages: the register with its last reading, a building's reading grid,
a meter's tree, replacement chain and history."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, DateField, DecimalField, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from aishang.estate.selectors import natural_key

from .choices import AllocationRunStatus, MeterRole
from .models import READING_FIELD, AllocationRun, AllocationShare, Meter, MeterReading
from .readings import HISTORY_FOR_AVERAGE, MINIMUM_HISTORY, UNUSUAL_FACTOR


def with_last_reading(meters):
    """Meters annotated with their last reading's value and date (None when they have none yet)."""
    last = MeterReading.objects.filter(meter=OuterRef("pk")).order_by("-read_on", "-pk")
    return meters.annotate(last_value=Subquery(last.values("value")[:1], output_field=DecimalField(**READING_FIELD)),
                           last_on=Subquery(last.values("read_on")[:1], output_field=DateField()))


def unit_meters(user, unit):
    """The unit's meters, in use first, each with its last reading (value, date, usage, 待复核), in one query."""
    last = MeterReading.objects.filter(meter=OuterRef("pk")).order_by("-read_on", "-pk")
    return (with_last_reading(Meter.objects.restrict(user, "view").filter(unit=unit))
            .annotate(last_usage=Subquery(last.values("usage")[:1], output_field=DecimalField(**READING_FIELD)),
                      last_flagged=Subquery(last.values("flagged")[:1], output_field=BooleanField()))
            .order_by(F("removed_on").desc(nulls_first=True), "kind", "number"))


def unit_allocation_shares(user, unit):
    """The unit's shares of posted (and later reversed) allocation runs the user may see, newest period first."""
    return (AllocationShare.objects.filter(unit=unit, run__status__in=[AllocationRunStatus.POSTED,
                                                                        AllocationRunStatus.REVERSED])
            .filter(run__in=AllocationRun.objects.restrict(user, "view"))
            .select_related("run__rule").order_by("-run__period_start", "-run_id"))


def meter_list_queryset(user):
    return with_last_reading(Meter.objects.restrict(user, "view")
                             .select_related("project", "unit__building", "building", "parent"))


def reading_list_queryset(user):
    return (MeterReading.objects.restrict(user, "view")
            .select_related("project", "meter", "meter__unit", "meter__building", "recorded_by"))


@dataclass
class GridRow:
    """One meter of the reading grid, with what the clerk needs to read it and the browser to compute usage."""

    meter: Meter
    previous_value: Decimal
    previous_on: object
    average_usage: Decimal | None  # the recent average the server flags against (None: too few readings)
    done: MeterReading | None = None  # already read on or after the grid's day
    value: str = ""
    rollover: bool = False
    note: str = ""
    errors: list = field(default_factory=list)

    @property
    def place(self):
        return self.meter.unit.code if self.meter.unit_id else (self.meter.name or self.meter.get_role_display())

    @property
    def unusual_above(self):
        if self.average_usage is None or self.average_usage <= 0:
            return None
        return (self.average_usage * UNUSUAL_FACTOR).quantize(Decimal("0.01"))


def grid_meters(*, building, kind, entrance=None):
    """The active meters of a kind to read in a building, in walking order: the units' meters in unit order,
    then (when no entrance is chosen) the building's public and master meters."""
    in_building = Q(unit__building=building)
    if entrance is not None:
        in_building = Q(unit__entrance=entrance)
    else:
        in_building |= Q(building=building) & ~Q(role=MeterRole.UNIT)
    meters = list(Meter.objects.filter(in_building, kind=kind, removed_on__isnull=True)
                  .select_related("unit", "building"))
    role_order = {MeterRole.UNIT: 0, MeterRole.PUBLIC: 1, MeterRole.MASTER: 2}
    meters.sort(key=lambda m: (role_order.get(m.role, 3), natural_key(m.unit.code if m.unit_id else ""),
                               natural_key(m.number)))
    return meters


def grid_rows(meters, read_on):
    """Grid rows with each meter's previous reading, recent average usage and the reading already taken for the
    grid's day, in a constant number of queries."""
    ids = [meter.pk for meter in meters]
    recent = (MeterReading.objects.filter(meter_id__in=ids)
              .annotate(position=Window(RowNumber(), partition_by=[F("meter_id")],
                                        order_by=[F("read_on").desc(), F("pk").desc()]))
              .filter(position__lte=HISTORY_FOR_AVERAGE)
              .order_by("meter_id", "position"))
    by_meter = {}
    for reading in recent:
        by_meter.setdefault(reading.meter_id, []).append(reading)
    rows = []
    for meter in meters:
        readings = by_meter.get(meter.pk, [])
        last = readings[0] if readings else None
        done = last if last is not None and read_on is not None and last.read_on >= read_on else None
        history = readings[1:] if done is not None else readings
        average = (sum(r.usage for r in history) / len(history)) if len(history) >= MINIMUM_HISTORY else None
        if done is not None:
            previous_value, previous_on = done.previous_value, done.previous_on
        elif last is not None:
            previous_value, previous_on = last.value, last.read_on
        else:
            previous_value, previous_on = meter.initial_reading, meter.install_date
        rows.append(GridRow(meter=meter, previous_value=previous_value, previous_on=previous_on,
                            average_usage=average, done=done))
    return rows


def meter_tree(meter):
    """The meter's sub-meters, all levels, as [(meter, depth)] in tree order."""
    tree, seen = [], {meter.pk}

    def walk(parent, depth):
        for child in (Meter.objects.filter(parent=parent).select_related("unit")
                      .order_by("removed_on", "role", "number")):
            if child.pk in seen:
                continue
            seen.add(child.pk)
            tree.append((child, depth))
            walk(child, depth + 1)

    walk(meter, 0)
    return tree


def replacement_chain(meter):
    """Every meter of this place, oldest first: the ones it replaced, itself and the ones that replaced it."""
    chain = [meter]
    earlier = meter.replaces
    while earlier is not None and earlier not in chain:
        chain.insert(0, earlier)
        earlier = earlier.replaces
    later = Meter.objects.filter(replaces=meter).first()
    while later is not None and later not in chain:
        chain.append(later)
        later = Meter.objects.filter(replaces=later).first()
    return chain


def meter_history(meter):
    return meter.readings.select_related("recorded_by", "reviewed_by").order_by("-read_on", "-pk")


def latest_reading_id(meter):
    return meter.readings.order_by("-read_on", "-pk").values_list("pk", flat=True).first()


def usage_chart(meter, count=24):
    """The last readings' usage for a small chart, oldest first."""
    points = list(meter.readings.order_by("-read_on", "-pk").values_list("read_on", "usage")[:count])
    points.reverse()
    return {"categories": [day.strftime("%Y-%m-%d") for day, _usage in points],
            "usage": [str(usage) for _day, usage in points]}
