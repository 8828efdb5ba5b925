import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.api.filters import IdFilter
from aishang.users.models import Role, User


class UserFilterSet(django_filters.FilterSet):
    role = IdFilter(field_name="roles", label=_("角色"), distinct=True)
    project = IdFilter(field_name="projects", label=_("负责项目"), distinct=True)

    class Meta:
        model = User
        fields = ("role", "project", "is_active", "scope_all_projects", "username")


class RoleFilterSet(django_filters.FilterSet):
    company = IdFilter(field_name="company_id", label=_("企业"))

    class Meta:
        model = Role
        fields = ("company", "code", "is_system")
