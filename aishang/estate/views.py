from types import SimpleNamespace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from aishang.core.forms import style_widgets
from aishang.core.generic_views import (
    BulkAction,
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    choice_display,
)
from aishang.extras.customfields import form_field_for
from aishang.extras.models import CustomField
from aishang.extras.services import register_object_delete, register_object_save

from . import selectors
from .choices import ParkingStatus, UnitStatus
from .filters import BuildingFilter, ParkingSpaceFilter, ProjectFilter, PropertyTypeFilter, UnitFilter, several_projects
from .forms import (
    BuildingForm,
    EntranceForm,
    ParkingSpaceForm,
    ProjectForm,
    PropertyTypeForm,
    UnitForm,
    as_id,
)
from .models import Building, Entrance, ParkingSpace, Project, PropertyType, Unit

UNIT_STATUS_TONES = {
    UnitStatus.UNDELIVERED: "secondary",
    UnitStatus.VACANT: "warning",
    UnitStatus.OWNER_OCCUPIED: "success",
    UnitStatus.RENTED: "primary",
    UnitStatus.DECORATING: "info",
}
PARKING_STATUS_TONES = {
    ParkingStatus.FREE: "success",
    ParkingStatus.SOLD: "secondary",
    ParkingStatus.RENTED: "primary",
    ParkingStatus.RESERVED: "warning",
}


def tone_badge(label, tone):
    return format_html('<span class="badge status-badge bg-{0}-subtle text-{0}-emphasis border border-{0}-subtle">'
                       "{1}</span>", tone, label)


def unit_status_badge(unit, view=None):
    return tone_badge(unit.get_status_display(), UNIT_STATUS_TONES.get(unit.status, "secondary"))


def parking_status_badge(space, view=None):
    return tone_badge(space.get_status_display(), PARKING_STATUS_TONES.get(space.status, "secondary"))


def area_cell(name):
    def display(obj, view):
        value = getattr(obj, name)
        return None if value is None else f"{value:,.2f}"

    return display


def date_cell(name):
    def display(obj, view):
        value = getattr(obj, name)
        return value.strftime("%Y-%m-%d") if value else None

    return display


def optional_url(name, **kwargs):
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def tab_url(obj, tab):
    return f"{obj.get_absolute_url()}?tab={tab}"


PROJECT_COLUMN = Column("project", _("项目"), accessor="project.name", order_by="project__name")


class SeveralProjectsMixin:
    """Lists show a 项目 column only to users who work on more than one project."""

    project_column_after = 0

    def visible_columns(self):
        columns = list(self.columns)
        if several_projects(self.request.user):
            columns.insert(self.project_column_after, PROJECT_COLUMN)
        return columns


# Projects


class ProjectListView(ObjectListView):
    model = Project
    filterset_class = ProjectFilter
    search_fields = ("name__icontains", "code__icontains", "address__icontains")
    search_placeholder = _("项目名称、编码或地址")
    add_url_name = "estate:project_add"
    prefetch_related = ("property_types",)
    columns = [
        Column("code", _("项目编码"), order_by="code"),
        Column("name", _("项目名称"), link=True, order_by="name"),
        Column("status", _("状态"), display=choice_display("status"), order_by="status"),
        Column("property_types", pgettext_lazy("plural", "业态")),
        Column("city", _("城市"), order_by="city"),
        Column("address", _("地址")),
        Column("manager_name", _("项目经理")),
        Column("service_phone", _("服务电话")),
    ]


class ProjectDetailView(ObjectDetailView):
    model = Project
    template_name = "estate/project_detail.html"
    tabs = (("info", _("基本信息")), ("buildings", pgettext_lazy("plural", "楼栋")),
            ("parking", pgettext_lazy("plural", "车位")))

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        context = {"summary": project_summary_with_tones(obj)}
        if active_tab == "buildings":
            context["buildings"] = selectors.project_buildings(obj)
            context["can_add_building"] = user.has_perm("estate.add_building")
        elif active_tab == "parking":
            context["parking"] = selectors.project_parking_summary(obj)
            context["parking_tones"] = PARKING_STATUS_TONES
            context["can_add_parking"] = user.has_perm("estate.add_parkingspace")
        return context


def project_summary_with_tones(project):
    summary = selectors.project_summary(project)
    summary["statuses"] = [(value, label, summary["by_status"].get(value, 0), UNIT_STATUS_TONES[value])
                           for value, label in UnitStatus.choices]
    return summary


class ProjectEditView(ObjectEditView):
    model = Project
    form_class = ProjectForm


class ProjectDeleteView(ObjectDeleteView):
    model = Project


# Property types


def custom_field_admin_url():
    return optional_url("extras:customfield_list") or "/system/custom-fields/"


class PropertyTypeListView(ObjectListView):
    model = PropertyType
    filterset_class = PropertyTypeFilter
    search_fields = ("name__icontains", "description__icontains")
    search_placeholder = _("业态名称或说明")
    add_url_name = "estate:propertytype_add"
    ordering = ("weight", "id")
    columns = [
        Column("name", _("业态名称"), link=True, order_by="name"),
        Column("kind", _("业态大类"), display=choice_display("kind"), order_by="kind"),
        Column("description", _("说明")),
        Column("unit_count", _("房屋数"), numeric=True, order_by="unit_count"),
        Column("custom_field_count", _("专属自定义字段"), numeric=True, order_by="custom_field_count"),
        Column("weight", _("排序"), numeric=True, order_by="weight"),
    ]

    def get_queryset(self):
        return selectors.property_type_list_queryset(self.request.user)


class PropertyTypeDetailView(ObjectDetailView):
    model = PropertyType
    template_name = "estate/propertytype_detail.html"
    tabs = (("info", _("基本信息")), ("fields", _("自定义字段")))

    def get_extra_context(self, obj, active_tab):
        own, common = selectors.property_type_custom_fields(obj)
        user = self.request.user
        return {"own_fields": own, "common_fields": common, "custom_field_admin_url": custom_field_admin_url(),
                "can_manage_fields": user.has_perm("extras.view_customfield"),
                "unit_count": Unit.objects.restrict(user, "view").filter(property_type=obj).count()}


class PropertyTypeEditView(ObjectEditView):
    model = PropertyType
    form_class = PropertyTypeForm


class PropertyTypeDeleteView(ObjectDeleteView):
    model = PropertyType


# Buildings and entrances


class BuildingListView(SeveralProjectsMixin, ObjectListView):
    model = Building
    filterset_class = BuildingFilter
    search_fields = ("code__icontains", "name__icontains")
    search_placeholder = _("楼栋编号或名称")
    add_url_name = "estate:building_add"
    columns = [
        Column("code", _("楼栋编号"), order_by="code"),
        Column("name", _("楼栋名称"), link=True, display=lambda o, v: str(o), order_by="name"),
        Column("phase", _("期数"), order_by="phase"),
        Column("property_type", _("业态"), accessor="property_type.name", order_by="property_type__weight"),
        Column("height_class", _("楼型")),
        Column("floors_above", _("地上层数"), numeric=True, order_by="floors_above"),
        Column("floors_below", _("地下层数"), numeric=True),
        Column("entrance_count", _("单元数"), numeric=True, order_by="entrance_count"),
        Column("unit_count", _("房屋数"), numeric=True, order_by="unit_count"),
        Column("completed_on", _("竣工日期"), display=date_cell("completed_on"),
               export_value=lambda o, v: o.completed_on, order_by="completed_on"),
    ]

    def get_queryset(self):
        return selectors.building_list_queryset(self.request.user)


class BuildingDetailView(ObjectDetailView):
    model = Building
    template_name = "estate/building_detail.html"
    select_related = ("project", "property_type")
    tabs = (("info", _("基本信息")), ("entrances", pgettext_lazy("plural", "单元")),
            ("units", pgettext_lazy("plural", "房屋")), ("tiles", _("楼盘图")))

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        context = {"summary": selectors.building_summary(obj), "can_add_unit": user.has_perm("estate.add_unit")}
        if active_tab == "entrances":
            context.update({
                "entrances": selectors.building_entrances(obj),
                "can_add_entrance": user.has_perm("estate.add_entrance"),
                "can_change_entrance": user.has_perm("estate.change_entrance"),
                "can_delete_entrance": user.has_perm("estate.delete_entrance"),
                "entrance_form": EntranceForm(instance=Entrance(project=obj.project, building=obj), user=user),
            })
        elif active_tab == "units":
            units = selectors.building_units(obj)
            for unit in units:
                unit.badge = unit_status_badge(unit)
            context["units_page"] = Paginator(units, 100).get_page(self.request.GET.get("page"))
        elif active_tab == "tiles":
            grid = selectors.building_tile_grid(obj)
            grid["legend"] = [(value, label, count, UNIT_STATUS_TONES[value]) for value, label, count in grid["legend"]]
            context.update({"grid": grid, "tones": UNIT_STATUS_TONES})
        return context


class BuildingEditView(ObjectEditView):
    model = Building
    form_class = BuildingForm
    initial_fields = ("project", "property_type", "phase")


class BuildingDeleteView(ObjectDeleteView):
    model = Building


class EntranceListView(LoginRequiredMixin, View):
    """Entrances are listed on their building's page."""

    def get(self, request):
        building_id = as_id(request.GET.get("building"))
        if building_id:
            building = get_object_or_404(Building.objects.restrict(request.user, "view"), pk=building_id)
            return redirect(tab_url(building, "entrances"))
        return redirect("estate:building_list")


class EntranceDetailView(LoginRequiredMixin, View):
    def get(self, request, pk):
        entrance = get_object_or_404(Entrance.objects.restrict(request.user, "view").select_related("building"),
                                     pk=pk)
        return redirect(tab_url(entrance.building, "entrances"))


class EntranceEditView(ObjectEditView):
    model = Entrance
    form_class = EntranceForm
    select_related = ("building", "project")

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object("change")
        if not self.request.user.has_perm("estate.add_entrance"):
            raise Http404
        building = get_object_or_404(Building.objects.restrict(self.request.user, "view"),
                                     pk=self.kwargs["building_pk"])
        return Entrance(project_id=building.project_id, building=building)

    def get_success_url(self, obj):
        return tab_url(obj.building, "entrances")

    def list_url(self):
        return tab_url(self.building, "entrances") if getattr(self, "building", None) else super().list_url()

    def render(self, form, instance, status=200):
        self.building = instance.building
        response = super().render(form, instance, status)
        if not instance.pk:
            response.context_data["title"] = gettext("新增单元：%(building)s") % {"building": instance.building}
        return response


class EntranceDeleteView(ObjectDeleteView):
    model = Entrance
    select_related = ("building",)

    def post(self, request, *args, **kwargs):
        entrance = self.get_object("delete")
        try:
            register_object_delete(obj=entrance, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, gettext("已删除单元「%(entrance)s」") % {"entrance": entrance})
        return redirect(tab_url(entrance.building, "entrances"))


# Units


def unit_form_custom_fields(company_id, property_type_id):
    """The unit fields of the company that apply to a property type (or to every type)."""
    if not company_id:
        return CustomField.objects.none()
    return (CustomField.objects.for_target(company_id, "unit")
            .filter(Q(property_type__isnull=True) | Q(property_type_id=property_type_id)))


def add_unit_custom_fields(form, instance, company_id):
    # Fields follow the property type chosen in the form, so changing the type offers (and validates) its fields.
    values = instance.custom_field_data or {}
    added = {}
    for custom_field in unit_form_custom_fields(company_id, form.chosen("property_type")):
        name = f"cf_{custom_field.name}"
        added[name] = form_field_for(custom_field, initial=values.get(custom_field.name))
    style_widgets(SimpleNamespace(fields=added))
    form.fields.update(added)
    form.custom_field_names = list(added)


def bulk_set_status(view, queryset):
    status = view.request.POST.get("status", "")
    if status not in UnitStatus.values:
        raise ValidationError(gettext("请先在批量操作栏选择新的房屋状态"))
    label = UnitStatus(status).label
    units = queryset.exclude(status=status).select_related("project", "building", "entrance", "property_type")
    count = 0
    with transaction.atomic():
        for unit in units:
            unit.status = status
            try:
                register_object_save(obj=unit, partial_custom=True, actor=view.request.user)
            except ValidationError as exc:
                raise ValidationError(gettext("%(code)s：%(errors)s（全部未修改）")
                                      % {"code": unit.code, "errors": "；".join(exc.messages)}) from None
            count += 1
    return ngettext("已将 %(count)s 套房屋的状态改为「%(status)s」", "已将 %(count)s 套房屋的状态改为「%(status)s」",
                    count) % {"count": count, "status": label}


def bulk_delete(view, queryset):
    units = list(queryset)
    with transaction.atomic():
        for unit in units:
            register_object_delete(obj=unit, actor=view.request.user)
    return ngettext("已删除 %(count)s 套房屋", "已删除 %(count)s 套房屋", len(units)) % {"count": len(units)}


class UnitListView(SeveralProjectsMixin, ObjectListView):
    model = Unit
    filterset_class = UnitFilter
    search_placeholder = _("房屋编码、房号或业主姓名")
    add_url_name = "estate:unit_add"
    export_permission = "estate.export_unit"
    export_filename = _("房屋")
    custom_field_target = "unit"
    project_column_after = 1
    bulk_actions = [
        BulkAction("set_status", _("修改状态"), "estate.change_unit", bulk_set_status, tone="outline-primary",
                   extra={"field": "status", "label": _("新状态"), "choices": UnitStatus.choices}),
        BulkAction("delete", _("删除"), "estate.delete_unit", bulk_delete, tone="outline-danger",
                   confirm=_("确定删除所选房屋吗？删除后不可恢复，已有住户关系的房屋不能删除。")),
    ]
    columns = [
        Column("code", _("房屋编码"), link=True, order_by="code"),
        Column("building", _("楼栋"), display=lambda o, v: str(o.building), order_by="building__code"),
        Column("entrance", _("单元"), display=lambda o, v: o.entrance.code if o.entrance_id else None,
               order_by="entrance__code"),
        Column("floor", _("楼层"), numeric=True, order_by="floor"),
        Column("number", _("房号"), order_by="number"),
        Column("property_type", _("业态"), accessor="property_type.name", order_by="property_type__weight"),
        Column("building_area", _("建筑面积(㎡)"), numeric=True, display=area_cell("building_area"),
               export_value=lambda o, v: o.building_area, order_by="building_area"),
        Column("inner_area", _("套内面积(㎡)"), numeric=True, display=area_cell("inner_area"),
               export_value=lambda o, v: o.inner_area, order_by="inner_area"),
        Column("status", _("房屋状态"), display=unit_status_badge, export_value=lambda o, v: o.get_status_display(),
               order_by="status"),
        Column("owners", _("业主"), display=lambda o, v: selectors.owner_names(o)),
        Column("layout", _("户型"), export=True),
        Column("delivered_on", _("交付日期"), display=date_cell("delivered_on"),
               export_value=lambda o, v: o.delivered_on, order_by="delivered_on"),
    ]

    def get_queryset(self):
        return selectors.unit_list_queryset(self.request.user)

    def filter_queryset(self, queryset):
        return selectors.unit_search(super().filter_queryset(queryset), self.request.GET.get("q"))

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        context["search_fields"] = True
        import_url = optional_url("customers:unit_import")
        if import_url and self.request.user.has_perm("estate.import_unit"):
            context["extra_buttons"] = [*context["extra_buttons"], (gettext("导入"), import_url, "upload")]
        return context


class UnitDetailView(ObjectDetailView):
    model = Unit
    template_name = "estate/unit_detail.html"
    select_related = ("project", "building", "entrance", "property_type")
    tabs = (("info", _("基本信息")), ("residents", pgettext_lazy("plural", "住户")), ("custom", _("自定义字段")))

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        context = {"owners": selectors.unit_owners(obj), "status_badge": unit_status_badge(obj),
                   "tiles_url": f"{tab_url(obj.building, 'tiles')}#unit-{obj.pk}"}
        if user.has_perm("customers.add_occupancy"):
            here = tab_url(obj, "residents")
            add_url = optional_url("customers:occupancy_add")
            if add_url:
                context["occupancy_add_url"] = f"{add_url}?{urlencode({'unit': obj.pk, 'next': here})}"
            transfer_url = optional_url("customers:unit_transfer", unit_pk=obj.pk)
            context["transfer_url"] = transfer_url if transfer_url and context["owners"] else None
        if active_tab == "residents":
            context["occupants"] = selectors.unit_occupants(obj)
        return context


class UnitEditView(ObjectEditView):
    model = Unit
    form_class = UnitForm
    template_name = "estate/unit_form.html"
    select_related = ("project", "building", "entrance", "property_type")
    initial_fields = ("project", "building", "entrance", "floor", "property_type", "status")

    def add_custom_fields(self, form, instance):
        add_unit_custom_fields(form, instance, self.request.user.company_id)

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["preview"] = form.code_preview()
        return response


class UnitDeleteView(ObjectDeleteView):
    model = Unit


class UnitFormPartView(LoginRequiredMixin, View):
    """Pieces of the unit form re-rendered by htmx: building/entrance choices, code preview, custom fields."""

    part = None

    def get(self, request):
        user = request.user
        if not (user.has_perm("estate.add_unit") or user.has_perm("estate.change_unit")):
            raise Http404
        instance = Unit()
        unit_id = as_id(request.GET.get("unit"))
        if unit_id:
            instance = get_object_or_404(Unit.objects.restrict(user, "change"), pk=unit_id)
        initial = {key: values if len(values) > 1 else values[0] for key, values in request.GET.lists()}
        form = UnitForm(instance=instance, initial=initial, user=user)
        if self.part == "custom":
            add_unit_custom_fields(form, instance, user.company_id)
        return TemplateResponse(request, "estate/_unit_form_part.html",
                                {"form": form, "part": self.part, "preview": form.code_preview()})


# Parking spaces


class ParkingSpaceListView(SeveralProjectsMixin, ObjectListView):
    model = ParkingSpace
    filterset_class = ParkingSpaceFilter
    search_fields = ("number__icontains", "zone__icontains", "notes__icontains")
    search_placeholder = _("车位编号、区域或备注")
    add_url_name = "estate:parkingspace_add"
    project_column_after = 1
    columns = [
        Column("number", _("车位编号"), link=True, order_by="number"),
        Column("zone", _("区域"), order_by="zone"),
        Column("kind", _("车位类型"), display=choice_display("kind"), order_by="kind"),
        Column("status", _("状态"), display=parking_status_badge, export_value=lambda o, v: o.get_status_display(),
               order_by="status"),
        Column("area", _("面积(㎡)"), numeric=True, display=area_cell("area"), export_value=lambda o, v: o.area,
               order_by="area"),
        Column("vehicles", pgettext_lazy("plural", "车辆"),
               display=lambda o, v: "、".join(x.plate for x in o.vehicles.all()) if hasattr(o, "vehicles") else None),
        Column("notes", _("备注")),
    ]

    def get_queryset(self):
        return selectors.parking_list_queryset(self.request.user)


class ParkingSpaceDetailView(ObjectDetailView):
    model = ParkingSpace
    template_name = "estate/parkingspace_detail.html"
    select_related = ("project",)
    tabs = (("info", _("基本信息")), ("vehicles", pgettext_lazy("plural", "车辆")))

    def get_extra_context(self, obj, active_tab):
        context = {"status_badge": parking_status_badge(obj), "vehicles": selectors.parking_vehicles(obj)}
        add_url = optional_url("customers:vehicle_add")
        if add_url and self.request.user.has_perm("customers.add_vehicle"):
            query = {"project": obj.project_id, "parking_space": obj.pk, "next": tab_url(obj, "vehicles")}
            context["vehicle_add_url"] = f"{add_url}?{urlencode(query)}"
        return context


class ParkingSpaceEditView(ObjectEditView):
    model = ParkingSpace
    form_class = ParkingSpaceForm
    initial_fields = ("project", "zone", "kind", "status")


class ParkingSpaceDeleteView(ObjectDeleteView):
    model = ParkingSpace
