"""A deposit's page and a prepaid statement share one shape: movements with the running balance, a refund request
for what is left, and the requests so far."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from aishang.billing.approvals import approval_request_create
from aishang.billing.deposits import deposit_collect
from aishang.billing.models import ApprovalAction, ApprovalRequest, ApprovalStatus, PaymentMethod
from aishang.billing.payments import Tender, payment_collect, prepaid_account
from aishang.core.testing import (
    approve_at_every_level,
    make_role,
    make_staff,
)

pytestmark = pytest.mark.django_db


def refund_form(html):
    """The refund form's action and amount, or None when the page offers none."""
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(?:(?!</form>).)*?name="amount"[^>]*value="([^"]*)"',
                     html, re.S)
    return form and (form[1], form[2])


def collect_deposit(project, unit, cashier, amount):
    return deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier,
                           tenders=[Tender(PaymentMethod.CASH, Decimal(amount))])


def test_a_deposit_page_states_its_movements_and_asks_to_refund_what_is_held(client, project, cashier, unit):
    deposit = collect_deposit(project, unit, cashier, "800.00")
    approve_at_every_level(approval_request_create(action=ApprovalAction.DEPOSIT_REFUND, deposit=deposit,
                                                   amount=Decimal("300.00"), refund_method=PaymentMethod.CASH,
                                                   reason="部分退还", actor=cashier))

    response = client.get(reverse("billing:deposit_detail", args=[deposit.pk]))
    html = response.content.decode()

    assert [balance for _movement, balance in response.context["statement"]] == [Decimal("800.00"),
                                                                                 Decimal("500.00")]
    assert "申请退还押金" in html and "可全部或部分退还" in html and "提交退还申请" in html
    assert refund_form(html) == (reverse("billing:deposit_refund_request", args=[deposit.pk]), "500.00")
    assert [r.action for r in response.context["requests"]] == [ApprovalAction.DEPOSIT_REFUND]

    client.post(refund_form(html)[0], {"amount": "500.00", "refund_method": "cash", "reason": "退房"})
    assert ApprovalRequest.objects.filter(deposit=deposit, amount=Decimal("500.00"),
                                          status=ApprovalStatus.PENDING).exists()


def test_a_prepaid_statement_asks_to_refund_its_balance_at_its_own_address(client, project, cashier, unit):
    payment_collect(project=project, bill_ids=[], unit=unit, actor=cashier,
                    tenders=[Tender(PaymentMethod.CASH, Decimal("260.00"))])
    account = prepaid_account(unit)

    html = client.get(reverse("billing:prepaidaccount_detail", args=[account.pk])).content.decode()

    assert "申请预存退款" in html and "提交退款申请" in html and "可全部或部分退还" not in html
    assert refund_form(html) == (reverse("billing:prepaid_refund_request", args=[account.pk]), "260.00")


def test_no_refund_is_offered_for_a_deposit_refunded_in_full_nor_to_staff_who_may_not_ask(client, project, cashier,
                                                                                            unit):
    settled = collect_deposit(project, unit, cashier, "50.00")
    approve_at_every_level(approval_request_create(action=ApprovalAction.DEPOSIT_REFUND, deposit=settled,
                                                   amount=Decimal("50.00"), refund_method=PaymentMethod.CASH,
                                                   reason="退卡", actor=cashier))
    held = collect_deposit(project, unit, cashier, "70.00")

    assert refund_form(client.get(reverse("billing:deposit_detail", args=[settled.pk])).content.decode()) is None
    assert refund_form(client.get(reverse("billing:deposit_detail", args=[held.pk])).content.decode())

    reader = make_staff(project.company, make_role(project.company, ["billing.view_deposit"]).code)
    client.force_login(reader)
    html = client.get(reverse("billing:deposit_detail", args=[held.pk])).content.decode()
    assert refund_form(html) is None and "¥70.00" in html
