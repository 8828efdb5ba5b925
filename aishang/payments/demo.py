"""The demo company pays online through the sandbox gateway (WeChat Pay and Alipay) where the sandbox is on."""

from django.conf import settings

from .choices import Gateway
from .models import (
    GatewayConfig,
    GatewayNotification,
    GatewayRefund,
    PaymentOrder,
    PaymentOrderLine,
    PaymentOrderSettlement,
    PaymentSettings,
    SandboxAccount,
)


def demo_payments_setup(company):
    if not settings.PAYMENTS_SANDBOX:
        return []
    from .sandbox.services import sandbox_config_create

    PaymentSettings.objects.get_or_create(company=company)
    return [sandbox_config_create(company, gateway) for gateway in Gateway.values]


def demo_payments_delete(company):
    """The company's online orders and gateway accounts, before the payments and bills they point at."""
    app_ids = list(GatewayConfig.objects.filter(company=company, is_sandbox=True).values_list("app_id", flat=True))
    for queryset in (
        GatewayNotification.objects.filter(company=company),
        GatewayRefund.objects.filter(order__company=company),
        PaymentOrderSettlement.objects.filter(order__company=company),
        PaymentOrderLine.objects.filter(order__company=company),
        PaymentOrder.objects.filter(company=company),
        PaymentSettings.objects.filter(company=company),
        GatewayConfig.objects.filter(company=company),
        SandboxAccount.objects.filter(app_id__in=app_ids),
    ):
        queryset.delete()
