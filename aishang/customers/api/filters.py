
import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aishang.core.api.filters import CustomFieldFilterMixin, IdFilter
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.extras.choices import CustomFieldTarget


class CustomerFilterSet(CustomFieldFilterMixin, django_filters.FilterSet):
    custom_field_target = CustomFieldTarget.CUSTOMER

    project = IdFilter(field_name="project_id", label=_("项目"))
    unit = IdFilter(field_name="occupancies__unit_id", label=_("房屋"), distinct=True)
    role = django_filters.CharFilter(field_name="occupancies__role", label=_("身份（业主、租户 ...）"), distinct=True)

    class Meta:
        model = Customer
        fields = ("project", "kind", "id_type", "gender", "unit", "role")


class OccupancyFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="unit__project_id", label=_("项目"))
    unit = IdFilter(field_name="unit_id", label=_("房屋"))
    customer = IdFilter(field_name="customer_id", label=_("客户"))
    current = django_filters.BooleanFilter(method="filter_current", label=_("仅当前有效"))

    class Meta:
        model = Occupancy
        fields = ("project", "unit", "customer", "role", "relation", "is_payer", "current")

    def filter_current(self, queryset, name, value):
        if value is None:
            return queryset
        today = timezone.localdate()
        current = (Q(start_date__isnull=True) | Q(start_date__lte=today)) & (
            Q(end_date__isnull=True) | Q(end_date__gte=today))
        return queryset.filter(current) if value else queryset.exclude(current)


class VehicleFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    customer = IdFilter(field_name="customer_id", label=_("车主"))
    parking_space = IdFilter(field_name="parking_space_id", label=_("车位"))

    class Meta:
        model = Vehicle
        fields = ("project", "customer", "parking_space", "kind", "plate")
