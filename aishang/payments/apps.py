from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "aishang.payments"
    label = "payments"
    verbose_name = _("线上支付")

    def ready(self):
        from aishang.billing.reversals import on_payment_reversal

        from . import tasks  # noqa: F401  (registers the periodic task)
        from .services import refunds_for_reversal

        on_payment_reversal(refunds_for_reversal)
