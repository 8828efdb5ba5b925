"""统计台账 pages: the index of reports, each report with its filters, paged table, totals, chart and Excel export,
the printable 对账单, and 欠费 with its 催缴 action. The figures come from ``billing.reports``."""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aishang.core.forms import style_widgets
from aishang.core.templatetags.aishang import money
from aishang.estate.models import Building, Project, Unit
from aishang.extras import views_jobs
from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind
from aishang.extras.exports import xlsx_response
from aishang.extras.models import Job

from . import reports
from .models import Bill, BillVoid, FeeItem, Payment, PaymentMethod, Waiver
from .reports import Dimension, Kind, ReportFilters, View

VIEW_BILLS, VIEW_PAYMENTS, EXPORT = "billing.view_bill", "billing.view_payment", "billing.export_bill"
PAGE_SIZE = 50
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


class MonthField(forms.CharField):
    """A billing month typed as 2026-11 (the browser's month input sends that)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"})

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        match = MONTH_RE.match(value)
        if not match or not 1 <= int(match[2]) <= 12 or not 1900 <= int(match[1]) <= 2999:
            raise forms.ValidationError(_("请按 2026-11 的格式填写月份"))
        return datetime.date(int(match[1]), int(match[2]), 1)

    def prepare_value(self, value):
        return f"{value:%Y-%m}" if isinstance(value, datetime.date) else value


def _date_field(label):
    return forms.DateField(label=label, required=False, widget=forms.DateInput(),
                           error_messages={"invalid": _("请按 2026-11-23 的格式填写日期")})


class ReportFilterForm(forms.Form):
    """Every filter of every report; a report keeps the fields it uses. Choices stop at the user's scope."""

    mode = forms.ChoiceField(label=gettext_lazy("显示"), required=False,
                             choices=[("detail", gettext_lazy("明细")), ("summary", gettext_lazy("汇总"))])
    view = forms.ChoiceField(label=gettext_lazy("口径"), required=False, choices=View.CHOICES)
    group_by = forms.ChoiceField(label=gettext_lazy("汇总方式"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("类别"), required=False,
                             choices=[("", gettext_lazy("实收和冲抵")), *Kind.CHOICES])
    change_kind = forms.ChoiceField(label=gettext_lazy("变更类型"), required=False,
                                    choices=[("", gettext_lazy("全部")), *reports.ChangeKind.CHOICES])
    project = forms.ModelChoiceField(label=gettext_lazy("项目"), queryset=Project.objects.none(), required=False,
                                     empty_label=gettext_lazy("全部"))
    building = forms.ModelChoiceField(label=gettext_lazy("楼栋"), queryset=Building.objects.none(), required=False,
                                      empty_label=gettext_lazy("全部"))
    fee_item = forms.ModelChoiceField(label=gettext_lazy("收费项目"), queryset=FeeItem.objects.none(),
                                      required=False, empty_label=gettext_lazy("全部"))
    cashier = forms.ModelChoiceField(label=gettext_lazy("收款人"), queryset=None, required=False,
                                     empty_label=gettext_lazy("全部"))
    method = forms.ChoiceField(label=gettext_lazy("收款方式"), required=False,
                               choices=[("", gettext_lazy("全部")), *PaymentMethod.choices])
    unit = forms.CharField(label=gettext_lazy("房屋"), required=False, max_length=60,
                           widget=forms.TextInput(attrs={"placeholder": "1-2-301"}))
    customer = forms.CharField(label=gettext_lazy("客户"), required=False, max_length=100,
                               widget=forms.TextInput(attrs={"placeholder": gettext_lazy("姓名或手机号")}))
    date_from = _date_field(gettext_lazy("日期从"))
    date_to = _date_field(gettext_lazy("日期到"))
    period_from = MonthField(label=gettext_lazy("账期从"), required=False)
    period_to = MonthField(label=gettext_lazy("账期到"), required=False)
    as_of = _date_field(gettext_lazy("统计日期"))
    order = forms.ChoiceField(label=gettext_lazy("排序"), required=False, choices=reports.ArrearsOrder.CHOICES)

    def __init__(self, data, *, user, report):
        super().__init__(data)
        from aishang.users.models import User

        self.user, self.report = user, report
        for name in list(self.fields):
            if name not in report.fields:
                del self.fields[name]
        querysets = {
            "project": Project.objects.within_scope(user).order_by("name"),
            "building": Building.objects.within_scope(user).select_related("project").order_by("project", "code"),
            "fee_item": FeeItem.objects.within_scope(user).order_by("code"),
            "cashier": (User.objects.all() if user.is_superuser else User.objects.filter(company_id=user.company_id))
            .order_by("username"),
        }
        for name, queryset in querysets.items():
            if name in self.fields:
                self.fields[name].queryset = queryset
        if "building" in self.fields:
            self.fields["building"].label_from_instance = lambda building: f"{building.project.name} {building}"
        if "cashier" in self.fields and report.cashier_label:
            self.fields["cashier"].label = report.cashier_label
        if "group_by" in self.fields:
            self.fields["group_by"].choices = [(d, Dimension.LABELS[d]) for d in report.dimensions_for(
                (data or {}).get("view") or report.default_view)]
        style_widgets(self)

    def _one(self, queryset, value, *, missing, ambiguous):
        found = list(queryset[:2])
        if not found:
            raise forms.ValidationError(missing % {"value": value})
        if len(found) > 1:
            raise forms.ValidationError(ambiguous % {"value": value})
        return found[0]

    def clean_unit(self):
        code = self.cleaned_data.get("unit", "").strip()
        if not code:
            return None
        units = Unit.objects.within_scope(self.user).filter(code=code)
        project = self.data.get("project")
        if project and str(project).isdigit():
            units = units.filter(project_id=project)
        return self._one(units, code, missing=_("没有找到房屋「%(value)s」"),
                         ambiguous=_("多个项目都有房屋「%(value)s」，请先选择项目"))

    def clean_customer(self):
        from django.db.models import Q

        from aishang.customers.models import Customer

        text = self.cleaned_data.get("customer", "").strip()
        if not text:
            return None
        customers = Customer.objects.within_scope(self.user).filter(Q(name=text) | Q(mobile=text))
        return self._one(customers, text, missing=_("没有找到客户「%(value)s」"),
                         ambiguous=_("有多位客户叫「%(value)s」，请输入手机号"))

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to", "as_of"):
            if data.get(name) and not datetime.date(1900, 1, 1) <= data[name] <= datetime.date(2999, 12, 31):
                self.add_error(name, _("日期须在 1900 年到 2999 年之间"))
        for start, end, message in (("date_from", "date_to", _("结束日期不能早于开始日期")),
                                    ("period_from", "period_to", _("结束账期不能早于开始账期"))):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, message)
        return data

    def filters(self):
        data = {name: value for name, value in self.cleaned_data.items()
                if name in ReportFilters.__dataclass_fields__ and value not in (None, "")}
        data.setdefault("view", self.report.default_view)
        return ReportFilters(**data)


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    permissions: tuple
    fields: tuple
    build: object  # callable(user, filters, mode, dimension) -> ReportTable
    default_view: str = View.CASH
    modes: tuple = ()
    dimensions: dict | None = None  # view -> dimensions
    cashier_label: str | None = None
    links: dict | None = None  # column key -> (url name, row key of the pk)
    model: type = Bill

    def dimensions_for(self, view):
        if not self.dimensions:
            return ()
        return self.dimensions.get(view) or self.dimensions.get(self.default_view)

    def allowed(self, user):
        return all(user.has_perm(permission) for permission in self.permissions)


FILTERS = ("project", "building", "fee_item", "unit", "customer")
BILL_DIMENSIONS = (Dimension.FEE_ITEM, Dimension.PERIOD, Dimension.PROJECT, Dimension.BUILDING)
CORRECTION_DIMENSIONS = {View.CASH: (Dimension.FEE_ITEM, Dimension.MONTH, Dimension.PROJECT, Dimension.BUILDING),
                         View.ACCRUAL: BILL_DIMENSIONS}
RECEIPT_LINK = {"receipt_number": ("billing:payment_receipt", "payment_id")}


def _ledger(detail, summary):
    def build(user, filters, mode, dimension):
        return summary(user, filters, dimension) if mode == "summary" else detail(user, filters)
    return build


REPORTS = [
    Report("collections", gettext_lazy("收款明细"),
           gettext_lazy("每笔收款的各收款方式，以及作废、退款（负数）；按账期口径时为每笔收款核销到各账单的金额"),
           (VIEW_PAYMENTS,), ("view", "kind", *FILTERS, "cashier", "method", "date_from", "date_to", "period_from",
                              "period_to"),
           lambda user, filters, mode, dimension: reports.collections_detail(user, filters), links=RECEIPT_LINK,
           model=Payment),
    Report("collections-summary", gettext_lazy("收款汇总"),
           gettext_lazy("按收款方式、收款人、项目、楼栋、日期、收费项目或账期汇总收款、作废退款、实收和冲抵"),
           (VIEW_PAYMENTS,), ("view", "group_by", "kind", *FILTERS, "cashier", "method", "date_from", "date_to",
                              "period_from", "period_to"),
           lambda user, filters, mode, dimension: reports.collections_summary(user, filters, dimension),
           dimensions={View.CASH: reports.CASH_DIMENSIONS, View.ACCRUAL: reports.ACCRUAL_DIMENSIONS},
           model=Payment),
    Report("collection-rate", gettext_lazy("收费情况统计"),
           gettext_lazy("本期账单的收缴率，以及往期欠费的清欠率"),
           (VIEW_BILLS,), ("group_by", "project", "building", "fee_item", "period_from", "period_to"),
           lambda user, filters, mode, dimension: reports.collection_rate(user, filters, dimension),
           default_view=View.ACCRUAL, dimensions={View.ACCRUAL: BILL_DIMENSIONS}),
    Report("receivable", gettext_lazy("应收台账"),
           gettext_lazy("各账单的应收、优惠、减免、作废、已收和欠费，按账期"),
           (VIEW_BILLS,), ("mode", "group_by", *FILTERS, "period_from", "period_to"),
           _ledger(reports.receivable_detail, reports.receivable_summary), default_view=View.ACCRUAL,
           modes=("detail", "summary"), dimensions={View.ACCRUAL: BILL_DIMENSIONS},
           links={"subject": ("billing:bill_detail", "pk")}),
    Report("waivers", gettext_lazy("减免台账"), gettext_lazy("已审批的减免：谁申请、谁审批、原因"),
           (VIEW_BILLS,), ("mode", "view", "group_by", *FILTERS, "cashier", "date_from", "date_to", "period_from",
                           "period_to"),
           _ledger(lambda user, filters: reports.corrections_detail(Waiver, user, filters),
                   lambda user, filters, dimension: reports.corrections_summary(Waiver, user, filters, dimension)),
           modes=("detail", "summary"), dimensions=CORRECTION_DIMENSIONS, cashier_label=gettext_lazy("申请人")),
    Report("voids", gettext_lazy("作废台账"), gettext_lazy("已审批的账单作废：谁申请、谁审批、原因"),
           (VIEW_BILLS,), ("mode", "view", "group_by", *FILTERS, "cashier", "date_from", "date_to", "period_from",
                           "period_to"),
           _ledger(lambda user, filters: reports.corrections_detail(BillVoid, user, filters),
                   lambda user, filters, dimension: reports.corrections_summary(BillVoid, user, filters, dimension)),
           modes=("detail", "summary"), dimensions=CORRECTION_DIMENSIONS, cashier_label=gettext_lazy("申请人")),
    Report("changes", gettext_lazy("变更记录"),
           gettext_lazy("每一笔减免、作废、退款和收据补打：谁、何时、为什么"),
           (VIEW_BILLS, VIEW_PAYMENTS), ("change_kind", *FILTERS, "cashier", "date_from", "date_to"),
           lambda user, filters, mode, dimension: reports.changes_report(user, filters),
           cashier_label=gettext_lazy("经办人")),
    Report("arrears", gettext_lazy("欠费账龄"),
           gettext_lazy("按房屋列出欠费，分 0–30、31–90、91–365、365 天以上；可发送催缴短信"),
           (VIEW_BILLS,), (*FILTERS, "as_of", "order"),
           lambda user, filters, mode, dimension: reports.arrears_report(user, filters),
           links={"subject": ("billing:report_statement_unit", "unit_id")}),
]
REPORTS_BY_SLUG = {report.slug: report for report in REPORTS}
STATEMENT = Report("statement", gettext_lazy("对账单"),
                   gettext_lazy("房屋或客户在一段时间内的应收、收款、减免、作废、退款和余额，可打印"),
                   (VIEW_BILLS,), ("project", "unit", "customer", "date_from", "date_to"), lambda *args: None)


def _defaults(report, data):
    """Filters not given take the usual ones: this month (by date or by billing month) and today."""
    today = timezone.localdate()
    data = data.copy()
    view = data.get("view") or report.default_view
    defaults = {"as_of": today.isoformat(), "mode": report.modes[0] if report.modes else ""}
    if report.slug == "statement":
        defaults.update(date_from=today.replace(month=1, day=1).isoformat(), date_to=today.isoformat())
    elif view == View.CASH and "date_from" in report.fields and not (data.get("date_from") or data.get("date_to")):
        defaults.update(date_from=today.replace(day=1).isoformat(), date_to=today.isoformat())
    if (view == View.ACCRUAL or "view" not in report.fields) and "period_from" in report.fields and not (
            data.get("period_from") or data.get("period_to")):
        defaults.update(period_from=f"{today:%Y-%m}", period_to=f"{today:%Y-%m}")
    dimensions = report.dimensions_for(view)
    if dimensions:
        defaults["group_by"] = dimensions[0]
    for name, value in defaults.items():
        if name in report.fields and not data.get(name):
            data[name] = value
    if "view" in report.fields and not data.get("view"):
        data["view"] = view
    return data


def _report_or_404(slug, user):
    report = REPORTS_BY_SLUG.get(slug)
    if report is None:
        raise Http404
    if not report.allowed(user):
        raise PermissionDenied(_("没有查看该报表的权限"))
    return report


def _cell(value, kind):
    if value is None or value == "":
        return "--"
    if kind == "money":
        return money(value)
    if kind == "percent":
        return f"{value}%"
    if kind == "datetime":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if kind == "date":
        return value.strftime("%Y-%m-%d")
    return str(value)


def _rows_for_page(report, table, rows):
    shown = []
    for row in table.page_rows(rows):
        cells = []
        for column in table.columns:
            url = None
            link = (report.links or {}).get(column.key)
            if link and row.get(link[1]):
                url = reverse(link[0], args=[row[link[1]]])
            cells.append({"text": _cell(row.get(column.key), column.kind), "url": url,
                          "numeric": column.kind in ("money", "int", "percent")})
        shown.append({"row": row, "cells": cells})
    return shown


def _totals_cells(table):
    if not table.totals:
        return []
    cells = []
    for index, column in enumerate(table.columns):
        value = table.totals.get(column.key)
        text = _cell(value, column.kind) if value is not None else ""
        cells.append({"text": text if index else _("合计（全部筛选结果）"), "numeric": column.kind != "text"})
    return cells


def _excel_value(value, kind):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if kind == "percent" and value is not None:
        return Decimal(value)
    if isinstance(value, (Decimal, int, datetime.date)) or value is None:
        return value
    return str(value)


def _export(request, report, table, filename=None):
    if not request.user.has_perm(EXPORT):
        raise PermissionDenied(_("没有导出权限"))
    count = 0

    def chunks(size=2000):
        if hasattr(table.rows, "chunks"):  # one statement for the whole filter (欠费账龄), not a pass per chunk
            yield from table.rows.chunks(size)
            return
        start = 0
        while True:
            chunk = table.rows[start:start + size]
            yield chunk
            if len(chunk) < size:
                break
            start += size

    def rows():
        nonlocal count
        for chunk in chunks():
            chunk = table.page_rows(chunk)
            for row in chunk:
                yield [_excel_value(row.get(column.key), column.kind) for column in table.columns]
            count += len(chunk)
        if table.totals:
            yield [_("合计") if index == 0 else _excel_value(table.totals.get(column.key), column.kind)
                   for index, column in enumerate(table.columns)]

    response = xlsx_response(filename or str(report.title), [str(column.label) for column in table.columns], rows(),
                             sheet_title=str(report.title))
    audit_record(kind=AuditKind.EXPORT, user=request.user, model=report.model,
                 detail={"report": report.slug, "count": count, "query": request.GET.urlencode()})
    return response


def _split_cards(table):
    split = table.extra.get("split")
    if not split:
        return []
    return [(_("收款"), split["gross"]), (_("作废/退款"), split["reversed"]), (_("净收款"), split["net"]),
            (_("其中实收"), split["received"]), (_("其中冲抵"), split["offset"])]


@login_required
def report_index(request):
    available = [report for report in REPORTS if report.allowed(request.user)]
    if not available:
        raise PermissionDenied(_("没有查看报表的权限"))
    shortcuts = []
    if request.user.has_perm(VIEW_PAYMENTS):
        shortcuts = [(_("实收台账"), reverse("billing:report", args=["collections"]) + "?kind=received"),
                     (_("冲抵台账"), reverse("billing:report", args=["collections"]) + "?kind=offset")]
    return render(request, "billing/reports/index.html", {
        "reports": available, "statement": STATEMENT if STATEMENT.allowed(request.user) else None,
        "shortcuts": shortcuts})


def _build(request, report):
    form = ReportFilterForm(_defaults(report, request.GET), user=request.user, report=report)
    if not form.is_valid():
        return form, None
    filters = form.filters()
    mode = form.cleaned_data.get("mode") or (report.modes[0] if report.modes else "")
    dimension = form.cleaned_data.get("group_by") or None
    return form, report.build(request.user, filters, mode, dimension)


@login_required
def report_detail(request, slug):
    report = _report_or_404(slug, request.user)
    form, table = _build(request, report)
    context = {"report": report, "form": form, "table": table, "reports": REPORTS,
               "can_export": request.user.has_perm(EXPORT)}
    if table is None:
        return render(request, "billing/reports/report.html", context, status=400)
    if request.GET.get("export") == "xlsx":
        return _export(request, report, table)
    number = request.GET.get("page", "")
    if hasattr(table.rows, "prefetch"):  # the page brings the totals and the count along: one pass, not three
        number = int(number) if number.isdigit() and int(number) > 0 else 1
        table.rows.prefetch((number - 1) * PAGE_SIZE, number * PAGE_SIZE)
    page = Paginator(table.rows, PAGE_SIZE).get_page(number)
    chart = dict(table.chart) if table.chart else None
    context.update(page=page, rows=_rows_for_page(report, table, page.object_list), totals=_totals_cells(table),
                   cards=_split_cards(table), chart=chart if chart and chart["categories"] else None,
                   selectable=report.slug == "arrears" and _may_remind(request.user))
    if report.slug == "arrears":
        context.update(_remind_job_context(request))
        return render(request, "billing/reports/arrears.html", context)
    return render(request, "billing/reports/report.html", context)


def _remind_job_context(request):
    """The 催缴 job named in the address (``job``), shown with its progress and result above the report."""
    querystring = request.GET.copy()
    job_id = querystring.pop("job", [""])[-1]
    context = {"querystring": querystring.urlencode()}
    if job_id.isdigit() and len(job_id) <= 18:
        job = Job.objects.restrict(request.user, action=None).filter(kind=reports.REMIND_JOB, pk=job_id).first()
        if job is not None:
            context.update(job=job, result_items=[(REMIND_RESULT_LABELS.get(key, key), value)
                                                  for key, value in (job.result or {}).items()])
    return context


def _may_remind(user):
    return user.has_perm(VIEW_BILLS) and user.has_perm(VIEW_PAYMENTS)


# A page's ticked units are reminded while the user waits; more, or every unit the filters find, in a job.
REMIND_IN_REQUEST = 200
REMIND_RESULT_LABELS = {"queued": gettext_lazy("已加入发送队列（条）"), "already": gettext_lazy("今天已催缴过（户）"),
                        "unreachable": gettext_lazy("无缴费人或手机号（户）")}
views_jobs.RESULT_LABELS.update(REMIND_RESULT_LABELS)


@login_required
@require_POST
def arrears_remind_view(request):
    """催缴: remind the chosen units (or every unit the filters find) of what they owe, at most once a day each."""
    report = _report_or_404("arrears", request.user)
    if not _may_remind(request.user):
        raise PermissionDenied(_("没有催缴权限"))
    querystring = request.POST.get("querystring", "")
    back = f"{reverse('billing:report', args=['arrears'])}?{querystring}"
    from django.http import QueryDict

    form = ReportFilterForm(_defaults(report, QueryDict(querystring)), user=request.user, report=report)
    if not form.is_valid():
        messages.error(request, _("筛选条件有误，请先改正后再催缴"))
        return redirect(back)
    unit_ids = None
    if not request.POST.get("select_all_matching"):
        unit_ids = sorted({int(pk) for pk in request.POST.getlist("pk") if pk.isdigit() and len(pk) <= 18})
        if not unit_ids:
            messages.warning(request, _("请先勾选要催缴的房屋"))
            return redirect(back)
    if unit_ids is None or len(unit_ids) > REMIND_IN_REQUEST:
        job = reports.arrears_remind_start(filters=form.filters(), unit_ids=unit_ids, actor=request.user)
        return redirect(f"{back}&job={job.pk}" if querystring else f"{back}job={job.pk}")
    result = reports.arrears_remind(user=request.user, filters=form.filters(), unit_ids=unit_ids,
                                    actor=request.user)
    messages.success(request, result.summary())
    return redirect(back)


@login_required
def statement_view(request, unit_pk=None):
    if not STATEMENT.allowed(request.user):
        raise PermissionDenied(_("没有查看对账单的权限"))
    data = _defaults(STATEMENT, request.GET)
    if unit_pk is not None:
        unit = Unit.objects.within_scope(request.user).filter(pk=unit_pk).select_related("project").first()
        if unit is None:
            raise Http404
        data["unit"], data["project"] = unit.code, str(unit.project_id)
    form = ReportFilterForm(data, user=request.user, report=STATEMENT)
    context = {"report": STATEMENT, "form": form, "result": None}
    if not form.is_valid():
        return render(request, "billing/reports/statement.html", context, status=400)
    unit, customer = form.cleaned_data.get("unit"), form.cleaned_data.get("customer")
    if unit is None and customer is None:
        context["prompt"] = _("请输入房屋编码，或客户的姓名、手机号")
        return render(request, "billing/reports/statement.html", context)
    context["result"] = reports.statement(request.user, unit=unit, customer=None if unit else customer,
                                          date_from=form.cleaned_data["date_from"],
                                          date_to=form.cleaned_data["date_to"])
    context["company"] = (unit.project.company if unit else customer.project.company)
    return render(request, "billing/reports/statement.html", context)
