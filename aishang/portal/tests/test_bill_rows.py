"""The owner API's compiled bill page answers what the ORM selector answers, bill for bill, on varied data."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.models import BindingTarget, RuleBinding
from aishang.billing.services import bill_run_create, bill_run_post
from aishang.core.testing import (
    make_bill_void,
    make_charge_rule,
    make_customer,
    make_fee_item,
    make_occupancy,
    make_unit,
    make_waiver,
)
from aishang.customers.models import Occupancy
from aishang.portal.api.serializers import OwnerBillSerializer
from aishang.portal.bill_rows import owner_bill_page
from aishang.portal.selectors import BillStatus, owner_bills, with_late_fees

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(estate):
    """王芳's flat of the estate, plus: a late-fee fee item with an overdue bill, waived and voided bills, a second
    flat she bought in April (the seller's bill paid before it stays hidden, his open one shows) and a
    parking charge bound to her as a customer, with no unit."""
    late = make_fee_item(estate.company, name="物业费（滞纳金）", late_fee_enabled=True,
                         late_fee_daily_rate=Decimal("0.0005"))
    estate.bill("120.00", 2, fee_item=late)
    make_waiver(estate.bill("60.00", 4, fee_item=estate.water), amount="60.00")
    make_bill_void(estate.bill("70.00", 5, fee_item=estate.water))
    make_waiver(estate.bill("80.00", 6, fee_item=estate.water), amount="30.00")

    bought = make_unit(estate.project)
    seller = make_customer(estate.project, name="赵六", mobile="13600000000")
    make_occupancy(bought, seller, start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2026, 3, 31))
    estate.pay([estate.bill("300.00", 1, unit=bought)])
    estate.bill("300.00", 2, unit=bought)
    estate.pay([estate.bill("40.00", 5, unit=bought, fee_item=estate.water)])
    estate.bill("40.00", 6, unit=bought, fee_item=estate.water)
    her = Occupancy.objects.get(unit=estate.unit).customer
    make_occupancy(bought, her, start_date=datetime.date(2026, 4, 1))

    parking = make_charge_rule(estate.project, fee_item=make_fee_item(estate.company, name="车位管理费"),
                               price="150.00", method="fixed", units=[])
    RuleBinding.objects.create(rule=parking, target=BindingTarget.CUSTOMER, customer=her)
    bill_run_post(bill_run_create(project=estate.project, rules=[parking], period_month=datetime.date(2026, 7, 1)))
    return estate


def orm_answer(account, **filters):
    return list(OwnerBillSerializer(with_late_fees(owner_bills(account, **filters)), many=True).data)


def compiled_answer(account, offset=0, limit=500, **filters):
    count, bills = owner_bill_page(account, offset=offset, limit=limit, **filters)
    return count, list(OwnerBillSerializer(bills, many=True).data)


FILTERS = [
    {},
    {"status": BillStatus.OPEN},
    {"status": BillStatus.PAID},
    {"period": datetime.date(2026, 2, 1)},
    {"period": datetime.date(2026, 2, 1), "status": BillStatus.OPEN},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda filters: ",".join(f"{k}={v}" for k, v in filters.items()))
def test_each_filter_answers_the_same_bills_and_amounts(varied, filters):
    account = varied.account()

    expected = orm_answer(account, **filters)
    count, answer = compiled_answer(account, **filters)

    assert answer == expected
    assert count == len(expected)


def test_the_answers_cover_what_the_data_was_made_for(varied):
    account = varied.account()
    count, answer = compiled_answer(account)
    statuses = {bill["status"] for bill in answer}

    assert statuses == {"已逾期", "已缴清", "已减免", "已作废"}
    assert any(Decimal(bill["late_fee"]) > 0 for bill in answer)
    assert any(bill["unit"] is None and bill["fee_item"] == "车位管理费" for bill in answer)
    assert any(Decimal(bill["waived"]) == Decimal("30.00") and Decimal(bill["outstanding"]) == Decimal("50.00")
               for bill in answer)
    seller_paid_in_january = [bill for bill in answer
                              if bill["unit_id"] != varied.unit.pk and bill["period_start"] == "2026-01-01"]
    assert seller_paid_in_january == []
    assert count == len(answer) == 12


def test_unit_and_fee_item_filters_and_pages(varied):
    account = varied.account()
    everything = orm_answer(account)

    for unit_id in {bill["unit_id"] for bill in everything if bill["unit_id"]}:
        assert compiled_answer(account, unit_id=unit_id)[1] == orm_answer(account, unit_id=unit_id)
    assert compiled_answer(account, fee_item_id=varied.water.pk)[1] == orm_answer(account, fee_item_id=varied.water.pk)

    pages = [compiled_answer(account, offset=offset, limit=4) for offset in (0, 4, 8)]
    assert [bill for _count, page in pages for bill in page] == everything
    assert {count for count, _page in pages} == {len(everything)}
    assert compiled_answer(account, offset=12, limit=4) == (None, [])
    assert compiled_answer(account, unit_id=2**40) == (0, [])


def test_another_owners_unit_filter_answers_nothing(varied):
    assert compiled_answer(varied.account(), unit_id=varied.neighbour_unit.pk) == (0, [])


def test_the_endpoint_pages_with_links_and_refuses_a_page_that_is_not_there(varied, owner_api):
    url = "/api/v1/owner/bills/"
    everything = orm_answer(varied.account())

    first = owner_api.get(url, {"page_size": 5}).json()
    second = owner_api.get(first["next"]).json()
    last = owner_api.get(url, {"page_size": 5, "page": "last"}).json()

    assert first["count"] == second["count"] == last["count"] == 12
    assert first["previous"] is None and "page=2" in first["next"]
    assert second["results"] == everything[5:10] and "page=3" in second["next"] and "page=" not in second["previous"]
    assert last["results"] == everything[10:] and last["next"] is None and "page=2" in last["previous"]
    for page, message in (("4", "第 4 页没有数据"), ("0", "页码应为正整数"), ("abc", "页码应为正整数"),
                          (str(10**20), f"第 {10**20} 页没有数据")):
        answer = owner_api.get(url, {"page_size": 5, "page": page})
        assert answer.status_code == 404
        assert answer.json()["detail"] == message
