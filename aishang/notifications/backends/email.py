import smtplib

from django.core.mail import EmailMessage

from . import Delivery, DeliveryError


class DjangoEmailBackend:
    """E-mail through Django's configured EMAIL_BACKEND (SMTP in production, locmem in tests)."""

    name = "email"

    def send(self, message):
        if not message.address:
            raise DeliveryError("收件人没有电子邮箱", retryable=False)
        email = EmailMessage(subject=message.title, body=message.body, to=[message.address],
                             headers={"X-Aishang-Message": message.dedupe_key})
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"邮箱地址被拒收：{exc}", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"邮件发送失败：{exc}") from exc
        return Delivery(self.name, email.extra_headers.get("Message-ID", ""))
