import datetime

import pytest

from aishang.billing import notify as billing_notify
from aishang.billing.jobs import JOB_KIND
from aishang.billing.models import Bill
from aishang.billing.notify import bill_run_notify_payers, bills_due_reminders, bills_overdue_reminders
from aishang.billing.services import bill_run_post
from aishang.billing.tasks import send_due_reminders
from aishang.billing.tests.test_bill_run import property_fee, run_for
from aishang.core.testing import make_customer, make_owner, make_unit
from aishang.extras.jobs import job_execute
from aishang.extras.models import Job
from aishang.notifications.choices import Channel, MessageStatus
from aishang.notifications.models import Message

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 11, 15)  # the rule's due day in November


@pytest.fixture
def payers(project):
    """Two owners with a mobile, one without, and a unit nobody owns."""
    with_mobile = [make_owner(make_unit(project), make_customer(project, mobile=f"1380013800{i}")) for i in (1, 2)]
    without = make_owner(make_unit(project), make_customer(project, mobile=""))
    make_unit(project)
    return with_mobile, without


def test_posting_a_run_queues_one_sms_per_payer_with_a_mobile(project, payers, monkeypatch):
    with_mobile, without = payers
    monkeypatch.setattr(billing_notify, "CHUNK_SIZE", 2)
    run = bill_run_post(run_for(project, property_fee(project)))

    assert bill_run_notify_payers(run) == 3

    pending = Message.objects.filter(status=MessageStatus.PENDING)
    assert {(m.recipient_customer, m.address, m.channel, m.template_code) for m in pending} == {
        (customer, customer.mobile, Channel.SMS, "bill_posted") for customer in with_mobile}
    bill = Bill.objects.get(payer=with_mobile[0])
    message = pending.get(recipient_customer=with_mobile[0])
    assert message.dedupe_key == f"bill-posted:{bill.pk}:sms"
    assert "216.90元" in message.body and "2026年11月" in message.body and "2026-11-15" in message.body
    # notify records a payer without a mobile as cancelled, so the desk can see who was not told.
    assert Message.objects.get(recipient_customer=without).status == MessageStatus.CANCELLED


def test_re_posting_a_run_queues_nothing_new(project, payers):
    run = bill_run_post(run_for(project, property_fee(project)))
    bill_run_notify_payers(run)
    before = list(Message.objects.order_by("pk").values_list("pk", "dedupe_key"))

    run = bill_run_post(run)

    assert bill_run_notify_payers(run) == 0
    assert list(Message.objects.order_by("pk").values_list("pk", "dedupe_key")) == before


def test_the_bill_run_job_posts_then_tells_the_payers(project, payers):
    run = run_for(project, property_fee(project))
    job = Job.objects.create(kind=JOB_KIND, title="出账", company=project.company, project=project,
                             params={"run_id": run.pk})

    job_execute(job.pk)
    job_execute(job.pk)

    assert Bill.objects.filter(run=run).count() == 4
    assert Message.objects.filter(template_code="bill_posted").count() == 3
    job.refresh_from_db()
    assert job.result["notified"] == 0  # the second execution found every message already queued


def test_due_and_overdue_reminders_pick_the_right_bills(project, payers):
    rule = property_fee(project)
    bill_run_post(run_for(project, rule))
    october = bill_run_post(run_for(project, rule, datetime.date(2026, 10, 1)))
    november_bills = Bill.objects.filter(due_date=DUE, payer__isnull=False)
    october_bills = Bill.objects.filter(run=october, payer__isnull=False)

    assert bills_due_reminders(DUE - datetime.timedelta(days=2)) == 0
    assert bills_due_reminders(DUE - datetime.timedelta(days=1)) == 3
    assert bills_overdue_reminders(DUE) == 0
    assert bills_overdue_reminders(DUE + datetime.timedelta(days=1)) == 3

    due = Message.objects.filter(template_code="bill_due")
    overdue = Message.objects.filter(template_code="bill_overdue")
    assert {m.dedupe_key for m in due} == {f"bill-due:{bill.pk}:sms" for bill in november_bills}
    assert {m.dedupe_key for m in overdue} == {f"bill-overdue:{bill.pk}:sms" for bill in november_bills}
    assert not Message.objects.filter(dedupe_key__in=[f"bill-due:{b.pk}:sms" for b in october_bills]).exists()
    assert "已逾期1天" in overdue.filter(status=MessageStatus.PENDING).first().body
    # The daily task runs both and is safe to run again.
    assert send_due_reminders(DUE.isoformat()) == {"due": 0, "overdue": 0}


def portal_account(customer):
    """The customer signed in to the owner portal once: an active owner account verified for their units."""
    from aishang.customers.models import OwnerAccount
    from aishang.customers.owners import owner_bindings_refresh

    account = OwnerAccount.objects.create(mobile=customer.mobile)
    owner_bindings_refresh(account)
    return account


def test_payers_in_the_owner_portal_also_get_each_notice_in_app(project, payers):
    with_mobile, _without = payers
    portal_account(with_mobile[0])
    rule = property_fee(project)
    run = bill_run_post(run_for(project, rule))

    assert bill_run_notify_payers(run) == 4  # three SMS (one cancelled for want of a mobile) and one in-app
    bills_due_reminders(DUE - datetime.timedelta(days=1))
    bills_overdue_reminders(DUE + datetime.timedelta(days=1))

    bill = Bill.objects.get(payer=with_mobile[0])
    in_app = Message.objects.filter(channel=Channel.IN_APP)
    assert {(m.recipient_customer, m.template_code, m.dedupe_key, m.status) for m in in_app} == {
        (with_mobile[0], code, f"{prefix}:{bill.pk}:in_app", MessageStatus.SENT)
        for code, prefix in (("bill_posted", "bill-posted"), ("bill_due", "bill-due"),
                             ("bill_overdue", "bill-overdue"))}
    assert all(m.sent_at and m.attempts == 0 and m.address == "" for m in in_app)
    assert "216.90元" in in_app.get(template_code="bill_posted").body


def test_in_app_notices_are_queued_once_however_often_they_are_asked_for(project, payers):
    with_mobile, _without = payers
    portal_account(with_mobile[0])
    run = bill_run_post(run_for(project, property_fee(project)))
    bill_run_notify_payers(run)
    before = Message.objects.count()

    assert bill_run_notify_payers(run) == 0
    assert bills_due_reminders(DUE - datetime.timedelta(days=1)) == 4
    assert bills_due_reminders(DUE - datetime.timedelta(days=1)) == 0
    assert Message.objects.count() == before + 4


def test_a_deactivated_owner_account_gets_no_in_app_notice(project, payers):
    with_mobile, _without = payers
    account = portal_account(with_mobile[0])
    account.is_active = False
    account.save()

    bill_run_notify_payers(bill_run_post(run_for(project, property_fee(project))))

    assert not Message.objects.filter(channel=Channel.IN_APP).exists()


def test_a_payment_tells_a_portal_payer_in_app_once_and_others_not_at_all(project, payers):
    from decimal import Decimal

    from aishang.billing.payments import Tender, payment_collect
    from aishang.core.testing import make_staff

    with_mobile, _without = payers
    portal_account(with_mobile[0])
    bill_run_post(run_for(project, property_fee(project)))
    cashier = make_staff(project.company, "cashier")
    mine, theirs = (Bill.objects.get(payer=customer) for customer in with_mobile)

    payment = payment_collect(project=project, bill_ids=[mine.pk], tenders=[Tender("cash", Decimal("216.90"))],
                              actor=cashier)
    payment_collect(project=project, bill_ids=[theirs.pk], tenders=[Tender("cash", Decimal("216.90"))],
                    actor=cashier)
    billing_notify.payment_notify_payer(payment)

    message = Message.objects.get(template_code="payment_received")
    assert (message.recipient_customer, message.channel, message.status, message.dedupe_key) == (
        with_mobile[0], Channel.IN_APP, MessageStatus.SENT, f"payment-received:{payment.pk}:in_app")
    assert message.title.endswith("缴费成功")
    assert "216.90元" in message.body and payment.receipt_number in message.body and "物业费" in message.body
