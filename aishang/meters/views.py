from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aishang.core.generic_views import (
    BulkAction,
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    choice_display,
)
from aishang.estate.views import SeveralProjectsMixin, date_cell, tone_badge

from . import selectors
from .choices import ReadingKind, ReadingSource
from .filters import MeterFilter, MeterReadingFilter
from .forms import (
    MeterForm,
    MeterReplaceForm,
    ReadingCorrectForm,
    ReadingGridForm,
    ReadingWithdrawForm,
    parse_reading,
)
from .models import Meter, MeterReading
from .readings import (
    ReadingRow,
    meter_replace,
    reading_approve,
    reading_correct,
    reading_withdraw,
    readings_record_many,
)

REPLACE_PERMISSIONS = ("meters.add_meter", "meters.change_meter", "meters.add_meterreading")


def _require(user, *permissions):
    if not user.has_perms(permissions):
        raise PermissionDenied(gettext("没有权限"))


def meter_place(meter, view=None):
    return meter.unit.code if meter.unit_id else (meter.name or None)


def reading_cell(name):
    """Readings with their two places, whatever the database hands back for an annotation."""
    def display(obj, view):
        value = getattr(obj, name)
        return None if value is None else f"{Decimal(value):.2f}"

    return display


def meter_building(meter, view=None):
    building = meter.building if meter.building_id else (meter.unit.building if meter.unit_id else None)
    return str(building) if building is not None else None


def meter_state_badge(meter, view=None):
    if meter.removed_on:
        return tone_badge(gettext("%(day)s 拆除") % {"day": meter.removed_on.strftime("%Y-%m-%d")}, "secondary")
    return tone_badge(gettext("在用"), "success")


def flag_badge(reading, view=None):
    if reading.flagged:
        return tone_badge(gettext("待复核"), "warning")
    if reading.reviewed_at:
        return tone_badge(gettext("已复核"), "success")
    return None


def reading_meter_link(reading, view=None):
    return format_html('<a href="{}">{}</a>', reading.get_absolute_url(), reading.meter.number)


def reading_review_link(reading, view=None):
    return format_html('<a href="{}">{}</a>', reverse("meters:reading_review", args=[reading.pk]),
                       gettext("复核") if reading.flagged else gettext("查看"))


# 仪表


class MeterListView(SeveralProjectsMixin, ObjectListView):
    model = Meter
    filterset_class = MeterFilter
    search_fields = ("number__icontains", "unit__code__icontains", "name__icontains")
    search_placeholder = _("表号、房屋编码或名称")
    add_url_name = "meters:meter_add"
    export_permission = "meters.view_meter"
    export_filename = _("仪表")
    ordering = ("project", "kind", "number")
    columns = [
        Column("number", _("表号"), link=True, order_by="number"),
        Column("kind", _("表类型"), display=choice_display("kind"), order_by="kind"),
        Column("role", _("用途"), display=choice_display("role"), order_by="role"),
        Column("place", _("房屋/位置"), display=meter_place, order_by="unit__code"),
        Column("building", _("楼栋"), display=meter_building),
        Column("parent", _("上级总表"), display=lambda m, v: m.parent.number if m.parent_id else None),
        Column("multiplier", _("倍率"), numeric=True, order_by="multiplier"),
        Column("last_value", _("最近读数"), numeric=True, display=reading_cell("last_value"),
               export_value=lambda m, v: m.last_value, order_by="last_value"),
        Column("last_on", _("最近抄表日期"), display=date_cell("last_on"), export_value=lambda m, v: m.last_on,
               order_by="last_on"),
        Column("state", _("状态"), display=meter_state_badge,
               export_value=lambda m, v: gettext("已拆除") if m.removed_on else gettext("在用"),
               order_by="removed_on"),
    ]

    def get_queryset(self):
        return selectors.meter_list_queryset(self.request.user)

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        if self.request.user.has_perm("meters.add_meterreading"):
            context["extra_buttons"] = [*context["extra_buttons"],
                                        (gettext("抄表录入"), reverse("meters:reading_entry"), "pencil-square")]
        return context


class MeterDetailView(ObjectDetailView):
    model = Meter
    template_name = "meters/meter_detail.html"
    select_related = ("project", "unit", "building", "parent", "replaces")

    def get_extra_context(self, obj, active_tab):
        user = self.request.user
        history = Paginator(selectors.meter_history(obj), 50).get_page(self.request.GET.get("page"))
        return {
            "tree": selectors.meter_tree(obj),
            "chain": selectors.replacement_chain(obj),
            "history": history,
            "latest_id": selectors.latest_reading_id(obj),
            "chart": selectors.usage_chart(obj),
            "can_replace": obj.is_active and user.has_perms(REPLACE_PERMISSIONS),
            "can_review": user.has_perm("meters.change_meterreading") or user.has_perm("meters.delete_meterreading"),
            "can_read": obj.is_active and user.has_perm("meters.add_meterreading"),
            "entry_url": _entry_url(obj),
            "state_badge": meter_state_badge(obj),
        }


def _entry_url(meter):
    building_id = meter.unit.building_id if meter.unit_id else meter.building_id
    if not building_id:
        return None
    query = {"project": meter.project_id, "building": building_id, "kind": meter.kind}
    return f"{reverse('meters:reading_entry')}?{urlencode(query)}"


class MeterEditView(ObjectEditView):
    model = Meter
    form_class = MeterForm
    template_name = "meters/meter_form.html"
    select_related = ("project", "unit")
    initial_fields = ("project", "kind", "role", "unit", "building", "parent")


class MeterDeleteView(ObjectDeleteView):
    model = Meter


class MeterReplaceView(LoginRequiredMixin, View):
    """换表: the old meter's last reading, and a new meter in its place starting from its own reading."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.meter = get_object_or_404(Meter.objects.restrict(request.user, "view")
                                       .select_related("project", "unit"), pk=kwargs["pk"])
        _require(request.user, *REPLACE_PERMISSIONS)
        if not self.meter.is_active:
            messages.error(request, gettext("该表已于 %(day)s 拆除") % {"day": self.meter.removed_on})
            return redirect(self.meter.get_absolute_url())
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return self.render(MeterReplaceForm())

    def post(self, request, pk):
        form = MeterReplaceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _final, successor = meter_replace(meter=self.meter, final_value=data["final_value"], on=data["on"],
                                                  number=data["number"].strip(),
                                                  initial_reading=data["initial_reading"], actor=request.user)
            except ValidationError as error:
                _errors_to_form(form, error, {"value": "final_value", "read_on": "on"})
            else:
                messages.success(request, gettext("已换表：旧表 %(old)s 拆除，新表 %(new)s 启用")
                                 % {"old": self.meter.number, "new": successor.number})
                return redirect(successor.get_absolute_url())
        return self.render(form, status=400)

    def render(self, form, status=200):
        previous = selectors.grid_rows([self.meter], None)[0]
        return TemplateResponse(self.request, "meters/meter_replace.html", {
            "title": gettext("换表：%(meter)s") % {"meter": self.meter}, "meter": self.meter, "form": form,
            "previous": previous}, status=status)


def _errors_to_form(form, error, renames=None):
    """A service's ValidationError shown at the form's fields (under the names the form uses)."""
    renames = renames or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, messages_ in error.message_dict.items():
        target = renames.get(name, name)
        for message in messages_:
            form.add_error(target if target in form.fields else None, message)


# 抄表录入


class ReadingEntryView(LoginRequiredMixin, View):
    """The reading grid of a building: every active meter of a kind in walking order, one input each; saving
    records every filled row in one transaction, or none with the refused rows marked."""

    template_name = "meters/reading_entry.html"
    summary_key = "meters_entry_summary"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, "meters.add_meterreading")
        return super().dispatch(request, *args, **kwargs)

    def choice(self, data):
        form = ReadingGridForm(data if data.get("building") or data.get("project") else None, user=self.request.user)
        if form.is_bound and not form.is_valid():
            for name in ("project", "building", "entrance"):
                if name in form.errors and str(form.data.get(name, "")).isdigit():
                    raise Http404  # an id outside the user's scope: as if it did not exist
        return form

    def get(self, request):
        form = self.choice(request.GET)
        rows = self.rows(form)
        summary = request.session.pop(self.summary_key, None)
        if summary is not None:
            summary["flagged"] = list(MeterReading.objects.restrict(request.user, "view")
                                      .filter(pk__in=summary["flagged_ids"]).select_related("meter", "meter__unit"))
        return self.render(form, rows, summary=summary)

    def post(self, request):
        form = self.choice(request.POST)
        rows = self.rows(form)
        if rows is None:
            return self.render(form, rows, status=400)
        read_on = form.cleaned_data["read_on"]
        to_record = []
        for row in rows:
            key = str(row.meter.pk)
            row.value = request.POST.get(f"value-{key}", "").strip()
            row.rollover = bool(request.POST.get(f"rollover-{key}"))
            row.note = request.POST.get(f"note-{key}", "").strip()[:200]
            if row.done is not None or not row.value:
                continue
            try:
                value = parse_reading(row.value)
            except ValueError as error:
                row.errors = [str(error)]
                continue
            to_record.append(ReadingRow(key=key, meter=row.meter, value=value, read_on=read_on, note=row.note,
                                        kind=ReadingKind.ROLLOVER if row.rollover else ReadingKind.NORMAL))
        unreadable = any(row.errors for row in rows)
        if not unreadable and not to_record:
            messages.warning(request, gettext("没有填写本期读数，未保存任何记录"))
            return self.render(form, rows, status=400)
        try:
            # With a row that is not even a number, the others are still checked (and nothing saved), so that
            # every row to fix is marked at once.
            recorded = readings_record_many(rows=to_record, actor=request.user, source=ReadingSource.WEB,
                                            dry_run=unreadable)
        except ValidationError as error:
            errors = error.message_dict
            for row in rows:
                row.errors = row.errors or errors.get(str(row.meter.pk), [])
        else:
            if not unreadable:
                request.session[self.summary_key] = {
                    "recorded": len(recorded), "flagged_ids": [r.pk for r in recorded if r.flagged]}
                query = {name: request.POST.get(name, "") for name in ("project", "building", "entrance", "kind",
                                                                        "read_on")}
                return redirect(f"{request.path}?{urlencode(query)}")
        messages.error(request, gettext("有读数未通过检查，本次未保存任何读数；请修改标红的行后重新保存"))
        return self.render(form, rows, status=400)

    def rows(self, form):
        if not form.is_bound or not form.is_valid():
            return None
        data = form.cleaned_data
        meters = selectors.grid_meters(building=data["building"], kind=data["kind"], entrance=data["entrance"])
        return selectors.grid_rows(meters, data["read_on"])

    def render(self, form, rows, summary=None, status=200):
        done = sum(1 for row in rows if row.done is not None) if rows else 0
        return TemplateResponse(self.request, self.template_name, {
            "title": gettext("抄表录入"), "form": form, "rows": rows, "summary": summary,
            "done_count": done, "total_count": len(rows) if rows else 0,
            "has_errors": any(row.errors for row in rows) if rows else False}, status=status)


# 抄表记录


def bulk_approve(view, queryset):
    readings = list(queryset.filter(flagged=True))
    for reading in readings:
        reading_approve(reading=reading, actor=view.request.user)
    count = len(readings)
    return ngettext("已复核通过 %(count)s 条读数", "已复核通过 %(count)s 条读数", count) % {"count": count}


class MeterReadingListView(SeveralProjectsMixin, ObjectListView):
    model = MeterReading
    title = _("抄表记录")
    filterset_class = MeterReadingFilter
    search_fields = ("meter__number__icontains", "meter__unit__code__icontains", "meter__name__icontains")
    search_placeholder = _("表号、房屋编码或名称")
    export_permission = "meters.view_meterreading"
    export_filename = _("抄表记录")
    ordering = ("-read_on", "-pk")
    bulk_actions = [BulkAction("approve", _("复核通过"), "meters.change_meterreading", bulk_approve,
                               tone="outline-success", confirm=_("确定将所选待复核读数标为复核通过吗？"))]
    columns = [
        Column("read_on", _("本期日期"), display=date_cell("read_on"), export_value=lambda r, v: r.read_on,
               order_by="read_on"),
        Column("meter", _("表号"), display=reading_meter_link, export_value=lambda r, v: r.meter.number,
               order_by="meter__number"),
        Column("kind", _("表类型"), display=lambda r, v: r.meter.get_kind_display(), order_by="meter__kind"),
        Column("place", _("房屋/位置"), display=lambda r, v: meter_place(r.meter), order_by="meter__unit__code"),
        Column("previous_value", _("上期读数"), numeric=True),
        Column("previous_on", _("上期日期"), display=date_cell("previous_on"),
               export_value=lambda r, v: r.previous_on),
        Column("value", _("本期读数"), numeric=True),
        Column("usage", _("用量"), numeric=True, order_by="usage"),
        Column("reading_kind", _("类型"), display=choice_display("kind"), order_by="kind"),
        Column("flagged", _("待复核"), display=flag_badge, export_value=lambda r, v: r.flag_reason or r.flagged,
               order_by="flagged"),
        Column("source", _("来源"), display=choice_display("source"), order_by="source"),
        Column("recorded_by", _("录入人"), display=lambda r, v: str(r.recorded_by) if r.recorded_by_id else None),
        Column("review", _("操作"), display=reading_review_link, export=False),
    ]

    def get_queryset(self):
        return selectors.reading_list_queryset(self.request.user)

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        if self.request.user.has_perm("meters.add_meterreading"):
            context["extra_buttons"] = [*context["extra_buttons"],
                                        (gettext("抄表录入"), reverse("meters:reading_entry"), "pencil-square"),
                                        (gettext("抄表导入"), reverse("meters:reading_import"), "upload")]
        return context


class ReadingReviewView(LoginRequiredMixin, View):
    """One reading, and what a reviewer may do with it: 复核通过 when flagged; correct or withdraw (with a reason)
    when it is the meter's latest."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        user = request.user
        self.reading = get_object_or_404(MeterReading.objects.restrict(user, "view")
                                         .select_related("meter", "meter__unit", "recorded_by", "reviewed_by"),
                                         pk=kwargs["pk"])
        self.can_change = user.has_perm("meters.change_meterreading")
        self.can_delete = user.has_perm("meters.delete_meterreading")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return self.render()

    def post(self, request, pk):
        action = request.POST.get("action")
        reading, user = self.reading, request.user
        correct_form = withdraw_form = None
        if action == "approve":
            _require(user, "meters.change_meterreading")
            return self.done(lambda: reading_approve(reading=reading, actor=user), gettext("已复核通过"))
        if action == "correct":
            _require(user, "meters.change_meterreading")
            correct_form = ReadingCorrectForm(request.POST, reading=reading)
            if correct_form.is_valid():
                data = correct_form.cleaned_data
                try:
                    corrected = reading_correct(reading=reading, value=data["value"],
                                                kind=data.get("kind", reading.kind), reason=data["reason"],
                                                actor=user)
                except ValidationError as error:
                    _errors_to_form(correct_form, error)
                else:
                    message = gettext("已更正读数，用量 %(usage)s") % {"usage": corrected.usage}
                    if corrected.flagged:
                        message += gettext("；仍待复核：%(reason)s") % {"reason": corrected.flag_reason}
                    messages.success(request, message)
                    return redirect(corrected.get_absolute_url())
        elif action == "withdraw":
            _require(user, "meters.delete_meterreading")
            withdraw_form = ReadingWithdrawForm(request.POST)
            if withdraw_form.is_valid():
                try:
                    reading_withdraw(reading=reading, reason=withdraw_form.cleaned_data["reason"], actor=user)
                except ValidationError as error:
                    _errors_to_form(withdraw_form, error)
                else:
                    messages.success(request, gettext("已撤销 %(day)s 的读数 %(value)s") % {
                        "day": reading.read_on.strftime("%Y-%m-%d"), "value": reading.value})
                    return redirect(reading.meter.get_absolute_url())
        else:
            raise PermissionDenied(gettext("没有执行该操作的权限"))
        return self.render(correct_form=correct_form, withdraw_form=withdraw_form, status=400)

    def done(self, call, message):
        try:
            call()
        except ValidationError as error:
            messages.error(self.request, "；".join(error.messages))
        else:
            messages.success(self.request, message)
        return redirect(reverse("meters:reading_review", args=[self.reading.pk]))

    def render(self, correct_form=None, withdraw_form=None, status=200):
        reading = self.reading
        is_latest = selectors.latest_reading_id(reading.meter) == reading.pk
        if correct_form is None:
            correct_form = ReadingCorrectForm(reading=reading, initial={"value": reading.value, "kind": reading.kind})
        return TemplateResponse(self.request, "meters/reading_review.html", {
            "title": gettext("抄表读数：%(reading)s") % {"reading": reading}, "reading": reading,
            "meter": reading.meter, "is_latest": is_latest,
            "can_approve": self.can_change and reading.flagged,
            "can_correct": self.can_change and is_latest,
            "can_withdraw": (self.can_delete and is_latest
                             and not (reading.kind == ReadingKind.FINAL and not reading.meter.is_active)),
            "correct_form": correct_form, "withdraw_form": withdraw_form or ReadingWithdrawForm()}, status=status)


UNIT_SHARES_PER_PAGE = 20


def unit_meters_tab(request, unit):
    """The 水电与公摊 tab of a unit's page: its meters with their last reading, and its shares of allocation runs."""
    user = request.user
    context = {"unit_meters": list(selectors.unit_meters(user, unit))}
    if user.has_perm("meters.view_allocationrun"):
        shares = selectors.unit_allocation_shares(user, unit)
        context["shares_page"] = Paginator(shares, UNIT_SHARES_PER_PAGE).get_page(request.GET.get("page"))
    return context
