"""Generic back-office pages: every register list, detail, form and history works the same way.

A domain app declares *what* to show (columns, filters, form, tabs); these classes do the
scoping, filtering, sorting, pagination, bulk actions, export and change-log tab.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aishang.core.forms import style_widgets
from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind, CustomFieldTarget
from aishang.extras.customfields import filter_by_custom_fields, form_field_for
from aishang.extras.exports import xlsx_response
from aishang.extras.models import CustomField, ObjectChange
from aishang.extras.services import custom_fields_for, register_object_delete, register_object_save


def _resolve(obj, accessor):
    value = obj
    for part in accessor.split("."):
        if value is None:
            return None
        value = getattr(value, part)
        if callable(value) and not hasattr(value, "all"):
            value = value()
    return value


@dataclass
class Column:
    """One column of a list: how to read it, show it, sort by it and export it."""

    key: str
    label: str
    accessor: str | None = None
    order_by: str | None = None
    link: bool = False
    numeric: bool = False
    export: bool = True
    display: Any = None  # callable(obj, view) -> str, for masked or composed values
    export_value: Any = None  # callable(obj, view) -> value written to the spreadsheet

    def raw(self, obj, view):
        if self.export_value is not None:
            return self.export_value(obj, view)
        if self.display is not None:
            return self.display(obj, view)
        value = _resolve(obj, self.accessor or self.key)
        return value

    def render(self, obj, view):
        value = self.display(obj, view) if self.display is not None else _resolve(obj, self.accessor or self.key)
        if value is None or value == "" or value == []:
            return "--"
        if isinstance(value, bool):
            return gettext("是") if value else gettext("否")
        if hasattr(value, "all"):
            return "、".join(str(v) for v in value.all()) or "--"
        if self.link and hasattr(obj, "get_absolute_url"):
            return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), value)
        return value


def custom_field_cell(field):
    def display(obj, view):
        value = (obj.custom_field_data or {}).get(field.name)
        return None if value in (None, "", []) else field.display(value)

    return display


def choice_display(name):
    return lambda obj, view: getattr(obj, f"get_{name}_display")()


def export_cell(value):
    if value is None:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, (Decimal, date, datetime)):
        if isinstance(value, datetime) and value.tzinfo is not None:
            # Spreadsheets have no time zones: write the wall-clock time users see on the pages.
            from django.utils import timezone

            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return str(value)


@dataclass
class BulkAction:
    name: str
    label: str
    permission: str
    handler: Any  # callable(view, queryset) -> message
    confirm: str = ""
    tone: str = "outline-secondary"
    extra: dict = field(default_factory=dict)


class ScopedObjectMixin(LoginRequiredMixin):
    model = None
    select_related = ()
    prefetch_related = ()

    def base_queryset(self, action="view"):
        queryset = self.model.objects.restrict(self.request.user, action)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def perm(self, action):
        meta = self.model._meta
        return f"{meta.app_label}.{action}_{meta.model_name}"

    def get_object(self, action="view"):
        # Outside the scope or without permission: 404, never a hint that it exists.
        return get_object_or_404(self.base_queryset(action), pk=self.kwargs["pk"])


class ObjectListView(ScopedObjectMixin, View):
    columns: list[Column] = []
    filterset_class = None
    search_fields: tuple = ()
    search_placeholder = _("搜索")
    ordering = None
    paginate_by = 50
    template_name = "generic/object_list.html"
    table_template = "generic/_table.html"
    title = None
    add_url_name = None
    export_permission = None
    export_filename = None
    bulk_actions: list[BulkAction] = []
    custom_field_target = None
    extra_buttons = ()  # [(label, url_name, icon, permission)]

    def get_queryset(self):
        return self.base_queryset("view")

    def custom_fields(self):
        if not self.custom_field_target or not self.request.user.company_id:
            return []
        return list(CustomField.objects.for_target(self.request.user.company_id, self.custom_field_target)
                    .filter(filterable=True))

    def custom_field_columns(self):
        """Every custom field of the company as a column, for exports."""
        if not self.custom_field_target or not self.request.user.company_id:
            return []
        fields = CustomField.objects.for_target(self.request.user.company_id, self.custom_field_target)
        return [Column(f"cf_{field.name}", field.label, display=custom_field_cell(field)) for field in fields]

    def filter_queryset(self, queryset):
        params = self.request.GET
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(params, queryset=queryset, request=self.request)
            queryset = self.filterset.qs if self.filterset.is_valid() else queryset.none()
        term = params.get("q", "").strip()
        if term and self.search_fields:
            condition = Q()
            for lookup in self.search_fields:
                condition |= Q(**{lookup: term})
            queryset = queryset.filter(condition)
        queryset = filter_by_custom_fields(queryset, self.custom_fields(), params)
        sort = params.get("sort", "")
        sortable = {c.key: c.order_by for c in self.columns if c.order_by}
        key = sort.lstrip("-")
        if key in sortable:
            direction = "-" if sort.startswith("-") else ""
            queryset = queryset.order_by(f"{direction}{sortable[key]}", "pk")
        elif self.ordering:
            queryset = queryset.order_by(*self.ordering)
        return queryset

    def visible_columns(self):
        return self.columns

    def get(self, request, *args, **kwargs):
        if not request.user.has_perm(self.perm("view")):
            raise PermissionDenied(gettext("没有查看权限"))
        queryset = self.filter_queryset(self.get_queryset())
        if request.GET.get("export") == "xlsx":
            return self.export(queryset)
        page = Paginator(queryset, self.paginate_by).get_page(request.GET.get("page"))
        columns = self.visible_columns()
        rows = [(obj, [(column, column.render(obj, self)) for column in columns]) for obj in page.object_list]
        self.after_rows(page.object_list)
        context = self.get_context_data(page=page, rows=rows, columns=columns)
        template = self.table_template if request.htmx and request.htmx.target == "list-table" else self.template_name
        response = TemplateResponse(request, template, context)
        # One URL answers a partial to htmx and a whole page otherwise; Back must not get the partial from cache.
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response

    def after_rows(self, objects):
        """Hook for audit of what a page showed (unmasked personal data)."""

    def get_context_data(self, **context):
        meta = self.model._meta
        user = self.request.user
        context.update({
            "title": self.title or meta.verbose_name_plural,
            "view": self,
            "filterset": self.filterset,
            "custom_filter_fields": [(f, self.request.GET.get(f"cf_{f.name}", "")) for f in self.custom_fields()],
            "search_fields": bool(self.search_fields),
            "search_placeholder": self.search_placeholder,
            "query": self.request.GET.get("q", ""),
            "sort": self.request.GET.get("sort", ""),
            "add_url": reverse(self.add_url_name) if self.add_url_name and user.has_perm(self.perm("add")) else None,
            "can_export": bool(self.export_permission) and user.has_perm(self.export_permission),
            "bulk_actions": [a for a in self.bulk_actions if user.has_perm(a.permission)],
            "extra_buttons": [(label, reverse(url), icon) for label, url, icon, permission in self.extra_buttons
                              if not permission or user.has_perm(permission)],
            "total_count": context["page"].paginator.count,
        })
        return context

    def export(self, queryset):
        if not self.export_permission or not self.request.user.has_perm(self.export_permission):
            raise PermissionDenied(gettext("没有导出权限"))
        columns = [c for c in self.visible_columns() if c.export] + self.custom_field_columns()
        objects = queryset.iterator(chunk_size=2000) if not self.prefetch_related else queryset
        ids = []

        def rows():
            for obj in objects:
                ids.append(obj.pk)
                yield [export_cell(column.raw(obj, self)) for column in columns]

        response = xlsx_response(self.export_filename or str(self.model._meta.verbose_name_plural),
                                 [str(c.label) for c in columns], rows())
        audit_record(kind=AuditKind.EXPORT, user=self.request.user, model=self.model, object_ids=ids[:10000],
                     detail={"count": len(ids), "query": self.request.GET.urlencode()})
        return response

    def post(self, request, *args, **kwargs):
        action_name = request.POST.get("action")
        action = next((a for a in self.bulk_actions if a.name == action_name), None)
        if action is None or not request.user.has_perm(action.permission):
            raise PermissionDenied(gettext("没有执行该操作的权限"))
        queryset = self.base_queryset("change")
        if request.POST.get("select_all_matching"):
            queryset = self.filter_queryset(queryset)
        else:
            queryset = queryset.filter(pk__in=[pk for pk in request.POST.getlist("pk") if pk.isdigit()])
        if not queryset.exists():
            messages.warning(request, gettext("请先勾选要处理的记录"))
        else:
            try:
                messages.success(request, action.handler(self, queryset))
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
        return redirect(f"{request.path}?{request.POST.get('querystring', '')}")


@dataclass(frozen=True)
class DetailTab:
    """A tab another app adds to a model's detail page, so a lower app need not know the upper one."""

    key: str
    label: Any
    permission: str
    template_name: str
    context: Any  # callable(request, obj) -> dict


_detail_tabs = {}


def register_detail_tab(model, tab):
    tabs = _detail_tabs.setdefault(model, [])
    if all(existing.key != tab.key for existing in tabs):
        tabs.append(tab)


class ObjectDetailView(ScopedObjectMixin, View):
    """A detail page with tabs; ``?tab=changelog`` shows the object's 变更记录; other apps may add tabs."""

    template_name = None
    tabs = (("info", _("基本信息")),)

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        user = request.user
        tabs = list(self.tabs)
        extra_tabs = {tab.key: tab for tab in _detail_tabs.get(self.model, ()) if user.has_perm(tab.permission)}
        tabs.extend((tab.key, tab.label) for tab in extra_tabs.values())
        if user.has_perm("extras.view_objectchange"):
            tabs.append(("changelog", gettext("变更记录")))
        active_tab = request.GET.get("tab", tabs[0][0])
        if active_tab not in dict(tabs):
            active_tab = tabs[0][0]
        context = {"object": obj, "view": self, "title": str(obj), "tabs": tabs, "active_tab": active_tab,
                   "can_change": user.has_perm(self.perm("change")),
                   "can_delete": user.has_perm(self.perm("delete")),
                   "custom_values": custom_field_values(obj)}
        if active_tab == "changelog":
            context["changes_page"] = Paginator(object_changes(user, obj), 25).get_page(request.GET.get("page"))
        context.update(self.get_extra_context(obj, active_tab))
        if active_tab in extra_tabs:
            context["extra_tab_template"] = extra_tabs[active_tab].template_name
            context.update(extra_tabs[active_tab].context(request, obj))
        return TemplateResponse(request, self.template_name, context)

    def get_extra_context(self, obj, active_tab):
        return {}


def object_changes(user, obj):
    return (ObjectChange.objects.restrict(user, "view")
            .filter(object_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
            .select_related("user", "object_type"))


def custom_field_values(obj):
    if getattr(obj, "custom_field_target", None) is None:
        return []
    data = obj.custom_field_data or {}
    return [(f, f.display(data.get(f.name))) for f in custom_fields_for(obj)]


class ObjectEditView(ScopedObjectMixin, View):
    """Create (no pk) or update an object through its ModelForm plus its custom fields."""

    form_class = None
    initial_fields = ()
    template_name = "generic/object_form.html"
    success_message = _("已保存")

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object("change")
        if not self.request.user.has_perm(self.perm("add")):
            raise Http404
        return self.model()

    def get_form(self, instance, data=None):
        form = self.form_class(data=data, instance=instance, user=self.request.user,
                               initial=self.initial(instance, data))
        self.add_custom_fields(form, instance)
        return form

    def initial(self, instance, data):
        """New objects start from the query string (?project=..&unit=..), so pages can link prefilled forms."""
        if data is not None or instance.pk:
            return {}
        return {name: self.request.GET[name] for name in self.initial_fields if self.request.GET.get(name)}

    def add_custom_fields(self, form, instance):
        form.custom_field_names = []
        target = getattr(instance, "custom_field_target", None)
        company_id = instance.get_scope_ids()[0] if instance.pk else self.request.user.company_id
        if target is None or not company_id:
            return
        fields = CustomField.objects.for_target(company_id, target)
        if target == CustomFieldTarget.UNIT:
            # The fields follow the property type being submitted, which may differ from the stored one.
            submitted = form.data.get("property_type") if form.is_bound else None
            property_type_id = submitted or getattr(instance, "property_type_id", None)
            fields = fields.filter(Q(property_type__isnull=True) | Q(property_type_id=property_type_id or None))
        values = instance.custom_field_data or {}
        for custom_field in fields:
            name = f"cf_{custom_field.name}"
            form.fields[name] = form_field_for(custom_field, initial=values.get(custom_field.name))
            form.custom_field_names.append(name)
        style_widgets(form)

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        return self.render(self.get_form(instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.get_form(instance, data=request.POST)
        if form.is_valid():
            obj = form.save(commit=False)
            custom_values = {name[3:]: form.cleaned_data.get(name)
                             for name in getattr(form, "custom_field_names", [])}
            try:
                register_object_save(obj=obj, custom_values=custom_values, actor=request.user)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    target = name if name in form.fields else None
                    for error in errors:
                        form.add_error(target, error)
            else:
                form.save_m2m()
                messages.success(request, gettext("%(model)s「%(object)s」%(done)s") % {
                    "model": self.model._meta.verbose_name, "object": obj, "done": self.success_message})
                return redirect(self.get_success_url(obj))
        return self.render(form, instance, status=400)

    def get_success_url(self, obj):
        return obj.get_absolute_url()

    def render(self, form, instance, status=200):
        meta = self.model._meta
        if instance.pk:
            title = gettext("编辑%(model)s：%(object)s") % {"model": meta.verbose_name, "object": instance}
        else:
            title = gettext("新增%(model)s") % {"model": meta.verbose_name}
        return TemplateResponse(self.request, self.template_name,
                                {"form": form, "object": instance, "title": title, "view": self,
                                 "cancel_url": instance.get_absolute_url() if instance.pk else self.list_url()},
                                status=status)

    def list_url(self):
        meta = self.model._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_list")


class ObjectDeleteView(ScopedObjectMixin, View):
    template_name = "generic/object_confirm_delete.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object("delete")
        title = gettext("删除 %(object)s") % {"object": obj}
        return TemplateResponse(request, self.template_name, {"object": obj, "title": title})

    def post(self, request, *args, **kwargs):
        obj = self.get_object("delete")
        meta = self.model._meta
        try:
            register_object_delete(obj=obj, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect(obj.get_absolute_url())
        messages.success(request, gettext("已删除%(model)s「%(object)s」")
                         % {"model": meta.verbose_name, "object": obj})
        return redirect(reverse(f"{meta.app_label}:{meta.model_name}_list"))
