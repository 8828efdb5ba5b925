from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from aishang.core.generic_views import (
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    choice_display,
    object_changes,
)
from aishang.estate.models import Unit

from . import selectors, services
from .filters import CustomerFilter, VehicleFilter
from .forms import CustomerForm, OccupancyForm, TransferOwnershipForm, VehicleForm
from .models import Customer, Occupancy, Vehicle
from .selectors import PII_FIELDS, can_view_pii, mask_pii, several_projects


def safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def customer_tab_url(customer_id, tab):
    return f"{reverse('customers:customer_detail', kwargs={'pk': customer_id})}?tab={tab}"


def _date(value):
    return value.strftime("%Y-%m-%d") if value else None


def _project_column():
    return Column("project", _("项目"), accessor="project.name", order_by="project__name")


# Customers


def _pii_cell(name):
    def display(obj, view):
        return view.pii_value(obj, name)

    return display


def _unit_entry(occupancy):
    url = selectors.unit_url(occupancy.unit)
    code = format_html('<a href="{}">{}</a>', url, occupancy.unit.code) if url else occupancy.unit.code
    return format_html('<span class="text-nowrap">{} {}</span>', code, occupancy.get_role_display())


def _units_cell(obj, view):
    if not obj.current_occupancies:
        return None
    return format_html_join(mark_safe("<br>"), "{}", ((_unit_entry(o),) for o in obj.current_occupancies))


def _units_export(obj, view):
    return "、".join(f"{o.unit.code} {o.get_role_display()}" for o in obj.current_occupancies) or None


def _tags_cell(obj, view):
    if not obj.tags:
        return None
    return format_html_join(" ", '<span class="badge rounded-pill text-bg-light border">{}</span>',
                            ((tag,) for tag in obj.tags))


class CustomerListView(ObjectListView):
    model = Customer
    filterset_class = CustomerFilter
    search_placeholder = _("姓名、手机尾号、房号、车牌")
    add_url_name = "customers:customer_add"
    export_permission = "customers.export_customer"
    export_filename = _("客户")
    custom_field_target = "customer"
    paginate_by = 30
    columns = [
        Column("name", _("姓名/名称"), link=True, order_by="name"),
        Column("units", _("当前房屋"), display=_units_cell, export_value=_units_export),
        Column("mobile", _("手机号"), display=_pii_cell("mobile")),
        Column("id_number", _("证件号码"), display=_pii_cell("id_number")),
        Column("kind", _("客户类型"), display=choice_display("kind"), order_by="kind"),
        Column("tags", _("标签"), display=_tags_cell, export_value=lambda o, v: "、".join(o.tags) or None),
        Column("move_in_date", _("入住时间"), display=lambda o, v: _date(o.move_in_date),
               export_value=lambda o, v: o.move_in_date, order_by="move_in_date"),
    ]

    @cached_property
    def can_view_pii(self):
        return can_view_pii(self.request.user)

    def pii_value(self, obj, name):
        value = getattr(obj, name)
        if not self.can_view_pii:
            return mask_pii(name, value)
        if value:
            self.pii_shown[obj.pk] = True
        return value

    @cached_property
    def pii_shown(self):
        """Ids of the customers whose unmasked values this response carries, in order."""
        return {}

    def get_queryset(self):
        return selectors.customer_list_queryset(self.request.user)

    def filter_queryset(self, queryset):
        return selectors.customer_search(super().filter_queryset(queryset), self.request.GET.get("q"))

    def visible_columns(self):
        if several_projects(self.request.user):
            return [self.columns[0], _project_column(), *self.columns[1:]]
        return self.columns

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        context["search_fields"] = True
        return context

    def after_rows(self, objects):
        if self.pii_shown:
            services.customer_pii_viewed(actor=self.request.user, customer_ids=list(self.pii_shown),
                                         detail={"path": self.request.path, "query": self.request.GET.urlencode()})

    def export(self, queryset):
        response = super().export(queryset)
        if self.pii_shown:
            services.customer_pii_viewed(actor=self.request.user, customer_ids=list(self.pii_shown),
                                         detail={"path": self.request.path, "export": "xlsx",
                                                 "query": self.request.GET.urlencode()})
        return response


def changes_reveal_pii(page):
    """Whether any change on the page carries personal data (shown unmasked to this viewer)."""
    return any((data or {}).get(name)
               for change in page.object_list
               for data in (change.prechange_data, change.postchange_data)
               for name in PII_FIELDS)


class CustomerDetailView(ObjectDetailView):
    model = Customer
    template_name = "customers/customer_detail.html"
    select_related = ("project",)
    tabs = (("info", _("基本信息")), ("units", pgettext_lazy("plural", "房屋")),
            ("vehicles", pgettext_lazy("plural", "车辆")), ("custom", _("自定义字段")))

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        show_pii = can_view_pii(user)
        occupancies = selectors.customer_occupancies(obj)
        context = {
            "can_view_pii": show_pii,
            "masked": {name: mask_pii(name, getattr(obj, name)) for name in PII_FIELDS},
            "current_occupancies": [o for o in occupancies if o.is_current],
            "today": timezone.localdate(),
            "can_add_occupancy": user.has_perm("customers.add_occupancy"),
            "can_change_occupancy": user.has_perm("customers.change_occupancy"),
            "can_add_vehicle": user.has_perm("customers.add_vehicle"),
            "here": self.request.get_full_path(),
        }
        if active_tab == "units":
            context["occupancies"] = occupancies
        elif active_tab == "vehicles":
            context["vehicles"] = selectors.customer_vehicles(obj)
        elif active_tab == "changelog":
            page = Paginator(object_changes(user, obj), 25).get_page(self.request.GET.get("page"))
            context["changes_page"] = page
            if show_pii and changes_reveal_pii(page):
                services.customer_pii_viewed(actor=user, customer_ids=[obj.pk],
                                             detail={"path": self.request.path, "tab": "changelog",
                                                     "page": page.number})
        return context


class CustomerPIIView(LoginRequiredMixin, View):
    """One unmasked value for the detail page's "显示" button; every answer is audited."""

    def get(self, request, pk):
        field = request.GET.get("field", "mobile")
        if not can_view_pii(request.user) or field not in PII_FIELDS:
            raise Http404
        customer = get_object_or_404(Customer.objects.restrict(request.user, "view"), pk=pk)
        value = getattr(customer, field)
        services.customer_pii_viewed(actor=request.user, customer_ids=[customer.pk],
                                     detail={"path": request.path, "field": field})
        response = TemplateResponse(request, "customers/_pii_value.html", {"value": value, "field": field})
        response["Cache-Control"] = "no-store"
        return response


class CustomerEditView(ObjectEditView):
    model = Customer
    form_class = CustomerForm
    initial_fields = ("project",)

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        if instance.pk and can_view_pii(request.user):
            # The form shows the real values to edit them: that is a view of them too.
            services.customer_pii_viewed(actor=request.user, customers=[instance],
                                         detail={"path": request.path, "action": "edit"})
        return self.render(self.get_form(instance), instance)


class CustomerDeleteView(ObjectDeleteView):
    model = Customer


# Occupancies


class OccupancyRedirectView(LoginRequiredMixin, View):
    """An occupancy lives on its customer's 房屋 tab; links to it land there."""

    def get(self, request, pk):
        occupancy = get_object_or_404(Occupancy.objects.restrict(request.user, "view"), pk=pk)
        return redirect(customer_tab_url(occupancy.customer_id, "units"))


class OccupancyEditView(ObjectEditView):
    model = Occupancy
    form_class = OccupancyForm
    initial_fields = ("customer", "unit", "role")
    select_related = ("unit", "customer")

    def get_success_url(self, obj):
        return safe_next(self.request, customer_tab_url(obj.customer_id, "units"))

    def list_url(self):
        customer = self.request.GET.get("customer", "")
        default = (customer_tab_url(customer, "units") if customer.isdigit()
                   else reverse("customers:customer_list"))
        return safe_next(self.request, default)


class OccupancyEndView(LoginRequiredMixin, View):
    """结束: the occupancy holds until the given day and then stays as history."""

    def post(self, request, pk):
        occupancy = get_object_or_404(
            Occupancy.objects.restrict(request.user, "change").select_related("unit", "customer"), pk=pk)
        field = forms.DateField()
        try:
            end_date = field.clean(request.POST.get("end_date") or None)
            services.occupancy_end(occupancy=occupancy, end_date=end_date, actor=request.user)
        except ValidationError as exc:
            messages.error(request, gettext("未能结束「%(occupancy)s」：%(errors)s")
                           % {"occupancy": occupancy, "errors": "；".join(exc.messages)})
        else:
            messages.success(request, gettext("已结束「%(occupancy)s」，截止 %(date)s")
                             % {"occupancy": occupancy, "date": f"{end_date:%Y-%m-%d}"})
        return redirect(safe_next(request, customer_tab_url(occupancy.customer_id, "units")))


class UnitTransferView(LoginRequiredMixin, View):
    """过户: end the current owners' occupancies and add the new owner, in one step."""

    template_name = "customers/unit_transfer.html"

    def get_unit(self):
        user = self.request.user
        if not (user.has_perm("customers.add_occupancy") and user.has_perm("customers.change_occupancy")):
            raise Http404
        return get_object_or_404(Unit.objects.restrict(user, "view").select_related("project"),
                                 pk=self.kwargs["unit_pk"])

    def get(self, request, unit_pk):
        unit = self.get_unit()
        initial = {"new_owner": request.GET["new_owner"]} if request.GET.get("new_owner") else {}
        return self.render(unit, TransferOwnershipForm(unit=unit, user=request.user, initial=initial))

    def post(self, request, unit_pk):
        unit = self.get_unit()
        form = TransferOwnershipForm(request.POST, unit=unit, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                occupancy = services.occupancy_transfer_ownership(
                    unit=unit, new_owner=data["new_owner"], on_date=data["on_date"], actor=request.user,
                    is_payer=data["is_payer"], notes=data["notes"])
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, gettext("房屋 %(code)s 已过户给「%(owner)s」，自 %(date)s 起") % {
                    "code": unit.code, "owner": occupancy.customer, "date": f"{occupancy.start_date:%Y-%m-%d}"})
                default = selectors.unit_url(unit) or customer_tab_url(occupancy.customer_id, "units")
                return redirect(safe_next(request, default))
        return self.render(unit, form, status=400)

    def render(self, unit, form, status=200):
        owners = (Occupancy.objects.current(timezone.localdate()).filter(unit=unit, role="owner")
                  .select_related("customer"))
        return TemplateResponse(self.request, self.template_name, {
            "title": gettext("过户：%(code)s") % {"code": unit.code}, "unit": unit, "form": form, "owners": owners,
            "cancel_url": safe_next(self.request, selectors.unit_url(unit) or reverse("customers:customer_list")),
        }, status=status)


# Vehicles


def _plate_cell(obj, view):
    return format_html('<a class="text-nowrap" href="{}">{}</a>', obj.get_absolute_url(), obj.plate)


def _owner_cell(obj, view):
    if obj.customer_id is None:
        return None
    return format_html('<a class="text-nowrap" href="{}">{}</a>', obj.customer.get_absolute_url(), obj.customer.name)


def _parking_text(obj, view):
    space = obj.parking_space
    if space is None:
        return None
    return f"{space.number}（{space.zone}）" if space.zone else space.number


def _parking_cell(obj, view):
    text = _parking_text(obj, view)
    return format_html('<span class="text-nowrap">{}</span>', text) if text else None


class VehicleListView(ObjectListView):
    model = Vehicle
    filterset_class = VehicleFilter
    search_fields = ("plate__icontains", "customer__name__icontains")
    search_placeholder = _("车牌号或车主姓名")
    add_url_name = "customers:vehicle_add"
    select_related = ("project", "customer", "parking_space")
    columns = [
        Column("plate", _("车牌号"), display=_plate_cell, export_value=lambda o, v: o.plate, order_by="plate"),
        Column("kind", _("车辆类型"), display=choice_display("kind"), order_by="kind"),
        Column("customer", _("车主"), display=_owner_cell, export_value=lambda o, v: o.customer and o.customer.name,
               order_by="customer__name"),
        Column("parking_space", _("车位"), display=_parking_cell, export_value=_parking_text,
               order_by="parking_space__number"),
        Column("brand", _("品牌型号")),
        Column("color", _("颜色")),
    ]

    def visible_columns(self):
        if several_projects(self.request.user):
            return [self.columns[0], _project_column(), *self.columns[1:]]
        return self.columns


class VehicleDetailView(ObjectDetailView):
    model = Vehicle
    template_name = "customers/vehicle_detail.html"
    select_related = ("project", "customer", "parking_space")


class VehicleEditView(ObjectEditView):
    model = Vehicle
    form_class = VehicleForm
    initial_fields = ("project", "customer", "plate", "kind", "brand", "color", "parking_space", "notes")

    def get_form(self, instance, data=None):
        form = super().get_form(instance, data)
        if "hx-target" in form.fields["project"].widget.attrs:
            form.fields["project"].widget.attrs["hx-get"] = self.request.path
        return form

    def get_success_url(self, obj):
        return safe_next(self.request, obj.get_absolute_url())


class VehicleDeleteView(ObjectDeleteView):
    model = Vehicle
