from urllib.parse import parse_qsl

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from aishang.core.generic_views import (
    Column,
    ObjectDeleteView,
    ObjectEditView,
    ObjectListView,
    ScopedObjectMixin,
    choice_display,
)
from aishang.core.templatetags.aishang import datetime_cn

from .choices import ChangeAction, CustomFieldTarget
from .features import CustomFieldsModel
from .filters import AuditEventFilter, CustomFieldFilter, ObjectChangeFilter
from .forms import CustomFieldForm
from .models import AuditEvent, CustomField, ObjectChange
from .services import register_object_delete, register_object_save

SOURCES = {"web": _("网页"), "api": "API", "system": _("系统"), "import": _("导入")}
ACTION_TONES = {ChangeAction.CREATE: "success", ChangeAction.UPDATE: "primary", ChangeAction.DELETE: "danger"}


class ViewPermissionRequiredMixin:
    """A list page answers 403 to a signed-in user whose roles do not include viewing its model."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm(self.perm("view")):
            raise PermissionDenied(gettext("没有查看权限"))
        return super().dispatch(request, *args, **kwargs)


# -- custom fields -------------------------------------------------------------------------------

def custom_field_model(target):
    """The register model whose objects carry custom fields of this target."""
    for model in apps.get_models():
        if issubclass(model, CustomFieldsModel) and model.custom_field_target == target:
            return model
    return None


def stored_value_count(field):
    """How many objects of the field's company hold a value for it."""
    model = custom_field_model(field.target)
    if model is None:
        return 0
    company_path = getattr(model, "scope_project_path", None)
    company_lookup = f"{company_path}__company_id" if company_path else "company_id"
    return (model._base_manager.filter(**{company_lookup: field.company_id})
            .filter(custom_field_data__has_key=field.name).count())


def _custom_field_label(obj, view):
    if view.request.user.has_perm("extras.change_customfield"):
        return format_html('<a href="{}">{}</a>', reverse("extras:customfield_edit", args=[obj.pk]), obj.label)
    return obj.label


def _custom_field_actions(obj, view):
    user = view.request.user
    links = []
    if user.has_perm("extras.change_customfield"):
        links.append((reverse("extras:customfield_edit", args=[obj.pk]), gettext("编辑"), "link-primary"))
    if user.has_perm("extras.delete_customfield"):
        links.append((reverse("extras:customfield_delete", args=[obj.pk]), gettext("删除"), "link-danger"))
    return format_html_join(" ", '<a class="{2} me-2" href="{0}">{1}</a>', links) or None


class CustomFieldListView(ViewPermissionRequiredMixin, ObjectListView):
    model = CustomField
    title = _("自定义字段")
    filterset_class = CustomFieldFilter
    search_fields = ("label__icontains", "name__icontains")
    search_placeholder = _("字段名称或编码")
    add_url_name = "extras:customfield_add"
    select_related = ("property_type",)
    ordering = ("target", "weight", "id")
    columns = [
        Column("label", _("字段名称"), display=_custom_field_label, export_value=lambda obj, view: obj.label,
               order_by="label"),
        Column("name", _("字段编码"), order_by="name"),
        Column("target", _("适用对象"), display=choice_display("target"), order_by="target"),
        Column("property_type", _("业态"), display=lambda obj, view: str(obj.property_type) if obj.property_type
               else (gettext("所有业态") if obj.target == CustomFieldTarget.UNIT else None)),
        Column("field_type", _("类型"), display=choice_display("field_type"), order_by="field_type"),
        Column("choices", _("选项"), display=lambda obj, view: "、".join(obj.choices or [])),
        Column("required", _("必填")),
        Column("filterable", _("可筛选")),
        Column("owner_visible", _("业主可见")),
        Column("weight", _("排序"), numeric=True, order_by="weight"),
        Column("actions", _("操作"), display=_custom_field_actions, export=False),
    ]


class CustomFieldEditView(ObjectEditView):
    model = CustomField
    form_class = CustomFieldForm
    template_name = "extras/customfield_form.html"

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        old_type = instance.get_field_type_display() if instance.pk else None
        form = self.get_form(instance, data=request.POST)
        if form.is_valid():
            field = form.save(commit=False)
            try:
                register_object_save(obj=field, actor=request.user)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, gettext("自定义字段「%(field)s」已保存") % {"field": field})
                new_type = field.get_field_type_display()
                count = stored_value_count(field) if old_type and old_type != new_type else 0
                if count:
                    messages.warning(request, gettext(
                        "已有 %(count)s 条%(target)s填写了「%(field)s」。类型由“%(old)s”改为“%(new)s”后，"
                        "不符合新类型的旧值在编辑这些%(target)s时需要重新填写。") % {
                        "count": count, "target": field.get_target_display(), "field": field,
                        "old": old_type, "new": new_type})
                return redirect(self.list_url())
        return self.render(form, instance, status=400)

    def render(self, form, instance, status=200):
        title = (gettext("编辑自定义字段：%(field)s") % {"field": instance} if instance.pk
                 else gettext("新增自定义字段"))
        return TemplateResponse(self.request, self.template_name,
                                {"form": form, "object": instance, "title": title, "view": self,
                                 "cancel_url": self.list_url(),
                                 "value_count": stored_value_count(instance) if instance.pk else 0},
                                status=status)


class CustomFieldDeleteView(ObjectDeleteView):
    model = CustomField
    template_name = "extras/customfield_confirm_delete.html"

    def get(self, request, *args, **kwargs):
        field = self.get_object("delete")
        return TemplateResponse(request, self.template_name,
                                {"object": field, "title": gettext("删除自定义字段 %(field)s") % {"field": field},
                                 "value_count": stored_value_count(field),
                                 "cancel_url": reverse("extras:customfield_list")})

    def post(self, request, *args, **kwargs):
        field = self.get_object("delete")
        try:
            register_object_delete(obj=field, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, gettext("已删除自定义字段「%(field)s」，已保存的值不再显示") % {"field": field})
        return redirect(reverse("extras:customfield_list"))


# -- change log ----------------------------------------------------------------------------------

def _time(obj, view):
    return format_html('<span class="text-nowrap">{}</span>', datetime_cn(obj.time))


def _actor(obj, view):
    if obj.user_id and obj.user is not None:
        name = obj.user.display_name
        return f"{name}（{obj.user.username}）" if name else obj.user.username
    # The log stores "系统" (system) as the actor of changes nobody signed in made.
    return gettext("系统") if obj.user_name in ("", "系统") else obj.user_name


def _action_badge(obj, view):
    return format_html('<span class="badge text-bg-{}">{}</span>', ACTION_TONES.get(obj.action, "secondary"),
                       obj.get_action_display())


def _object_type(obj, view):
    model = obj.object_type.model_class()
    return str(model._meta.verbose_name) if model is not None else obj.object_type.model


def _object_link(obj, view):
    return format_html('<a href="{}">{}</a>', reverse("extras:objectchange_detail", args=[obj.pk]), obj.object_repr)


def _changed_fields(obj, view):
    if obj.action != ChangeAction.UPDATE:
        return None
    labels = [label for label, _, _ in obj.diff()]
    shown = "、".join(labels[:4])
    if len(labels) > 4:
        return gettext("%(fields)s 等 %(count)s 项") % {"fields": shown, "count": len(labels)}
    return shown


def _request_link(obj, view):
    if not obj.request_id:
        return None
    return format_html('<a class="font-monospace small" href="{}?request_id={}" title="{}">{}</a>',
                       reverse("extras:objectchange_list"), obj.request_id, gettext("同一请求的全部变更"),
                       str(obj.request_id)[:8])


class ObjectChangeListView(ViewPermissionRequiredMixin, ObjectListView):
    model = ObjectChange
    title = _("变更记录")
    filterset_class = ObjectChangeFilter
    search_fields = ("object_repr__icontains",)
    search_placeholder = _("对象名称，如 1-2-301")
    select_related = ("user", "object_type", "project")
    ordering = ("-time", "-id")
    export_permission = "extras.view_objectchange"
    export_filename = _("变更记录")
    extra_buttons = ((_("审计日志"), "extras:auditevent_list", "shield-lock", "extras.view_auditevent"),)
    columns = [
        Column("time", _("时间"), display=_time, order_by="time", export_value=lambda obj, view: obj.time),
        Column("user", _("操作人"), display=_actor),
        Column("action", _("操作"), display=_action_badge, export_value=lambda obj, view: obj.get_action_display(),
               order_by="action"),
        Column("object_type", _("对象类型"), display=_object_type),
        Column("object_repr", _("对象"), display=_object_link, export_value=lambda obj, view: obj.object_repr,
               order_by="object_repr"),
        Column("project", _("项目")),
        Column("fields", _("变更字段"), display=_changed_fields),
        Column("source", _("来源"), display=lambda obj, view: SOURCES.get(obj.source, obj.source)),
        Column("request_id", _("请求编号"), display=_request_link,
               export_value=lambda obj, view: str(obj.request_id or "")),
    ]


def _diff_keys(change):
    """The data keys of ``change.diff()``'s rows, in the same order."""
    before, after = change.prechange_data or {}, change.postchange_data or {}
    keys = list(dict.fromkeys([*before, *after]))
    if change.action == ChangeAction.UPDATE:
        keys = [key for key in keys if before.get(key) != after.get(key)]
    return keys


def diff_table(change, viewer):
    """Rows of (label, before, after, added, removed); added/removed only for list values such as roles."""
    before, after = change.prechange_data or {}, change.postchange_data or {}
    rows = change.diff(viewer=viewer)
    keys = _diff_keys(change)
    if len(keys) != len(rows):
        return [(*row, None, None) for row in rows]
    table = []
    for key, (label, old, new) in zip(keys, rows, strict=True):
        old_value, new_value = before.get(key), after.get(key)
        added = removed = None
        if change.action == ChangeAction.UPDATE and isinstance(old_value, list) and isinstance(new_value, list):
            added = [v for v in new_value if v not in old_value]
            removed = [v for v in old_value if v not in new_value]
        table.append((label, old, new, added, removed))
    return table


def object_url(user, change):
    """The object's own page when it still exists and the user may see it."""
    model = change.object_type.model_class()
    if model is None or not hasattr(model, "get_absolute_url") or change.action == ChangeAction.DELETE:
        return None
    manager = model._default_manager
    if not hasattr(manager, "restrict"):
        return None
    obj = manager.restrict(user, "view").filter(pk=change.object_id).first()
    if obj is None:
        return None
    try:
        return obj.get_absolute_url()
    except NoReverseMatch:  # objects without a page of their own, such as the company
        return None


class ObjectChangeDetailView(ScopedObjectMixin, View):
    model = ObjectChange
    select_related = ("user", "object_type", "project")

    def get(self, request, pk):
        change = self.get_object()
        same_request = 0
        if change.request_id:
            same_request = (ObjectChange.objects.restrict(request.user, "view")
                            .filter(request_id=change.request_id).count())
        return TemplateResponse(request, "extras/objectchange_detail.html", {
            "change": change, "title": f"{change.get_action_display()} {change.object_repr}",
            "rows": diff_table(change, request.user), "actor": _actor(change, self),
            "object_type": _object_type(change, self),
            "source": SOURCES.get(change.source, change.source), "object_url": object_url(request.user, change),
            "same_request": same_request, "tone": ACTION_TONES.get(change.action, "secondary"),
        })


# -- audit events --------------------------------------------------------------------------------

DETAIL_LABELS = {"count": _("数量"), "query": _("筛选条件"), "path": _("地址"), "action": _("操作"),
                 "project_id": _("项目编号"), "units": pgettext_lazy("plural", "房屋"),
                 "customers": pgettext_lazy("plural", "客户"), "buildings": pgettext_lazy("plural", "楼栋"),
                 "entrances": pgettext_lazy("plural", "单元"), "occupancies": pgettext_lazy("plural", "入住关系"),
                 "reused_customers": _("沿用已有客户"), "field": _("字段")}


def audit_events_for(user):
    """Events of the user's company; a project-scoped auditor sees those of the colleagues they can see."""
    from aishang.users.models import User

    events = AuditEvent.objects.all()
    if not user.is_authenticated or not user.is_active or not user.has_perm("extras.view_auditevent"):
        return events.none()
    if user.is_superuser:
        return events
    if not user.company_id:
        return events.none()
    events = events.filter(company_id=user.company_id)
    if not user.scope_all_projects:
        events = events.filter(user__in=User.objects.within_scope(user).values("pk"))
    return events


def _audit_detail(obj, view):
    parts = []
    for key, value in (obj.detail or {}).items():
        if key == "query":
            pairs = [(k, v) for k, v in parse_qsl(value or "") if k not in ("export", "page") and v]
            value = "，".join(f"{k}={v}" for k, v in pairs) or gettext("无")
        parts.append(f"{DETAIL_LABELS.get(key, key)}：{value}")
    return "；".join(parts) or None


def _audit_objects(obj, view):
    ids = obj.object_ids or []
    if not ids:
        return None
    model = obj.object_type.model_class() if obj.object_type_id else None
    name = str(model._meta.verbose_name) if model is not None else ""
    shown = "、".join(f"#{i}" for i in ids[:5])
    return gettext("%(model)s %(count)s 条（%(ids)s）") % {"model": name, "count": len(ids),
                                                         "ids": f"{shown}{' …' if len(ids) > 5 else ''}"}


class AuditEventListView(ViewPermissionRequiredMixin, ObjectListView):
    model = AuditEvent
    title = _("审计日志")
    filterset_class = AuditEventFilter
    select_related = ("user", "object_type")
    ordering = ("-time", "-id")
    columns = [
        Column("time", _("时间"), display=_time, order_by="time", export_value=lambda obj, view: obj.time),
        Column("user", _("操作人"), display=_actor),
        Column("kind", _("类型"), display=choice_display("kind"), order_by="kind"),
        Column("object_type", _("对象"), display=_audit_objects),
        Column("detail", _("详情"), display=_audit_detail),
        Column("remote_addr", _("IP 地址")),
    ]

    def base_queryset(self, action="view"):
        return audit_events_for(self.request.user).select_related(*self.select_related)
