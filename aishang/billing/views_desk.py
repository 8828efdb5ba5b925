"""收银台: find a unit, choose its open bills, collect one payment by one or more methods, print the receipt."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aishang.core.money import format_money
from aishang.customers.models import Customer
from aishang.estate.models import Unit

from . import selectors
from .forms import PaymentForm
from .payments import OVERRIDE_ORDER_PERMISSION, payment_collect, prepaid_offset
from .views import _apply_errors


@login_required
@permission_required("billing.add_payment", raise_exception=True)
def desk(request):
    query = request.GET.get("q", "").strip()
    units = selectors.desk_search(request.user, query)
    customers = selectors.desk_customers(request.user, query)
    if query and len(units) == 1 and not customers:
        return redirect("billing:desk_unit", pk=units[0].pk)
    if query and len(customers) == 1 and not units:
        return redirect("billing:desk_customer", pk=customers[0].pk)
    return render(request, "billing/desk.html", {"query": query, "units": units, "customers": customers})


@login_required
@permission_required("billing.add_payment", raise_exception=True)
def desk_unit(request, pk):
    unit = get_object_or_404(Unit.objects.restrict(request.user, "view")
                             .select_related("project"), pk=pk)
    today = timezone.localdate()
    return _desk_page(request, project=unit.project, unit=unit, today=today, context={
        "prepaid": selectors.unit_prepaid_balances(unit),
        "occupants": unit.occupancies.current(today).select_related("customer").only("role", "unit", "customer__name")
                      .order_by("start_date", "pk")})


@login_required
@permission_required("billing.add_payment", raise_exception=True)
def desk_customer(request, pk):
    """A customer's own bills, with no unit: parking spaces they rent, charges bound to them."""
    customer = get_object_or_404(Customer.objects.restrict(request.user, "view").select_related("project__company"),
                                 pk=pk)
    return _desk_page(request, project=customer.project, customer=customer, today=timezone.localdate(),
                      context={"prepaid": []})


def _desk_page(request, *, project, today, context, unit=None, customer=None):
    """Show the open bills of a unit or customer and collect the payment the cashier enters for them."""
    subject = {"unit": unit} if customer is None else {"customer": customer}
    groups = selectors.desk_open_bills(request.user, as_of=today, **subject)
    bills = [bill for _fee_item, group in groups for bill in group]
    deposits = selectors.unit_deposits_held(**subject)
    form = PaymentForm(request.POST or None, bills=bills, company_id=project.company_id, deposits=deposits,
                       initial={"late_fees": any(bill.late_fee and bill.late_fee.amount for bill in bills)})
    if request.method == "POST" and form.is_valid():
        try:
            payment = payment_collect(project=project, unit=unit, payer=customer,
                                      bill_ids=form.cleaned_data["bills"], tenders=form.tenders(),
                                      actor=request.user, override_reason=form.cleaned_data["override_reason"],
                                      note=form.cleaned_data["note"], prepaid_to=form.cleaned_data["prepaid_to"],
                                      collect_late_fees=form.cleaned_data["late_fees"])
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("已收款 %(amount)s，收据号 %(number)s")
                             % {"amount": format_money(payment.amount), "number": payment.receipt_number})
            return redirect("billing:payment_receipt", pk=payment.pk)
    context |= {"unit": unit, "customer": customer, "project": project, "groups": groups, "form": form,
                "today": today, "deposits": deposits, "payments": selectors.unit_recent_payments(request.user,
                                                                                                 **subject),
                "may_override": request.user.has_perm(OVERRIDE_ORDER_PERMISSION)}
    return render(request, "billing/desk_unit.html", context, status=400 if form.is_bound else 200)


@login_required
@permission_required("billing.add_payment", raise_exception=True)
@require_POST
def desk_unit_offset(request, pk):
    """预存冲抵: settle the unit's open bills from its prepaid balances."""
    unit = get_object_or_404(Unit.objects.restrict(request.user, "view").select_related("project"), pk=pk)
    try:
        payments = prepaid_offset(unit=unit, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if payments:
            messages.success(request, _("已从预存冲抵 %(amount)s") % {
                "amount": format_money(sum(payment.amount for payment in payments))})
        else:
            messages.info(request, _("没有可冲抵的预存余额或未结账单"))
    return redirect("billing:desk_unit", pk=unit.pk)
