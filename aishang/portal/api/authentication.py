"""Owner API sign-in: ``Authorization: Bearer <token>``; only owner accounts, never staff."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from aishang.customers.models import OwnerAccount
from aishang.customers.owners import owner_for_token

KEYWORD = "Bearer"


def bearer_key(request):
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].decode(errors="replace").lower() != KEYWORD.lower():
        return None
    try:
        return parts[1].decode()
    except UnicodeError:
        return None


class OwnerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        key = bearer_key(request)
        if key is None:
            return None
        account = owner_for_token(key)
        if account is None:
            raise exceptions.AuthenticationFailed(_("登录已失效，请重新登录"))
        return account, key

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="owner"'


class OwnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = OwnerTokenAuthentication
    name = "ownerBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "业主端令牌（短信或微信登录获得）"}


class IsOwner(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, OwnerAccount)


class OwnerRateThrottle(SimpleRateThrottle):
    """Per owner account, apart from staff users' counters."""

    scope = "owner"

    def get_cache_key(self, request, view):
        if isinstance(request.user, OwnerAccount):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
