from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied

from aishang.core.api.views import ScopedModelViewSet
from aishang.estate.models import Building, Company, Entrance, ParkingSpace, Project, PropertyType, Unit

from . import filters, serializers


class CompanyViewSet(ScopedModelViewSet):
    """The caller's own company (物业企业). Only the platform operator adds or removes companies."""

    queryset = Company.objects.all()
    serializer_class = serializers.CompanySerializer
    filterset_class = filters.CompanyFilterSet
    search_fields = ("name", "short_name", "credit_code")
    ordering_fields = ("id", "name", "created_at")

    def create(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied(_("只有平台管理员可以新增企业"))
        return super().create(request, *args, **kwargs)

    def perform_destroy(self, instance):
        if not self.request.user.is_superuser:
            raise PermissionDenied(_("只有平台管理员可以删除企业"))
        super().perform_destroy(instance)


class PropertyTypeViewSet(ScopedModelViewSet):
    """业态 of the company: 住宅, 商铺, 写字楼 ... and the company's own."""

    queryset = PropertyType.objects.all()
    serializer_class = serializers.PropertyTypeSerializer
    filterset_class = filters.PropertyTypeFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "name", "kind", "weight")


class ProjectViewSet(ScopedModelViewSet):
    """项目: a managed estate, shopping street or office park."""

    queryset = Project.objects.all()
    serializer_class = serializers.ProjectSerializer
    filterset_class = filters.ProjectFilterSet
    search_fields = ("code", "name", "address", "manager_name")
    ordering_fields = ("id", "code", "name", "status", "delivered_on", "created_at")
    prefetch_related = ("property_types",)

    def create(self, request, *args, **kwargs):
        if not (request.user.is_superuser or request.user.scope_all_projects):
            raise PermissionDenied(_("只有可访问企业全部项目的员工可以新增项目"))
        return super().create(request, *args, **kwargs)


class BuildingViewSet(ScopedModelViewSet):
    """楼栋."""

    queryset = Building.objects.all()
    serializer_class = serializers.BuildingSerializer
    filterset_class = filters.BuildingFilterSet
    search_fields = ("code", "name", "phase")
    ordering_fields = ("id", "code", "name", "weight", "phase")


class EntranceViewSet(ScopedModelViewSet):
    """单元 of a building."""

    queryset = Entrance.objects.all()
    serializer_class = serializers.EntranceSerializer
    filterset_class = filters.EntranceFilterSet
    search_fields = ("code", "name", "building__code", "building__name")
    ordering_fields = ("id", "code", "building")
    select_related = ("building",)


class UnitViewSet(ScopedModelViewSet):
    """房屋/资源, coded 楼栋-单元-房号. Filter by the company's own fields with ``cf_<code>=value``."""

    queryset = Unit.objects.all()
    serializer_class = serializers.UnitSerializer
    filterset_class = filters.UnitFilterSet
    search_fields = ("code", "number", "layout", "notes")
    ordering_fields = ("id", "code", "floor", "number", "building_area", "status", "created_at")
    select_related = ("project", "building", "entrance", "property_type")


class ParkingSpaceViewSet(ScopedModelViewSet):
    """车位."""

    queryset = ParkingSpace.objects.all()
    serializer_class = serializers.ParkingSpaceSerializer
    filterset_class = filters.ParkingSpaceFilterSet
    search_fields = ("number", "zone", "notes")
    ordering_fields = ("id", "number", "zone", "area", "kind", "status")
