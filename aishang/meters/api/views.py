from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aishang.core.api.exceptions import api_errors
from aishang.core.api.permissions import ScopedModelPermissions
from aishang.core.api.views import ScopedModelViewSet, ScopedViewMixin
from aishang.meters.choices import ReadingSource
from aishang.meters.models import Meter, MeterReading
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
