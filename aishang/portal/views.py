"""The owner's H5 pages (``/m/``): sign in with an SMS code, my units, bills with a total, history, receipts,
messages. The session carries an owner token under its own key; a staff sign-in means nothing here."""

from functools import wraps

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aishang.billing.models import FeeItem
from aishang.customers.owners import (
    CODE_LIFETIME,
    SmsRateLimited,
    owner_for_token,
    owner_login_code_send,
    owner_sign_in_with_code,
    owner_token_issue,
    owner_token_revoke,
)
from aishang.payments.choices import Gateway

from . import selectors, services
from .api.views import client_address
from .filters import BillFilterForm
from .forms import SignInForm, TopUpForm

SESSION_KEY = "portal_owner_token"


def owner_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        account = owner_for_token(request.session.get(SESSION_KEY))
        if account is None:
            request.session.pop(SESSION_KEY, None)
            return redirect(f"{reverse('portal:login')}?next={request.get_full_path()}")
        request.owner = account
        return view(request, *args, **kwargs)

    return wrapped


def _field_errors(form, exc):
    for field, messages in exc.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def sign_in(request):
    form = SignInForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}) \
            or not next_url.startswith("/m/"):
        next_url = reverse("portal:home")
    sent = False
    if request.method == "POST" and form.is_valid():
        mobile, code = form.cleaned_data["mobile"], form.cleaned_data["code"]
        try:
            if request.POST.get("action") == "send":
                owner_login_code_send(mobile=mobile, ip_address=client_address(request))
                sent = True
            else:
                if not code:
                    raise ValidationError({"code": _("请输入验证码")})
                account = owner_sign_in_with_code(mobile=mobile, code=code)
                key, _token = owner_token_issue(account)
                request.session.cycle_key()
                request.session[SESSION_KEY] = key
                return redirect(next_url)
        except ValidationError as exc:
            _field_errors(form, exc)
        except SmsRateLimited as exc:
            form.add_error("mobile", exc.message)
    return render(request, "portal/sign_in.html", {
        "form": form, "sent": sent, "next": next_url, "minutes": CODE_LIFETIME.seconds // 60})


@require_POST
def sign_out(request):
    owner_token_revoke(request.session.pop(SESSION_KEY, None))
    return redirect("portal:login")


def _page(request, template, context):
    context.setdefault("unread", selectors.owner_unread_count(request.owner))
    return render(request, template, context)


@owner_required
def home(request):
    units = list(selectors.owner_units(request.owner))
    open_bills = selectors.owner_bills(request.owner, status=selectors.BillStatus.OPEN)
    owed = {}
    for unit_id, outstanding in open_bills.values_list("unit_id", "outstanding"):
        owed[unit_id] = owed.get(unit_id, 0) + outstanding
    for unit in units:
        unit.owed = owed.get(unit.pk, 0)
    return _page(request, "portal/home.html", {"units": units, "account": request.owner, "tab": "home"})


@owner_required
def unit_detail(request, pk):
    unit = get_object_or_404(selectors.owner_units(request.owner), pk=pk)
    return _page(request, "portal/unit.html", {"facts": selectors.owner_unit_facts(request.owner, unit),
                                               "tab": "home"})


@owner_required
def bills(request):
    """Open bills to tick (the overdue ones ticked already) with the server's total; settled ones below."""
    form = BillFilterForm(request.GET or None)
    filters = form.selector_kwargs() if form.is_valid() else {}
    filters.pop("status", None)
    owner_bills = selectors.owner_bills
    open_rows = selectors.with_late_fees(owner_bills(request.owner, status=selectors.BillStatus.OPEN, **filters))
    paid_rows = selectors.with_late_fees(owner_bills(request.owner, status=selectors.BillStatus.PAID, **filters)[:50])
    chosen = [bill.pk for bill in open_rows if bill.overdue]
    selection, error = _selection(request.owner, chosen)
    units = list(selectors.owner_units(request.owner))
    fee_items = FeeItem.objects.filter(bills__in=[bill.pk for bill in open_rows + paid_rows]).distinct()
    return _page(request, "portal/bills.html", {
        "form": form, "open_bills": open_rows, "paid_bills": paid_rows, "chosen": set(chosen), "units": units,
        "fee_items": fee_items, "selection": selection, "error": error, "tab": "bills"})


def _selection(account, bill_ids):
    if not bill_ids:
        return None, ""
    try:
        return services.bill_selection_check(account, bill_ids), ""
    except ValidationError as exc:
        return None, " ".join(exc.messages)


@owner_required
@require_POST
def bill_total(request):
    """The total of the ticked bills, or why they cannot be paid together (htmx swaps the pay bar)."""
    selection, error = _selection(request.owner, request.POST.getlist("bills"))
    return render(request, "portal/_pay_bar.html", {"selection": selection, "error": error})


def _go_pay(request, **what):
    """Place the order and send the phone to the gateway's page; None (with the reason flashed) if refused.

    A phone browser pays on Alipay's phone page: WeChat's JSAPI pays only inside the mini program, even for an owner
    who linked it once."""
    try:
        started = services.online_payment_start(
            account=request.owner, gateway=Gateway.ALIPAY, return_url_for=lambda number: request.build_absolute_uri(
                reverse("portal:order", args=[number])), **what)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
        return None
    pay = started["pay"]
    return redirect(pay.get("pay_url") or pay.get("cashier_url") or reverse("portal:order",
                                                                             args=[started["out_trade_no"]]))


@owner_required
@require_POST
def pay(request):
    """The chosen bills and their total to confirm; 确认支付 places the order and opens the gateway's page."""
    selection, error = _selection(request.owner, request.POST.getlist("bills"))
    if selection is None:
        error = error or _("请选择要缴纳的账单")
        if request.htmx:
            return render(request, "portal/_pay_bar.html", {"selection": None, "error": error})
        flash.error(request, error)
        return redirect("portal:bills")
    if request.POST.get("confirm"):
        going = _go_pay(request, selection=selection)
        if going is not None:
            return going
    return _page(request, "portal/pay.html", {"selection": selection, "tab": "bills"})


@owner_required
def topup(request):
    units = list(selectors.owner_units(request.owner))
    form = TopUpForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        unit = next(u for u in units if u.pk == form.cleaned_data["unit"])
        going = _go_pay(request, topup=(unit, form.cleaned_data["amount"]))
        if going is not None:
            return going
    return _page(request, "portal/topup.html", {"form": form, "tab": "bills"})


@owner_required
def order(request, out_trade_no):
    """Where the phone comes back from the gateway: the order's state (the page refreshes itself until the gateway's
    notice arrives) and, once paid, its receipts."""
    found = selectors.owner_order(request.owner, out_trade_no)
    if found is None:
        raise Http404
    context = {"order": found, "payments": selectors.owner_order_payments(found), "tab": "payments"}
    if request.htmx:
        return render(request, "portal/_order_state.html", context)
    return _page(request, "portal/order.html", context)


@owner_required
def payments(request):
    rows = list(selectors.owner_payments(request.owner)[:100])
    for payment in rows:
        payment.status_label = selectors.owner_payment_status(payment)
    return _page(request, "portal/payments.html", {"payments": rows, "tab": "payments"})


@owner_required
def payment_detail(request, pk):
    from aishang.billing.receipts import receipt_context

    payment = get_object_or_404(selectors.owner_payments(request.owner), pk=pk)
    return _page(request, "portal/payment.html", {"payment": payment, "receipt": receipt_context(payment),
                                                  "tab": "payments"})


@owner_required
def receipt_pdf(request, pk):
    payment = get_object_or_404(selectors.owner_payments(request.owner), pk=pk)
    response = HttpResponse(selectors.owner_receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=_("收据-%(number)s.pdf") % {"number": payment.receipt_number})
    return response


@owner_required
def messages(request):
    rows = list(selectors.owner_messages(request.owner)[:100])
    return _page(request, "portal/messages.html", {"messages_list": rows, "tab": "messages"})


@owner_required
def message_detail(request, pk):
    message = get_object_or_404(selectors.owner_messages(request.owner), pk=pk)
    if message.read_at is None:
        services.owner_messages_mark_read(request.owner, [message.pk])
    return _page(request, "portal/message.html", {"message": message, "tab": "messages"})


@owner_required
@require_POST
def messages_read_all(request):
    services.owner_messages_mark_read(request.owner)
    return redirect("portal:messages")
