from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from aishang.core.api.views import ScopedModelViewSet
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind

from . import filters, serializers
from .serializers import PII_FIELDS, PII_PERMISSION


class CustomerViewSet(ScopedModelViewSet):
    """业主、租户、住户、家庭成员. Phone and ID numbers are masked unless the role may see them;
    every answer that carries them unmasked is written to the audit log."""

    queryset = Customer.objects.all()
    serializer_class = serializers.CustomerSerializer
    filterset_class = filters.CustomerFilterSet
    search_fields = ("name", "mobile", "employer")
    ordering_fields = ("id", "name", "kind", "move_in_date", "created_at")
    audited_actions = {"list", "retrieve", "create", "update", "partial_update", "pii"}

    def can_view_pii(self):
        return self.request.user.has_perm(PII_PERMISSION)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["can_view_pii"] = self.request.user.is_authenticated and self.can_view_pii()
        return context

    @extend_schema(responses={200: serializers.CustomerPIISerializer},
                   description=_("手机号、证件号明文。需要“查看客户手机号、证件号明文”权限，否则 404；"
                                 "每次查看都记入审计日志。"))
    @action(detail=True, methods=["get"], url_path="pii", filter_backends=[], pagination_class=None)
    def pii(self, request, pk=None):
        if not self.can_view_pii():
            raise Http404
        return Response(serializers.CustomerPIISerializer(self.get_object()).data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (self.action in self.audited_actions and status.is_success(response.status_code)
                and request.user.is_authenticated and self.can_view_pii()):
            ids = _ids_with_personal_data(response.data)
            if ids:
                audit_record(kind=AuditKind.PII_VIEW, user=request.user, model=Customer, object_ids=ids,
                             detail={"path": request.path, "action": self.action})
        return response


def _ids_with_personal_data(data):
    if not isinstance(data, dict):
        return []
    rows = data.get("results") if isinstance(data.get("results"), list) else [data]
    return [row["id"] for row in rows if isinstance(row, dict) and "id" in row
            and any(row.get(name) for name in PII_FIELDS)]


class OccupancyViewSet(ScopedModelViewSet):
    """入住关系: who owns, rents or lives in a unit, from when to when."""

    queryset = Occupancy.objects.all()
    serializer_class = serializers.OccupancySerializer
    filterset_class = filters.OccupancyFilterSet
    search_fields = ("customer__name", "unit__code")
    ordering_fields = ("id", "start_date", "end_date", "role")
    select_related = ("unit", "customer")


class VehicleViewSet(ScopedModelViewSet):
    """车辆."""

    queryset = Vehicle.objects.all()
    serializer_class = serializers.VehicleSerializer
    filterset_class = filters.VehicleFilterSet
    search_fields = ("plate", "brand", "customer__name")
    ordering_fields = ("id", "plate", "kind")
