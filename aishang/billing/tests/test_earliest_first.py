"""earliest_first_violations: the open earlier bills a selection skips within one fee item of one unit."""

import datetime

import pytest

from aishang.billing.selectors import earliest_first_violations
from aishang.core.testing import make_bill, make_company, make_fee_item, make_owner, make_project, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def flat():
    project = make_project(make_company())
    unit = make_unit(project)
    make_owner(unit)
    return project, unit, make_fee_item(project.company, name="物业费")


def bill(flat, month, fee_item=None, unit=None):
    project, own_unit, property_fee = flat
    return make_bill(project, "100.00", unit=unit or own_unit, fee_item=fee_item or property_fee,
                     period_month=datetime.date(2026, month, 1))


def test_march_without_february_names_february(flat):
    february, march = bill(flat, 2), bill(flat, 3)

    assert earliest_first_violations([march.pk]) == [february]
    assert earliest_first_violations([february.pk, march.pk]) == []
    assert earliest_first_violations([february.pk]) == []


def test_other_fee_items_and_other_units_do_not_hold_a_bill_back(flat):
    project, _unit, _item = flat
    water = make_fee_item(project.company, name="水费")
    other_unit = make_unit(project)
    make_owner(other_unit)
    bill(flat, 2, fee_item=water)
    bill(flat, 2, unit=other_unit)
    march = bill(flat, 3)

    assert earliest_first_violations([march.pk]) == []


def test_bills_of_several_projects_are_checked_each_in_their_own(flat):
    february, march = bill(flat, 2), bill(flat, 3)
    elsewhere = make_project(flat[0].company)
    far_unit = make_unit(elsewhere)
    make_owner(far_unit)
    far_item = make_fee_item(elsewhere.company)
    far_april = make_bill(elsewhere, "50.00", unit=far_unit, fee_item=far_item,
                          period_month=datetime.date(2026, 4, 1))

    assert earliest_first_violations([march.pk, far_april.pk]) == [february]
