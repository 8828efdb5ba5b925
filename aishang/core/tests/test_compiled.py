"""CompiledQuery: a queryset compiled once per shape, run again with other ids and days as plain rows."""

import datetime

import pytest

from aishang.core.compiled import CompiledQuery
from aishang.core.testing import make_company, make_customer, make_occupancy, make_project, make_staff, make_unit
from aishang.customers.models import Occupancy
from aishang.estate.models import Unit

pytestmark = pytest.mark.django_db

CODES = CompiledQuery(lambda units, unit: units.filter(pk=unit).values_list("code", "project__name"))
MANY = CompiledQuery(lambda units, ids: units.filter(pk__in=ids).order_by("code").values_list("code", flat=True))
LIVING = CompiledQuery(lambda occupancies, unit, day: occupancies.current(day).filter(unit_id=unit)
                       .values_list("customer__name", flat=True))


@pytest.fixture
def project():
    return make_project(make_company(), name="一期")


def test_the_sql_is_compiled_once_and_run_with_each_calls_ids(project):
    first, second = make_unit(project, number="101"), make_unit(project, number="102")

    assert CODES.rows(Unit.objects.all(), unit=first.pk) == [(first.code, "一期")]
    assert CODES.rows(Unit.objects.all(), unit=second.pk) == [(second.code, "一期")]
    assert CODES.rows(Unit.objects.all(), unit=second.pk + 1000) == []
    assert len(CODES._shapes) == 1


def test_lists_of_each_length_and_days_reach_their_places(project):
    units = [make_unit(project, number=str(number)) for number in (201, 202, 203)]
    unit = units[0]
    make_occupancy(unit, make_customer(project, name="张三"), start_date=datetime.date(2020, 1, 1),
                   end_date=datetime.date(2023, 12, 31))
    make_occupancy(unit, make_customer(project, name="李四"), start_date=datetime.date(2024, 1, 1))

    assert MANY.rows(Unit.objects.all(), ids=[units[2].pk]) == [units[2].code]
    assert MANY.rows(Unit.objects.all(), ids=[unit.pk for unit in units]) == [unit.code for unit in units]
    assert LIVING.rows(Occupancy.objects.all(), unit=unit.pk, day=datetime.date(2022, 6, 1)) == ["张三"]
    assert LIVING.rows(Occupancy.objects.all(), unit=unit.pk, day=datetime.date(2025, 6, 1)) == ["李四"]


BY_NAME = CompiledQuery(lambda units, name, project: units.filter(project__name=name, project_id=project)
                        .order_by("code").values_list("code", flat=True))


def test_texts_and_pages_reach_their_places(project):
    codes = [make_unit(project, number=str(number)).code for number in (301, 302, 303, 304, 305)]
    other = make_project(project.company, name="二期")
    make_unit(other, number="306")

    assert BY_NAME.rows(Unit.objects.all(), name="一期", project=project.pk) == codes
    assert BY_NAME.rows(Unit.objects.all(), name="二期", project=project.pk) == []
    assert BY_NAME.rows(Unit.objects.all(), name="一期", project=project.pk, offset=0, limit=2) == codes[:2]
    assert BY_NAME.rows(Unit.objects.all(), name="一期", project=project.pk, offset=4, limit=2) == codes[4:]
    assert BY_NAME.rows(Unit.objects.all(), name="一期", project=project.pk, offset=6, limit=2) == []
    assert len(BY_NAME._shapes) == 4  # the whole list and three pages


def test_each_scope_gets_its_own_statement(project):
    other = make_project(project.company, name="二期")
    ours, theirs = make_unit(project), make_unit(other)
    here, there = (make_staff(project.company, "cashier", projects=[scope]) for scope in (project, other))

    assert CODES.rows(Unit.objects.restrict(here, "view"), unit=ours.pk) == [(ours.code, "一期")]
    assert CODES.rows(Unit.objects.restrict(there, "view"), unit=ours.pk) == []
    assert CODES.rows(Unit.objects.restrict(there, "view"), unit=theirs.pk) == [(theirs.code, "二期")]
    assert CODES.rows(Unit.objects.restrict(here, "view"), unit=theirs.pk) == []
    assert CODES.rows(Unit.objects.none(), unit=ours.pk) == []


def test_an_id_no_database_integer_holds_matches_nothing(project):
    assert CODES.rows(Unit.objects.all(), unit=2**63) == []
    assert MANY.rows(Unit.objects.all(), ids=[1, -(2**63) - 1]) == []


def test_an_argument_the_queryset_does_not_use_is_refused():
    unused = CompiledQuery(lambda units, unit: units.values_list("code"))
    with pytest.raises(ValueError, match="do not reach the SQL"):
        unused.rows(Unit.objects.all(), unit=1)
    with pytest.raises(TypeError, match="ids, days and texts"):
        CODES.rows(Unit.objects.all(), unit=1.5)
    with pytest.raises(ValueError, match="may only filter"):
        CODES.rows(Unit.objects.select_related("project"), unit=1)
