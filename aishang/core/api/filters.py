import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from aishang.extras.customfields import filter_by_custom_fields

MIN_ID, MAX_ID = -(2**63), 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A foreign key filtered by id: an id outside the caller's scope simply matches nothing."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "exact")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if value != int(value) or not MIN_ID <= value <= MAX_ID:
            return qs.none()
        return super().filter(qs, int(value))


class CustomFieldFilterMixin:
    """``cf_<code>=value`` filters on the company's own (filterable) fields."""

    custom_field_target = None

    def filter_queryset(self, queryset):
        from aishang.extras.models import CustomField

        queryset = super().filter_queryset(queryset)
        user = getattr(self.request, "user", None)
        if user is None or not any(key.startswith("cf_") for key in self.data):
            return queryset
        if any("\x00" in value for key, value in self.data.items() if key.startswith("cf_")):
            return queryset.none()
        fields = CustomField.objects.filter(target=self.custom_field_target).within_scope(user)
        return filter_by_custom_fields(queryset, fields, self.data)
