from rest_framework.permissions import BasePermission

ACTION_BY_METHOD = {
    "GET": "view", "HEAD": "view", "OPTIONS": "view",
    "POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete",
}


class ScopedModelPermissions(BasePermission):
    """The model permission for the method, on top of the view's scoped queryset.

    Objects outside the scope are never found (404) because views start from ``restrict``.
    """

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        model = getattr(getattr(view, "queryset", None), "model", None)
        if model is None:
            return True
        action = ACTION_BY_METHOD.get(request.method, "change")
        return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")
