"""Readings' and shares' references are checked by the database itself, whoever writes (migration 0005, ADR 0025).

Their foreign keys have no per-row constraints; on PostgreSQL triggers check each statement's new rows at its end
and refuse to delete a row a reading or share points at. These tests write raw SQL, as a script or another program
would, so that only the database stands in the way.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from aishang.core.testing import foreign_key_violation, make_company, make_project, make_staff, missing_id
from aishang.meters.allocation_runs import allocation_preview
from aishang.meters.models import AllocationShare, MeterReading

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the reference triggers are PostgreSQL's (migration 0005); on SQLite these foreign keys "
                              "have no database constraint and the ORM's on_delete is the guard"),
]

READING_REFERENCES = [(field.name, field.column, field.related_model._meta.db_table)
                      for field in MeterReading._meta.concrete_fields if field.many_to_one]
READING_IDS = [name for name, *_ in READING_REFERENCES]
SHARE_REFERENCES = [(field.name, field.column, field.related_model._meta.db_table)
                    for field in AllocationShare._meta.concrete_fields if field.many_to_one]
READING_COLUMNS = ("project_id", "meter_id", "kind", "read_on", "value", "previous_on", "previous_value", "usage",
                   "flagged", "flag_reason", "source", "note", "recorded_by_id", "reviewed_by_id", "review_note",
                   "created_at", "updated_at")
SHARE_COLUMNS = ("run_id", "unit_id", "weight", "usage", "explanation")


@pytest.fixture
def reading():
    """A reviewed reading: it points at one of everything a reading can point at."""
    project = make_project(make_company())
    clerk = make_staff(project.company, "finance", projects=[project])
    recorded = read(meter(project, role="public"), 25)
    MeterReading.objects.filter(pk=recorded.pk).update(recorded_by=clerk, reviewed_by=clerk)
    return MeterReading.objects.get(pk=recorded.pk)


@pytest.fixture
def share():
    project = make_project(make_company())
    units = delivered_units(project, 2)
    public = meter(project, role="public", name="公区照明")
    read(public, 100)
    run = allocation_preview(rule=rule(project, public, scope="project"), period_start=OCTOBER[0],
                             period_end=OCTOBER[1], actor=None)
    return AllocationShare.objects.get(run=run, unit=units[0])


def insert_reading_copies(reading, column, values):
    """INSERT copies of the reading in one statement, one per value of the column, each a day later than the one
    before (so that no unique constraint gets in the way)."""
    chosen = {name: f"r.{name}" for name in READING_COLUMNS}
    chosen.update({column: "v.id", "read_on": "r.read_on + v.n::int", "previous_on": "r.read_on + v.n::int - 1"})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO meters_meterreading ({', '.join(READING_COLUMNS)})"
            f" SELECT {', '.join(chosen[name] for name in READING_COLUMNS)}"
            " FROM meters_meterreading r, unnest(%s::bigint[]) WITH ORDINALITY AS v(id, n)"
            " WHERE r.id = %s", [values, reading.pk])


def insert_share(share, **values):
    row = {column: getattr(share, column) for column in SHARE_COLUMNS} | values
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO meters_allocationshare ({', '.join(SHARE_COLUMNS)}) VALUES (%s, %s, %s, %s, %s)",
                       [row[column] for column in SHARE_COLUMNS])


@pytest.mark.parametrize(("field", "column", "table"), READING_REFERENCES, ids=READING_IDS)
def test_a_raw_reading_pointing_at_a_missing_row_is_refused(reading, field, column, table):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a foreign key that is a real constraint says so now

    with pytest.raises(IntegrityError) as error, transaction.atomic():
        insert_reading_copies(reading, column, [missing_id(table)])

    assert foreign_key_violation(error)
    assert column in str(error.value)
    assert MeterReading.objects.count() == 1


def test_one_missing_meter_among_many_refuses_the_whole_statement(reading):
    others = [meter(reading.project, role="public").pk for _ in range(3)]

    with pytest.raises(IntegrityError) as error, transaction.atomic():
        insert_reading_copies(reading, "meter_id", [*others[:2], missing_id("meters_meter"), others[2]])

    assert foreign_key_violation(error)
    assert MeterReading.objects.count() == 1
    insert_reading_copies(reading, "meter_id", others)  # the same statement without it goes in
    assert MeterReading.objects.count() == 4


def test_a_raw_update_of_a_reading_pointing_at_a_missing_user_is_refused(reading):
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE meters_meterreading SET reviewed_by_id = %s WHERE id = %s",
                       [missing_id("users_user"), reading.pk])

    assert foreign_key_violation(error)


@pytest.mark.parametrize(("field", "column", "table"), READING_REFERENCES, ids=READING_IDS)
def test_a_raw_delete_of_a_row_a_reading_points_at_is_refused(reading, field, column, table):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [getattr(reading, f"{field}_id")])

    assert foreign_key_violation(error)
    assert "meters_meterreading" in str(error.value)


@pytest.mark.parametrize(("field", "column", "table"), SHARE_REFERENCES, ids=[name for name, *_ in SHARE_REFERENCES])
def test_a_raw_share_pointing_at_a_missing_row_is_refused(share, field, column, table):
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        insert_share(share, **{column: missing_id(table)})

    assert foreign_key_violation(error)
    assert column in str(error.value)


@pytest.mark.parametrize(("field", "column", "table"), SHARE_REFERENCES, ids=[name for name, *_ in SHARE_REFERENCES])
def test_a_raw_delete_of_a_row_a_share_points_at_is_refused(share, field, column, table):
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [getattr(share, f"{field}_id")])

    assert foreign_key_violation(error)
    assert "meters_allocationshare" in str(error.value)


def test_a_new_preview_still_replaces_the_draft_and_its_shares(share):
    run = share.run

    again = allocation_preview(rule=run.rule, period_start=run.period_start, period_end=run.period_end, actor=None)

    assert again.pk != run.pk
    assert AllocationShare.objects.filter(run=again).count() == 2
    assert not AllocationShare.objects.filter(run_id=run.pk).exists()


def test_changing_the_id_of_a_meter_a_reading_points_at_is_refused(reading):
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE meters_meter SET id = %s WHERE id = %s", [missing_id("meters_meter"), reading.meter_id])

    assert foreign_key_violation(error)


def test_rows_nothing_points_at_may_still_be_deleted_and_the_demo_reset_may_delete_anything(reading):
    unread = meter(reading.project, role="public")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM meters_meter WHERE id = %s", [unread.pk])
        assert cursor.rowcount == 1
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM meters_meter WHERE id = %s", [reading.meter_id])
            assert cursor.rowcount == 1
            transaction.set_rollback(True)

