from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.http import require_POST

from aishang.core.generic_views import Column, ObjectListView, ScopedObjectMixin, choice_display
from aishang.core.money import format_money
from aishang.extras.services import register_object_save

from . import selectors, services
from .choices import Gateway
from .filters import PaymentOrderFilter
from .forms import GatewayConfigForm, PaymentSettingsForm
from .models import GatewayConfig, GatewayRefund, PaymentOrder, PaymentSettings


def _datetime(name):
    return lambda obj, view: f"{getattr(obj, name):%Y-%m-%d %H:%M:%S}" if getattr(obj, name) else None


class PaymentOrderListView(ObjectListView):
    model = PaymentOrder
    title = _("线上支付订单")
    filterset_class = PaymentOrderFilter
    search_fields = ("out_trade_no__icontains", "transaction_id__icontains", "unit__code__icontains")
    search_placeholder = _("订单号、渠道交易号、房屋编码")
    select_related = ("project", "unit", "payer")
    ordering = ("-created_at", "-id")
    export_permission = "payments.export_paymentorder"
    columns = [
        Column("out_trade_no", _("订单号"), link=True, order_by="out_trade_no"),
        Column("project", _("项目"), accessor="project.name"),
        Column("unit", _("房屋"), accessor="unit.code"),
        Column("gateway", _("支付渠道"), display=choice_display("gateway")),
        Column(
            "amount",
            _("订单金额"),
            numeric=True,
            order_by="amount",
            display=lambda obj, view: format_money(obj.amount),
            export_value=lambda obj, view: obj.amount,
        ),
        Column("status", _("状态"), display=choice_display("status"), order_by="status"),
        Column("created_by_label", _("下单人")),
        Column(
            "created_at",
            _("下单时间"),
            order_by="created_at",
            display=_datetime("created_at"),
            export_value=lambda obj, view: obj.created_at,
        ),
        Column(
            "paid_at",
            _("支付时间"),
            order_by="paid_at",
            display=_datetime("paid_at"),
            export_value=lambda obj, view: obj.paid_at,
        ),
        Column("transaction_id", _("渠道交易号")),
    ]


class PaymentOrderDetailView(ScopedObjectMixin, View):
    model = PaymentOrder

    def get(self, request, pk):
        detail = selectors.order_detail(request.user, pk)
        if detail is None:
            raise Http404
        user = request.user
        detail.update(
            {
                "title": str(detail["order"]),
                "can_query": user.has_perm("payments.query_paymentorder"),
                "can_refund": user.has_perm("billing.add_approvalrequest"),
                "can_retry_refund": user.has_perm("payments.change_gatewayrefund"),
            }
        )
        return TemplateResponse(request, "payments/paymentorder_detail.html", detail)


@login_required
@require_POST
def order_query_view(request, pk):
    if not request.user.has_perm("payments.query_paymentorder"):
        raise PermissionDenied(gettext("没有查询订单的权限"))
    order = get_object_or_404(selectors.order_list_queryset(request.user).select_related("config"), pk=pk)
    messages.info(request, services.order_query(order))
    return redirect("payments:paymentorder_detail", pk=order.pk)


@login_required
@require_POST
def refund_retry_view(request, pk):
    if not request.user.has_perm("payments.change_gatewayrefund"):
        raise PermissionDenied(gettext("没有重新发起退款的权限"))
    refund = get_object_or_404(GatewayRefund.objects.restrict(request.user, "view"), pk=pk)
    try:
        refund = services.refund_retry(refund, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.info(request, gettext("退款状态：%(status)s") % {"status": refund.get_status_display()})
    return redirect("payments:paymentorder_detail", pk=refund.order_id)


def _company_or_404(user):
    if not user.company_id or not user.has_perm("payments.view_gatewayconfig"):
        raise Http404
    return user.company


@login_required
def settings_view(request):
    """支付设置: the company's gateway accounts (keys masked) and how online payments are handled."""
    company = _company_or_404(request.user)
    can_change = request.user.has_perm("payments.change_gatewayconfig")
    current = PaymentSettings.objects.filter(company=company).first() or PaymentSettings(company=company)
    form = PaymentSettingsForm(instance=current)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(gettext("没有修改支付设置的权限"))
        if request.POST.get("action") == "sandbox" and settings.PAYMENTS_SANDBOX:
            from .sandbox.services import sandbox_config_create

            gateway = request.POST.get("gateway")
            if gateway in Gateway.values:
                sandbox_config_create(company, gateway)
                messages.success(request, gettext("已创建沙箱支付配置"))
            return redirect("payments:settings")
        form = PaymentSettingsForm(request.POST, instance=current)
        if form.is_valid():
            register_object_save(obj=form.save(commit=False), custom_values={}, actor=request.user)
            messages.success(request, gettext("支付设置已保存"))
            return redirect("payments:settings")
    configs = selectors.company_gateway_configs(request.user)
    return TemplateResponse(
        request,
        "payments/settings.html",
        {
            "title": gettext("支付设置"),
            "form": form,
            "can_change": can_change,
            "gateways": [(gateway, label, configs.get(gateway)) for gateway, label in Gateway.choices],
            "sandbox_enabled": settings.PAYMENTS_SANDBOX,
        },
        status=400 if form.errors else 200,
    )


@login_required
def gateway_config_edit(request, gateway):
    company = _company_or_404(request.user)
    if gateway not in Gateway.values or not request.user.has_perm("payments.change_gatewayconfig"):
        raise Http404
    instance = GatewayConfig.objects.restrict(request.user, "view").filter(
        company=company, gateway=gateway
    ).first() or GatewayConfig(company=company, gateway=gateway)
    form = GatewayConfigForm(request.POST or None, instance=instance, gateway=gateway)
    if request.method == "POST" and form.is_valid():
        try:
            register_object_save(obj=form.save(commit=False), custom_values={}, actor=request.user)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            messages.success(request, gettext("「%(gateway)s」配置已保存") % {"gateway": Gateway(gateway).label})
            return redirect("payments:settings")
    return TemplateResponse(
        request,
        "payments/gatewayconfig_form.html",
        {
            "title": gettext("%(gateway)s 商户配置") % {"gateway": Gateway(gateway).label},
            "form": form,
        },
        status=400 if form.errors else 200,
    )
