"""A bill's references are checked by the database itself, whoever writes (migration 0005, ADR 0009).

The bill table's foreign keys have no per-row constraints; on PostgreSQL triggers check each statement's
new bills at its end and refuse to delete a row a bill points at. These tests write raw SQL, as a script
or another program would, so that only the database stands in the way.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from aishang.billing import services
from aishang.billing.models import Bill, BillKind, BindingTarget, ChargeRule, FeeItem, JournalEntry, RuleBinding
from aishang.core.testing import (
    foreign_key_violation,
    make_company,
    make_customer,
    make_owner,
    make_parking_space,
    make_project,
    make_unit,
    missing_id,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the bill's reference triggers are PostgreSQL's (migration 0005); on SQLite the "
                              "bill's foreign keys have no database constraint and the ORM's PROTECT is the guard"),
]

NOVEMBER = datetime.date(2026, 11, 1)
LATER = datetime.date(2031, 1, 1)
# Every foreign key of the bill: (field, column, referenced table).
REFERENCES = [(field.name, field.column, field.related_model._meta.db_table)
              for field in Bill._meta.concrete_fields if field.many_to_one]
COLUMNS = ("project_id", "unit_id", "parking_space_id", "payer_id", "fee_item_id", "rule_id", "run_id", "kind",
           "period_start", "period_end", "due_date", "amount", "computation", "created_at")


@pytest.fixture
def bill():
    """A bill that points at one of everything a bill can point at."""
    project = make_project(make_company())
    unit = make_unit(project, area="100.00")
    owner = make_customer(project)
    make_owner(unit, owner)
    fee_item = FeeItem.objects.create(company=project.company, code="WY", name="物业费")
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="物业费", unit_price=Decimal("1.80"),
                                     effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    run = services.bill_run_create(project=project, rules=[rule], period_month=NOVEMBER)
    return Bill.objects.create(project=project, unit=unit, parking_space=make_parking_space(project), payer=owner,
                               fee_item=fee_item, rule=rule, run=run, kind=BillKind.REGULAR, period_start=NOVEMBER,
                               period_end=datetime.date(2026, 11, 30), due_date=datetime.date(2026, 11, 30),
                               amount=Decimal("180.00"), computation="100.00 ㎡ × 1.80 元/㎡/月")


def insert_copies(bill, column, values):
    """INSERT copies of the bill in one statement, one per value of the column, each for a later day of its
    own (so that no unique constraint gets in the way)."""
    chosen = {name: name for name in COLUMNS}
    chosen.update({column: "v.value", "period_start": "%s::date + v.n::int", "period_end": "%s::date + v.n::int"})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO billing_bill ({', '.join(COLUMNS)}) SELECT {', '.join(chosen[name] for name in COLUMNS)}"
            " FROM billing_bill, unnest(%s::bigint[]) WITH ORDINALITY AS v(value, n) WHERE billing_bill.id = %s",
            [LATER, LATER, values, bill.pk])


@pytest.mark.parametrize(("field", "column", "table"), REFERENCES, ids=[name for name, *_ in REFERENCES])
def test_a_raw_insert_pointing_at_a_missing_row_is_refused(bill, field, column, table):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a foreign key that is a real constraint says so now

    with pytest.raises(IntegrityError) as error, transaction.atomic():
        insert_copies(bill, column, [missing_id(table)])

    assert foreign_key_violation(error)
    assert column in str(error.value)
    assert Bill.objects.count() == 1


def test_one_missing_unit_among_many_refuses_the_whole_statement(bill):
    others = [make_unit(bill.project).pk for _ in range(3)]

    with pytest.raises(IntegrityError) as error, transaction.atomic():
        insert_copies(bill, "unit_id", [*others[:2], missing_id("estate_unit"), others[2]])

    assert foreign_key_violation(error)
    assert Bill.objects.count() == 1
    insert_copies(bill, "unit_id", others)  # the same statement without it goes in
    assert Bill.objects.count() == 4


def test_a_raw_update_pointing_at_a_missing_row_is_refused(bill):
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_bill SET payer_id = %s WHERE id = %s",
                       [missing_id("customers_customer"), bill.pk])

    assert foreign_key_violation(error)


@pytest.mark.parametrize(("field", "column", "table"), REFERENCES, ids=[name for name, *_ in REFERENCES])
def test_a_raw_delete_of_a_row_a_bill_points_at_is_refused(bill, field, column, table):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [getattr(bill, f"{field}_id")])

    assert foreign_key_violation(error)
    assert "billing_bill" in str(error.value)


def test_changing_the_id_of_a_unit_a_bill_points_at_is_refused(bill):
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE estate_unit SET id = %s WHERE id = %s", [missing_id("estate_unit"), bill.unit_id])

    assert foreign_key_violation(error)


def test_rows_no_bill_points_at_may_still_be_deleted_and_the_demo_reset_may_delete_anything(bill):
    unbilled = make_unit(bill.project)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM estate_unit WHERE id = %s", [unbilled.pk])
        assert cursor.rowcount == 1
        # The demo's reset (core.demo.demo_delete) clears a company in the replica role: no trigger fires.
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM estate_unit WHERE id = %s", [bill.unit_id])
            assert cursor.rowcount == 1
            transaction.set_rollback(True)


def test_a_run_batch_pointing_at_a_payer_deleted_meanwhile_is_refused_at_once_and_not_retried(bill):
    unit = make_unit(bill.project, area="80.00")
    owner = make_owner(unit)
    run = services.bill_run_create(project=bill.project, rules=[bill.rule], period_month=datetime.date(2026, 12, 1))
    source = next(source for source in services._run_sources(run) if source.plan.subject == "unit")
    rows = [row for row in source.rows if source.subject_id(row) == unit.pk]
    with transaction.atomic(), connection.cursor() as cursor:
        # Deleted after the run has read its units, by something no trigger stops (the replica role).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM customers_occupancy WHERE customer_id = %s", [owner.pk])
        cursor.execute("DELETE FROM customers_customer WHERE id = %s", [owner.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    entries = JournalEntry.objects.count()

    with pytest.raises(IntegrityError) as error:
        services._post_batch(run, source, rows, None)

    assert foreign_key_violation(error)
    assert not Bill.objects.filter(run=run).exists()
    assert JournalEntry.objects.count() == entries
