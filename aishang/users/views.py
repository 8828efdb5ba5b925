from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from aishang.core.generic_views import (
    BulkAction,
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ScopedObjectMixin,
)
from aishang.core.masking import mask_phone
from aishang.extras.views import ViewPermissionRequiredMixin

from . import services
from .filters import RoleFilter, StaffFilter
from .forms import LoginForm, RoleForm, StaffForm, StaffPasswordForm, StyledPasswordChangeForm
from .models import Role, User
from .selectors import (
    ACTIONS,
    may_manage,
    permission_matrix,
    role_list_queryset,
    staff_lock_state,
    visible_staff,
)

LOCKED_MESSAGE = _("登录失败次数过多，账号已临时锁定，请 30 分钟后再试")


def lockout_response(request, credentials, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(LOCKED_MESSAGE)}, status=403)
    return render(request, "users/login.html", {"form": LoginForm(request), "locked_message": LOCKED_MESSAGE},
                  status=403)


class LoginView(auth_views.LoginView):
    template_name = "users/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "users/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("analytics:home")

    def form_valid(self, form):
        messages.success(self.request, gettext("密码已修改"))
        return super().form_valid(form)


def apply_errors(form, exc, aliases=None):
    """Show a service's ValidationError at the form's fields (or above the form)."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, errors in exc.message_dict.items():
        name = aliases.get(name, name)
        target = name if name in form.fields and name not in form.errors else None
        for error in errors:
            form.add_error(target, error)


def _status_badge(obj, view):
    if not obj.is_active:
        return format_html('<span class="badge text-bg-secondary">{}</span>', gettext("已停用"))
    return format_html('<span class="badge text-bg-success">{}</span>', gettext("启用"))


def _scope(obj, view):
    if obj.scope_all_projects:
        return gettext("全部项目")
    return "、".join(p.name for p in obj.projects.all()) or "--"


def _staff_set_active(active):
    def handler(view, queryset):
        changed, skipped = 0, []
        for staff in queryset.prefetch_related(None):
            if not may_manage(view.request.user, staff) or (not active and staff.pk == view.request.user.pk):
                skipped.append(str(staff))
                continue
            if staff.is_active != active:
                services.staff_set_active(staff=staff, active=active, actor=view.request.user)
                changed += 1
        if active:
            message = ngettext("已启用 %(count)s 名员工", "已启用 %(count)s 名员工", changed) % {"count": changed}
        else:
            message = ngettext("已停用 %(count)s 名员工", "已停用 %(count)s 名员工", changed) % {"count": changed}
        if skipped:
            names = f"{'、'.join(skipped[:5])}{gettext(' 等') if len(skipped) > 5 else ''}"
            message += (gettext("；%(names)s不能由你启用，已跳过") if active
                        else gettext("；%(names)s不能由你停用，已跳过")) % {"names": names}
        return message
    return handler


class StaffListView(ViewPermissionRequiredMixin, ObjectListView):
    model = User
    title = _("员工")
    filterset_class = StaffFilter
    search_fields = ("username__icontains", "display_name__icontains", "mobile__contains")
    search_placeholder = _("用户名、姓名或手机号")
    add_url_name = "users:user_add"
    prefetch_related = ("roles", "projects")
    ordering = ("-is_active", "id")
    columns = [
        Column("username", _("用户名"), link=True, order_by="username"),
        Column("display_name", _("姓名"), order_by="display_name"),
        Column("mobile", _("手机号"), display=lambda obj, view: mask_phone(obj.mobile)),
        Column("roles", _("角色")),
        Column("scope", _("数据范围"), display=_scope),
        Column("is_active", _("状态"), display=_status_badge, order_by="is_active"),
        Column("last_login", _("最近登录"), display=lambda obj, view: _datetime(obj.last_login), order_by="last_login"),
    ]
    bulk_actions = [
        BulkAction("deactivate", _("停用"), "users.change_user", _staff_set_active(False),
                   confirm=_("停用后这些员工将不能登录，确定停用吗？"), tone="outline-danger"),
        BulkAction("activate", pgettext_lazy("verb", "启用"), "users.change_user", _staff_set_active(True)),
    ]


def _datetime(value):
    from aishang.core.templatetags.aishang import datetime_cn

    return datetime_cn(value) if value else None


class StaffObjectMixin(ScopedObjectMixin):
    model = User

    def get_manageable(self):
        """The staff member to change, or a redirect explaining why not."""
        staff = self.get_object("change")
        if not may_manage(self.request.user, staff):
            messages.error(self.request,
                           gettext("「%(staff)s」的权限或数据范围大于你，不能由你修改") % {"staff": staff})
            return staff, redirect(staff.get_absolute_url())
        return staff, None


class StaffDetailView(ObjectDetailView):
    model = User
    template_name = "users/user_detail.html"
    prefetch_related = ("roles", "projects")

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        manageable = user.has_perm("users.change_user") and may_manage(user, obj)
        return {"can_change": manageable, "can_delete": False, "can_manage": manageable,
                "lock": staff_lock_state(obj.username), "is_self": obj.pk == user.pk,
                "can_view_roles": user.has_perm("users.view_role")}


class StaffEditView(StaffObjectMixin, ObjectEditView):
    form_class = StaffForm
    template_name = "users/user_form.html"

    def get(self, request, *args, **kwargs):
        if "pk" in self.kwargs:
            _staff, refusal = self.get_manageable()
            if refusal:
                return refusal
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if "pk" in self.kwargs:
            instance, refusal = self.get_manageable()
            if refusal:
                return refusal
        else:
            instance = self.get_instance()
        form = self.get_form(instance, data=request.POST)
        if form.is_valid():
            staff = form.save(commit=False)
            try:
                services.staff_save(staff=staff, roles=form.chosen_roles(), projects=form.chosen_projects(),
                                    password=form.cleaned_data.get("password1"), actor=request.user)
            except ValidationError as exc:
                apply_errors(form, exc, {"password": "password1"})
            else:
                messages.success(request, gettext("员工「%(staff)s」已保存") % {"staff": staff})
                return redirect(staff.get_absolute_url())
        return self.render(form, instance, status=400)

    def get_form(self, instance, data=None):
        return self.form_class(data=data, instance=instance, user=self.request.user)

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["role_descriptions"] = {r.pk: r.description for r in form.fields["roles"].queryset}
        return response


class StaffSetActiveView(StaffObjectMixin, View):
    def post(self, request, pk):
        staff, refusal = self.get_manageable()
        if refusal:
            return refusal
        active = request.POST.get("active") == "1"
        try:
            services.staff_set_active(staff=staff, active=active, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, (gettext("已启用员工「%(staff)s」") if active
                                       else gettext("已停用员工「%(staff)s」")) % {"staff": staff})
        return redirect(staff.get_absolute_url())


class StaffPasswordView(StaffObjectMixin, View):
    template_name = "users/user_password.html"

    def get(self, request, pk):
        staff, refusal = self.get_manageable()
        return refusal or self.render(StaffPasswordForm(staff=staff), staff)

    def post(self, request, pk):
        staff, refusal = self.get_manageable()
        if refusal:
            return refusal
        form = StaffPasswordForm(request.POST, staff=staff)
        if form.is_valid():
            try:
                services.staff_set_password(staff=staff, password=form.cleaned_data["password1"], actor=request.user)
            except ValidationError as exc:
                apply_errors(form, exc, {"password": "password1"})
            else:
                messages.success(request,
                                 gettext("已重置「%(staff)s」的密码，请通过安全的方式告知本人") % {"staff": staff})
                return redirect(staff.get_absolute_url())
        return self.render(form, staff, status=400)

    def render(self, form, staff, status=200):
        title = gettext("重置密码：%(staff)s") % {"staff": staff}
        return TemplateResponse(self.request, self.template_name,
                                {"form": form, "object": staff, "title": title}, status=status)


class StaffUnlockView(StaffObjectMixin, View):
    def post(self, request, pk):
        staff, refusal = self.get_manageable()
        if refusal:
            return refusal
        services.staff_unlock(staff=staff, actor=request.user)
        messages.success(request, gettext("已解除「%(staff)s」的登录锁定") % {"staff": staff})
        return redirect(staff.get_absolute_url())


class RoleListView(ViewPermissionRequiredMixin, ObjectListView):
    model = Role
    title = pgettext_lazy("plural", "角色")
    filterset_class = RoleFilter
    search_fields = ("name__icontains", "code__icontains", "description__icontains")
    search_placeholder = _("角色名称、编码或说明")
    add_url_name = "users:role_add"
    ordering = ("id",)
    columns = [
        Column("name", _("角色名称"), link=True, order_by="name"),
        Column("code", _("角色编码"), order_by="code"),
        Column("description", _("说明")),
        Column("is_system", _("类型"),
               display=lambda obj, view: gettext("系统内置") if obj.is_system else gettext("自定义"),
               order_by="is_system"),
        Column("staff_count", _("员工数"), numeric=True, order_by="staff_count"),
        Column("permission_count", _("权限数"), numeric=True, order_by="permission_count"),
    ]

    def get_queryset(self):
        return role_list_queryset(self.request.user)


class RoleDetailView(ObjectDetailView):
    model = Role
    template_name = "users/role_detail.html"

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        checked = set(obj.permissions.values_list("pk", flat=True))
        staff = visible_staff(user).filter(roles=obj).order_by("-is_active", "id")
        return {"can_delete": user.has_perm("users.delete_role") and not obj.is_system,
                "matrix": permission_matrix(checked), "actions": ACTIONS, "staff": staff[:200],
                "staff_total": obj.users.count(), "can_view_staff": user.has_perm("users.view_user")}


class RoleEditView(ObjectEditView):
    model = Role
    form_class = RoleForm
    template_name = "users/role_form.html"

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.get_form(instance, data=request.POST)
        if form.is_valid():
            role = form.save(commit=False)
            try:
                services.role_save(role=role, permissions=form.chosen_permissions(), actor=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, gettext("角色「%(role)s」已保存") % {"role": role})
                return redirect(role.get_absolute_url())
        return self.render(form, instance, status=400)

    def get_form(self, instance, data=None):
        return self.form_class(data=data, instance=instance, user=self.request.user)

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["actions"] = ACTIONS
        return response


class RoleDeleteView(ObjectDeleteView):
    model = Role

    def get(self, request, *args, **kwargs):
        role = self.get_object("delete")
        refusal = self.refusal(role)
        return refusal or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        role = self.get_object("delete")
        refusal = self.refusal(role)
        if refusal:
            return refusal
        try:
            services.role_delete(role=role, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect(role.get_absolute_url())
        messages.success(request, gettext("已删除角色「%(role)s」") % {"role": role})
        return redirect(reverse("users:role_list"))

    def refusal(self, role):
        count = role.users.count()
        if role.is_system:
            messages.error(self.request, gettext("系统内置角色不能删除，可以修改它的权限"))
        elif count:
            messages.error(self.request, ngettext("角色「%(role)s」仍有 %(count)s 名员工在用，请先为他们更换角色",
                                                  "角色「%(role)s」仍有 %(count)s 名员工在用，请先为他们更换角色",
                                                  count) % {"role": role, "count": count})
        else:
            return None
        return redirect(role.get_absolute_url())
