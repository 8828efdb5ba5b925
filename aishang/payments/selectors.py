"""Reads of online payment orders, starting from what the actor may see."""

from .models import GatewayConfig, PaymentOrder


def order_list_queryset(user):
    return PaymentOrder.objects.restrict(user, "view").select_related("project", "unit", "payer")


def order_detail(user, pk):
    """The order with what it paid, the payments it produced, the callbacks received and the refunds; None outside the
    user's scope."""
    order = order_list_queryset(user).filter(pk=pk).select_related("config").first()
    if order is None:
        return None
    return {
        "order": order,
        "lines": list(order.lines.select_related("bill__fee_item", "unit").order_by("pk")),
        "payments": [s.payment for s in order.settlements.select_related("payment__unit").order_by("pk")],
        "notifications": list(order.notifications.order_by("-received_at", "-id")[:50]),
        "refunds": list(order.refunds.order_by("-created_at", "-id")),
    }


def company_gateway_configs(user):
    configs = GatewayConfig.objects.restrict(user, "view").filter(company_id=user.company_id)
    return {config.gateway: config for config in configs}
