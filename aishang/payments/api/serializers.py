from rest_framework import serializers

from ..models import GatewayNotification, GatewayRefund, PaymentOrder, PaymentOrderLine


class PaymentOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentOrderLine
        fields = ["id", "kind", "project", "unit", "bill", "amount"]


class GatewayNotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = GatewayNotification
        fields = ["id", "kind", "received_at", "verified", "outcome", "message"]


class GatewayRefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = GatewayRefund
        fields = [
            "id",
            "kind",
            "out_refund_no",
            "amount",
            "reason",
            "status",
            "refund_id",
            "message",
            "payment",
            "created_at",
            "finished_at",
        ]


class PaymentOrderSerializer(serializers.ModelSerializer):
    lines = PaymentOrderLineSerializer(many=True, read_only=True)
    payments = serializers.SerializerMethodField()

    class Meta:
        model = PaymentOrder
        fields = [
            "id",
            "out_trade_no",
            "project",
            "unit",
            "payer",
            "gateway",
            "amount",
            "description",
            "status",
            "created_by_label",
            "created_at",
            "expires_at",
            "paid_at",
            "closed_at",
            "close_reason",
            "transaction_id",
            "lines",
            "payments",
        ]

    def get_payments(self, order) -> list[int]:
        return [settlement.payment_id for settlement in order.settlements.all()]


class PaymentOrderDetailSerializer(PaymentOrderSerializer):
    notifications = GatewayNotificationSerializer(many=True, read_only=True)
    refunds = GatewayRefundSerializer(many=True, read_only=True)

    class Meta(PaymentOrderSerializer.Meta):
        fields = [*PaymentOrderSerializer.Meta.fields, "notifications", "refunds"]


class OrderQueryResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    order = PaymentOrderSerializer()
