import datetime

import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.api.filters import IdFilter
from aishang.extras.models import CustomField, ObjectChange


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 time; PostgreSQL refuses offsets beyond ±15:59, so compare in UTC."""

    def filter(self, qs, value):
        if value is None:
            return qs
        try:
            value = value.astimezone(datetime.UTC)
        except OverflowError:
            return qs.none()
        return super().filter(qs, value)


class CustomFieldFilterSet(django_filters.FilterSet):
    company = IdFilter(field_name="company_id", label=_("企业"))
    property_type = IdFilter(field_name="property_type_id", label=_("业态"))

    class Meta:
        model = CustomField
        fields = ("company", "target", "property_type", "field_type", "required", "filterable", "name")


class ObjectChangeFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(method="filter_object_type",
                                            label=_("对象类型（app.model，如 estate.unit）"))
    object_id = IdFilter(field_name="object_id", label=_("对象编号"))
    user = IdFilter(field_name="user_id", label=_("操作人"))
    project = IdFilter(field_name="project_id", label=_("项目"))
    time_after = UtcDateTimeFilter(field_name="time", lookup_expr="gte", label=_("开始时间"))
    time_before = UtcDateTimeFilter(field_name="time", lookup_expr="lte", label=_("结束时间"))

    class Meta:
        model = ObjectChange
        fields = ("object_type", "object_id", "user", "action", "source", "project", "request_id", "time_after",
                  "time_before")

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        if not app_label or not model:
            return queryset.none()
        return queryset.filter(object_type__app_label=app_label, object_type__model=model)
