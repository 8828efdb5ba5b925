from django.contrib.auth import authenticate
from django.utils.translation import gettext, ngettext
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied


def staff_authenticate(request, *, username, password):
    """Check credentials through the lock-out guard; the same rules as the login page."""
    from axes.handlers.proxy import AxesProxyHandler

    if AxesProxyHandler.is_locked(request, credentials={"username": username}):
        raise PermissionDenied(gettext("登录失败次数过多，账号已临时锁定，请 30 分钟后再试"))
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthenticationFailed(gettext("用户名或密码错误"))
    if not user.is_active:
        raise AuthenticationFailed(gettext("账号已停用"))
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


def _last_change_id(obj):
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Max

    from aishang.extras.models import ObjectChange

    if obj.pk is None:
        return 0
    object_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return (ObjectChange.objects.filter(object_type=object_type, object_id=obj.pk)
            .aggregate(last=Max("id"))["last"] or 0)


def _log_relations(obj, before, after, since_id):
    """Put many-to-many values (roles, projects, permissions) into the change log.

    They change after the row is saved, so they join the row the save just wrote, or make
    an update row of their own when nothing else changed.
    """
    from django.contrib.contenttypes.models import ContentType

    from aishang.extras.changelog import build_change, serialize_object
    from aishang.extras.choices import ChangeAction
    from aishang.extras.models import ObjectChange

    object_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    change = (ObjectChange.objects.filter(object_type=object_type, object_id=obj.pk, id__gt=since_id)
              .exclude(action=ChangeAction.DELETE).order_by("-id").first())
    if change is not None:
        if change.prechange_data is not None and before is not None:
            change.prechange_data.update(before)
        change.postchange_data = {**(change.postchange_data or {}), **after}
        change.save(update_fields=["prechange_data", "postchange_data"])
    elif before != after:
        current = serialize_object(obj)
        build_change(obj, ChangeAction.UPDATE, {**current, **before}, {**current, **after}).save()


def staff_save(*, staff, roles, projects, password=None, actor=None):
    """Create or update a staff member with roles and project scope, in one logged transaction."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from aishang.extras.services import register_object_save

    from .selectors import staff_relations

    if staff.pk is None and not password:
        raise ValidationError({"password": gettext("请设置初始密码")})
    if password:
        try:
            validate_password(password, staff)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        staff.set_password(password)
    if actor is not None and staff.pk == actor.pk and not staff.is_active:
        raise ValidationError({"is_active": gettext("不能停用自己的账号")})
    with transaction.atomic():
        before = staff_relations(staff) if staff.pk else None
        since_id = _last_change_id(staff)
        register_object_save(obj=staff, actor=actor)
        staff.roles.set(roles)
        staff.projects.set(projects)
        _log_relations(staff, before, staff_relations(staff), since_id)
    return staff


def staff_set_active(*, staff, active, actor=None):
    """Staff are never deleted (the log and the bills they touched name them); they are deactivated."""
    from django.core.exceptions import ValidationError

    from aishang.extras.services import register_object_save

    if not active and actor is not None and staff.pk == actor.pk:
        raise ValidationError(gettext("不能停用自己的账号"))
    if staff.is_active == active:
        return staff
    staff.is_active = active
    return register_object_save(obj=staff, actor=actor)


def staff_set_password(*, staff, password, actor=None):
    """An administrator sets a new password; open sessions end and the API token is revoked."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from aishang.extras.changelog import build_change, serialize_object
    from aishang.extras.choices import ChangeAction

    try:
        validate_password(password, staff)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    with transaction.atomic():
        staff.set_password(password)
        staff.save(update_fields=["password"])
        Token.objects.filter(user=staff).delete()
        current = serialize_object(staff)
        # The hash never enters the log; only the fact that the password was reset, and by whom.
        build_change(staff, ChangeAction.UPDATE, {**current, "password": "******"},
                     {**current, "password": "已由管理员重置"}).save()
    return staff


def staff_unlock(*, staff, actor=None):
    """Clear failed logins of the staff member's user name, lifting a lock-out before it expires."""
    from axes.utils import reset

    return reset(username=staff.username)


def role_save(*, role, permissions, actor=None):
    from django.db import transaction

    from aishang.extras.services import register_object_save

    from .selectors import role_relations

    with transaction.atomic():
        before = role_relations(role) if role.pk else None
        since_id = _last_change_id(role)
        register_object_save(obj=role, actor=actor)
        role.permissions.set(permissions)
        _log_relations(role, before, role_relations(role), since_id)
    return role


def role_delete(*, role, actor=None):
    from django.core.exceptions import ValidationError

    from aishang.extras.services import register_object_delete

    if role.is_system:
        raise ValidationError(gettext("系统内置角色不能删除，可以修改它的权限"))
    count = role.users.count()
    if count:
        raise ValidationError(ngettext("角色「%(role)s」仍有 %(count)s 名员工在用，请先为他们更换角色",
                                       "角色「%(role)s」仍有 %(count)s 名员工在用，请先为他们更换角色",
                                       count) % {"role": role, "count": count})
    register_object_delete(obj=role, actor=actor)


def install_company_roles(sender, *, company, **kwargs):
    roles_install_defaults(company=company)
