"""POST /api/v1/payments/: the desk's payment through the API, with its errors and its Idempotency-Key."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import Payment
from aishang.core.testing import api_client, make_bill, make_fee_item, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


@pytest.fixture
def client(project):
    return api_client(make_staff(project.company, "cashier"))


def test_a_payment_settles_bills_oldest_first_and_answers_with_its_receipt(client, project):
    unit = make_unit(project)
    fee_item = make_fee_item(project.company, name="物业费")
    october = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=OCTOBER)
    november = make_bill(project, "100.00", unit=unit, fee_item=fee_item, period_month=NOVEMBER)

    response = client.post("/api/v1/payments/", {
        "unit": unit.pk, "bills": [november.pk, october.pk],
        "tenders": [{"method": "cash", "amount": "150.00", "tendered": "200.00"},
                    {"method": "wechat", "amount": "60.00", "reference": "4200001234"}]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "210.00" and body["amount_in_words"] == "人民币贰佰壹拾元整"
    assert [(row["period_start"], row["amount"]) for row in body["allocations"]] == [
        ("2026-10-01", "100.00"), ("2026-11-01", "100.00")]
    assert body["to_prepaid"] == "10.00"
    assert {(t["method"], t["change"]) for t in body["tenders"]} == {("cash", "50.00"), ("wechat", "0.00")}
    assert client.get(f"/api/v1/payments/{body['id']}/").json()["receipt_number"] == body["receipt_number"]
    assert bill_outstanding(october) == bill_outstanding(november) == 0


def test_errors_name_the_field_and_collect_nothing(client, project):
    unit = make_unit(project)
    bill = make_bill(project, "100.00", unit=unit)
    other_bill = make_bill(make_project(project.company), "100.00")

    no_tender = client.post("/api/v1/payments/", {"unit": unit.pk, "bills": [bill.pk], "tenders": []},
                            format="json")
    bad_amount = client.post("/api/v1/payments/", {"unit": unit.pk, "bills": [bill.pk],
                                                   "tenders": [{"method": "cash", "amount": "-1"}]}, format="json")
    card_change = client.post("/api/v1/payments/", {"unit": unit.pk, "bills": [bill.pk], "tenders": [
        {"method": "card", "amount": "10", "tendered": "20"}]}, format="json")
    foreign_bill = client.post("/api/v1/payments/", {"unit": unit.pk, "bills": [other_bill.pk],
                                                     "tenders": [{"method": "cash", "amount": "10"}]}, format="json")

    assert no_tender.status_code == bad_amount.status_code == card_change.status_code == 400
    assert "请至少选择一种收款方式" in str(no_tender.json()["tenders"])
    assert "tenders" in bad_amount.json()
    assert "只有现金可以找零" in str(card_change.json())
    assert foreign_bill.status_code == 400 and "不属于该项目" in str(foreign_bill.json()["bills"])
    assert not Payment.objects.exists() and bill_outstanding(bill) == Decimal("100.00")


def test_a_retried_request_with_the_same_idempotency_key_collects_once(client, project):
    unit = make_unit(project)
    bill = make_bill(project, "100.00", unit=unit)
    body = {"unit": unit.pk, "bills": [bill.pk], "tenders": [{"method": "cash", "amount": "100.00"}]}

    first = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="desk-1")
    again = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="desk-1")

    assert first.status_code == again.status_code == 201
    assert first.json()["receipt_number"] == again.json()["receipt_number"]
    assert Payment.objects.count() == 1
