from rest_framework import viewsets

from aishang.core.context import set_actor


class ScopedModelViewSet(viewsets.ModelViewSet):
    """List, retrieve, create, update and delete within the caller's scope.

    ``get_queryset`` starts from ``restrict(user, "view")``; writes also need the model's
    add/change/delete permission (``ScopedModelPermissions``).
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        set_actor(request.user)

    def get_queryset(self):
        return self.queryset.model.objects.restrict(self.request.user, "view").select_related(
            *getattr(self, "select_related", ())
        )
