"""收银台: find a unit, choose its open bills, collect one payment by one or more methods, print the receipt."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aishang.core.money import format_money
from aishang.customers.models import Customer
from aishang.estate.models import Project, Unit

from . import selectors
from .desk import customer_desk, unit_desk
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
    today = timezone.localdate()
    desk = unit_desk(request.user, pk, today)
    if desk is None:
        raise Http404
    return _desk_page(request, desk, today)


@login_required
@permission_required("billing.add_payment", raise_exception=True)
def desk_customer(request, pk):
    """A customer's own bills, with no unit: parking spaces they rent, charges bound to them."""
    today = timezone.localdate()
    desk = customer_desk(request.user, pk, today)
    if desk is None:
        raise Http404
    return _desk_page(request, desk, today)


def _desk_page(request, desk, today):
    """Show the open bills of a unit or customer and collect the payment the cashier enters for them."""
    # A fresh form is built only where its inputs are not drawn already (desk_payment_fields).
    form = desk.payment_form(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        project = Project.objects.get(pk=desk.project.pk)
        unit = Unit.objects.get(pk=desk.unit.pk) if desk.unit else None
        customer = Customer.objects.get(pk=desk.customer.pk) if desk.customer else None
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
    return render(request, "billing/desk_unit.html", {
        "desk": desk, "unit": desk.unit, "customer": desk.customer, "project": desk.project, "groups": desk.groups,
        "prepaid": desk.prepaid, "deposits": desk.deposits, "occupants": desk.occupants, "payments": desk.payments,
        "form": form, "today": today, "may_override": request.user.has_perm(OVERRIDE_ORDER_PERMISSION),
    }, status=200 if form is None else 400)


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
