from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleBackend(ModelBackend):
    """Permissions come from the user's roles instead of Django's groups."""

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(pk__in=user_obj.roles.values("permissions"))
