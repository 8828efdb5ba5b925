import hashlib

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http.request import RawPostDataException
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response

from aishang.core.context import set_actor
from aishang.extras.services import register_object_delete

from .exceptions import Conflict
from .schema import RegisterAutoSchema

IDEMPOTENCY_TTL = 24 * 60 * 60
IDEMPOTENT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _Replay(Exception):
    def __init__(self, response):
        self.response = response


class ScopedViewMixin:
    """Scope, actor and idempotency shared by every register view."""

    schema = RegisterAutoSchema()
    select_related = ()
    prefetch_related = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        set_actor(request.user)
        self.idempotency_key = self._idempotency_begin(request)

    def get_queryset(self):
        queryset = self.queryset.model.objects.restrict(self.request.user, "view")
        return queryset.select_related(*self.select_related).prefetch_related(*self.prefetch_related)

    def _idempotency_begin(self, request):
        key = request.headers.get("Idempotency-Key")
        if not key or request.method not in IDEMPOTENT_METHODS:
            return None
        if len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": [_("不能超过 255 个字符")]})
        scope = f"{request.user.pk}|{request.method}|{request.path}|{key}"
        cache_key = "idempotency:" + hashlib.sha256(scope.encode()).hexdigest()
        try:
            fingerprint = hashlib.sha256(request.body).hexdigest()
        except RawPostDataException:
            fingerprint = ""
        if cache.add(cache_key, {"fingerprint": fingerprint, "pending": True}, IDEMPOTENCY_TTL):
            return cache_key
        stored = cache.get(cache_key) or {}
        if stored.get("fingerprint") != fingerprint:
            raise _Replay(Response({"detail": _("该 Idempotency-Key 已用于另一个请求")},
                                   status=status.HTTP_422_UNPROCESSABLE_ENTITY))
        if stored.get("pending"):
            raise _Replay(Response({"detail": _("相同 Idempotency-Key 的请求正在处理，请稍后重试")},
                                   status=status.HTTP_409_CONFLICT))
        response = Response(stored["data"], status=stored["status"], headers={"Idempotent-Replayed": "true"})
        raise _Replay(response)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            exc.response.idempotent_replay = True
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        cache_key = getattr(self, "idempotency_key", None)
        if cache_key and not getattr(response, "idempotent_replay", False):
            if status.is_success(response.status_code):
                stored = cache.get(cache_key) or {}
                cache.set(cache_key, {"fingerprint": stored.get("fingerprint"), "status": response.status_code,
                                      "data": response.data}, IDEMPOTENCY_TTL)
            else:
                cache.delete(cache_key)
        return response


class ScopedModelViewSet(ScopedViewMixin, viewsets.ModelViewSet):
    """List, retrieve, create, update and delete within the caller's scope.

    ``get_queryset`` starts from ``restrict(user, "view")``; writes also need the model's
    add/change/delete permission (``ScopedModelPermissions``). Writes carrying an
    ``Idempotency-Key`` header are answered once; a retry gets the first answer again.
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance):
        try:
            register_object_delete(obj=instance, actor=self.request.user)
        except DjangoValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None


class ReadOnlyScopedModelViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve within the caller's scope (logs and other records nobody edits)."""
