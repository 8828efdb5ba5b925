"""The 收银台's tables written in Python, and its payment form drawn once per set of choices: drawn through the
template engine (a dozen tags and filters for each of nineteen bills and ten payments, five small steps for each
input) they were two thirds of the page's time (ADR 0028)."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from aishang.billing.models import BillKind
from aishang.core.templatetags.aishang import money

register = template.Library()
URL_STAND_IN = 918273645


@register.simple_tag
def desk_bill_tables(groups, chosen, today):
    """One card per fee item with its open bills, oldest first; ``chosen``: the bill ids ticked (a re-shown form)."""
    chosen = {str(value) for value in chosen or ()}
    head = format_html(
        '<thead class="text-nowrap"><tr><th></th><th>{}</th><th class="text-end">{}</th>'
        '<th class="text-end d-none d-sm-table-cell">{}</th><th class="text-end">{}</th>'
        '<th class="text-end d-none d-sm-table-cell">{}</th></tr></thead>',
        _("账期"), _("应收"), _("优惠"), _("未结"), _("滞纳金"))
    words = {"space": escape(_("车位")), "late_fee": escape(_("滞纳金")), "overdue": escape(_("已逾期")),
             "paid_off": escape(_("付清优惠"))}
    cards = []
    for fee_item, bills in groups:
        rows = "".join(_bill_row(bill, chosen, today, words) for bill in bills)
        cards.append(f'<div class="card mb-3">\n<div class="card-header">{escape(fee_item)}</div>\n'
                     f'<div class="table-responsive"><table class="table table-sm align-middle mb-0">\n{head}\n'
                     f'<tbody>{rows}\n</tbody>\n</table></div>\n</div>\n')
    return mark_safe("".join(cards))


def _bill_row(bill, chosen, today, words):
    pk = bill.pk
    label = f"{bill.period_start.isoformat()} ～ {bill.period_end.isoformat()}"
    if bill.parking_space:
        label += f' <span class="text-muted small">{words["space"]} {escape(bill.parking_space)}</span>'
    if bill.kind == BillKind.LATE_FEE:
        label += f' <span class="badge text-bg-light">{words["late_fee"]}</span>'
    overdue = f' <span class="badge text-bg-warning">{words["overdue"]}</span>' if bill.due_date < today else ""
    discounted = f"−{money(bill.discounted)}" if bill.discounted else "--"
    owed = money(bill.outstanding)
    if bill.payment_discount:
        grant = bill.payment_discount
        owed += (f'<div class="small text-success fw-normal" title="{escape(grant.computation)}">'
                 f'{words["paid_off"]} −{money(grant.amount)}</div>')
    late_fee = money(bill.late_fee.amount) if bill.late_fee else "--"
    checked = " checked" if str(pk) in chosen else ""
    return (f'\n<tr>\n<td><input class="form-check-input desk-bill" type="checkbox" name="bills" value="{pk}" '
            f'id="bill-{pk}" data-outstanding="{bill.outstanding}"{checked}></td>\n'
            f'<td><label for="bill-{pk}">{label}</label>{overdue}</td>\n'
            f'<td class="text-end">{money(bill.amount)}</td>\n'
            f'<td class="text-end d-none d-sm-table-cell">{discounted}</td>\n'
            f'<td class="text-end fw-semibold">{owed}</td>\n'
            f'<td class="text-end d-none d-sm-table-cell">{late_fee}</td>\n</tr>')


@register.simple_tag
def desk_payment_rows(payments):
    """最近收款: receipt (linked to the payment), time, amount, cashier and the first void or refund."""
    rows = []
    # One reverse() for the ten links: the id is the only part that changes.
    before, after = reverse("billing:payment_detail", args=[URL_STAND_IN]).split(str(URL_STAND_IN))
    for payment in payments:
        badge = ""
        if payment.reversal_kind:
            tone = "danger" if payment.reversal_kind == "void" else "warning"
            badge = f'<span class="badge text-bg-{tone}">{escape(payment.reversal_label)}</span>'
        received = timezone.localtime(payment.received_at).strftime("%Y-%m-%d %H:%M")
        rows.append(f'<tr>\n<td><a href="{escape(before)}{payment.pk}{escape(after)}">'
                    f'{escape(payment.receipt_number)}</a></td>\n<td class="text-nowrap">{received}</td>\n'
                    f'<td class="text-end">{money(payment.amount)}</td>\n'
                    f'<td class="d-none d-sm-table-cell">{escape(payment.cashier or "--")}</td>\n'
                    f'<td>{badge}</td>\n</tr>')
    return mark_safe("".join(rows))


@register.simple_tag
def desk_payment_fields(form, desk, may_override):
    """The payment form's inputs: ``form`` as the cashier sent it back with errors, or None for a fresh one.

    A fresh form's markup depends only on the choices it offers (the company's fee items, the held deposits),
    whether late fees are offered, unit or customer, the override right and the language, so it is built and drawn
    once for each such combination (``FRESH_FORMS_KEPT`` at most), like the menu (ADR 0020).
    """
    if form is not None:
        late_fees = bool(form["late_fees"].initial or form["late_fees"].value())
        return _payment_fields(form, desk, late_fees, may_override)
    late_fees = desk.late_fees_due
    key = (translation.get_language(), tuple(desk.fee_items), tuple(desk.deposits), desk.unit is not None, late_fees,
           may_override)
    html = _FRESH_PAYMENT_FIELDS.get(key)
    if html is None:
        if len(_FRESH_PAYMENT_FIELDS) >= FRESH_FORMS_KEPT:
            _FRESH_PAYMENT_FIELDS.clear()
        html = _FRESH_PAYMENT_FIELDS[key] = _payment_fields(desk.payment_form(), desk, late_fees, may_override)
    return html


FRESH_FORMS_KEPT = 256
_FRESH_PAYMENT_FIELDS = {}


def _payment_fields(form, desk, late_fees, may_override):
    return render_to_string("billing/includes/desk_payment_fields.html", {
        "form": form, "unit": desk.unit, "deposits": desk.deposits, "late_fees": late_fees,
        "may_override": may_override})
