"""日结: the open shift with its totals by method and the cash to hand over, the close, its history and slip."""

from decimal import Decimal

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.filters import StyledFilterSet
from aishang.core.forms import style_widgets
from aishang.core.generic_views import Column, ObjectListView
from aishang.core.money import amount_in_chinese_capitals, format_money, money_total
from aishang.users.models import User

from . import closes
from .models import PaymentMethod, ShiftClose
from .views import _apply_errors

SHIFT_PAYMENTS_SHOWN = 300


class ShiftCloseForm(forms.Form):
    cash_handed_over = forms.DecimalField(label=gettext_lazy("实交现金"), max_digits=14, decimal_places=2,
                                          min_value=0, help_text=gettext_lazy("清点钱箱后填写实际上交的现金"))
    note = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False,
                           help_text=gettext_lazy("实交与应交不一致时必须说明原因"))
    seen_until = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)
        self.fields["cash_handed_over"].widget.attrs.update({"autofocus": True, "inputmode": "decimal"})

    def clean_seen_until(self):
        value = self.cleaned_data["seen_until"]
        try:
            return parse_datetime(value) if value else None
        except ValueError:
            raise forms.ValidationError(_("页面已过期，请刷新后重新提交")) from None


def _cashier_or_404(request):
    cashier = closes.shift_cashier(request.user, request.GET.get("cashier") or request.POST.get("cashier"))
    if cashier is None:
        raise Http404
    return cashier


def _payments_shown(summary):
    payments = (closes.shift_payments(summary.cashier, summary.period_start, summary.period_end)
                .select_related("project", "unit", "payer").prefetch_related("tenders").order_by("-received_at", "-pk"))
    return payments[:SHIFT_PAYMENTS_SHOWN]


@login_required
@permission_required("billing.add_shiftclose", raise_exception=True)
def shift_open(request):
    """The open shift of the user (or, for 财务, of a colleague): totals by method, cash to hand over, the close."""
    cashier = _cashier_or_404(request)
    form = ShiftCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            close = closes.shift_close(cashier=cashier, actor=request.user, note=form.cleaned_data["note"],
                                       cash_handed_over=form.cleaned_data["cash_handed_over"],
                                       seen_until=form.cleaned_data["seen_until"])
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("已日结：%(count)s 笔收款，实交现金 %(cash)s") % {
                "count": close.payment_count, "cash": format_money(close.cash_handed_over)})
            return redirect("billing:shiftclose_detail", pk=close.pk)
    summary = closes.shift_summary(cashier)
    if form.is_bound:
        # The summary below is the one the person checks now: a resubmission is compared with it.
        form.data = form.data.copy()
        form.data["seen_until"] = summary.period_end.isoformat()
    else:
        form.initial["seen_until"] = summary.period_end.isoformat()
    context = {"cashier": cashier, "summary": summary, "form": form, "payments": _payments_shown(summary),
               "payments_shown": SHIFT_PAYMENTS_SHOWN, "last_close": closes.last_close(cashier),
               "cashiers": closes.cashiers_with_shifts(request.user) if closes.may_see_all_cashiers(request.user)
               else None}
    return render(request, "billing/shiftclose_open.html", context, status=400 if form.is_bound else 200)


class ShiftCloseFilter(StyledFilterSet):
    cashier = django_filters.ModelChoiceFilter(label=gettext_lazy("收款人"), queryset=User.objects.none(),
                                               empty_label=gettext_lazy("全部"))
    closed_from = django_filters.DateFilter(label=gettext_lazy("日结日期从"), field_name="period_end",
                                            lookup_expr="date__gte")
    closed_to = django_filters.DateFilter(label=gettext_lazy("至"), field_name="period_end", lookup_expr="date__lte")

    class Meta:
        model = ShiftClose
        fields = ["cashier", "closed_from", "closed_to"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["cashier"].queryset = closes.cashiers_with_shifts(request.user)
        self.form.fields["cashier"].queryset = self.filters["cashier"].queryset


def _local(value):
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "--"


def _money_cell(name):
    return lambda obj, view: format_money(getattr(obj, name))


class ShiftCloseListView(ObjectListView):
    model = ShiftClose
    title = gettext_lazy("日结记录")
    filterset_class = ShiftCloseFilter
    ordering = ("-period_end", "-pk")
    extra_buttons = ((gettext_lazy("日结"), "billing:shift_open", "journal-check", "billing.add_shiftclose"),)
    columns = [
        Column("period_end", gettext_lazy("日结时间"), link=True, order_by="period_end",
               display=lambda obj, view: _local(obj.period_end)),
        Column("cashier", gettext_lazy("收款人")),
        Column("period_start", gettext_lazy("班次开始"), display=lambda obj, view: _local(obj.period_start)),
        Column("payment_count", gettext_lazy("收款笔数"), numeric=True),
        Column("total", gettext_lazy("收款合计"), numeric=True, display=_money_cell("total")),
        Column("reversals_total", gettext_lazy("作废退款"), numeric=True, display=_money_cell("reversals_total")),
        Column("cash_expected", gettext_lazy("应交现金"), numeric=True, display=_money_cell("cash_expected")),
        Column("cash_handed_over", gettext_lazy("实交现金"), numeric=True, display=_money_cell("cash_handed_over")),
        Column("note", gettext_lazy("备注")),
    ]

    def get_queryset(self):
        return closes.shift_close_queryset(self.request.user)

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        queryset = self.filter_queryset(self.get_queryset())
        context["money_totals"] = {name: format_money(money_total(queryset, name)) for name in
                                   ("total", "reversals_total", "cash_expected", "cash_handed_over")}
        return context


@login_required
@permission_required("billing.view_shiftclose", raise_exception=True)
def shift_close_slip(request, pk):
    """日结单: the close's totals by method, the cash expected and handed over, signatures; printable."""
    close = get_object_or_404(closes.shift_close_queryset(request.user), pk=pk)
    figures = closes.close_figures(close)
    methods = [(method, PaymentMethod(method).label if method in PaymentMethod.values else method, Decimal(amount))
               for method, amount in close.totals_by_method.items()]
    counts = {line.method: line.count for line in figures.methods}
    return render(request, "billing/shiftclose_slip.html", {
        "close": close, "figures": figures, "counts": counts, "methods": methods,
        "difference": close.cash_handed_over - close.cash_expected,
        "capitals": amount_in_chinese_capitals(close.cash_handed_over),
        "payments": _payments_shown(figures), "payments_shown": SHIFT_PAYMENTS_SHOWN})
