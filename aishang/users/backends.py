from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from .access import user_access


class RoleBackend(ModelBackend):
    """Permissions come from the user's roles instead of Django's groups, read through ``user_access``."""

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(pk__in=user_obj.roles.values("permissions"))

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(user_access(user_obj).permissions)
        return user_obj._perm_cache

    def read_all_permissions(self, user_obj):
        """The user's permissions from the database (their own and their roles')."""
        return super().get_all_permissions(user_obj)
