import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet

from .models import Role, User


def _company_roles(request):
    user = request.user
    roles = Role.objects.order_by("company_id", "id")
    return roles if user.is_superuser else roles.filter(company_id=user.company_id)


def _permitted_projects(request):
    return request.user.permitted_projects().order_by("company_id", "code")


class StaffFilter(StyledFilterSet):
    roles = django_filters.ModelChoiceFilter(label=_("角色"), queryset=_company_roles, distinct=True)
    projects = django_filters.ModelChoiceFilter(label=_("负责项目"), queryset=_permitted_projects, distinct=True)
    is_active = django_filters.ChoiceFilter(label=_("状态"), choices=[("1", _("启用")), ("0", _("已停用"))],
                                            method="filter_active", empty_label=_("全部"))
    scope = django_filters.ChoiceFilter(label=_("数据范围"),
                                        choices=[("all", _("全部项目")), ("selected", _("指定项目"))],
                                        method="filter_scope", empty_label=_("全部"))

    class Meta:
        model = User
        fields = ["roles", "projects", "is_active", "scope"]

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "1")

    def filter_scope(self, queryset, name, value):
        return queryset.filter(scope_all_projects=value == "all")


class RoleFilter(StyledFilterSet):
    is_system = django_filters.ChoiceFilter(label=_("类型"), choices=[("1", _("系统内置")), ("0", _("自定义"))],
                                            method="filter_system", empty_label=_("全部"))

    class Meta:
        model = Role
        fields = ["is_system"]

    def filter_system(self, queryset, name, value):
        return queryset.filter(is_system=value == "1")
