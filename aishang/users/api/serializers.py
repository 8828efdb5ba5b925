from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aishang.core.api.serializers import (
    CompanyOwnedSerializerMixin,
    CurrentCompanyDefault,
    RegisterSerializer,
    ScopedPrimaryKeyRelatedField,
)
from aishang.core.validators import validate_mobile
from aishang.estate.models import Company, Project
from aishang.users.models import Role, User


def permission_name(permission):
    return f"{permission.content_type.app_label}.{permission.codename}"


class PermissionNamesField(serializers.ListField):
    """Permissions as ``"app.codename"`` strings, e.g. ``"estate.view_unit"``."""

    child = serializers.CharField(max_length=200)

    def to_representation(self, value):
        return sorted(permission_name(p) for p in value.all())

    def to_internal_value(self, data):
        names = list(dict.fromkeys(super().to_internal_value(data)))
        pairs = [tuple(name.split(".", 1)) for name in names if "." in name]
        query = Q(pk__in=[])
        for app_label, codename in pairs:
            query |= Q(content_type__app_label=app_label, codename=codename)
        found = {permission_name(p): p for p in Permission.objects.filter(query).select_related("content_type")}
        unknown = [name for name in names if name not in found]
        if unknown:
            raise serializers.ValidationError(
                _("权限不存在：{names}（格式如 estate.view_unit）").format(names="、".join(unknown)))
        return [found[name] for name in names]


def exceeding_permissions(user, permissions):
    """Names of permissions a non-operator would hand out without holding them."""
    if user.is_superuser:
        return []
    held = user.get_all_permissions()
    return sorted({permission_name(p) for p in permissions} - held)


class RoleSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))
    permissions = PermissionNamesField(required=False, label=_("权限"), help_text=_("如 [\"estate.view_unit\"]"))

    class Meta:
        model = Role
        fields = ("id", "company", "code", "name", "description", "is_system", "permissions")
        read_only_fields = ("is_system",)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and self.instance.is_system and attrs.get("code", self.instance.code) != (
                self.instance.code):
            raise serializers.ValidationError({"code": _("系统内置角色的编码不能修改")})
        exceeding = exceeding_permissions(self.context["request"].user, attrs.get("permissions", []))
        if exceeding:
            raise serializers.ValidationError({"permissions": _("不能授予自己没有的权限：{names}").format(
                names="、".join(exceeding))})
        return attrs


class UserSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))
    password = serializers.CharField(write_only=True, required=False, max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"}, label=_("密码"),
                                     help_text=_("新增时必填；修改时填写则重设密码"))
    mobile = serializers.CharField(required=False, allow_blank=True, max_length=11, validators=[validate_mobile],
                                   label=_("手机号"))
    roles = ScopedPrimaryKeyRelatedField(queryset=Role.objects.all(), many=True, required=False, label=_("角色"))
    projects = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), many=True, required=False,
                                            label=_("负责项目"))

    class Meta:
        model = User
        fields = ("id", "username", "password", "display_name", "mobile", "email", "is_active", "company", "roles",
                  "scope_all_projects", "projects", "last_login", "date_joined")
        read_only_fields = ("last_login", "date_joined")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        actor = self.context["request"].user
        errors = {}
        if self.instance is None and not attrs.get("password"):
            errors["password"] = _("请设置密码")
        company = attrs.get("company") or getattr(self.instance, "company", None)
        company_id = getattr(company, "pk", None)
        roles, projects = attrs.get("roles", []), attrs.get("projects", [])
        if any(role.company_id != company_id for role in roles):
            errors["roles"] = _("角色不属于该企业")
        elif roles:
            exceeding = exceeding_permissions(actor, {p for role in roles for p in role.permissions.all()})
            if exceeding:
                errors["roles"] = _("不能分配含有自己没有的权限的角色：{names}").format(names="、".join(exceeding))
        if any(project.company_id != company_id for project in projects):
            errors["projects"] = _("项目不属于该企业")
        if attrs.get("scope_all_projects") and not (actor.is_superuser or actor.scope_all_projects):
            errors["scope_all_projects"] = _("只有可访问企业全部项目的员工可以授予全部项目权限")
        if errors:
            raise serializers.ValidationError(errors)
        if self.instance is not None and "projects" in attrs and not actor.is_superuser:
            # Projects the editor cannot see stay assigned: a PUT must not silently drop them.
            hidden = self.instance.projects.exclude(pk__in=actor.permitted_project_ids())
            attrs["projects"] = [*projects, *hidden]
        return attrs

    def save_object(self, obj, validated_data):
        data = dict(validated_data)
        self._new_password = data.pop("password", None)
        return super().save_object(obj, data)

    def before_save(self, obj):
        if self._new_password:
            try:
                validate_password(self._new_password, obj)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": exc.messages}) from None
            obj.set_password(self._new_password)
