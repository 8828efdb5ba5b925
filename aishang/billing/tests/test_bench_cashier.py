"""bench_cashier: opening the 收银台 for a unit with ten years of bills, timed against the same SQL run raw."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from aishang.billing.models import Allocation, Bill, BillVoid, Waiver

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="bench_cashier loads its data with PostgreSQL's COPY and times PostgreSQL; run with DATABASE_URL=postgres://…")


@postgresql_only
def test_the_benchmark_opens_the_desk_of_a_unit_with_ten_years_of_bills_and_prints_the_ratio_last():
    out = StringIO()
    call_command("bench_cashier", bills=2000, repeat=3, warmup=1, any_database=True, stdout=out)

    lines = out.getvalue().splitlines()
    assert "desk of unit 8-2-1808: 600 bills, 19 open in 5 fee items" in lines
    assert any(re.fullmatch(r"view \(.*\): p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms; \d+ queries", line)
               for line in lines)
    assert any(line.startswith("raw SQL (the same ") for line in lines)
    assert re.fullmatch(r"ratio: \d+\.\d\d", lines[-1])
    # The data set: 2,000 bills besides the target's 600, most settled, the target's corrections made by the services.
    assert Bill.objects.count() == 2600
    assert 1500 < Allocation.objects.count() < 2600
    assert Waiver.objects.count() == 1 and BillVoid.objects.count() == 1

    again = StringIO()
    call_command("bench_cashier", bills=2000, repeat=2, warmup=1, any_database=True, stdout=again)
    assert "data set: reused" in again.getvalue()
    assert Bill.objects.count() == 2600
    with pytest.raises(CommandError, match="已有 2,000 张账单的数据集"):
        call_command("bench_cashier", bills=3000, repeat=2, warmup=1, any_database=True, stdout=StringIO())


@postgresql_only
def test_the_benchmark_keeps_its_data_only_in_a_database_named_for_benchmarks():
    if "bench" in connection.settings_dict["NAME"]:
        pytest.skip("the test database's name says bench")
    with pytest.raises(CommandError, match="不含 bench"):
        call_command("bench_cashier", bills=2000, stdout=StringIO())
    with pytest.raises(CommandError, match="--rebuild"):
        call_command("bench_cashier", bills=2000, rebuild=True, any_database=True, stdout=StringIO())
    assert not Bill.objects.exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the refusal on SQLite")
def test_the_benchmark_says_it_needs_postgresql():
    with pytest.raises(CommandError, match="需要 PostgreSQL"):
        call_command("bench_cashier", bills=2000, stdout=StringIO())
