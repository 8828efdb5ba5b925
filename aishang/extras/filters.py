import django_filters
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet

from .choices import AuditKind, ChangeAction, CustomFieldTarget, CustomFieldType
from .features import ChangeLoggedModel
from .models import AuditEvent, CustomField, ObjectChange


def logged_models():
    """The register models whose changes are logged, as ("app.model", 名称) choices."""
    return [(f"{m._meta.app_label}.{m._meta.model_name}", str(m._meta.verbose_name))
            for m in apps.get_models() if issubclass(m, ChangeLoggedModel)]


def _company_property_types(request):
    from aishang.estate.models import PropertyType

    user = request.user
    types = PropertyType.objects.order_by("company_id", "weight", "id")
    return types if user.is_superuser else types.filter(company_id=user.company_id)


def _colleagues(request):
    from aishang.users.models import User

    user = request.user
    staff = User.objects.order_by("username")
    return staff if user.is_superuser else staff.filter(company_id=user.company_id)


def _permitted_projects(request):
    return request.user.permitted_projects().order_by("company_id", "code")


class CustomFieldFilter(StyledFilterSet):
    target = django_filters.ChoiceFilter(label=_("适用对象"), choices=CustomFieldTarget.choices, empty_label=_("全部"))
    property_type = django_filters.ModelChoiceFilter(label=_("业态"), queryset=_company_property_types)
    field_type = django_filters.ChoiceFilter(label=_("类型"), choices=CustomFieldType.choices, empty_label=_("全部"))

    class Meta:
        model = CustomField
        fields = ["target", "property_type", "field_type"]


class DateRangeMixin(django_filters.FilterSet):
    date_from = django_filters.DateFilter(label=_("开始日期"), field_name="time", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(label=_("结束日期"), field_name="time", lookup_expr="date__lte")


class ObjectChangeFilter(DateRangeMixin, StyledFilterSet):
    object_type = django_filters.ChoiceFilter(label=_("对象类型"), choices=[], method="filter_object_type",
                                              empty_label=_("全部"))
    action = django_filters.ChoiceFilter(label=_("操作"), choices=ChangeAction.choices, empty_label=_("全部"))
    user = django_filters.ModelChoiceFilter(label=_("操作人"), queryset=_colleagues)
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=_permitted_projects)
    request_id = django_filters.UUIDFilter(label=_("请求编号"))

    class Meta:
        model = ObjectChange
        fields = ["object_type", "action", "user", "project", "date_from", "date_to", "request_id"]

    @property
    def form(self):
        if not hasattr(self, "_form"):
            # Read when the form is built, not at import: every app's models must be loaded.
            self.filters["object_type"].extra["choices"] = logged_models()
        return super().form

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(object_type__app_label=app_label, object_type__model=model)


class AuditEventFilter(DateRangeMixin, StyledFilterSet):
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=AuditKind.choices, empty_label=_("全部"))
    user = django_filters.ModelChoiceFilter(label=_("操作人"), queryset=_colleagues)

    class Meta:
        model = AuditEvent
        fields = ["kind", "user", "date_from", "date_to"]
