"""On PostgreSQL, callbacks that arrive at the same moment (gateways deliver duplicates in parallel) take turns on the
order row: one payment, whatever the interleaving. A desk payment of the same bill racing them settles it once."""

import threading
import urllib.request
from decimal import Decimal

import pytest
from django.db import connection, connections

from aishang.billing.balances import bill_outstanding
from aishang.billing.models import Payment, PaymentMethod
from aishang.billing.payments import Tender, payment_collect, prepaid_account, prepaid_balance
from aishang.billing.reconcile import reconcile
from aishang.core.testing import make_bill, make_company, make_project, make_staff, make_unit
from aishang.payments.choices import NotificationOutcome
from aishang.payments.models import GatewayNotification
from aishang.payments.services import order_create

from .helpers import sandbox_configs, wechat_paid_callback

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def deliver_at_once(url, headers, body, count):
    barrier = threading.Barrier(count)
    answers = []

    def send():
        barrier.wait()
        request = urllib.request.Request(
            url, data=body.encode(), method="POST", headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answers.append(response.status)
        except urllib.error.HTTPError as exc:
            answers.append(exc.code)

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_eight_copies_of_a_callback_at_the_same_moment_book_one_payment(live_server):
    project = make_project(make_company())
    sandbox_configs(project.company, base_url=live_server.url)
    unit = make_unit(project)
    bill = make_bill(project, "500.00", unit=unit)
    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    headers, body = wechat_paid_callback(order)
    url = f"{live_server.url}/payments/notify/wechat/{order.config_id}/"

    answers = deliver_at_once(url, headers, body, 8)

    assert answers == [204] * 8
    assert Payment.objects.filter(online_settlement__order=order).count() == 1
    outcomes = list(GatewayNotification.objects.values_list("outcome", flat=True))
    assert outcomes.count(NotificationOutcome.ACCEPTED) == 1 and outcomes.count(NotificationOutcome.DUPLICATE) == 7
    assert bill_outstanding(bill) == 0
    assert reconcile([project]).is_clean


def test_a_desk_payment_racing_the_callback_settles_the_bill_once_and_the_rest_goes_to_prepaid(live_server):
    project = make_project(make_company())
    sandbox_configs(project.company, base_url=live_server.url)
    unit = make_unit(project)
    bill = make_bill(project, "500.00", unit=unit)
    cashier = make_staff(project.company, "cashier")
    order = order_create(gateway="wechat", bills=[bill], actor_label="业主")
    headers, body = wechat_paid_callback(order)
    url = f"{live_server.url}/payments/notify/wechat/{order.config_id}/"
    desk_error = []

    def desk():
        try:
            payment_collect(
                project=project,
                bill_ids=[bill.pk],
                actor=cashier,
                tenders=[Tender(PaymentMethod.CASH, Decimal("500.00"))],
            )
        except Exception as exc:  # the desk may find the bill already settled: that is one correct outcome
            desk_error.append(exc)
        finally:
            connections.close_all()

    desk_thread = threading.Thread(target=desk)
    desk_thread.start()
    answers = deliver_at_once(url, headers, body, 3)
    desk_thread.join()

    assert answers == [204] * 3
    assert bill_outstanding(bill) == 0
    collected = sum(p.amount for p in Payment.objects.filter(project=project))
    assert collected == Decimal("1000.00") - (Decimal("500.00") if desk_error else 0)
    assert prepaid_balance(prepaid_account(unit)) == (0 if desk_error else Decimal("500.00"))
    assert reconcile([project]).is_clean
