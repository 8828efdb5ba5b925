"""Orders made from bills, and callbacks that book them exactly as the desk would."""

import datetime
import json
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import (
    Account,
    Bill,
    BillKind,
    Payment,
    PaymentMethod,
    PaymentSource,
    Posting,
    PrepaidMovementKind,
)
from aishang.billing.payments import Tender, payment_collect, prepaid_account, prepaid_balance
from aishang.billing.reconcile import reconcile
from aishang.core.testing import make_bill, make_fee_item, make_owner, make_project, make_staff, make_unit
from aishang.payments.choices import NotificationOutcome, OrderStatus, RefundKind, RefundStatus, SurplusPolicy
from aishang.payments.models import TRADE_NUMBER, GatewayNotification, PaymentOrder, PaymentSettings
from aishang.payments.services import order_close, order_create

from .helpers import alipay_paid_notification, wechat_paid_callback

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


@pytest.fixture
def property_fee(project):
    return make_fee_item(project.company, name="物业费")


def post_wechat(client, order, headers_body):
    headers, body = headers_body
    return client.post(
        reverse("payments:notify_wechat", args=[order.config_id]),
        body,
        content_type="application/json",
        headers=headers,
    )


def post_alipay(client, order, form):
    return client.post(reverse("payments:notify_alipay", args=[order.config_id]), form)


def test_an_order_is_priced_by_the_server_from_what_the_bills_of_two_units_still_owe(project, property_fee):
    first, second = make_unit(project), make_unit(project)
    part_paid = make_bill(project, "300.00", unit=first, fee_item=property_fee, period_month=OCTOBER)
    payment_collect(
        project=project,
        bill_ids=[part_paid.pk],
        actor=make_staff(project.company, "cashier"),
        tenders=[Tender(PaymentMethod.CASH, Decimal("100.00"))],
    )
    other_unit = make_bill(project, "88.80", unit=second, fee_item=property_fee, period_month=OCTOBER)

    order = order_create(gateway="wechat", bill_ids=[part_paid.pk, other_unit.pk], actor_label="业主 138****8000")

    assert order.amount == Decimal("288.80")
    assert order.status == OrderStatus.PENDING and order.unit is None
    assert TRADE_NUMBER.match(order.out_trade_no) and len(order.out_trade_no) == 26
    assert sorted((line.bill_id, line.amount) for line in order.lines.all()) == sorted(
        [(part_paid.pk, Decimal("200.00")), (other_unit.pk, Decimal("88.80"))]
    )


def test_a_later_bill_of_a_fee_item_cannot_be_paid_while_an_earlier_one_is_open(project, property_fee):
    unit = make_unit(project)
    make_bill(project, "100.00", unit=unit, fee_item=property_fee, period_month=OCTOBER)
    november = make_bill(project, "100.00", unit=unit, fee_item=property_fee, period_month=NOVEMBER)

    with pytest.raises(ValidationError) as refused:
        order_create(gateway="wechat", bill_ids=[november.pk], actor_label="业主")

    assert "不支持跨时间缴费" in refused.value.message_dict["bills"][0]
    assert "2026-10" in refused.value.message_dict["bills"][0]
    assert not PaymentOrder.objects.exists()


def test_bills_of_other_fee_items_and_units_may_be_paid_together_oldest_first(project, property_fee):
    unit = make_unit(project)
    october = make_bill(project, "100.00", unit=unit, fee_item=property_fee, period_month=OCTOBER)
    november = make_bill(project, "100.00", unit=unit, fee_item=property_fee, period_month=NOVEMBER)
    parking = make_bill(project, "150.00", unit=unit, period_month=NOVEMBER)

    order = order_create(gateway="alipay", bills=[october, november, parking], actor_label="业主")

    assert order.amount == Decimal("350.00") and order.unit == unit


def test_settled_or_unknown_bills_and_a_gateway_the_company_has_not_opened_are_refused(project, property_fee):
    bill = make_bill(project, "50.00", fee_item=property_fee)
    payment_collect(
        project=project,
        bill_ids=[bill.pk],
        actor=make_staff(project.company, "cashier"),
        tenders=[Tender(PaymentMethod.CASH, Decimal("50.00"))],
    )
    open_bill = make_bill(project, "60.00")

    with pytest.raises(ValidationError, match="已结清"):
        order_create(gateway="wechat", bill_ids=[bill.pk], actor_label="业主")
    with pytest.raises(ValidationError, match="不存在"):
        order_create(gateway="wechat", bill_ids=[open_bill.pk, 999999], actor_label="业主")
    project.company.gateway_configs.filter(gateway="alipay").update(is_active=False)
    with pytest.raises(ValidationError, match="尚未开通"):
        order_create(gateway="alipay", bill_ids=[open_bill.pk], actor_label="业主")


def test_a_verified_wechat_callback_books_one_payment_per_unit_as_the_desk_would(client, project, property_fee):
    first, second = make_unit(project), make_unit(project)
    owner = make_owner(first)
    bills = [
        make_bill(project, "120.00", unit=first, fee_item=property_fee),
        make_bill(project, "80.00", unit=second, fee_item=property_fee),
    ]
    order = order_create(gateway="wechat", bills=bills, payer=owner, actor_label="业主 138****8000")

    response = post_wechat(client, order, wechat_paid_callback(order, transaction_id="4200000099"))

    assert response.status_code == 204
    order.refresh_from_db()
    assert (order.status, order.transaction_id) == (OrderStatus.PAID, "4200000099")
    payments = Payment.objects.filter(online_settlement__order=order).order_by("amount")
    assert [(p.unit, p.amount) for p in payments] == [(second, Decimal("80.00")), (first, Decimal("120.00"))]
    for payment in payments:
        assert payment.source == PaymentSource.ONLINE and payment.cashier is None
        assert payment.receipt_number.startswith("SJ")
        tender = payment.tenders.get()
        assert (tender.method, tender.reference) == (PaymentMethod.WECHAT, "4200000099")
    assert all(bill_outstanding(bill) == 0 for bill in bills)
    cash = Posting.objects.filter(entry__event="payment", account=Account.CASH, method=PaymentMethod.WECHAT)
    assert sum(p.amount for p in cash) == Decimal("200.00")
    assert reconcile([project]).is_clean
    notice = GatewayNotification.objects.get()
    assert notice.verified and notice.outcome == NotificationOutcome.ACCEPTED and notice.order == order


def test_the_same_callback_delivered_five_times_books_exactly_one_payment(client, project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "99.00")], actor_label="业主")
    callback = wechat_paid_callback(order)

    answers = [post_wechat(client, order, callback).status_code for _ in range(5)]

    assert answers == [204] * 5
    assert Payment.objects.filter(online_settlement__order=order).count() == 1
    outcomes = sorted(GatewayNotification.objects.values_list("outcome", flat=True))
    assert outcomes == sorted([NotificationOutcome.ACCEPTED] + [NotificationOutcome.DUPLICATE] * 4)


def test_a_wechat_callback_with_a_bad_signature_is_refused_and_books_nothing(client, project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "99.00")], actor_label="业主")
    headers, body = wechat_paid_callback(order)
    envelope = json.loads(body)
    envelope["summary"] = "改过的通知"

    response = post_wechat(client, order, (headers, json.dumps(envelope, ensure_ascii=False)))

    assert response.status_code == 401 and response.json()["code"] == "FAIL"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and not Payment.objects.exists()
    notice = GatewayNotification.objects.get()
    assert not notice.verified and notice.outcome == NotificationOutcome.REFUSED


def test_a_wechat_callback_signed_more_than_five_minutes_ago_is_refused(client, project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "99.00")], actor_label="业主")

    response = post_wechat(client, order, wechat_paid_callback(order, timestamp=int(time.time()) - 6 * 60))

    assert response.status_code == 401
    assert not Payment.objects.exists()
    assert "5 分钟" in GatewayNotification.objects.get().message


def test_a_callback_whose_amount_or_merchant_differs_from_the_order_is_refused(client, project):
    order = order_create(gateway="wechat", bills=[make_bill(project, "99.00")], actor_label="业主")

    wrong_amount = post_wechat(client, order, wechat_paid_callback(order, amount="0.01"))
    wrong_merchant = post_wechat(client, order, wechat_paid_callback(order, mchid="1999999999"))

    assert (wrong_amount.status_code, wrong_merchant.status_code) == (400, 400)
    assert "金额不符" in wrong_amount.json()["message"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and not Payment.objects.exists()


def test_an_alipay_notification_books_only_paid_statuses_and_answers_success(client, project):
    order = order_create(gateway="alipay", bills=[make_bill(project, "45.60")], actor_label="业主")

    waiting = post_alipay(client, order, alipay_paid_notification(order, trade_status="WAIT_BUYER_PAY"))
    assert waiting.content == b"success"
    assert not Payment.objects.exists()

    paid = post_alipay(client, order, alipay_paid_notification(order, trade_status="TRADE_FINISHED"))

    assert paid.content == b"success"
    payment = Payment.objects.get(online_settlement__order=order)
    assert payment.tenders.get().method == PaymentMethod.ALIPAY and payment.amount == Decimal("45.60")


def test_an_alipay_notification_with_a_bad_signature_or_a_wrong_amount_is_refused(client, project):
    order = order_create(gateway="alipay", bills=[make_bill(project, "45.60")], actor_label="业主")
    forged = {**alipay_paid_notification(order), "total_amount": "0.01"}

    assert post_alipay(client, order, forged).content == b"failure"
    assert post_alipay(client, order, alipay_paid_notification(order, amount="0.01")).content == b"failure"
    assert post_alipay(client, order, alipay_paid_notification(order, app_id="2021999")).content == b"failure"
    assert not Payment.objects.exists()
    assert PaymentOrder.objects.get().status == OrderStatus.PENDING


def test_money_for_bills_paid_at_the_desk_meanwhile_goes_to_the_units_prepaid(client, project, property_fee):
    unit = make_unit(project)
    bill = make_bill(project, "300.00", unit=unit, fee_item=property_fee)
    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    payment_collect(
        project=project,
        bill_ids=[bill.pk],
        actor=make_staff(project.company, "cashier"),
        tenders=[Tender(PaymentMethod.CASH, Decimal("300.00"))],
    )

    post_wechat(client, order, wechat_paid_callback(order))

    online = Payment.objects.get(online_settlement__order=order)
    assert online.amount == Decimal("300.00")
    assert prepaid_balance(prepaid_account(unit)) == Decimal("300.00")
    assert online.prepaid_movements.get().kind == PrepaidMovementKind.TOP_UP
    assert reconcile([project]).is_clean


def test_a_company_that_refunds_surplus_books_what_is_still_owed_and_refunds_the_rest(client, project, property_fee):
    PaymentSettings.objects.create(company=project.company, surplus_policy=SurplusPolicy.REFUND)
    unit = make_unit(project)
    bill = make_bill(project, "300.00", unit=unit, fee_item=property_fee)
    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    payment_collect(
        project=project,
        bill_ids=[bill.pk],
        actor=make_staff(project.company, "cashier"),
        tenders=[Tender(PaymentMethod.CASH, Decimal("120.00"))],
    )

    post_wechat(client, order, wechat_paid_callback(order))

    assert Payment.objects.get(online_settlement__order=order).amount == Decimal("180.00")
    assert bill_outstanding(bill) == 0 and prepaid_balance(prepaid_account(unit)) == 0
    refund = order.refunds.get()
    # The sandbox here is unreachable: the refund waits to be sent again by the periodic check.
    assert (refund.kind, refund.amount, refund.status) == (RefundKind.SURPLUS, Decimal("120.00"), RefundStatus.PENDING)
    assert reconcile([project]).is_clean


def test_a_payment_arriving_after_its_order_was_closed_is_refunded_not_booked(client, project, monkeypatch):
    order = order_create(gateway="wechat", bills=[make_bill(project, "99.00")], actor_label="业主")
    monkeypatch.setattr("aishang.payments.gateways.close", lambda order: None)  # the gateway's side is tested live
    order_close(order, reason="超时未支付")

    response = post_wechat(client, order, wechat_paid_callback(order))

    assert response.status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and not Payment.objects.exists()
    assert order.refunds.get().kind == RefundKind.CLOSED_ORDER


def test_a_top_up_order_puts_the_money_into_the_units_prepaid(client, project):
    unit = make_unit(project)

    order = order_create(gateway="alipay", topup="500", unit=unit, actor_label="业主")
    post_alipay(client, order, alipay_paid_notification(order))

    assert order.amount == Decimal("500.00")
    movement = prepaid_account(unit).movements.get()
    assert (movement.kind, movement.amount) == (PrepaidMovementKind.TOP_UP, Decimal("500.00"))


def test_a_callback_to_an_unknown_merchant_or_with_junk_is_answered_without_a_server_error(client, project):
    assert (
        client.post(reverse("payments:notify_wechat", args=[999999]), "{}", content_type="application/json").status_code
        == 404
    )
    config = project.company.gateway_configs.get(gateway="wechat")
    junk = client.post(
        reverse("payments:notify_wechat", args=[config.pk]), b"\xff\xfe", content_type="application/json"
    )
    assert junk.status_code in (400, 401)
    assert client.post(reverse("payments:notify_alipay", args=[999999]), {"a": "b"}).content == b"failure"


@pytest.fixture
def late_fee_item(project):
    return make_fee_item(project.company, name="物业费", late_fee_enabled=True, late_fee_daily_rate=Decimal("0.0005"))


def accrued(principal, bill, day):
    """300.00 × 0.0005 a day from the day after the due date, to the fen."""
    days = (day - bill.due_date).days
    return (Decimal(principal) * Decimal("0.0005") * days).quantize(Decimal("0.01"))


def test_an_overdue_bill_is_paid_online_with_its_late_fee_booked_as_at_the_desk(client, project, late_fee_item):
    unit = make_unit(project)
    bill = make_bill(project, "300.00", unit=unit, fee_item=late_fee_item, period_month=datetime.date(2026, 1, 1))
    late_fee = accrued("300.00", bill, timezone.localdate())
    assert late_fee > 0

    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    post_wechat(client, order, wechat_paid_callback(order))

    assert order.amount == Decimal("300.00") + late_fee
    assert order.lines.get().late_fee == late_fee
    payment = Payment.objects.get(online_settlement__order=order)
    assert payment.amount == order.amount
    late_bill = Bill.objects.get(kind=BillKind.LATE_FEE)
    assert (late_bill.unit, late_bill.amount, late_bill.fee_item) == (unit, late_fee, late_fee_item)
    assert bill_outstanding(bill) == 0 and bill_outstanding(late_bill) == 0
    assert prepaid_balance(prepaid_account(unit)) == 0
    assert reconcile([project]).is_clean


def test_a_callback_after_midnight_collects_the_late_fee_quoted_on_the_orders_day(client, project, late_fee_item):
    unit = make_unit(project)
    bill = make_bill(project, "300.00", unit=unit, fee_item=late_fee_item, period_month=datetime.date(2026, 1, 1))
    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    quoted = accrued("300.00", bill, yesterday)
    # As if placed a minute before midnight: priced then, paid today.
    order.lines.update(late_fee=quoted)
    PaymentOrder.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1), amount=Decimal("300.00") + quoted
    )
    order.refresh_from_db()

    post_wechat(client, order, wechat_paid_callback(order))

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Bill.objects.get(kind=BillKind.LATE_FEE).amount == quoted
    assert prepaid_balance(prepaid_account(unit)) == 0
    assert reconcile([project]).is_clean


def test_a_company_may_leave_late_fees_to_the_desk(client, project, late_fee_item):
    PaymentSettings.objects.create(company=project.company, collect_late_fees=False)
    bill = make_bill(project, "300.00", fee_item=late_fee_item, period_month=datetime.date(2026, 1, 1))

    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    post_wechat(client, order, wechat_paid_callback(order))

    assert order.amount == Decimal("300.00") and order.lines.get().late_fee == 0
    assert bill_outstanding(bill) == 0 and not Bill.objects.filter(kind=BillKind.LATE_FEE).exists()


def test_bills_of_two_projects_are_paid_in_two_orders(project, property_fee):
    other = make_project(project.company, name="二期")
    ours = make_bill(project, "100.00", fee_item=property_fee)
    theirs = make_bill(other, "100.00", fee_item=property_fee)

    with pytest.raises(ValidationError, match="一次只能缴同一小区"):
        order_create(gateway="wechat", bills=[ours, theirs], actor_label="业主")

    assert not PaymentOrder.objects.exists()
    assert order_create(gateway="wechat", bills=[theirs], actor_label="业主").project == other
