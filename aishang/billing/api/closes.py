"""日结 over the API: the open shift's summary, closing it, and the closes a caller may read."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from aishang.core.api.exceptions import api_errors
from aishang.core.api.permissions import ScopedModelPermissions
from aishang.core.api.serializers import request_user
from aishang.core.api.views import ScopedViewMixin
from aishang.users.models import User

from .. import closes
from ..models import PaymentMethod, ShiftClose
from .serializers import choice_field, money

CASHIER_PARAMETER = OpenApiParameter("cashier", int, description=_("收款人 id；默认为本人，查看他人班次需要财务权限"))


class MethodLineSerializer(serializers.Serializer):
    method = choice_field(PaymentMethod.choices, "PaymentMethodEnum", read_only=True, label=_("方式"))
    label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True, label=_("笔数"))
    amount = money(label=_("金额"))


class ShiftSummarySerializer(serializers.Serializer):
    cashier = serializers.IntegerField(source="cashier.pk", read_only=True, label=_("收款人"))
    cashier_name = serializers.CharField(source="cashier.__str__", read_only=True)
    period_start = serializers.DateTimeField(read_only=True, allow_null=True, label=_("班次开始"),
                                             help_text=_("上次日结的结束时间；首次日结为空"))
    # Full precision: the value comes back as ``seen_until``, and a payment later in the same second counts.
    period_end = serializers.DateTimeField(read_only=True, format="iso-8601", label=_("统计截至"),
                                           help_text=_("日结时作为 seen_until 传回，之后若有新收款会提示核对"))
    payment_count = serializers.IntegerField(read_only=True, label=_("收款笔数"))
    total = money(label=_("收款合计"))
    methods = MethodLineSerializer(many=True, read_only=True, label=_("按收款方式"))
    money_in = money(label=_("新收资金"), help_text=_("不含预存冲抵和押金冲抵"))
    cash_tendered = money(label=_("缴款人实付现金"))
    change_given = money(label=_("找零"))
    cash_in = money(label=_("现金收款"))
    reversal_count = serializers.IntegerField(read_only=True, label=_("作废退款笔数"))
    reversals_total = money(label=_("作废退款合计"))
    reversals = MethodLineSerializer(many=True, read_only=True, label=_("作废退款按退回方式"))
    cash_refunded = money(label=_("现金退款"))
    cash_expected = money(label=_("应交现金"), help_text=_("现金收款 − 现金退款"))


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "format": "decimal"},
                      "example": {"cash": "1200.00", "wechat": "86.50"}})
class TotalsByMethodField(serializers.JSONField):
    pass


class ShiftCloseSerializer(serializers.ModelSerializer):
    cashier_name = serializers.CharField(source="cashier.__str__", read_only=True)
    closed_by_name = serializers.CharField(source="closed_by.__str__", read_only=True, default=None)
    total = money(label=_("收款合计"))
    totals_by_method = TotalsByMethodField(read_only=True, label=_("按收款方式"))
    reversals_total = money(label=_("作废退款合计"))
    cash_expected = money(label=_("应交现金"))
    cash_handed_over = money(label=_("实交现金"))
    difference = serializers.SerializerMethodField(label=_("差额"), help_text=_("实交 − 应交"))

    class Meta:
        model = ShiftClose
        fields = ("id", "cashier", "cashier_name", "period_start", "period_end", "payment_count", "total",
                  "totals_by_method", "reversals_total", "cash_expected", "cash_handed_over", "difference", "note",
                  "closed_at", "closed_by", "closed_by_name")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_difference(self, close):
        return f"{close.cash_handed_over - close.cash_expected:.2f}"


@extend_schema_field(OpenApiTypes.INT)
class ShiftCashierField(serializers.PrimaryKeyRelatedField):
    """A colleague whose shift the caller may close; anyone else reads as not found."""

    def get_queryset(self):
        user = request_user(self)
        return closes.shift_cashiers(user) if user is not None else User.objects.none()


class ShiftCloseCreateSerializer(serializers.Serializer):
    cashier = ShiftCashierField(required=False, label=_("收款人"), help_text=_("默认为本人；为他人日结需要财务权限"))
    cash_handed_over = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, label=_("实交现金"))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", label=_("备注"),
                                 help_text=_("实交与应交不一致时必填"))
    seen_until = serializers.DateTimeField(required=False, allow_null=True, default=None, label=_("核对的汇总截至"),
                                           help_text=_("GET /api/v1/shift/ 返回的 period_end；之后若有新收款则拒绝"))


class ShiftCloseViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """日结: the caller's closes (财务 and 管理员: every cashier's in scope), and closing the open shift.

    ``GET /api/v1/shift/`` is the open shift: payments and reversals since the last close, by method, with the
    cash to hand over. ``POST`` closes it; an empty shift, or a difference between the cash expected and handed
    over without a ``note``, answers 400 with the reason.
    """

    queryset = ShiftClose.objects.all()
    serializer_class = ShiftCloseSerializer
    permission_classes = [ScopedModelPermissions]
    ordering_fields = ("id", "period_end", "cash_handed_over")
    filterset_fields = ("cashier",)

    def get_queryset(self):
        return closes.shift_close_queryset(self.request.user)

    def get_serializer_class(self):
        return ShiftCloseCreateSerializer if self.action == "create" else ShiftCloseSerializer

    @extend_schema(request=ShiftCloseCreateSerializer, responses={201: ShiftCloseSerializer},
                   description=_("日结：关闭收款人当前班次。"))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            close = closes.shift_close(cashier=data.get("cashier") or request.user, actor=request.user,
                                       cash_handed_over=data["cash_handed_over"], note=data["note"],
                                       seen_until=data["seen_until"])
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        close = self.get_queryset().get(pk=close.pk)
        return Response(ShiftCloseSerializer(close, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[CASHIER_PARAMETER], responses={200: ShiftSummarySerializer},
                   description=_("当前班次：上次日结之后的收款和作废退款，按收款方式汇总，以及应交现金。"))
    def current(self, request, *args, **kwargs):
        cashier = closes.shift_cashier(request.user, request.query_params.get("cashier"))
        if cashier is None:
            raise Http404
        return Response(ShiftSummarySerializer(closes.shift_summary(cashier)).data)
