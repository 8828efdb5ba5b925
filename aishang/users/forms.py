from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import Permission
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import ScopedModelForm, style_widgets
from aishang.core.validators import validate_mobile
from aishang.estate.models import Company, Project

from .models import Role, User
from .selectors import (
    assignable_projects,
    exceeding_permissions,
    grantable_permission_ids,
    offered_permissions,
    permission_matrix,
)

SCOPE_ALL, SCOPE_SELECTED = "all", "selected"


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误，请重新输入。"),
        "inactive": _("该账号已停用，请联系管理员。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = gettext("用户名")
        self.fields["password"].label = gettext("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        style_widgets(self)
        for field in self.fields.values():
            field.widget.attrs["class"] += " form-control-lg"


class StyledPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class NewPasswordMixin(forms.Form):
    """Two password inputs checked by the deployment's password rules, errors at the field."""

    password1 = forms.CharField(label=_("密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("确认密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def password_user(self):
        """The person the password is for, so it may not resemble their name; None checks the rest only."""
        return None

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise forms.ValidationError(gettext("两次输入的密码不一致"))
        return second

    def _post_clean(self):
        super()._post_clean()
        password = self.cleaned_data.get("password1")
        if password and "password2" not in self.errors:
            try:
                password_validation.validate_password(password, self.password_user())
            except forms.ValidationError as exc:
                self.add_error("password1", exc)


class StaffForm(NewPasswordMixin, ScopedModelForm):
    """员工: roles of the company, a scope no wider than the editor's own; the password only when adding."""

    scope = forms.ChoiceField(label=_("数据范围"),
                              choices=[(SCOPE_ALL, _("全部项目")), (SCOPE_SELECTED, _("指定项目"))],
                              widget=forms.RadioSelect, initial=SCOPE_SELECTED)

    class Meta:
        model = User
        fields = ["company", "username", "display_name", "mobile", "email", "roles", "projects", "is_active"]
        widgets = {"roles": forms.CheckboxSelectMultiple, "projects": forms.CheckboxSelectMultiple}
        labels = {"username": _("用户名"), "email": _("电子邮箱"), "is_active": _("启用")}
        help_texts = {"username": _("登录用，只能含字母、数字、汉字及 @ . + - _"),
                      "is_active": _("停用后不能登录，历史记录保留")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        instance = self.instance
        self.adding = instance.pk is None
        if self.adding and not user.is_superuser:
            instance.company_id = user.company_id
        if not (self.adding and user.is_superuser):
            del self.fields["company"]
        else:
            self.fields["company"].queryset = Company.objects.order_by("id")
            self.fields["company"].required = True
        if not self.adding:
            del self.fields["password1"]
            del self.fields["password2"]
        company_id = instance.company_id
        roles = Role.objects.order_by("company_id", "id").prefetch_related("permissions__content_type")
        self.fields["roles"].queryset = roles.filter(company_id=company_id) if company_id else roles
        self.fields["roles"].label_from_instance = self.role_label
        self.fields["projects"].queryset = assignable_projects(user, company_id)
        self.fields["projects"].label = gettext("指定项目")
        self.fields["projects"].help_text = ""
        self.fields["display_name"].required = True
        for name in ("roles", "projects", "scope"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        self.fields["roles"].widget.attrs["class"] = "form-check-input flex-shrink-0 mt-1"
        if not user.is_superuser and not user.scope_all_projects:
            self.fields["scope"].choices = [(SCOPE_SELECTED, gettext("指定项目"))]
            self.fields["scope"].help_text = gettext("你只能访问部分项目，只能授予其中的项目")
        if instance.pk:
            self.initial["scope"] = SCOPE_ALL if instance.scope_all_projects else SCOPE_SELECTED
        elif user.scope_all_projects or user.is_superuser:
            self.initial["scope"] = SCOPE_ALL
        self.hidden_project_ids = []
        if instance.pk and not user.is_superuser:
            # Projects the editor cannot see stay assigned; the form never drops them silently.
            self.hidden_project_ids = list(instance.projects.exclude(pk__in=user.permitted_project_ids())
                                           .values_list("pk", flat=True))
        self.order_fields(["company", "username", "display_name", "mobile", "email", "password1", "password2",
                           "roles", "scope", "projects", "is_active"])

    def role_label(self, role):
        prefix = f"{role.company} · " if self.user.is_superuser and not self.instance.company_id else ""
        return f"{prefix}{role.name}"

    def password_user(self):
        return User(username=self.cleaned_data.get("username", ""), email=self.cleaned_data.get("email", ""),
                    first_name=self.cleaned_data.get("display_name", ""))

    def clean_mobile(self):
        mobile = self.cleaned_data.get("mobile", "").strip()
        if mobile:
            validate_mobile(mobile)
        return mobile

    def clean_is_active(self):
        active = self.cleaned_data.get("is_active")
        if not active and self.instance.pk == self.user.pk:
            raise forms.ValidationError(gettext("不能停用自己的账号"))
        return active

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") if "company" in self.fields else None
        company_id = company.pk if company else self.instance.company_id
        roles = cleaned.get("roles") or []
        if company_id and any(role.company_id != company_id for role in roles):
            self.add_error("roles", gettext("只能选择本企业的角色"))
        elif roles:
            exceeding = exceeding_permissions(self.user, [p for r in roles for p in r.permissions.all()])
            if exceeding:
                names = f"{'、'.join(exceeding[:5])}{gettext(' 等') if len(exceeding) > 5 else ''}"
                self.add_error("roles", gettext("不能分配含有你自己没有的权限的角色（%(permissions)s）")
                               % {"permissions": names})
        scope = cleaned.get("scope")
        projects = list(cleaned.get("projects") or [])
        if scope == SCOPE_ALL and not (self.user.is_superuser or self.user.scope_all_projects):
            self.add_error("scope", gettext("只有可访问企业全部项目的员工可以授予“全部项目”"))
        if company_id and any(project.company_id != company_id for project in projects):
            self.add_error("projects", gettext("只能选择本企业的项目"))
        if scope == SCOPE_SELECTED and not projects and not self.hidden_project_ids:
            self.add_error("projects", gettext("选择“指定项目”时请至少勾选一个项目"))
        return cleaned

    def _post_clean(self):
        if "company" in self.fields and self.cleaned_data.get("company"):
            self.instance.company = self.cleaned_data["company"]
        super()._post_clean()
        self.instance.scope_all_projects = self.cleaned_data.get("scope") == SCOPE_ALL

    def chosen_roles(self):
        return list(self.cleaned_data.get("roles") or [])

    def chosen_projects(self):
        if self.instance.scope_all_projects:
            return []
        return [*self.cleaned_data.get("projects", []), *Project.objects.filter(pk__in=self.hidden_project_ids)]


class StaffPasswordForm(NewPasswordMixin):
    """An administrator sets a staff member's new password."""

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["password1"].label = gettext("新密码")
        self.fields["password2"].label = gettext("确认新密码")
        style_widgets(self)

    def password_user(self):
        return self.staff


class RoleForm(ScopedModelForm):
    """角色: name, code and a matrix of the product's permissions the editor may hand out."""

    company = forms.ModelChoiceField(label=_("企业"), queryset=Company.objects.order_by("id"))
    permissions = forms.ModelMultipleChoiceField(label=_("权限"), queryset=Permission.objects.none(), required=False)

    class Meta:
        model = Role
        fields = ["company", "name", "code", "description"]
        help_texts = {"code": _("字母、数字、下划线或连字符，企业内唯一，如 cashier")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        instance = self.instance
        if instance.pk or not user.is_superuser:
            del self.fields["company"]
        if instance.pk is None and not user.is_superuser:
            instance.company_id = user.company_id
        if instance.is_system:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = gettext("系统内置角色的编码不能修改")
        self.offered_ids = {p.pk for p in offered_permissions()}
        self.editable_ids = grantable_permission_ids(user)
        self.fields["permissions"].queryset = Permission.objects.filter(pk__in=self.editable_ids)
        if instance.pk:
            self.initial["permissions"] = list(instance.permissions.values_list("pk", flat=True))

    def clean_code(self):
        code = self.cleaned_data["code"]
        company_id = self.cleaned_data["company"].pk if self.cleaned_data.get("company") else self.instance.company_id
        if Role.objects.filter(company_id=company_id, code=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(gettext("该角色编码已被使用"))
        return code

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        company_id = self.instance.company_id or (self.data.get("company") or None)
        if Role.objects.filter(company_id=company_id, name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(gettext("已有同名角色"))
        return name

    def chosen_permissions(self):
        """What the editor ticked, plus what the role holds that the editor may not touch."""
        chosen = {p.pk for p in self.cleaned_data.get("permissions", [])}
        kept = set()
        if self.instance.pk:
            kept = set(self.instance.permissions.exclude(pk__in=self.editable_ids).values_list("pk", flat=True))
        return Permission.objects.filter(pk__in=chosen | kept)

    def matrix(self):
        if self.is_bound:
            checked = {int(v) for v in self.data.getlist("permissions") if str(v).isdigit()}
            if self.instance.pk:
                checked |= set(self.instance.permissions.exclude(pk__in=self.editable_ids)
                               .values_list("pk", flat=True))
        else:
            checked = set(self.initial.get("permissions", []))
        return permission_matrix(checked, self.editable_ids)
