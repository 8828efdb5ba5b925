"""A payment's page with its voids and refunds, deposits (押金台账, 收押金, 退还) and prepaid statements (预存流水)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aishang.core.money import format_money
from aishang.estate.models import Unit

from . import selectors
from .approvals import approval_request_create
from .deposits import DEPOSIT_KINDS, DepositStatus, deposit_collect, deposit_status
from .forms import DepositCollectForm, RefundRequestForm, VoidRequestForm
from .models import MONEY_IN_METHODS, ApprovalAction, ApprovalRequest, PaymentMethod, PaymentSource
from .payments import deposit_held, prepaid_balance
from .reversals import payment_position
from .views import _apply_errors

REQUEST_PERMISSION = "billing.add_approvalrequest"


def _refund_methods(position):
    """The methods a refund of this payment may go back by: its own, or into prepaid."""
    methods = [(method, PaymentMethod(method).label) for method in position.tendered
               if position.still_tendered(method) > 0]
    if PaymentMethod.PREPAID not in position.tendered and position.payment.unit_id:
        methods.append((PaymentMethod.PREPAID, _("退回预存")))
    return methods


def _balance_refund_methods():
    return [(method, PaymentMethod(method).label) for method in PaymentMethod.values if method in MONEY_IN_METHODS]


def _requests(**subject):
    return ApprovalRequest.objects.filter(**subject).select_related("requested_by").order_by("-created_at")


@login_required
@permission_required("billing.view_payment", raise_exception=True)
def payment_detail(request, pk):
    payment = get_object_or_404(selectors.payment_queryset(request.user).prefetch_related("reversals"), pk=pk)
    position = payment_position(payment)
    may_request = request.user.has_perm(REQUEST_PERMISSION) and payment.source != PaymentSource.DEPOSIT
    return render(request, "billing/payment_detail.html", {
        "payment": payment, "position": position, "status": selectors.payment_status(payment),
        "allocations": payment.allocations.select_related("bill__fee_item", "reversal").order_by("created_at", "pk"),
        "prepaid_movements": payment.prepaid_movements.select_related("account__fee_item"),
        "deposit_movements": payment.deposit_movements.select_related("deposit"),
        "reversals": payment.reversals.select_related("request", "created_by"),
        "requests": _requests(payment=payment),
        "may_request": may_request and position.reversible > 0 and not position.is_voided,
        "may_void": may_request and not position.reversed,
        "void_form": VoidRequestForm(), "refund_form": RefundRequestForm(methods=_refund_methods(position)),
    })


@login_required
@permission_required(REQUEST_PERMISSION, raise_exception=True)
@require_POST
def payment_request_add(request, pk, action):
    payment = get_object_or_404(selectors.payment_queryset(request.user), pk=pk)
    if action == ApprovalAction.PAYMENT_VOID:
        form = VoidRequestForm(request.POST)
    elif action == ApprovalAction.REFUND:
        form = RefundRequestForm(request.POST, methods=_refund_methods(payment_position(payment)))
    else:
        return redirect("billing:payment_detail", pk=payment.pk)
    return _submit(request, form, action=action, subject={"payment": payment},
                   back=("billing:payment_detail", payment.pk))


def _submit(request, form, *, action, subject, back):
    """Submit the request the form describes; on a mistake, say so on the page it came from."""
    if form.is_valid():
        try:
            approval = approval_request_create(
                action=action, reason=form.cleaned_data["reason"], actor=request.user,
                amount=form.cleaned_data.get("amount"), refund_method=form.cleaned_data.get("refund_method", ""),
                **subject)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("已提交%(action)s申请，等待审批") % {"action": approval.get_action_display()})
            return redirect(approval.get_absolute_url())
    problems = [f"{form.fields[name].label if name in form.fields else ''} {message}".strip()
                for name, errors in form.errors.items() for message in errors]
    messages.error(request, "；".join(problems))
    return redirect(*back)


# Deposits


def _date(value):
    try:
        return parse_date((value or "").strip())
    except ValueError:  # well formed but no such day, e.g. 2026-02-30
        return None


@login_required
@permission_required("billing.view_deposit", raise_exception=True)
def deposit_list(request):
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    errors = [_("日期格式应为 2026-01-31") for value, parsed in ((request.GET.get("from"), date_from),
                                                         (request.GET.get("to"), date_to)) if value and not parsed]
    deposits = selectors.deposit_search(request.user, query=query, status=status if status in DepositStatus.LABELS
                                        else "", date_from=date_from, date_to=date_to)
    page = Paginator(deposits, 50).get_page(request.GET.get("page"))
    for deposit in page:
        deposit.status_label = DepositStatus.LABELS[deposit_status(deposit, deposit.held)]
    return render(request, "billing/deposit_list.html", {
        "page": page, "query": query, "status": status, "statuses": DepositStatus.LABELS.items(),
        "date_from": request.GET.get("from", ""), "date_to": request.GET.get("to", ""), "errors": errors})


def _balance_page(request, template, context, *, movements, balance, subject, refund_url):
    """A deposit's or a prepaid account's page: its movements with the running balance, a request to refund
    what is left, and the requests so far."""
    movements = movements.select_related("payment", "reversal__payment", "request", "created_by")
    return render(request, template, {
        **context,
        "statement": selectors.statement_with_balance(movements.order_by("created_at", "pk")),
        "requests": _requests(**subject),
        "may_request": request.user.has_perm(REQUEST_PERMISSION) and balance > 0,
        "refund_form": RefundRequestForm(methods=_balance_refund_methods(), initial={"amount": balance}),
        "refund_url": refund_url,
    })


@login_required
@permission_required("billing.view_deposit", raise_exception=True)
def deposit_detail(request, pk):
    deposit = get_object_or_404(selectors.deposit_queryset(request.user), pk=pk)
    held = deposit_held(deposit)
    context = {"deposit": deposit, "held": held, "status": DepositStatus.LABELS[deposit_status(deposit, deposit.held)]}
    return _balance_page(request, "billing/deposit_detail.html", context, movements=deposit.movements, balance=held,
                         subject={"deposit": deposit},
                         refund_url=reverse("billing:deposit_refund_request", args=[deposit.pk]))


@login_required
@permission_required("billing.add_deposit", raise_exception=True)
def deposit_collect_view(request, unit_pk):
    unit = get_object_or_404(Unit.objects.restrict(request.user, "view").select_related("project"), pk=unit_pk)
    customers = [occupancy.customer for occupancy in unit.occupancies.current().select_related("customer")]
    form = DepositCollectForm(request.POST or None, customers=customers)
    if request.method == "POST" and form.is_valid():
        try:
            deposit = deposit_collect(project=unit.project, unit=unit, customer=form.cleaned_data["customer"],
                                      kind=form.cleaned_data["kind"], tenders=form.tenders(), actor=request.user,
                                      note=form.cleaned_data["note"])
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("已收押金 %(amount)s，收据号 %(number)s")
                             % {"amount": format_money(deposit.amount), "number": deposit.payment.receipt_number})
            return redirect("billing:payment_receipt", pk=deposit.payment_id)
    return render(request, "billing/deposit_collect.html", {"unit": unit, "form": form, "kinds": DEPOSIT_KINDS},
                  status=400 if form.is_bound else 200)


@login_required
@permission_required(REQUEST_PERMISSION, raise_exception=True)
@require_POST
def deposit_refund_request(request, pk):
    deposit = get_object_or_404(selectors.deposit_queryset(request.user), pk=pk)
    form = RefundRequestForm(request.POST, methods=_balance_refund_methods())
    return _submit(request, form, action=ApprovalAction.DEPOSIT_REFUND, subject={"deposit": deposit},
                   back=("billing:deposit_detail", deposit.pk))


# Prepaid statements


@login_required
@permission_required("billing.view_prepaidaccount", raise_exception=True)
def prepaid_account_detail(request, pk):
    account = get_object_or_404(selectors.prepaid_account_queryset(request.user), pk=pk)
    balance = prepaid_balance(account)
    return _balance_page(request, "billing/prepaidaccount_detail.html", {"account": account, "balance": balance},
                         movements=account.movements, balance=balance, subject={"prepaid_account": account},
                         refund_url=reverse("billing:prepaid_refund_request", args=[account.pk]))


@login_required
@permission_required(REQUEST_PERMISSION, raise_exception=True)
@require_POST
def prepaid_refund_request(request, pk):
    account = get_object_or_404(selectors.prepaid_account_queryset(request.user), pk=pk)
    form = RefundRequestForm(request.POST, methods=_balance_refund_methods())
    return _submit(request, form, action=ApprovalAction.PREPAID_REFUND, subject={"prepaid_account": account},
                   back=("billing:prepaidaccount_detail", account.pk))
