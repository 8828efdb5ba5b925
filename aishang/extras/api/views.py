from aishang.core.api.views import ReadOnlyScopedModelViewSet, ScopedModelViewSet
from aishang.extras.models import CustomField, ObjectChange

from . import filters, serializers


class CustomFieldViewSet(ScopedModelViewSet):
    """自定义字段: the company's own fields on units (per property type) and customers."""

    queryset = CustomField.objects.all()
    serializer_class = serializers.CustomFieldSerializer
    filterset_class = filters.CustomFieldFilterSet
    search_fields = ("name", "label", "help_text")
    ordering_fields = ("id", "target", "name", "label", "weight")


class ObjectChangeViewSet(ReadOnlyScopedModelViewSet):
    """变更记录: every create, update and delete of a register object, read-only."""

    queryset = ObjectChange.objects.all()
    serializer_class = serializers.ObjectChangeSerializer
    filterset_class = filters.ObjectChangeFilterSet
    search_fields = ("object_repr", "user_name")
    ordering_fields = ("id", "time", "object_id")
    select_related = ("object_type",)
