"""Buildings of units with meters and one month of readings, for the allocation tests."""

import datetime
from decimal import Decimal

from aishang.core.testing import make_building, make_unit, unique
from aishang.meters.models import AllocationRule, Meter
from aishang.meters.readings import reading_record

INSTALLED = datetime.date(2026, 9, 30)
OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
READ_ON = datetime.date(2026, 10, 31)
DELIVERED = datetime.date(2026, 1, 1)


def meter(project, *, role="unit", kind="electricity", unit=None, parent=None, name="", digits=6):
    return Meter.objects.create(project=project, kind=kind, role=role, unit=unit, parent=parent,
                                number=unique("M-"), name=name, install_date=INSTALLED, digits=digits)


def read(meter, usage, on=READ_ON):
    """A reading `usage` above the meter's last one, on `on`."""
    last = meter.readings.order_by("-read_on").first()
    start = last.value if last else meter.initial_reading
    return reading_record(meter=meter, value=start + Decimal(usage), read_on=on, actor=None)


def delivered_units(project, count, *, area="100.00", building=None, **fields):
    building = building or make_building(project)
    fields.setdefault("delivered_on", DELIVERED)
    return [make_unit(project, building=building, area=area, **fields) for _ in range(count)]


def rule(project, meter, **fields):
    fields.setdefault("name", unique("规则"))
    scope = {name: fields.pop(name) for name in ("buildings", "entrances", "units") if name in fields}
    created = AllocationRule.objects.create(project=project, meter=meter, **fields)
    for name, values in scope.items():
        getattr(created, name).set(values)
    return created
