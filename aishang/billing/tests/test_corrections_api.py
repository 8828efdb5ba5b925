"""Deposits, voids and refunds through the API: /deposits/, /prepaid-accounts/ and /approval-requests/."""

from decimal import Decimal

import pytest

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import ApprovalRequest
from aishang.core.testing import (
    api_client,
    approve_at_every_level,
    make_bill,
    make_staff,
    make_unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(project):
    return api_client(make_staff(project.company, "cashier"))


def test_a_deposit_is_collected_offset_against_a_bill_and_refunded_through_the_api(client, project):
    unit = make_unit(project)
    response = client.post("/api/v1/deposits/", {
        "unit": unit.pk, "kind": "装修押金", "tenders": [{"method": "transfer", "amount": "3000.00",
                                                      "reference": "BANK-9"}]}, format="json")
    assert response.status_code == 201, response.content
    deposit = response.json()
    assert (deposit["held"], deposit["status"], deposit["receipt_number"][:2]) == ("3000.00", "held", "SJ")
    assert [(m["kind"], m["amount"]) for m in deposit["movements"]] == [("collect", "3000.00")]

    bill = make_bill(project, "200.00", unit=unit)
    response = client.post("/api/v1/payments/", {
        "unit": unit.pk, "bills": [bill.pk],
        "tenders": [{"method": "deposit", "amount": "200.00", "deposit": deposit["id"]}]}, format="json")
    assert response.status_code == 201, response.content
    assert bill_outstanding(bill) == 0

    response = client.post("/api/v1/approval-requests/", {
        "action": "deposit_refund", "deposit": deposit["id"], "amount": "2800.00", "refund_method": "transfer",
        "reason": "装修验收合格"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["subject_label"] == "装修押金"
    approve_at_every_level(ApprovalRequest.objects.get(pk=response.json()["id"]))
    body = client.get(f"/api/v1/deposits/{deposit['id']}/").json()
    assert (body["held"], body["status"]) == ("0.00", "settled")
    assert [row["id"] for row in client.get("/api/v1/deposits/?status=settled").json()["results"]] == [deposit["id"]]


def test_a_payment_refund_through_the_api_reopens_the_bill_and_shows_on_the_payment(client, project):
    unit = make_unit(project)
    bill = make_bill(project, "150.00", unit=unit)
    payment = client.post("/api/v1/payments/", {"unit": unit.pk, "bills": [bill.pk],
                                                "tenders": [{"method": "wechat", "amount": "150.00"}]},
                          format="json").json()

    response = client.post("/api/v1/approval-requests/", {
        "action": "refund", "payment": payment["id"], "amount": "50.00", "refund_method": "cash",
        "reason": "多收"}, format="json")
    assert response.status_code == 400
    assert "未使用「现金」" in str(response.json())
    response = client.post("/api/v1/approval-requests/", {"action": "refund", "payment": payment["id"],
                                                          "reason": "多收"}, format="json")
    assert response.status_code == 400 and "amount" in str(response.json())
    response = client.post("/api/v1/approval-requests/", {
        "action": "refund", "payment": payment["id"], "bill": bill.pk, "amount": "50.00",
        "refund_method": "wechat", "reason": "多收"}, format="json")
    assert response.status_code == 400 and "bill" in str(response.json())

    response = client.post("/api/v1/approval-requests/", {
        "action": "refund", "payment": payment["id"], "amount": "50.00", "refund_method": "wechat",
        "reason": "多收"}, format="json")
    assert response.status_code == 201, response.content
    approve_at_every_level(ApprovalRequest.objects.get(pk=response.json()["id"]))

    body = client.get(f"/api/v1/payments/{payment['id']}/").json()
    assert [(r["kind"], r["method"], r["amount"]) for r in body["reversals"]] == [("refund", "wechat", "50.00")]
    assert bill_outstanding(bill) == Decimal("50.00")


def test_a_prepaid_account_reads_with_its_balance_and_statement(client, project):
    unit = make_unit(project)
    client.post("/api/v1/payments/", {"unit": unit.pk, "tenders": [{"method": "cash", "amount": "88.00"}]},
                format="json")
    accounts = client.get(f"/api/v1/prepaid-accounts/?unit={unit.pk}").json()["results"]
    assert [(a["unit_code"], a["fee_item_name"], a["balance"]) for a in accounts] == [(unit.code, None, "88.00")]
    detail = client.get(f"/api/v1/prepaid-accounts/{accounts[0]['id']}/").json()
    assert [(m["kind"], m["amount"]) for m in detail["movements"]] == [("top_up", "88.00")]


def test_a_deposit_with_bad_input_is_refused_by_field(client, project):
    unit = make_unit(project)
    response = client.post("/api/v1/deposits/", {"unit": unit.pk, "kind": "装修押金",
                                                 "tenders": [{"method": "prepaid", "amount": "10.00"}]},
                           format="json")
    assert response.status_code == 400 and "押金只能以现金" in str(response.json())
    response = client.post("/api/v1/deposits/", {"unit": unit.pk, "kind": "", "tenders": []}, format="json")
    assert response.status_code == 400
    assert not client.get("/api/v1/deposits/").json()["results"]
