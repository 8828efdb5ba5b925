from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aishang.core.api.exceptions import Conflict, api_errors
from aishang.core.api.permissions import ScopedModelPermissions
from aishang.core.api.views import ScopedModelViewSet, ScopedViewMixin
from aishang.meters.allocation_runs import allocation_post, allocation_preview, allocation_reverse
from aishang.meters.choices import ReadingSource
from aishang.meters.models import AllocationRule, AllocationRun, Meter, MeterReading
from aishang.meters.readings import meter_replace, reading_record

from . import serializers


class MeterViewSet(ScopedModelViewSet):
    """仪表: 户表 (a unit may have several), 公区表 and 总表, with 倍率, 整数位数 and the master meter above each."""

    queryset = Meter.objects.select_related("unit")
    serializer_class = serializers.MeterSerializer
    filterset_fields = ("project", "kind", "role", "unit", "building", "parent")
    search_fields = ("number", "name", "unit__code")
    ordering_fields = ("id", "number", "install_date")

    @extend_schema(request=serializers.MeterReplaceSerializer, responses={201: serializers.MeterSerializer},
                   description=_("换表：记录旧表的拆表读数并拆除旧表，新表接替其位置，从自己的起始读数开始。"))
    @action(detail=True, methods=["post"])
    def replace(self, request, pk=None):
        meter = self.get_object()
        if not request.user.has_perms(["meters.add_meter", "meters.change_meter", "meters.add_meterreading"]):
            raise exceptions.PermissionDenied(_("您没有换表的权限"))
        serializer = serializers.MeterReplaceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            _final, successor = meter_replace(meter=meter, final_value=data["final_value"], on=data["on"],
                                              number=data["number"], initial_reading=data["initial_reading"],
                                              actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        return Response(serializers.MeterSerializer(successor, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


class MeterReadingViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """抄表读数: list, read, and record one reading (the staff app and smart meters use it).

    The reading is measured from the meter's last one; a reading below it is refused unless ``kind`` is
    ``rollover``; usage far above the meter's average is recorded and flagged for review (``flagged``).
    """

    queryset = MeterReading.objects.select_related("meter")
    serializer_class = serializers.MeterReadingSerializer
    permission_classes = [ScopedModelPermissions]
    filterset_fields = ("meter", "project", "kind", "flagged", "read_on")
    ordering_fields = ("id", "read_on")

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.MeterReadingCreateSerializer
        return serializers.MeterReadingSerializer

    @extend_schema(request=serializers.MeterReadingCreateSerializer,
                   responses={201: serializers.MeterReadingSerializer},
                   description=_("录入读数：读数低于上期、日期不晚于上期、超出表盘位数时答 400 并说明原因。"))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            reading = reading_record(meter=data["meter"], value=data["value"], read_on=data["read_on"],
                                     kind=data["kind"], note=data["note"], actor=request.user,
                                     source=ReadingSource.API)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        return Response(serializers.MeterReadingSerializer(reading).data, status=status.HTTP_201_CREATED)


# 公摊与损耗


class AllocationRuleViewSet(ScopedModelViewSet):
    """分摊规则: which public or master meter's usage is shared (公摊) or whose loss (损耗) is, among which units
    (the whole project, buildings, entrances or a set of units), on what basis, and under which fee item."""

    queryset = AllocationRule.objects.all()
    serializer_class = serializers.AllocationRuleSerializer
    filterset_fields = ("project", "meter", "purpose", "basis", "fee_item", "is_active")
    search_fields = ("name",)
    ordering_fields = ("id", "name")
    prefetch_related = ("buildings", "entrances", "units")


def refusal_error(refusal):
    """A refusal at a field (a reversal's reason, the confirmation of 待复核 readings) is the client's to fix: 400;
    any other is a conflict with the runs' state: 409."""
    if hasattr(refusal, "error_dict"):
        return exceptions.ValidationError(api_errors(refusal))
    return Conflict("；".join(refusal.messages))


class CanChangeAllocationRuns(ScopedModelPermissions):
    """入账 and 冲销 change a run: they need change_allocationrun, whatever the HTTP method."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("meters.change_allocationrun"))


class AllocationRunViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """分摊批次: create = 预览 (computed from the readings in the period and stored as a draft with every unit's
    share); ``POST {id}/post/`` 入账; ``POST {id}/reverse/`` 冲销 with a reason; ``GET {id}/shares/`` the shares."""

    queryset = AllocationRun.objects.all()
    serializer_class = serializers.AllocationRunSerializer
    permission_classes = [ScopedModelPermissions]
    filterset_fields = ("project", "rule", "status", "purpose", "kind", "period_start", "period_end")
    ordering_fields = ("id", "period_start", "created_at")
    select_related = ("rule",)

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.AllocationRunCreateSerializer
        return serializers.AllocationRunSerializer

    @extend_schema(request=serializers.AllocationRunCreateSerializer,
                   responses={201: serializers.AllocationRunSerializer},
                   description=_("预览：按期间内的抄表读数计算并保存为预览批次。缺少读数、面积或权重合计为 0 时答 400 "
                                 "并说明原因，不保存任何数据。"))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            run = allocation_preview(rule=data["rule"], period_start=data["period_start"],
                                     period_end=data["period_end"], actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        return Response(serializers.AllocationRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AllocationPostSerializer,
                   responses={200: serializers.AllocationRunSerializer,
                              400: OpenApiResponse(description=_("所用读数中有待复核的读数，且未确认"
                                                                 "（confirm_unreviewed）")),
                              409: OpenApiResponse(description=_("已入账、已冲销，或同一规则的期间重叠"))},
                   description=_("入账：预览 → 已入账。同一规则已有期间重叠的已入账批次时答 409。所用读数中有待复核的"
                                 "读数（见 unreviewed_readings）时须传 confirm_unreviewed=true，否则答 400。"))
    @action(detail=True, methods=["post"], url_path="post", url_name="post",
            permission_classes=[CanChangeAllocationRuns])
    def post_run(self, request, pk=None):
        run = self.get_object()
        serializer = serializers.AllocationPostSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = allocation_post(run=run, actor=request.user, **serializer.validated_data)
        except DjangoValidationError as refusal:
            raise refusal_error(refusal) from None
        return Response(serializers.AllocationRunSerializer(run).data)

    @extend_schema(request=serializers.AllocationReverseSerializer,
                   responses={200: serializers.AllocationRunSerializer,
                              409: OpenApiResponse(description=_("只有已入账的批次可以冲销"))},
                   description=_("冲销：已入账 → 已冲销，整批冲销，须填写原因；冲销后该期间可重新分摊。"))
    @action(detail=True, methods=["post"], permission_classes=[CanChangeAllocationRuns])
    def reverse(self, request, pk=None):
        run = self.get_object()
        serializer = serializers.AllocationReverseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = allocation_reverse(run=run, actor=request.user, reason=serializer.validated_data["reason"])
        except DjangoValidationError as refusal:
            raise refusal_error(refusal) from None
        return Response(serializers.AllocationRunSerializer(run).data)

    @extend_schema(responses={200: serializers.AllocationShareSerializer(many=True)},
                   description=_("本批次各户的权重、分摊量和计算过程，按房屋编码排序，分页。"))
    @action(detail=True, methods=["get"], filter_backends=[])
    def shares(self, request, pk=None):
        run = self.get_object()
        shares = run.shares.select_related("unit").order_by("unit__code")
        page = self.paginate_queryset(shares)
        return self.get_paginated_response(serializers.AllocationShareSerializer(page, many=True).data)
