import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.api.filters import CustomFieldFilterMixin, IdFilter
from aishang.estate.models import Building, Company, Entrance, ParkingSpace, Project, PropertyType, Unit
from aishang.extras.choices import CustomFieldTarget


class CompanyFilterSet(django_filters.FilterSet):
    class Meta:
        model = Company
        fields = ("name", "credit_code")


class PropertyTypeFilterSet(django_filters.FilterSet):
    company = IdFilter(field_name="company_id", label=_("企业"))

    class Meta:
        model = PropertyType
        fields = ("company", "kind", "name")


class ProjectFilterSet(django_filters.FilterSet):
    company = IdFilter(field_name="company_id", label=_("企业"))
    property_type = IdFilter(field_name="property_types", label=_("业态"), distinct=True)

    class Meta:
        model = Project
        fields = ("company", "status", "code", "province", "city", "district", "property_type")


class BuildingFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    property_type = IdFilter(field_name="property_type_id", label=_("业态"))

    class Meta:
        model = Building
        fields = ("project", "property_type", "code", "phase", "height_class")


class EntranceFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    building = IdFilter(field_name="building_id", label=_("楼栋"))

    class Meta:
        model = Entrance
        fields = ("project", "building", "code", "has_elevator")


class UnitFilterSet(CustomFieldFilterMixin, django_filters.FilterSet):
    custom_field_target = CustomFieldTarget.UNIT

    project = IdFilter(field_name="project_id", label=_("项目"))
    building = IdFilter(field_name="building_id", label=_("楼栋"))
    entrance = IdFilter(field_name="entrance_id", label=_("单元"))
    property_type = IdFilter(field_name="property_type_id", label=_("业态"))
    floor_min = django_filters.NumberFilter(field_name="floor", lookup_expr="gte", label=_("最低楼层"))
    floor_max = django_filters.NumberFilter(field_name="floor", lookup_expr="lte", label=_("最高楼层"))
    area_min = django_filters.NumberFilter(field_name="building_area", lookup_expr="gte", label=_("最小建筑面积"))
    area_max = django_filters.NumberFilter(field_name="building_area", lookup_expr="lte", label=_("最大建筑面积"))

    class Meta:
        model = Unit
        fields = ("project", "building", "entrance", "property_type", "status", "code", "number", "floor",
                  "layout", "decoration")


class ParkingSpaceFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))

    class Meta:
        model = ParkingSpace
        fields = ("project", "kind", "status", "zone", "number")
