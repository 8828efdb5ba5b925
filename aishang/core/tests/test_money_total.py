from decimal import Decimal

import pytest

from aishang.core.money import money_total
from aishang.core.testing import make_company, make_project, make_unit
from aishang.estate.models import Unit

pytestmark = pytest.mark.django_db


def test_a_database_sum_of_money_is_exact_to_the_fen():
    project = make_project(make_company())
    for _ in range(10):
        make_unit(project, area="0.10")  # ten binary-float 0.1s add up to 0.9999999999999999
    make_unit(project, area="911096.83")

    assert money_total(Unit.objects.all(), "building_area") == Decimal("911097.83")


def test_the_sum_of_nothing_is_zero():
    assert money_total(Unit.objects.none(), "building_area") == Decimal("0.00")
