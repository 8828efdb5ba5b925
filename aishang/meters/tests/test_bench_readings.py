"""bench_readings on a small data set: it builds its project once, imports every reading and ends with the ratio."""

import io

import pytest
from django.core.management import call_command

from aishang.meters.models import AllocationRun, Meter, MeterReading

pytestmark = pytest.mark.django_db


def bench(**options):
    out = io.StringIO()
    call_command("bench_readings", stdout=out, **options)
    return out.getvalue().splitlines()


def test_the_bench_imports_every_meters_months_and_ends_with_the_ratio():
    lines = bench(meters=120, months=2)

    assert Meter.objects.count() == 120
    assert MeterReading.objects.filter(read_on__gte="2025-07-25", source="import").count() == 240
    # 120 meters: 50 master and 50 public meters and 20 unit meters, one in each of buildings 1-20; each of those
    # has a loss and a public rule, allocated for both months.
    assert "  allocation runs 80, shares 80" in lines
    assert AllocationRun.objects.filter(status="posted").count() == 80
    assert lines[-1].startswith("ratio: ") and float(lines[-1].split()[1]) > 0

    again = bench(meters=120, months=2)

    assert "removed 240 readings and the allocation runs of a previous run" in again
    assert AllocationRun.objects.count() == 80
    assert Meter.objects.count() == 120 and MeterReading.objects.count() == 120 * (6 + 2)
