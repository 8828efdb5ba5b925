"""Writes of the notifications outbox: queue a message, deliver it, record what happened."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.extras.services import register_object_save

from .backends import DeliveryError, InAppBackend, get_backend
from .choices import Channel, MessageStatus
from .models import Message, MessageTemplate
from .rendering import TEMPLATE_KINDS, render_text

logger = logging.getLogger("aishang.notifications")


def _setting(name, default):
    return getattr(settings, name, default)


def max_attempts():
    return _setting("NOTIFICATION_MAX_ATTEMPTS", 5)


def retry_delay(attempts):
    """Back-off after the n-th failed attempt: base, 2×base, 4×base ... capped."""
    base = _setting("NOTIFICATION_RETRY_BASE_SECONDS", 60)
    cap = _setting("NOTIFICATION_RETRY_MAX_SECONDS", 6 * 60 * 60)
    return datetime.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def template_for(company, code):
    """The company's own template for ``code``, or the product's wording until it writes one."""
    template = MessageTemplate.objects.filter(company=company, code=code).first()
    if template is not None:
        return template
    kind = TEMPLATE_KINDS.get(code)
    if kind is None:
        raise ValidationError(gettext("未知的消息模板：%(code)s") % {"code": code})
    return MessageTemplate(company=company, code=code, name=str(kind.name), title=kind.title, body=kind.body)


def _recipient_fields(company, recipient, channel, address):
    from aishang.customers.models import Customer
    from aishang.users.models import User

    if isinstance(recipient, Customer):
        fields = {"recipient_customer": recipient, "project_id": recipient.project_id}
        if recipient.project.company_id != company.pk:
            raise ValueError("recipient belongs to another company")
    elif isinstance(recipient, User):
        fields = {"recipient_user": recipient}
        if recipient.company_id != company.pk:
            raise ValueError("recipient belongs to another company")
    else:
        raise TypeError("recipient must be a customers.Customer or a users.User")
    fields["recipient_name"] = str(recipient)[:100]
    if address is None:
        address = {Channel.SMS: getattr(recipient, "mobile", ""), Channel.EMAIL: getattr(recipient, "email", "")}.get(
            channel, "")
    fields["address"] = address or ""
    return fields


MISSING_ADDRESS = {Channel.SMS: _("收件人没有手机号"), Channel.EMAIL: _("收件人没有电子邮箱"),
                   Channel.WECHAT: _("收件人没有绑定微信")}


def notify(*, company, recipient, channel, template_code, params, dedupe_key, project=None, address=None,
           actor=None):
    """Queue one message; delivery starts after the surrounding transaction commits.

    Idempotent by ``dedupe_key``: a second call returns the first message and queues nothing,
    so callers can re-run safely (a bill run resumed after a crash tells each payer once).
    ``address`` overrides the recipient's own (the openid for WeChat).
    """
    channel = Channel(channel)
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    template = template_for(company, template_code)
    params = dict(params or {})
    fields = _recipient_fields(company, recipient, channel, address)
    if project is not None:
        fields["project_id"] = project.pk
    status, error = MessageStatus.PENDING, ""
    if not template.is_active:
        status, error = MessageStatus.CANCELLED, gettext("消息模板已停用")
    elif channel != Channel.IN_APP and not fields["address"]:
        status, error = MessageStatus.CANCELLED, str(MISSING_ADDRESS[channel])
    now = timezone.now()
    delivered = {}
    if channel == Channel.IN_APP and status == MessageStatus.PENDING and "recipient_customer" in fields:
        # The row is the owner's message in the portal's message centre: there is nothing to send.
        status, delivered = MessageStatus.SENT, {"sent_at": now, "provider": InAppBackend.name}
    with transaction.atomic():
        message, created = Message.objects.get_or_create(dedupe_key=dedupe_key, defaults={
            "company": company, "channel": channel, "template_code": template_code, "params": params,
            "title": render_text(template.title, params)[:200], "body": render_text(template.body, params),
            "status": status, "last_error": error, "created_by": actor if getattr(actor, "pk", None) else None,
            "next_attempt_at": now if status == MessageStatus.PENDING else None, **delivered, **fields,
        })
    if created and message.status == MessageStatus.PENDING:
        transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


def enqueue_delivery(message_id, eta=None):
    from .tasks import deliver

    try:
        if eta is None:
            deliver.delay(message_id)
        else:
            deliver.apply_async(args=[message_id], eta=eta)
    except Exception:  # a broker outage must not fail the business action that already committed
        logger.exception("could not queue notification %s; deliver_due will pick it up", message_id)


def message_deliver(message_id, *, now=None):
    """Send one due message once. Safe to call any number of times, from any worker."""
    now = now or timezone.now()
    with transaction.atomic():
        # The lock makes the claim atomic: of two workers holding the same task, one sees
        # PENDING and claims it, the other sees SENDING and leaves it alone.
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != MessageStatus.PENDING:
            return message
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            return message
        message.status = MessageStatus.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts", "updated_at"])
    # The claim is committed before the provider is called: no database lock is held across a
    # network call, and a crash mid-call leaves SENDING (see messages_release_stuck), never a resend.
    try:
        delivery = get_backend(message.channel).send(message)
    except DeliveryError as exc:
        return _record_failure(message, str(exc), exc.retryable, now)
    except Exception as exc:  # a bug in a backend is recorded on the message and retried like trouble
        logger.exception("notification backend failed for message %s", message.pk)
        return _record_failure(message, f"{type(exc).__name__}: {exc}", True, now)
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), provider=delivery.provider,
        provider_message_id=delivery.provider_message_id[:100], last_error="", next_attempt_at=None,
        updated_at=timezone.now())
    message.refresh_from_db()
    return message


def _record_failure(message, error, retryable, now):
    retry = retryable and message.attempts < max_attempts()
    next_attempt_at = now + retry_delay(message.attempts) if retry else None
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.PENDING if retry else MessageStatus.FAILED, next_attempt_at=next_attempt_at,
        last_error=error[:2000], updated_at=timezone.now())
    if retry and not _setting("CELERY_TASK_ALWAYS_EAGER", False):
        # With a worker the retry is also scheduled for its time; deliver_due is the safety net.
        # In-process (no broker) an eta would run at once, so only deliver_due picks it up.
        enqueue_delivery(message.pk, eta=next_attempt_at)
    message.refresh_from_db()
    return message


def messages_release_stuck(*, now=None):
    """Messages left 发送中 by a worker that died mid-call become 失败, never resent automatically:
    the provider may have delivered them, and the same SMS twice is worse than a visible failure."""
    now = now or timezone.now()
    lease = datetime.timedelta(seconds=_setting("NOTIFICATION_SENDING_LEASE_SECONDS", 15 * 60))
    return Message.objects.filter(status=MessageStatus.SENDING, updated_at__lt=now - lease).update(
        status=MessageStatus.FAILED, next_attempt_at=None, updated_at=now,
        last_error=gettext("发送过程中断，结果未知；为避免重复发送未自动重试，请向服务商核实后手动重发"))


def messages_deliver_due(*, now=None, limit=500):
    """Deliver every message whose (re)try time has come; returns how many were attempted."""
    now = now or timezone.now()
    messages_release_stuck(now=now)
    ids = list(Message.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    for message_id in ids:
        message_deliver(message_id, now=now)
    return len(ids)


def message_resend(*, message, actor):
    """Staff send a failed message again (after fixing the number or the provider account)."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.FAILED:
            raise ValidationError(gettext("只有发送失败的消息可以重发"))
        locked.status = MessageStatus.PENDING
        locked.next_attempt_at = timezone.now()
        locked.attempts = 0
        locked.save(update_fields=["status", "next_attempt_at", "attempts", "updated_at"])
        transaction.on_commit(lambda: enqueue_delivery(locked.pk))
    return locked


def message_cancel(*, message, actor):
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.PENDING:
            raise ValidationError(gettext("只有待发送的消息可以取消"))
        locked.status = MessageStatus.CANCELLED
        locked.next_attempt_at = None
        locked.last_error = gettext("由 %(user)s 取消") % {"user": actor}
        locked.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
    return locked


def inbox_mark_read(*, user, message_ids=None):
    """Mark the user's own in-app messages read (all of them when no ids are given)."""
    messages = Message.objects.inbox(user).filter(read_at__isnull=True)
    if message_ids is not None:
        messages = messages.filter(pk__in=message_ids)
    return messages.update(read_at=timezone.now())


def message_template_save(*, template, actor):
    return register_object_save(obj=template, actor=actor)


def sms_config_save(*, config, actor):
    return register_object_save(obj=config, actor=actor)
