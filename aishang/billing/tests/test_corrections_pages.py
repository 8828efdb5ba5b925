"""Pages for deposits, a payment's voids and refunds, and prepaid statements: from the desk to the approval."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from aishang.billing.balances import bill_outstanding
from aishang.billing.deposits import deposit_collect
from aishang.billing.models import ApprovalAction, ApprovalRequest, Deposit, PaymentMethod
from aishang.billing.payments import Tender, deposit_held, payment_collect, prepaid_account
from aishang.core.testing import (
    approve_at_every_level,
    make_bill,
    make_company,
    make_project,
    make_staff,
    make_unit,
)

pytestmark = pytest.mark.django_db


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def test_a_deposit_is_collected_from_the_desk_and_then_pays_a_bill_there(client, project, cashier, unit):
    response = client.post(reverse("billing:deposit_collect", args=[unit.pk]),
                           {"kind": "装修押金", "cash": "1500.00", "wechat": "500", "reference": "WX001"})
    deposit = Deposit.objects.get()
    assert response.url == reverse("billing:payment_receipt", args=[deposit.payment_id])
    assert (deposit.kind, deposit.amount, deposit.unit) == ("装修押金", Decimal("2000.00"), unit)

    bill = make_bill(project, "300.00", unit=unit)
    html = page(client, reverse("billing:desk_unit", args=[unit.pk]))
    assert "装修押金" in html and "押金冲抵" in html
    response = client.post(reverse("billing:desk_unit", args=[unit.pk]),
                           {"bills": [bill.pk], "deposit": "300.00", "deposit_from": deposit.pk})
    assert response.status_code == 302
    assert bill_outstanding(bill) == 0 and deposit_held(deposit) == Decimal("1700.00")


def test_collecting_a_deposit_without_kind_or_amount_says_what_is_missing(client, project, cashier, unit):
    response = client.post(reverse("billing:deposit_collect", args=[unit.pk]), {"kind": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "该字段是必填项" in html
    response = client.post(reverse("billing:deposit_collect", args=[unit.pk]), {"kind": "装修押金"})
    assert "请填写至少一种收款方式的金额" in response.content.decode()
    response = client.post(reverse("billing:desk_unit", args=[unit.pk]), {"deposit": "10.00"})
    assert response.status_code == 400
    assert not Deposit.objects.exists()


def test_a_refund_is_asked_for_on_the_payment_page_and_shows_there_once_approved(client, project, cashier, unit):
    bill = make_bill(project, "200.00", unit=unit)
    payment = payment_collect(project=project, bill_ids=[bill.pk], actor=cashier,
                              tenders=[Tender(PaymentMethod.CASH, Decimal("200.00"))])
    detail = reverse("billing:payment_detail", args=[payment.pk])
    html = page(client, detail)
    assert "申请退款" in html and "申请作废" in html and "退回预存" in html

    response = client.post(reverse("billing:payment_request_add", args=[payment.pk, "refund"]),
                           {"amount": "250.00", "refund_method": "cash", "reason": "多收"})
    assert response.url == detail
    assert "该收款最多可退 ¥200.00" in page(client, detail)

    response = client.post(reverse("billing:payment_request_add", args=[payment.pk, "refund"]),
                           {"amount": "80.00", "refund_method": "cash", "reason": "多收"})
    request = ApprovalRequest.objects.get(payment=payment)
    assert response.url == request.get_absolute_url()
    assert f"收据 {payment.receipt_number}" in page(client, request.get_absolute_url())
    assert "退款方式" in page(client, request.get_absolute_url())

    approve_at_every_level(request)
    html = page(client, detail)
    assert "部分退款" in html and "账单重新打开" in html
    assert bill_outstanding(bill) == Decimal("80.00")


def test_a_voided_payment_is_marked_on_the_desk_and_its_page(client, project, cashier, unit):
    bill = make_bill(project, "120.00", unit=unit)
    payment = payment_collect(project=project, bill_ids=[bill.pk], actor=cashier,
                              tenders=[Tender(PaymentMethod.CASH, Decimal("120.00"))])
    client.post(reverse("billing:payment_request_add", args=[payment.pk, "payment_void"]), {"reason": "收错房屋"})
    approve_at_every_level(ApprovalRequest.objects.get(payment=payment, action=ApprovalAction.PAYMENT_VOID))

    assert "已作废" in page(client, reverse("billing:payment_detail", args=[payment.pk]))
    desk = page(client, reverse("billing:desk_unit", args=[unit.pk]))
    assert payment.receipt_number in desk and "作废" in desk
    assert bill_outstanding(bill) == Decimal("120.00")


def test_the_deposit_ledger_finds_deposits_by_unit_status_and_date(client, project, cashier, unit):
    other = make_unit(project, number="902")
    held = deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier,
                           tenders=[Tender(PaymentMethod.CASH, Decimal("1000.00"))])
    refunded = deposit_collect(project=project, unit=other, kind="门禁卡押金", actor=cashier,
                               tenders=[Tender(PaymentMethod.CASH, Decimal("50.00"))])
    approve_at_every_level(_refund_request(refunded, cashier))

    url = reverse("billing:deposit_list")
    html = page(client, f"{url}?q={unit.code}")
    assert held.payment.receipt_number in html and refunded.payment.receipt_number not in html
    html = page(client, f"{url}?status=settled")
    assert refunded.payment.receipt_number in html and held.payment.receipt_number not in html
    today = datetime.date.today()
    assert held.payment.receipt_number in page(client, f"{url}?from={today}&to={today}")
    assert "没有符合条件的押金" in page(client, f"{url}?from={today + datetime.timedelta(days=1)}")
    assert "日期格式应为" in page(client, f"{url}?from=2026-02-30")

    html = page(client, reverse("billing:deposit_detail", args=[refunded.pk]))
    assert "已退清" in html and "退还" in html


def _refund_request(deposit, actor):
    from aishang.billing.approvals import approval_request_create

    return approval_request_create(action=ApprovalAction.DEPOSIT_REFUND, deposit=deposit, amount=deposit.amount,
                                   refund_method=PaymentMethod.CASH, reason="退房", actor=actor)


def test_a_prepaid_statement_lists_every_movement_and_takes_a_refund_request(client, project, cashier, unit):
    payment_collect(project=project, bill_ids=[], unit=unit, actor=cashier,
                    tenders=[Tender(PaymentMethod.CASH, Decimal("500.00"))])
    make_bill(project, "120.00", unit=unit)  # offset from prepaid as the run posts
    account = prepaid_account(unit)
    url = reverse("billing:prepaidaccount_detail", args=[account.pk])
    html = page(client, url)
    assert "预存充值" in html and "预存冲抵" in html and "¥380.00" in html

    response = client.post(reverse("billing:prepaid_refund_request", args=[account.pk]),
                           {"amount": "500.00", "refund_method": "cash", "reason": "搬家"})
    assert response.url == url and "预存余额只有 ¥380.00" in page(client, url)
    response = client.post(reverse("billing:prepaid_refund_request", args=[account.pk]),
                           {"amount": "380.00", "refund_method": "prepaid", "reason": "搬家"})
    assert "退款方式" in page(client, url)
    response = client.post(reverse("billing:prepaid_refund_request", args=[account.pk]),
                           {"amount": "380.00", "refund_method": "transfer", "reason": "搬家"})
    approve_at_every_level(ApprovalRequest.objects.get(prepaid_account=account))
    assert "预存退款" in page(client, url)


def test_pages_of_another_companys_money_answer_404(client, project, cashier):
    stranger_project = make_project(make_company(name="别家物业"))
    stranger = make_staff(stranger_project.company, "cashier")
    unit = make_unit(stranger_project)
    deposit = deposit_collect(project=stranger_project, unit=unit, kind="装修押金", actor=stranger,
                              tenders=[Tender(PaymentMethod.CASH, Decimal("10.00"))])
    for url in (reverse("billing:payment_detail", args=[deposit.payment_id]),
                reverse("billing:deposit_detail", args=[deposit.pk]),
                reverse("billing:deposit_collect", args=[unit.pk])):
        page(client, url, status=404)
    assert client.post(reverse("billing:deposit_refund_request", args=[deposit.pk]),
                       {"amount": "1", "refund_method": "cash", "reason": "x"}).status_code == 404
