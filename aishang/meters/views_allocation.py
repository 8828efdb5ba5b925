"""Pages of 公摊与损耗: rules, and runs from preview to 入账 and 冲销."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aishang.core.generic_views import (
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    choice_display,
)
from aishang.estate.models import Project
from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind
from aishang.extras.exports import xlsx_response

from .allocation_runs import (
    QUANTUM,
    WEIGHT_QUANTUM,
    allocation_post,
    allocation_post_many,
    allocation_preview,
    allocation_preview_many,
    allocation_reverse,
    batch_rules,
    unreviewed_readings,
)
from .choices import AllocationRunStatus
from .forms_allocation import (
    AllocationBatchForm,
    AllocationReverseForm,
    AllocationRuleFilter,
    AllocationRuleForm,
    AllocationRunFilter,
    AllocationRunForm,
)
from .models import AllocationRule, AllocationRun, AllocationShare

SHARES_PER_PAGE = 200


def _period(obj, view=None):
    return f"{obj.period_start:%Y-%m-%d} ～ {obj.period_end:%Y-%m-%d}"


# Rules


class AllocationRuleListView(ObjectListView):
    model = AllocationRule
    filterset_class = AllocationRuleFilter
    search_fields = ("name__icontains", "meter__number__icontains", "meter__name__icontains")
    search_placeholder = gettext_lazy("规则名称或表号")
    add_url_name = "meters:allocationrule_add"
    select_related = ("project", "meter", "fee_item")
    extra_buttons = ((gettext_lazy("分摊批次"), "meters:allocationrun_list", "list-check",
                      "meters.view_allocationrun"),)
    columns = [
        Column("name", gettext_lazy("名称"), link=True, order_by="name"),
        Column("project", gettext_lazy("项目"), accessor="project.name"),
        Column("meter", gettext_lazy("分摊的表"), display=lambda obj, view: f"{obj.meter.number} {obj.meter.name}"),
        Column("purpose", gettext_lazy("分摊类型"), display=choice_display("purpose")),
        Column("method", gettext_lazy("分摊方式"), accessor="method_display"),
        Column("scope", gettext_lazy("分摊范围"), display=choice_display("scope")),
        Column("fee_item", gettext_lazy("收费项目"), accessor="fee_item.name"),
        Column("is_active", gettext_lazy("启用")),
    ]


class AllocationRuleDetailView(ObjectDetailView):
    model = AllocationRule
    template_name = "meters/allocationrule_detail.html"
    select_related = ("project", "meter", "fee_item")

    def get_extra_context(self, obj, active_tab):
        return {"runs": obj.runs.order_by("-period_start", "-id")[:12],
                "buildings": obj.buildings.all(), "entrances": obj.entrances.select_related("building"),
                "unit_codes": list(obj.units.order_by("code").values_list("code", flat=True)[:200]),
                "unit_count": obj.units.count()}


class AllocationRuleEditView(ObjectEditView):
    model = AllocationRule
    form_class = AllocationRuleForm
    template_name = "meters/allocationrule_form.html"
    initial_fields = ("project", "meter")


class AllocationRuleDeleteView(ObjectDeleteView):
    model = AllocationRule


# Runs


def _usage_cell(name):
    return lambda obj, view: None if getattr(obj, name) is None else f"{getattr(obj, name):,}"


class AllocationRunListView(ObjectListView):
    model = AllocationRun
    template_name = "meters/allocationrun_list.html"
    filterset_class = AllocationRunFilter
    add_url_name = "meters:allocationrun_add"
    select_related = ("project", "rule", "created_by")
    ordering = ("-period_start", "-id")
    extra_buttons = ((gettext_lazy("分摊规则"), "meters:allocationrule_list", "diagram-3",
                      "meters.view_allocationrule"),)
    columns = [
        Column("rule", gettext_lazy("分摊规则"), accessor="rule.name", link=True),
        Column("period", gettext_lazy("期间"), display=_period, order_by="period_start"),
        Column("project", gettext_lazy("项目"), accessor="project.name"),
        Column("purpose", gettext_lazy("分摊类型"), display=choice_display("purpose")),
        Column("method", gettext_lazy("分摊方式")),
        Column("total", gettext_lazy("分摊总量"), numeric=True, display=_usage_cell("total"),
               export_value=lambda obj, view: obj.total),
        Column("unit_count", gettext_lazy("房屋数"), numeric=True),
        Column("status", gettext_lazy("状态"), display=choice_display("status")),
        Column("created_by", gettext_lazy("操作人")),
        Column("created_at", gettext_lazy("创建时间"), order_by="created_at",
               display=lambda obj, view: f"{timezone.localtime(obj.created_at):%Y-%m-%d %H:%M}"),
    ]


    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        if self.request.user.has_perm("meters.add_allocationrun"):
            context["batch_form"] = AllocationBatchForm(user=self.request.user)
        return context


def _add_refusal(form, refusal):
    if hasattr(refusal, "error_dict"):
        for name, errors in refusal.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in refusal.messages:
            form.add_error(None, error)


def _is_id(text):
    return text.isdigit() and len(text) < 19  # beyond, no database integer holds it


def _batch_form(request):
    """The 一键分摊 form of the request; a project outside the user's scope is not found."""
    data = request.POST if request.method == "POST" else (request.GET if "project" in request.GET else None)
    if data is not None and _is_id(data.get("project", "")) and not Project.objects.restrict(
            request.user, "view").filter(pk=data["project"]).exists():
        raise Http404(_("项目不存在"))
    return AllocationBatchForm(data, user=request.user)


@login_required
@permission_required("meters.add_allocationrun", raise_exception=True)
def allocation_run_batch(request):
    """一键分摊: preview every active rule of a project for a month (POST), then list the month's drafts (GET) with
    a button that posts them all."""
    form = _batch_form(request)
    drafts, posted_rules = [], []
    if form.is_bound and form.is_valid():
        project = form.cleaned_data["project"]
        start, end = form.period()
        rules, posted_rules = batch_rules(project=project, period_start=start, period_end=end)
        if request.method == "POST":
            if not rules:
                form.add_error(None, _("%(project)s 在 %(month)s 没有待分摊的启用规则")
                               % {"project": project.name, "month": f"{start:%Y-%m}"})
            else:
                try:
                    runs = allocation_preview_many(rules=rules, period_start=start, period_end=end, actor=request.user)
                except ValidationError as refusal:
                    _add_refusal(form, refusal)
                else:
                    messages.success(request, _("已计算 %(count)s 条规则的预览，核对后可全部入账")
                                     % {"count": len(runs)})
                    query = f"?project={project.pk}&month={start:%Y-%m}"
                    return redirect(reverse("meters:allocationrun_batch") + query)
        else:
            drafts = list(AllocationRun.objects.restrict(request.user, "view")
                          .filter(project=project, status=AllocationRunStatus.DRAFT, period_start=start,
                                  period_end=end).select_related("rule").order_by("rule__name"))
    unreviewed = unreviewed_readings(drafts)
    for run in drafts:
        run.unreviewed = unreviewed.get(run.pk, [])
    return render(request, "meters/allocationrun_batch.html", {
        "form": form, "title": _("一键分摊"), "drafts": drafts, "posted_rules": posted_rules,
        "unreviewed_count": sum(len(readings) for readings in unreviewed.values()),
        "can_post": request.user.has_perm("meters.change_allocationrun")},
        status=400 if request.method == "POST" else 200)


@login_required
@require_POST
@permission_required("meters.change_allocationrun", raise_exception=True)
def allocation_run_post_batch(request):
    """全部入账: the drafts listed on the 一键分摊 page, in one transaction, all or none."""
    ids = list(dict.fromkeys(int(pk) for pk in request.POST.getlist("run") if _is_id(pk)))
    runs = AllocationRun.objects.restrict(request.user, "change").in_bulk(ids)
    if not ids or len(runs) != len(ids):
        raise Http404(_("分摊批次不存在"))
    back = request.POST.get("next", "")
    try:
        posted = allocation_post_many(runs=[runs[pk] for pk in ids], actor=request.user,
                                      confirm_unreviewed=bool(request.POST.get("confirm_unreviewed")))
    except ValidationError as refusal:
        for message in refusal.messages:
            messages.error(request, message)
        return redirect(back if back.startswith("/") and not back.startswith("//") else "meters:allocationrun_list")
    messages.success(request, _("已入账 %(count)s 个分摊批次") % {"count": len(posted)})
    return redirect(reverse("meters:allocationrun_list") + f"?project={posted[0].project_id}")


@login_required
@permission_required("meters.add_allocationrun", raise_exception=True)
def allocation_run_add(request):
    form = AllocationRunForm(request.POST or None, user=request.user,
                             initial={"rule": request.GET.get("rule")})
    if request.method == "POST" and form.is_valid():
        try:
            run = allocation_preview(rule=form.cleaned_data["rule"], period_start=form.cleaned_data["period_start"],
                                     period_end=form.cleaned_data["period_end"], actor=request.user)
        except ValidationError as refusal:
            _add_refusal(form, refusal)
        else:
            return redirect(run.get_absolute_url())
    return render(request, "meters/allocationrun_form.html", {"form": form, "title": _("新建分摊")},
                  status=400 if form.is_bound else 200)


def _run_for(request, pk, permission="view"):
    runs = AllocationRun.objects.restrict(request.user, permission).select_related(
        "rule__meter", "project", "fee_item", "created_by", "posted_by", "reversed_by")
    return get_object_or_404(runs, pk=pk)


def _export_shares(request, run):
    if not request.user.has_perm("meters.export_allocationrun"):
        raise PermissionDenied(_("没有导出权限"))
    shares = (run.shares.order_by("unit__code")
              .values_list("unit__code", "unit__building__code", "unit__building_area", "weight", "usage",
                           "explanation"))
    headers = [_("房屋编码"), _("楼栋"), _("建筑面积(㎡)"), _("权重"),
               _("分摊量（%(unit)s）") % {"unit": run.usage_unit}, _("计算过程")]
    response = xlsx_response(_("分摊明细-%(rule)s") % {"rule": run.rule.name}, headers,
                             (list(row) for row in shares.iterator(chunk_size=2000)))
    audit_record(kind=AuditKind.EXPORT, user=request.user, model=AllocationRun, object_ids=[run.pk],
                 detail={"count": run.unit_count, "run": run.pk})
    return response


@login_required
def allocation_run_detail(request, pk):
    run = _run_for(request, pk)
    if request.GET.get("export") == "xlsx":
        return _export_shares(request, run)
    shares = AllocationShare.objects.filter(run=run).select_related("unit").order_by("unit__code")
    query = request.GET.get("q", "").strip()
    if query:
        shares = shares.filter(unit__code__icontains=query)
    totals = shares.aggregate(weight=Sum("weight"), usage=Sum("usage"))
    # SQLite sums decimals as floats: back to the columns' places, which is exact for these sums.
    totals = {"weight": None if totals["weight"] is None else Decimal(totals["weight"]).quantize(WEIGHT_QUANTUM),
              "usage": None if totals["usage"] is None else Decimal(totals["usage"]).quantize(QUANTUM)}
    page = Paginator(shares, SHARES_PER_PAGE).get_page(request.GET.get("page"))
    user = request.user
    unreviewed = unreviewed_readings([run]).get(run.pk, []) if run.status == AllocationRunStatus.DRAFT else []
    return render(request, "meters/allocationrun_detail.html", {
        "object": run, "title": str(run), "page": page, "totals": totals, "query": query, "unreviewed": unreviewed,
        "can_post": run.status == AllocationRunStatus.DRAFT and user.has_perm("meters.change_allocationrun"),
        "can_reverse": run.status == AllocationRunStatus.POSTED and user.has_perm("meters.change_allocationrun"),
        "can_export": user.has_perm("meters.export_allocationrun"),
        "reverse_form": AllocationReverseForm()})


@login_required
@require_POST
@permission_required("meters.change_allocationrun", raise_exception=True)
def allocation_run_post(request, pk):
    run = _run_for(request, pk, "change")
    try:
        run = allocation_post(run=run, actor=request.user,
                              confirm_unreviewed=bool(request.POST.get("confirm_unreviewed")))
    except ValidationError as refusal:
        messages.error(request, "；".join(refusal.messages))
    else:
        messages.success(request, _("已入账：%(count)s 户，合计 %(total)s %(unit)s")
                         % {"count": run.unit_count, "total": run.total, "unit": run.usage_unit})
    return redirect(run.get_absolute_url())


@login_required
@require_POST
@permission_required("meters.change_allocationrun", raise_exception=True)
def allocation_run_reverse(request, pk):
    run = _run_for(request, pk, "change")
    form = AllocationReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写冲销原因"))
        return redirect(run.get_absolute_url())
    try:
        allocation_reverse(run=run, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as refusal:
        messages.error(request, "；".join(refusal.messages))
    else:
        messages.success(request, _("已冲销该分摊批次，可重新计算该期间"))
    return redirect(run.get_absolute_url())
