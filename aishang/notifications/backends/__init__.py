"""Channel backends: how a message leaves the building.

Each channel's backend is a dotted path in settings (``NOTIFICATION_SMS_BACKEND`` ...). A
backend's ``send(message)`` returns a ``Delivery`` or raises ``DeliveryError``; whether the
error is worth another attempt is the backend's call, because only it knows the provider.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from ..choices import Channel

logger = logging.getLogger("aishang.notifications")

DEFAULT_BACKENDS = {
    Channel.IN_APP: "aishang.notifications.backends.InAppBackend",
    Channel.SMS: "aishang.notifications.backends.RecordingBackend",
    Channel.WECHAT: "aishang.notifications.backends.RecordingBackend",
    Channel.EMAIL: "aishang.notifications.backends.email.DjangoEmailBackend",
}
SETTING_NAMES = {
    Channel.IN_APP: "NOTIFICATION_IN_APP_BACKEND",
    Channel.SMS: "NOTIFICATION_SMS_BACKEND",
    Channel.WECHAT: "NOTIFICATION_WECHAT_BACKEND",
    Channel.EMAIL: "NOTIFICATION_EMAIL_BACKEND",
}


@dataclass(frozen=True)
class Delivery:
    provider: str
    provider_message_id: str = ""


class DeliveryError(Exception):
    def __init__(self, message, *, retryable=True, code=""):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class InAppBackend:
    """The outbox row is the in-app message: delivering it only makes it visible in the inbox."""

    name = "in_app"

    def send(self, message):
        return Delivery(self.name)


class RecordingBackend:
    """Development and trial: nothing leaves the server; the message shows as sent in 消息记录."""

    name = "development"

    def send(self, message):
        logger.info("notification %s (%s) to %s recorded, not sent: %s", message.pk, message.channel,
                    message.address or message.recipient_name, message.body)
        return Delivery(self.name, f"dev-{message.pk}")


def get_backend(channel):
    path = getattr(settings, SETTING_NAMES[channel], None) or DEFAULT_BACKENDS[channel]
    return import_string(path)()


def http_timeout():
    return getattr(settings, "NOTIFICATION_HTTP_TIMEOUT", 10)
