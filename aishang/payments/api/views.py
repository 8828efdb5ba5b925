from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aishang.core.api.views import ScopedViewMixin

from .. import services
from ..filters import PaymentOrderFilter
from ..models import PaymentOrder
from . import serializers


class QueryPermission(BasePermission):
    message = _("没有查询订单的权限")

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.has_perm("payments.query_paymentorder")
        )


class PaymentOrderViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    """线上支付订单 for staff: list (filters project, status, gateway, created_from, created_to) and read with
    lines, payments, callbacks received and refunds; ``query`` asks the gateway now."""

    queryset = PaymentOrder.objects.all()
    serializer_class = serializers.PaymentOrderSerializer
    filterset_class = PaymentOrderFilter
    search_fields = ("out_trade_no", "transaction_id", "unit__code")
    ordering_fields = ("id", "created_at", "amount", "paid_at")
    select_related = ("config",)
    prefetch_related = ("lines", "settlements")

    def get_serializer_class(self):
        return serializers.PaymentOrderDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    @extend_schema(
        request=None,
        responses={200: serializers.OrderQueryResultSerializer},
        description=_("查单：向支付渠道查询订单状态；已支付则入账，超时则关闭。"),
    )
    @action(detail=True, methods=["post"], permission_classes=[QueryPermission])
    def query(self, request, pk=None):
        order = self.get_object()
        message = services.order_query(order)
        order = self.get_queryset().get(pk=order.pk)
        return Response({"message": message, "order": serializers.PaymentOrderSerializer(order).data})
