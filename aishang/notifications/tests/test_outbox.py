import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from aishang.core.testing import make_company, make_customer, make_message_template, make_project, make_staff
from aishang.notifications.choices import MessageStatus
from aishang.notifications.models import Message
from aishang.notifications.services import message_deliver, messages_deliver_due, notify

from .backends import ScriptedBackend, permanent, transient

pytestmark = pytest.mark.django_db

SCRIPTED = "aishang.notifications.tests.backends.ScriptedBackend"
PARAMS = {"customer": "张三", "project": "爱尚花园", "unit": "1-2-301", "period": "2026年01月", "amount": "216.90",
          "due_date": "2026-01-31", "fee_items": "物业费"}


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def customer(company):
    return make_customer(make_project(company), name="张三", mobile="13800138000", email="zhang@example.com")


@pytest.fixture
def scripted(settings):
    settings.NOTIFICATION_SMS_BACKEND = SCRIPTED
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    settings.NOTIFICATION_MAX_ATTEMPTS = 4
    ScriptedBackend.reset()
    return ScriptedBackend


def notify_sms(company, customer, key="bill-posted:1:sms", **overrides):
    arguments = {"company": company, "recipient": customer, "channel": "sms", "template_code": "bill_posted",
                 "params": PARAMS, "dedupe_key": key}
    return notify(**{**arguments, **overrides})


def test_it_renders_the_message_from_the_default_template_and_takes_the_customers_mobile(company, customer, scripted):
    message = notify_sms(company, customer)
    assert message.title == "爱尚花园2026年01月账单已出"
    assert message.body.startswith("尊敬的张三，您的房屋1-2-301")
    assert message.address == "13800138000"
    assert message.project_id == customer.project_id
    assert message.status == MessageStatus.PENDING


def test_calling_notify_twice_creates_one_message_and_sends_it_once(
        company, customer, scripted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = notify_sms(company, customer)
        second = notify_sms(company, customer)
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(callbacks) == 1
    assert scripted.sent == [first.pk]
    first.refresh_from_db()
    assert first.status == MessageStatus.SENT
    assert first.provider_message_id == f"scripted-{first.pk}"
    assert first.attempts == 1


def test_a_delivery_task_run_again_after_success_sends_nothing(company, customer, scripted,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_sms(company, customer)
    message_deliver(message.pk)
    messages_deliver_due(now=timezone.now() + datetime.timedelta(days=1))
    assert scripted.sent == [message.pk]


def test_nothing_is_queued_or_sent_when_the_surrounding_transaction_rolls_back(
        company, customer, scripted, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        notify_sms(company, customer)
        raise RuntimeError("the bill run failed")
    assert callbacks == []
    assert not Message.objects.exists()
    assert scripted.sent == []


def test_nothing_is_sent_before_commit(company, customer, scripted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify_sms(company, customer)
    assert scripted.sent == []
    assert len(callbacks) == 1


def test_a_transient_failure_is_retried_with_exponential_back_off(company, customer, scripted):
    scripted.reset(transient(), transient(), transient())
    message = notify_sms(company, customer)
    start = timezone.now()

    message = message_deliver(message.pk, now=start)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.next_attempt_at == start + datetime.timedelta(seconds=60)
    assert "BUSINESS_LIMIT_CONTROL" in message.last_error

    # Not due yet: the sweep leaves it alone.
    assert messages_deliver_due(now=start + datetime.timedelta(seconds=59)) == 0
    message_deliver(message.pk, now=start + datetime.timedelta(seconds=59))
    message.refresh_from_db()
    assert message.attempts == 1

    second = start + datetime.timedelta(seconds=60)
    assert messages_deliver_due(now=second) == 1
    message.refresh_from_db()
    assert (message.attempts, message.next_attempt_at) == (2, second + datetime.timedelta(seconds=120))

    third = second + datetime.timedelta(seconds=120)
    messages_deliver_due(now=third)
    message.refresh_from_db()
    assert (message.attempts, message.next_attempt_at) == (3, third + datetime.timedelta(seconds=240))

    messages_deliver_due(now=third + datetime.timedelta(seconds=240))
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 4, "")
    assert scripted.sent == [message.pk]


def test_it_gives_up_after_the_last_attempt(company, customer, scripted):
    scripted.reset(*[transient()] * 4)
    message = notify_sms(company, customer)
    now = timezone.now()
    for _ in range(4):
        now += datetime.timedelta(hours=1)
        messages_deliver_due(now=now)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == (MessageStatus.FAILED, 4, None)
    assert scripted.sent == []


def test_a_permanent_failure_is_not_retried(company, customer, scripted):
    scripted.reset(permanent())
    message = message_deliver(notify_sms(company, customer).pk)
    assert (message.status, message.next_attempt_at) == (MessageStatus.FAILED, None)
    assert "非法手机号" in message.last_error


def test_a_message_left_sending_by_a_dead_worker_is_failed_not_resent(company, customer, scripted):
    message = notify_sms(company, customer)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, attempts=1)
    messages_deliver_due(now=timezone.now() + datetime.timedelta(hours=1))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "结果未知" in message.last_error
    assert scripted.sent == []


def test_a_customer_without_a_mobile_gets_a_cancelled_message_that_says_why(company, scripted):
    customer = make_customer(make_project(company), mobile="")
    message = notify_sms(company, customer)
    assert message.status == MessageStatus.CANCELLED
    assert message.last_error == "收件人没有手机号"


def test_a_stopped_template_cancels_its_messages(company, customer, scripted):
    make_message_template(company, is_active=False)
    assert notify_sms(company, customer).status == MessageStatus.CANCELLED


def test_the_companys_own_template_is_used(company, customer, scripted):
    make_message_template(company, title="{project}缴费通知", body="{customer}您好，应缴{amount}元")
    message = notify_sms(company, customer)
    assert (message.title, message.body) == ("爱尚花园缴费通知", "张三您好，应缴216.90元")


def test_it_refuses_a_recipient_of_another_company(company, scripted):
    stranger = make_customer(make_project(make_company()))
    with pytest.raises(ValueError):
        notify_sms(company, stranger)


def test_in_app_messages_are_delivered_to_the_staff_inbox(company, django_capture_on_commit_callbacks):
    staff = make_staff(company, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        message = notify(company=company, recipient=staff, channel="in_app", template_code="bill_posted",
                         params=PARAMS, dedupe_key="staff:1")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert list(Message.objects.inbox(staff)) == [message]


def test_e_mail_goes_through_djangos_email_backend(company, customer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = notify(company=company, recipient=customer, channel="email", template_code="bill_posted",
                         params=PARAMS, dedupe_key="bill-posted:1:email")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["zhang@example.com"]
    assert mailoutbox[0].subject == "爱尚花园2026年01月账单已出"


def test_the_development_backend_records_the_message_as_sent(company, customer, settings,
                                                             django_capture_on_commit_callbacks):
    settings.NOTIFICATION_SMS_BACKEND = "aishang.notifications.backends.RecordingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_sms(company, customer)
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id) == (
        MessageStatus.SENT, "development", f"dev-{message.pk}")


def test_an_in_app_message_to_a_customer_is_in_their_message_centre_at_once_without_delivery(
        company, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = notify(company=company, recipient=customer, channel="in_app", template_code="bill_posted",
                         params=PARAMS, dedupe_key="bill-posted:1:in_app")

    assert callbacks == []
    assert (message.status, message.attempts, message.provider, message.address) == (
        MessageStatus.SENT, 0, "in_app", "")
    assert message.sent_at is not None and message.recipient_customer == customer
