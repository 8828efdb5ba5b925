"""统计台账 over the API: ``/api/v1/reports/<report>/`` and ``/api/v1/reports/statement/`` (read-only), and
``POST /api/v1/reports/arrears/remind/`` (催缴, a background job followed at ``/api/v1/jobs/<id>/``).

The same filters as the pages (and the same Chinese messages for bad ones, at 400), the same figures: rows of a
page, the totals of everything the filters find, and the chart's series. Money is a string of yuan with two places.
"""

import datetime
from decimal import Decimal

from django.http import QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from aishang.extras.api.jobs import JobDetailSerializer

from .. import reports
from ..views_reports import REPORTS, REPORTS_BY_SLUG, STATEMENT, ReportFilterForm, _defaults, _may_remind

MAX_PAGE_SIZE = 500
ROW_IDS = ("pk", "payment_id", "unit_id", "group_key")


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)


def _positive(params, name, default, limit=None):
    value = params.get(name, "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise exceptions.ValidationError({name: ["请输入正整数"]})
    return min(int(value), limit) if limit else int(value)


def _form(request, report, data=None):
    params = QueryDict(mutable=True)
    if data is None:
        for key, values in request.query_params.lists():
            params.setlist(key, values)
    else:
        for key in report.fields:
            if data.get(key) not in (None, ""):
                params[key] = str(data[key])
    form = ReportFilterForm(_defaults(report, params), user=request.user, report=report)
    if not form.is_valid():
        raise exceptions.ValidationError({field: [str(message) for message in messages]
                                          for field, messages in form.errors.items()})
    return form


FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, description=description) for name, description in (
        ("view", "cash（按收款日期）或 accrual（按账期）"), ("mode", "detail 或 summary"),
        ("group_by", "project, building, fee_item, period, day, month, cashier, method"),
        ("kind", "received（实收）或 offset（冲抵）"), ("change_kind", "变更类型"),
        ("project", "项目 id"), ("building", "楼栋 id"), ("fee_item", "收费项目 id"), ("cashier", "收款人 id"),
        ("method", "收款方式"), ("unit", "房屋编码，如 1-2-301"), ("customer", "客户姓名或手机号"),
        ("date_from", "日期从 YYYY-MM-DD"), ("date_to", "日期到 YYYY-MM-DD"), ("period_from", "账期从 YYYY-MM"),
        ("period_to", "账期到 YYYY-MM"), ("as_of", "统计日期 YYYY-MM-DD"),
        ("order", "欠费账龄的排序：total（欠费合计从高到低，默认）或 oldest（欠费时间从长到短）"))
] + [OpenApiParameter("page", OpenApiTypes.INT), OpenApiParameter("page_size", OpenApiTypes.INT)]


class ReportView(APIView):
    """One report of 统计台账: a page of rows, the totals of all rows the filters find, and the chart."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["billing"], operation_id="reports_retrieve",
        parameters=[OpenApiParameter("report", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     enum=[report.slug for report in REPORTS]), *FILTER_PARAMETERS],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT,
                   404: OpenApiTypes.OBJECT},
        description="统计台账：收款明细、收款汇总、收费情况统计、应收台账、减免台账、作废台账、变更记录、欠费账龄。")
    def get(self, request, report):
        found = REPORTS_BY_SLUG.get(report)
        if found is None:
            raise exceptions.NotFound("没有这个报表")
        if not found.allowed(request.user):
            raise exceptions.PermissionDenied("没有查看该报表的权限")
        size = _positive(request.query_params, "page_size", 50, MAX_PAGE_SIZE)
        number = _positive(request.query_params, "page", 1)
        form = _form(request, found)
        mode = form.cleaned_data.get("mode") or (found.modes[0] if found.modes else "")
        table = found.build(request.user, form.filters(), mode, form.cleaned_data.get("group_by") or None)
        rows = table.rows
        if hasattr(rows, "prefetch"):  # the page brings the totals and the count along (欠费账龄)
            rows.prefetch((number - 1) * size, number * size)
        count = rows.count() if hasattr(rows, "count") and not isinstance(rows, list) else len(rows)
        page = table.page_rows(rows[(number - 1) * size:number * size])
        keys = [column.key for column in table.columns]
        return Response({
            "report": found.slug, "title": str(found.title), "mode": mode,
            "filters": {name: _plain(getattr(value, "pk", value)) for name, value in form.cleaned_data.items()
                        if value not in (None, "")},
            "columns": [{"key": column.key, "label": str(column.label), "kind": column.kind}
                        for column in table.columns],
            "count": count, "page": number, "page_size": size,
            "results": [{key: _plain(row.get(key)) for key in (*keys, *ROW_IDS) if key in row} for row in page],
            "totals": {key: _plain(value) for key, value in table.totals.items()},
            "extra": {key: _plain(value) if not isinstance(value, (dict, list)) else value
                      for key, value in _extra(table).items()},
            "chart": dict(table.chart) if table.chart is not None else None,
        })


def _extra(table):
    extra = dict(table.extra)
    if "split" in extra:
        extra["split"] = {key: _plain(value) for key, value in extra["split"].items()}
    if "by_kind" in extra:
        extra["by_kind"] = [{key: _plain(value) for key, value in item.items()} for item in extra["by_kind"]]
    return extra


class StatementView(APIView):
    """对账单 of a unit (``unit``, its code) or a customer (``customer``, name or mobile) between two dates."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["billing"], operation_id="reports_statement_retrieve",
                   parameters=[p for p in FILTER_PARAMETERS if p.name in STATEMENT.fields],
                   responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT})
    def get(self, request):
        if not STATEMENT.allowed(request.user):
            raise exceptions.PermissionDenied("没有查看对账单的权限")
        form = _form(request, STATEMENT)
        unit, customer = form.cleaned_data.get("unit"), form.cleaned_data.get("customer")
        if unit is None and customer is None:
            raise exceptions.ValidationError({"unit": ["请输入房屋编码，或客户的姓名、手机号"]})
        result = reports.statement(request.user, unit=unit, customer=None if unit else customer,
                                   date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"])
        return Response({
            "unit": unit.code if unit else None, "customer": customer.name if customer and not unit else None,
            "date_from": _plain(result["date_from"]), "date_to": _plain(result["date_to"]),
            "opening": _plain(result["opening"]), "closing": _plain(result["closing"]),
            "debits": _plain(result["debits"]), "credits": _plain(result["credits"]),
            "lines": [{key: _plain(line[key]) for key in ("date", "kind", "text", "debit", "credit", "balance")}
                      for line in result["lines"]],
        })


class ArrearsRemindSerializer(serializers.Serializer):
    all = serializers.BooleanField(required=False, default=False, help_text=_("true：催缴筛选条件找到的全部欠费房屋"),
                                   error_messages={"invalid": _("请填写 true 或 false")})
    units = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1, error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value", "max_string_length"), _("房屋 id 须为正整数"))),
        required=False, max_length=100000, help_text=_("要催缴的房屋 id（不传 all 时必填）"),
        error_messages={"not_a_list": _("请填写房屋 id 的列表"), "max_length": _("一次最多 100000 户")})
    project = serializers.CharField(required=False, help_text="项目 id")
    building = serializers.CharField(required=False, help_text="楼栋 id")
    fee_item = serializers.CharField(required=False, help_text="收费项目 id")
    unit = serializers.CharField(required=False, help_text="房屋编码，如 1-2-301")
    customer = serializers.CharField(required=False, help_text="客户姓名或手机号")
    as_of = serializers.CharField(required=False, help_text="统计日期 YYYY-MM-DD，默认今天")

    def validate(self, data):
        if not data.get("all") and not data.get("units"):
            raise serializers.ValidationError({"units": [_("请选择要催缴的房屋，或传 all=true 催缴筛选出的全部房屋")]})
        return data


class ArrearsRemindView(APIView):
    """催缴: start a background job that queues an arrears reminder (SMS) to the payer of each unit in arrears, the
    ones in ``units`` or (``all``) every one the filters find, at most once per unit a day. Answers 202 with the job;
    ``GET /api/v1/jobs/<id>/`` shows its progress and, when done, ``result``: ``queued`` (加入发送队列), ``already``
    (今天已催缴过) and ``unreachable`` (无缴费人或手机号)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["billing"], operation_id="reports_arrears_remind", request=ArrearsRemindSerializer,
                   responses={202: JobDetailSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT})
    def post(self, request):
        report = REPORTS_BY_SLUG["arrears"]
        if not report.allowed(request.user) or not _may_remind(request.user):
            raise exceptions.PermissionDenied(_("没有催缴权限"))
        serializer = ArrearsRemindSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = _form(request, report, serializer.validated_data)
        units = None if serializer.validated_data["all"] else sorted(set(serializer.validated_data["units"]))
        job = reports.arrears_remind_start(filters=form.filters(), unit_ids=units, actor=request.user)
        job.refresh_from_db()
        return Response(JobDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("job-detail", kwargs={"pk": job.pk})})


urlpatterns = [
    path("reports/arrears/remind/", ArrearsRemindView.as_view(), name="report-arrears-remind"),
    path("reports/statement/", StatementView.as_view(), name="report-statement"),
    path("reports/<str:report>/", ReportView.as_view(), name="report"),
]
