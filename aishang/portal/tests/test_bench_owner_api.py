"""bench_owner_api: the owner bills endpoint under HTTP load on loopback, beside a bare view running its SQL."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from aishang.billing.models import Allocation, Bill, Payment
from aishang.customers.models import OwnerAccount

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="bench_owner_api loads its data with PostgreSQL's COPY; run with DATABASE_URL=postgres://…",
)
FIGURES = r"[\d.]+ requests/s, p50 [\d.]+ ms, p95 [\d.]+ ms; [\d,]+ requests, 0 errors"


def run(**options):
    out = StringIO()
    call_command(
        "bench_owner_api",
        units=12,
        months=6,
        duration=0.5,
        rounds=1,
        concurrency=2,
        workers=2,
        client="python",
        any_database=True,
        stdout=out,
        **options,
    )
    return out.getvalue().splitlines()


@postgresql_only
@pytest.mark.django_db(transaction=True)  # the gunicorn it starts reads the committed data set
def test_the_benchmark_loads_owners_serves_both_views_and_prints_the_ratio_last_then_reuses_its_data():
    lines = run()

    assert any(
        re.fullmatch(
            r"owner 137\*\*\*\*0006, unit [\d-]+: GET /api/v1/owner/bills/\?unit=\d+ answers 18 "
            r"bills on its first page with \d+ queries",
            line,
        )
        for line in lines
    )
    assert any(re.fullmatch(rf"endpoint \(.*\): {FIGURES}", line) for line in lines)
    assert any(re.fullmatch(rf"bare view \(.*\): {FIGURES}", line) for line in lines)
    assert any(line.startswith("load: Python threaded client") for line in lines)
    assert re.fullmatch(r"ratio: \d+\.\d\d", lines[-1])
    # 12 units × 6 months × 3 fee items; all but the last zero to three months settled by payments.
    assert Bill.objects.count() == 216
    assert 100 < Allocation.objects.count() < 216 and Payment.objects.exists()
    assert OwnerAccount.objects.get(mobile="13700000006").bindings.count() == 1

    again = run()
    assert any(line.startswith("data set: reused") for line in again)
    assert Bill.objects.count() == 216
    with pytest.raises(CommandError, match="已有 12 套房屋"):
        call_command("bench_owner_api", units=13, months=6, any_database=True, stdout=StringIO())


@postgresql_only
@pytest.mark.django_db
def test_the_benchmark_keeps_its_data_only_in_a_database_named_for_benchmarks():
    if "bench" in connection.settings_dict["NAME"]:
        pytest.skip("the test database's name says bench")
    with pytest.raises(CommandError, match="不含 bench"):
        call_command("bench_owner_api", units=12, stdout=StringIO())
    assert not Bill.objects.exists()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the refusal on SQLite")
def test_the_benchmark_says_it_needs_postgresql():
    with pytest.raises(CommandError, match="需要 PostgreSQL"):
        call_command("bench_owner_api", units=12, stdout=StringIO())


def test_the_bare_view_is_not_in_the_url_conf_of_the_product():
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve("/bench/owner-bills-bare/")
