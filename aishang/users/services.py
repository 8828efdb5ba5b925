from django.contrib.auth import authenticate
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied


def staff_authenticate(request, *, username, password):
    """Check credentials through the lock-out guard; the same rules as the login page."""
    from axes.handlers.proxy import AxesProxyHandler

    if AxesProxyHandler.is_locked(request, credentials={"username": username}):
        raise PermissionDenied("登录失败次数过多，账号已临时锁定，请 30 分钟后再试")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthenticationFailed("用户名或密码错误")
    if not user.is_active:
        raise AuthenticationFailed("账号已停用")
    return user


def roles_install_defaults(*, company):
    """Create (or bring up to date) the company's built-in roles."""
    from django.contrib.auth.models import Permission

    from .models import Role
    from .roles import ADMIN_ROLE_PERMS, SYSTEM_ROLES

    def resolve(names):
        wanted = {tuple(name.split(".", 1)) for name in names}
        found = [p for p in Permission.objects.select_related("content_type")
                 if (p.content_type.app_label, p.codename) in wanted]
        return found

    roles = {}
    for code, name, description, permission_names in SYSTEM_ROLES:
        role, _ = Role.objects.update_or_create(company=company, code=code,
                                                defaults={"name": name, "description": description,
                                                          "is_system": True})
        role.permissions.set(resolve(ADMIN_ROLE_PERMS if permission_names is None else permission_names))
        roles[code] = role
    return roles


def staff_create(*, company, username, password, display_name="", roles=(), projects=(), scope_all_projects=False,
                 mobile="", actor=None):
    from django.contrib.auth.password_validation import validate_password
    from django.db import transaction

    from .models import User

    with transaction.atomic():
        user = User(company=company, username=username, display_name=display_name, mobile=mobile,
                    scope_all_projects=scope_all_projects)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        user.roles.set(roles)
        user.projects.set(projects)
    return user
