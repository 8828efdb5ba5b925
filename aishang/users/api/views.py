from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from aishang.core.api.exceptions import Conflict
from aishang.core.api.views import ScopedModelViewSet
from aishang.users.models import Role, User
from aishang.users.services import staff_authenticate

from .filters import RoleFilterSet, UserFilterSet
from .serializers import RoleSerializer, UserSerializer


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"), max_length=150)
    password = serializers.CharField(label=_("密码"), max_length=128, style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class ObtainTokenView(APIView):
    """Exchange a staff user name and password for an API token (``Authorization: Token <token>``)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def get_authenticate_header(self, request):
        # Without it DRF turns a wrong password into 403, which clients read as "locked out".
        return 'Token realm="api"'

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer}, tags=["auth"])
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = staff_authenticate(request, **serializer.validated_data)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class RoleViewSet(ScopedModelViewSet):
    """角色: a named set of permissions of the company; permissions as ``"app.codename"`` strings."""

    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    filterset_class = RoleFilterSet
    search_fields = ("code", "name", "description")
    ordering_fields = ("id", "code", "name")
    prefetch_related = ("permissions__content_type",)

    def perform_destroy(self, instance):
        if instance.is_system:
            raise Conflict(_("系统内置角色不能删除"))
        if instance.users.exists():
            raise Conflict(_("角色「{role}」仍有员工在用，不能删除").format(role=instance))
        super().perform_destroy(instance)


class UserViewSet(ScopedModelViewSet):
    """员工. The password is write-only; roles and projects are id lists of the caller's company."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    search_fields = ("username", "display_name", "mobile", "email")
    ordering_fields = ("id", "username", "display_name", "last_login", "date_joined")
    prefetch_related = ("roles", "projects")

    def get_object(self):
        user = super().get_object()
        if self.request.method not in SAFE_METHODS and not _may_manage(self.request.user, user):
            raise PermissionDenied(_("不能修改或删除权限范围大于自己的员工"))
        return user

    def perform_destroy(self, instance):
        if instance.pk == self.request.user.pk:
            raise Conflict(_("不能删除自己的账号"))
        super().perform_destroy(instance)


def _may_manage(actor, staff):
    if actor.is_superuser:
        return True
    if staff.is_superuser or (staff.scope_all_projects and not actor.scope_all_projects):
        return False
    return staff.get_all_permissions() <= actor.get_all_permissions()
