import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aishang.core.generic_views import (
    Column,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    choice_display,
)
from aishang.core.money import format_money
from aishang.extras.models import Job
from aishang.extras.services import register_object_delete, register_object_save

from . import selectors
from .approvals import approval_decide, approval_refusal, approval_request_create, approval_request_withdraw
from .balances import bill_outstanding
from .filters import BillFilter, BillRunFilter, ChargeRuleFilter, DiscountSchemeFilter, FeeItemFilter
from .forms import (
    AdvanceBillForm,
    ApprovalDecisionForm,
    BillRunForm,
    BillRunScheduleForm,
    ChargeRuleForm,
    DiscountSchemeForm,
    FeeItemForm,
    RuleBindingForm,
    RulePriceForm,
    RuleTrialForm,
    TemporaryBillForm,
    VoidRequestForm,
    WaiverRequestForm,
)
from .jobs import JOB_KIND, bill_run_start
from .models import (
    ApprovalAction,
    ApprovalDecision,
    Bill,
    BillDiscount,
    BillRun,
    BillRunSchedule,
    BillRunStatus,
    BillVoid,
    ChargeRule,
    DiscountKind,
    DiscountScheme,
    FeeItem,
    RuleBinding,
)
from .services import (
    advance_bills_create,
    advance_bills_preview,
    bill_run_create,
    bill_run_preview,
    schedule_next_run,
    temporary_bill_create,
)


def money_cell(name):
    return lambda obj, view: format_money(getattr(obj, name))


# Fee items


class FeeItemListView(ObjectListView):
    model = FeeItem
    filterset_class = FeeItemFilter
    search_fields = ("name__icontains", "code__icontains")
    add_url_name = "billing:feeitem_add"
    columns = [
        Column("code", gettext_lazy("编码"), order_by="code"),
        Column("name", gettext_lazy("名称"), link=True, order_by="name"),
        Column("category", gettext_lazy("类别"), display=choice_display("category")),
        Column("rounding", gettext_lazy("取整方式"), display=choice_display("rounding")),
        Column("precision", gettext_lazy("精度"), display=choice_display("precision")),
        Column("late_fee_enabled", gettext_lazy("计收滞纳金")),
        Column("is_active", gettext_lazy("启用")),
    ]


class FeeItemDetailView(ObjectDetailView):
    model = FeeItem
    template_name = "billing/feeitem_detail.html"

    def get_extra_context(self, obj, active_tab):
        return {"rules": selectors.rule_list_queryset(self.request.user).filter(fee_item=obj)}


class FeeItemEditView(ObjectEditView):
    model = FeeItem
    form_class = FeeItemForm


# Charge rules


class ChargeRuleListView(ObjectListView):
    model = ChargeRule
    filterset_class = ChargeRuleFilter
    search_fields = ("name__icontains",)
    add_url_name = "billing:chargerule_add"
    select_related = ("project", "fee_item")
    columns = [
        Column("name", gettext_lazy("名称"), link=True, order_by="name"),
        Column("project", gettext_lazy("项目"), accessor="project.name"),
        Column("fee_item", gettext_lazy("收费项目"), accessor="fee_item.name"),
        Column("method", gettext_lazy("计费方式"), display=choice_display("method")),
        Column("unit_price", gettext_lazy("单价"), numeric=True, order_by="unit_price"),
        Column("cycle", gettext_lazy("收费周期"), display=choice_display("cycle")),
        Column("billing_mode", gettext_lazy("收费模式"), display=choice_display("billing_mode")),
        Column("effective_from", gettext_lazy("生效日期"), display=lambda obj, view: f"{obj.effective_from:%Y-%m-%d}",
               export_value=lambda obj, view: obj.effective_from, order_by="effective_from"),
        Column("is_active", gettext_lazy("启用")),
    ]


class ChargeRuleDetailView(ObjectDetailView):
    model = ChargeRule
    template_name = "billing/chargerule_detail.html"
    select_related = ("project", "fee_item")
    tabs = (("info", gettext_lazy("基本信息")), ("bindings", gettext_lazy("绑定")), ("prices", gettext_lazy("调价")),
            ("trial", gettext_lazy("试算")))

    def get_extra_context(self, obj, active_tab):
        context = {"bindings": obj.bindings.select_related("building", "property_type", "unit", "parking_space",
                                                           "customer"),
                   "prices": obj.prices.all(),
                   "binding_form": RuleBindingForm(rule=obj, user=self.request.user),
                   "price_form": RulePriceForm(rule=obj, user=self.request.user)}
        if active_tab == "trial":
            form = RuleTrialForm(self.request.GET if "unit_code" in self.request.GET else None, rule=obj,
                                 user=self.request.user)
            context.update(trial_form=form, trial=form.is_valid() and selectors.rule_trial(obj, **form.cleaned_data))
        return context


class ChargeRuleEditView(ObjectEditView):
    model = ChargeRule
    form_class = ChargeRuleForm
    initial_fields = ("project", "fee_item")


def _rule_for_change(request, pk):
    return get_object_or_404(ChargeRule.objects.restrict(request.user, "change"), pk=pk)


@login_required
@require_POST
def rule_binding_add(request, pk):
    rule = _rule_for_change(request, pk)
    form = RuleBindingForm(request.POST, rule=rule, user=request.user)
    if form.is_valid():
        try:
            register_object_save(obj=form.instance, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("已添加绑定：%(binding)s") % {"binding": form.instance})
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{rule.get_absolute_url()}?tab=bindings")


@login_required
@require_POST
def rule_binding_delete(request, pk, binding_pk):
    rule = _rule_for_change(request, pk)
    binding = get_object_or_404(RuleBinding, rule=rule, pk=binding_pk)
    register_object_delete(obj=binding, actor=request.user)
    messages.success(request, _("已删除绑定"))
    return redirect(f"{rule.get_absolute_url()}?tab=bindings")


@login_required
@require_POST
def rule_price_add(request, pk):
    rule = _rule_for_change(request, pk)
    form = RulePriceForm(request.POST, rule=rule, user=request.user)
    if form.is_valid():
        try:
            register_object_save(obj=form.instance, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("已添加调价"))
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{rule.get_absolute_url()}?tab=prices")


# Bill runs


class BillRunListView(ObjectListView):
    model = BillRun
    filterset_class = BillRunFilter
    add_url_name = "billing:billrun_add"
    extra_buttons = ((gettext_lazy("抄表出账"), "billing:billrun_add_metered", "speedometer2", "billing.add_billrun"),
                     (gettext_lazy("定时出账"), "billing:billrunschedule_list", "alarm",
                      "billing.view_billrunschedule"))
    select_related = ("project", "created_by")
    ordering = ("-created_at",)
    columns = [
        Column("period_month", gettext_lazy("账期月份"), link=True,
               display=lambda obj, view: obj.period_month.strftime("%Y-%m"), order_by="period_month"),
        Column("project", gettext_lazy("项目"), accessor="project.name"),
        Column("status", gettext_lazy("状态"), display=choice_display("status")),
        Column("bill_count", gettext_lazy("账单数"), numeric=True),
        Column("total_amount", gettext_lazy("应收合计"), numeric=True, display=money_cell("total_amount")),
        Column("created_by", gettext_lazy("操作人")),
        Column("created_at", gettext_lazy("创建时间"), order_by="created_at",
               display=lambda obj, view: f"{timezone.localtime(obj.created_at):%Y-%m-%d %H:%M}"),
    ]


@login_required
@permission_required("billing.add_billrun", raise_exception=True)
def bill_run_add(request, metered=False):
    """新建出账; ``metered``: 抄表出账 (一键出账 of water, electricity … for a project or some buildings)."""
    initial = {"project": request.GET.get("project"), "buildings": request.GET.getlist("buildings")}
    form = BillRunForm(request.POST or None, user=request.user, metered=metered, initial=initial)
    if request.method == "POST" and form.is_valid():
        run = bill_run_create(project=form.cleaned_data["project"], rules=form.cleaned_data["rules"],
                              period_month=form.cleaned_data["period_month"],
                              buildings=form.cleaned_data["buildings"], actor=request.user)
        return redirect(run.get_absolute_url())
    title = _("抄表出账") if metered else _("新建出账")
    return render(request, "billing/billrun_form.html", {"form": form, "title": title, "metered": metered},
                  status=400 if form.is_bound else 200)


@login_required
def bill_run_detail(request, pk):
    run = get_object_or_404(selectors.run_list_queryset(request.user), pk=pk)
    context = {"object": run, "title": str(run), "rules": run.rules.select_related("fee_item"),
               "buildings": run.buildings.all()}
    if run.status == BillRunStatus.POSTED:
        context["totals"] = selectors.bill_totals(Bill.objects.filter(run=run))
    else:
        context["preview"] = bill_run_preview(run)
        context["job"] = Job.objects.filter(kind=JOB_KIND, params__run_id=run.pk).order_by("-created_at").first()
    return render(request, "billing/billrun_detail.html", context)


@login_required
@require_POST
@permission_required("billing.add_billrun", raise_exception=True)
def bill_run_post_view(request, pk):
    run = get_object_or_404(BillRun.objects.restrict(request.user, "view"), pk=pk)
    try:
        job = bill_run_start(run, actor=request.user)
    except ValidationError as refusal:
        messages.error(request, refusal.messages[0])
        return redirect(run.get_absolute_url())
    return redirect("extras:job_detail", pk=job.pk)


# Bills


class BillListView(ObjectListView):
    model = Bill
    filterset_class = BillFilter
    search_fields = ("unit__code__icontains", "payer__name__icontains")
    search_placeholder = gettext_lazy("房屋编码或缴费人")
    export_permission = "billing.export_bill"
    export_filename = gettext_lazy("应收账单")
    ordering = ("-period_start", "unit__code")
    extra_buttons = ((gettext_lazy("临时收费"), "billing:temporary_bill_add", "receipt", "billing.add_bill"),
                     (gettext_lazy("预缴账单"), "billing:advance_bill_add", "calendar-plus", "billing.add_bill"),
                     (gettext_lazy("导入历史账单"), "billing:bill_import", "upload", "billing.import_bills"))
    columns = [
        Column("unit", gettext_lazy("房屋"), accessor="unit.code", order_by="unit__code"),
        Column("project", gettext_lazy("项目"), accessor="project.name"),
        Column("fee_item", gettext_lazy("收费项目"), accessor="fee_item.name"),
        Column("period", gettext_lazy("账期"), link=True,
               display=lambda obj, view: f"{obj.period_start:%Y-%m-%d} ～ {obj.period_end:%Y-%m-%d}",
               order_by="period_start"),
        Column("due_date", gettext_lazy("应缴日期"), display=lambda obj, view: f"{obj.due_date:%Y-%m-%d}",
               export_value=lambda obj, view: obj.due_date, order_by="due_date"),
        Column("payer", gettext_lazy("缴费人"), accessor="payer.name"),
        Column("amount", gettext_lazy("应收金额"), numeric=True, display=money_cell("amount"),
               export_value=lambda obj, view: obj.amount, order_by="amount"),
        Column("kind", gettext_lazy("账单类型"), display=choice_display("kind")),
        Column("computation", gettext_lazy("计算过程"), export=True),
    ]

    def get_queryset(self):
        bills = selectors.bill_list_queryset(self.request.user)
        run = self.request.GET.get("run", "")
        return bills.filter(run_id=run) if run.isdigit() else bills

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        totals = selectors.bill_totals(self.filter_queryset(self.get_queryset()))
        context["money_totals"] = {"amount": format_money(totals["total"] or 0)}
        return context


# Approvals of waivers and voids


def _form_errors(form):
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
def bill_detail(request, pk):
    bill = get_object_or_404(selectors.bills_with_outstanding(selectors.bill_list_queryset(request.user)), pk=pk)
    can_request = request.user.has_perm("billing.add_approvalrequest")
    context = {
        "object": bill, "title": str(bill), "can_request": can_request,
        "waivers": bill.waivers.select_related("request__requested_by"),
        "discounts": bill.discounts.select_related("scheme"),
        "void": BillVoid.objects.filter(bill=bill).select_related("request__requested_by").first(),
        "requests": (selectors.approval_request_queryset(request.user).filter(bill=bill)
                     .select_related("requested_by")),
    }
    context["late_fee"] = selectors.bill_late_fee(bill, bill.outstanding, timezone.localdate())
    if can_request and bill.outstanding > 0:
        context["waiver_form"] = WaiverRequestForm()
        context["void_form"] = VoidRequestForm()
    return render(request, "billing/bill_detail.html", context)


@login_required
@require_POST
@permission_required("billing.add_approvalrequest", raise_exception=True)
def approval_request_add(request, pk, action):
    bill = get_object_or_404(selectors.bill_list_queryset(request.user), pk=pk)
    form_class = {ApprovalAction.WAIVER: WaiverRequestForm, ApprovalAction.VOID: VoidRequestForm}.get(action)
    if form_class is None:
        raise Http404
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("billing:bill_detail", pk=bill.pk)
    try:
        approval = approval_request_create(action=action, bill=bill, amount=form.cleaned_data.get("amount"),
                                           reason=form.cleaned_data["reason"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("billing:bill_detail", pk=bill.pk)
    messages.success(request, _("已提交%(action)s申请，等待审批") % {"action": approval.get_action_display()})
    return redirect(approval.get_absolute_url())


@login_required
def approval_inbox(request):
    pending = selectors.approval_inbox_queryset(request.user)
    mine = selectors.approval_my_requests_queryset(request.user)
    return render(request, "billing/approval_inbox.html", {
        "title": _("审批"), "pending": pending[:200], "pending_count": pending.count(), "mine": mine[:50]})


@login_required
def approval_detail(request, pk):
    approval = get_object_or_404(selectors.approval_request_queryset(request.user), pk=pk)
    refusal = approval_refusal(approval, request.user)
    steps = approval.steps.select_related("decided_by", "role")
    decided = {step.level: step for step in steps}
    timeline = [(level, decided.get(level["level"])) for level in approval.route]
    return render(request, "billing/approval_detail.html", {
        "object": approval, "title": str(approval), "steps": steps, "timeline": timeline,
        "can_decide": refusal is None, "refusal": refusal if approval.is_pending else None,
        "can_withdraw": approval.is_pending and approval.requested_by_id == request.user.pk,
        "outstanding": bill_outstanding(approval.bill) if approval.bill_id else None,
        "decision_form": ApprovalDecisionForm()})


@login_required
@require_POST
def approval_decide_view(request, pk):
    approval = get_object_or_404(selectors.approval_request_queryset(request.user), pk=pk)
    form = ApprovalDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(approval.get_absolute_url())
    approve = form.cleaned_data["decision"] == ApprovalDecision.APPROVE
    try:
        approval = approval_decide(request=approval, actor=request.user, approve=approve,
                                   comment=form.cleaned_data["comment"])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已审批：%(status)s") % {"status": approval.get_status_display()}
                         if not approval.is_pending else _("已同意，转下一级审批"))
    return redirect(approval.get_absolute_url())


@login_required
@require_POST
def approval_withdraw_view(request, pk):
    approval = get_object_or_404(selectors.approval_request_queryset(request.user), pk=pk)
    try:
        approval_request_withdraw(request=approval, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已撤回申请"))
    return redirect(approval.get_absolute_url())


def unit_charges_tab(request, unit):
    """The 收费 tab of a unit's page: the rules that charge it and why, what they charge this month, its bills."""
    today = timezone.localdate()
    try:
        month = datetime.date.fromisoformat(f"{request.GET.get('month', '')}-01")
    except ValueError:
        month = today.replace(day=1)
    return {"charge_month": month, "rule_charges": selectors.unit_rule_charges(request.user, unit, month),
            "unit_bills": selectors.unit_bills(request.user, unit, today)}


# 临时收费 and 预缴账单


def _apply_errors(form, error):
    """Put a service's ValidationError on the form's fields (or on the form when it names none it has)."""
    for field, messages_ in error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]:
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


@login_required
@permission_required("billing.add_bill", raise_exception=True)
def temporary_bill_add(request):
    today = timezone.localdate()
    form = TemporaryBillForm(request.POST or None, user=request.user,
                             initial={"project": request.GET.get("project"), "unit_code": request.GET.get("unit"),
                                      "period_start": today, "due_date": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bill = temporary_bill_create(project=data["project"], fee_item=data["fee_item"], amount=data["amount"],
                                         reason=data["reason"], due_date=data["due_date"],
                                         period_start=data["period_start"], period_end=data["period_end"],
                                         unit=data["unit"], payer=data["payer"], actor=request.user)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("已生成临时收费账单 %(amount)s") % {"amount": format_money(bill.amount)})
            return redirect("billing:bill_detail", pk=bill.pk)
    return render(request, "billing/temporary_bill_form.html", {"form": form, "title": _("临时收费")},
                  status=400 if form.is_bound else 200)


@login_required
@permission_required("billing.add_bill", raise_exception=True)
def advance_bill_add(request):
    """Two steps on one page: the periods and amounts first, then 确认生成 posts them."""
    today = timezone.localdate()
    initial = {"project": request.GET.get("project"), "unit_code": request.GET.get("unit")}
    unit = selectors.unit_by_code(request.user, initial["project"], initial["unit_code"])
    if unit is not None:
        # Coming from a unit's page: offer the first rule that charges it by time.
        initial["rule"] = next((row["rule"].pk for row in selectors.unit_rule_charges(request.user, unit, today)
                                if row["amount"] is not None and row["rule"].cycle != "one_off"), None)
    form = AdvanceBillForm(request.POST or None, user=request.user, initial=initial)
    context = {"form": form, "title": _("预缴账单")}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "confirm" in request.POST:
                bills = advance_bills_create(rule=data["rule"], unit=data["unit"], periods=data["periods"],
                                             today=today, actor=request.user)
                messages.success(request, _("已生成 %(count)s 期预缴账单，合计 %(total)s") % {
                    "count": len(bills), "total": format_money(sum(bill.amount for bill in bills))})
                return redirect(f"{data['unit'].get_absolute_url()}?tab=charges")
            charges = advance_bills_preview(rule=data["rule"], unit=data["unit"], periods=data["periods"],
                                            today=today)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            context.update(charges=charges, total=sum(charge.amount for charge in charges))
    return render(request, "billing/advance_bill_form.html", context,
                  status=400 if form.is_bound and form.errors else 200)


# Discount schemes


class DiscountSchemeListView(ObjectListView):
    model = DiscountScheme
    filterset_class = DiscountSchemeFilter
    search_fields = ("name__icontains", "customer_tag__icontains")
    add_url_name = "billing:discountscheme_add"
    select_related = ("project",)
    columns = [
        Column("name", gettext_lazy("名称"), link=True, order_by="name"),
        Column("project", gettext_lazy("项目"), display=lambda obj, view: obj.project or _("全部项目")),
        Column("kind", gettext_lazy("优惠方式"), display=choice_display("kind")),
        Column("terms", gettext_lazy("优惠内容"), display=lambda obj, view: discount_terms(obj)),
        Column("timing", gettext_lazy("优惠时机"), display=choice_display("timing")),
        Column("customer_tag", gettext_lazy("客户标签")),
        Column("valid_from", gettext_lazy("开始日期"), display=lambda obj, view: f"{obj.valid_from:%Y-%m-%d}",
               order_by="valid_from"),
        Column("is_active", gettext_lazy("启用")),
    ]


def discount_terms(scheme):
    if scheme.kind == DiscountKind.PERCENT and scheme.rate is not None:
        return _("按 %(rate)s 收取") % {"rate": scheme.rate.normalize()}
    if scheme.kind == DiscountKind.AMOUNT and scheme.amount is not None:
        return _("每单立减 %(amount)s") % {"amount": format_money(scheme.amount)}
    if scheme.kind == DiscountKind.FREE_PERIODS:
        return _("预缴满 %(min)s 期送 %(free)s 期") % {"min": scheme.min_periods, "free": scheme.free_periods}
    return ""


class DiscountSchemeDetailView(ObjectDetailView):
    model = DiscountScheme
    template_name = "billing/discountscheme_detail.html"
    select_related = ("project",)

    def get_extra_context(self, obj, active_tab):
        granted = BillDiscount.objects.filter(scheme=obj)
        return {"terms": discount_terms(obj), "fee_items": obj.fee_items.all(),
                "unit_codes": list(obj.units.values_list("code", flat=True)[:50]),
                "granted": selectors.bill_totals(granted),
                "recent": granted.select_related("bill__unit", "bill__fee_item").order_by("-created_at")[:20]}


class DiscountSchemeEditView(ObjectEditView):
    model = DiscountScheme
    form_class = DiscountSchemeForm


# 定时出账


class BillRunScheduleListView(ObjectListView):
    model = BillRunSchedule
    search_fields = ("name__icontains",)
    add_url_name = "billing:billrunschedule_add"
    select_related = ("project",)
    prefetch_related = ("rules",)
    columns = [
        Column("name", gettext_lazy("名称"), link=True, order_by="name"),
        Column("project", gettext_lazy("项目"), accessor="project.name"),
        Column("rules", gettext_lazy("收费标准"), display=lambda obj, view: "、".join(r.name for r in obj.rules.all())),
        Column("day_of_month", gettext_lazy("每月出账日"), numeric=True, order_by="day_of_month"),
        Column("last_period_month", gettext_lazy("最近出账月份"),
               display=lambda obj, view: f"{obj.last_period_month:%Y-%m}" if obj.last_period_month else "--"),
        Column("is_active", gettext_lazy("启用")),
    ]


class BillRunScheduleDetailView(ObjectDetailView):
    model = BillRunSchedule
    template_name = "billing/billrunschedule_detail.html"
    select_related = ("project", "created_by")

    def get_extra_context(self, obj, active_tab):
        return {"rules": obj.rules.select_related("fee_item"), "next_run": schedule_next_run(obj, timezone.localdate())}


class BillRunScheduleEditView(ObjectEditView):
    model = BillRunSchedule
    form_class = BillRunScheduleForm
    template_name = "billing/billrunschedule_form.html"
    initial_fields = ("project",)
