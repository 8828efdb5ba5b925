import django_filters

from aishang.core.api.filters import IdFilter
from aishang.extras.models import CustomField, ObjectChange


class CustomFieldFilterSet(django_filters.FilterSet):
    company = IdFilter(field_name="company_id", label="企业")
    property_type = IdFilter(field_name="property_type_id", label="业态")

    class Meta:
        model = CustomField
        fields = ("company", "target", "property_type", "field_type", "required", "filterable", "name")


class ObjectChangeFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(method="filter_object_type", label="对象类型（app.model，如 estate.unit）")
    object_id = IdFilter(field_name="object_id", label="对象编号")
    user = IdFilter(field_name="user_id", label="操作人")
    project = IdFilter(field_name="project_id", label="项目")
    time_after = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte", label="开始时间")
    time_before = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lte", label="结束时间")

    class Meta:
        model = ObjectChange
        fields = ("object_type", "object_id", "user", "action", "source", "project", "request_id", "time_after",
                  "time_before")

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        if not app_label or not model:
            return queryset.none()
        return queryset.filter(object_type__app_label=app_label, object_type__model=model)
