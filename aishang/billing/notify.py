"""Tell payers about their bills through the notifications outbox: posted, due tomorrow, overdue since yesterday,
and (in the owner's message centre) payments received.

Every message has a dedupe key per (bill or payment, kind, channel), so re-posting a run or re-running a day's
reminders queues nothing new. Payers who signed in to the owner portal also get each one as an in-app message.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from aishang.core.money import format_money
from aishang.customers.models import OwnerBinding
from aishang.notifications.choices import Channel
from aishang.notifications.models import Message
from aishang.notifications.services import notify

from .models import Bill
from .reconcile import SUBLEDGER_TERMS, corrections_by_bill

CHUNK_SIZE = 500


def _params(bill, **extra):
    return {"customer": bill.payer.name, "company": bill.project.company.short_name or bill.project.company.name,
            "project": bill.project.name, "unit": str(bill.unit or bill.parking_space or ""),
            "period": f"{bill.period_start:%Y年%m月}", "amount": format_money(bill.amount).lstrip("¥"),
            "due_date": bill.due_date.isoformat(), "fee_items": bill.fee_item.name, "bill_count": 1, **extra}


def _still_owed(bills):
    """The bills of a chunk that still owe something after waivers, voids and payments."""
    taken = {}
    ids = [bill.pk for bill in bills]
    for term in SUBLEDGER_TERMS:
        if term.correction_model:
            for bill_id, amount in corrections_by_bill(term.correction_model, Bill.objects.filter(pk__in=ids)).items():
                taken[bill_id] = taken.get(bill_id, 0) + amount
    return [bill for bill in bills if bill.amount - taken.get(bill.pk, 0) > 0]


def portal_customer_ids(customer_ids):
    """The customers among these that an active owner account was verified for: they read the message centre."""
    return set(OwnerBinding.objects.filter(customer_id__in=customer_ids, account__is_active=True)
               .values_list("customer_id", flat=True))


def _channels_by_bill(chunk, channels):
    in_portal = portal_customer_ids({bill.payer_id for bill in chunk})
    extra = () if Channel.IN_APP in channels else (Channel.IN_APP,)
    return {bill: (*channels, *extra) if bill.payer_id in in_portal else channels for bill in chunk}


def _notify_bills(bills, *, template_code, key_prefix, channels, extra=lambda bill: {}, owed_only=False):
    """Queue one message per bill and channel (and an in-app one for payers in the owner portal), a chunk per
    transaction; returns how many were queued now."""
    bills = (bills.filter(payer__isnull=False)
             .select_related("payer", "project__company", "unit", "parking_space", "fee_item").order_by("pk"))
    queued, last_pk = 0, 0
    while True:
        chunk = list(bills.filter(pk__gt=last_pk)[:CHUNK_SIZE])
        if not chunk:
            return queued
        last_pk = chunk[-1].pk
        if owed_only:
            chunk = _still_owed(chunk)
        keys = {(bill, channel): f"{key_prefix}:{bill.pk}:{channel}"
                for bill, bill_channels in _channels_by_bill(chunk, channels).items() for channel in bill_channels}
        sent = set(Message.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
        # One transaction per chunk: the outbox starts delivering as each chunk commits.
        with transaction.atomic():
            for (bill, channel), key in keys.items():
                if key not in sent:
                    notify(company=bill.project.company, recipient=bill.payer, channel=channel,
                           template_code=template_code, params=_params(bill, **extra(bill)), dedupe_key=key,
                           project=bill.project)
                    queued += 1


def bills_notify_payers(bills, *, channels=("sms",)):
    """Tell payers their new bills are out; once per bill and channel however often it is called."""
    return _notify_bills(bills, template_code="bill_posted", key_prefix="bill-posted", channels=channels)


def bill_run_notify_payers(run, *, channels=("sms",)):
    return bills_notify_payers(Bill.objects.filter(run=run), channels=channels)


def bills_due_reminders(on_date, *, channels=("sms",)):
    """Remind payers of bills falling due tomorrow that are still owed."""
    return _notify_bills(Bill.objects.filter(due_date=on_date + datetime.timedelta(days=1)),
                         template_code="bill_due", key_prefix="bill-due", channels=channels, owed_only=True)


def bills_overdue_reminders(on_date, *, channels=("sms",)):
    """Tell payers of bills that fell due yesterday and are still owed."""
    return _notify_bills(Bill.objects.filter(due_date=on_date - datetime.timedelta(days=1)),
                         template_code="bill_overdue", key_prefix="bill-overdue", channels=channels,
                         extra=lambda bill: {"overdue_days": (on_date - bill.due_date).days}, owed_only=True)


def payment_notify_payer(payment):
    """Tell the payer in the owner's message centre that a payment was booked (desk or online), if they use it."""
    if payment.payer_id is None or not portal_customer_ids([payment.payer_id]):
        return None
    fee_items = list(dict.fromkeys(payment.allocations.order_by("bill__period_start", "pk")
                                   .values_list("bill__fee_item__name", flat=True)))
    company, project = payment.project.company, payment.project
    params = {"customer": payment.payer.name, "company": company.short_name or company.name, "project": project.name,
              "unit": str(payment.unit or ""), "amount": format_money(payment.amount).lstrip("¥"),
              "fee_items": "、".join(fee_items) or "预存", "receipt_number": payment.receipt_number,
              "paid_at": f"{timezone.localtime(payment.received_at):%Y-%m-%d %H:%M}"}
    return notify(company=company, recipient=payment.payer, channel=Channel.IN_APP,
                  template_code="payment_received", params=params,
                  dedupe_key=f"payment-received:{payment.pk}:{Channel.IN_APP}", project=project)
