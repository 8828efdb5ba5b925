"""What an owner does in the portal beyond reading: choose bills to pay, and start paying them online."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.billing.selectors import earliest_first_violations
from aishang.core.masking import mask_phone
from aishang.customers.models import OwnerBinding, OwnerWechatIdentity
from aishang.payments.choices import Gateway
from aishang.payments.services import bills_quote, order_create, order_prepay, several_projects_refusal

from .selectors import BillStatus, owner_bills, with_late_fees


@dataclass(frozen=True)
class BillSelection:
    bills: list  # the chosen open bills, with ``outstanding`` and ``late_fee``
    total: Decimal  # what paying them online costs, computed here as the order will be; the client never sets it
    late_fees: Decimal = Decimal("0.00")  # 滞纳金 included in the total, where the company collects it online
    discount: Decimal = Decimal("0.00")  # payment-time discounts taken off the total


def bill_selection_check(account, bill_ids):
    """The chosen bills and their total, or ValidationError with nothing chosen changed.

    Every id must be an open bill the account may see; within one fee item of one unit the earliest open bill
    comes first: choosing March's 物业费 while February's is open is refused (不支持跨时间缴费).
    """
    try:
        ids = sorted({int(pk) for pk in bill_ids})
    except (TypeError, ValueError):
        raise ValidationError({"bills": _("账单编号无效")}) from None
    if not ids:
        raise ValidationError({"bills": _("请选择要缴纳的账单")})
    bills = with_late_fees(owner_bills(account, status=BillStatus.OPEN).filter(pk__in=ids))
    if len(bills) != len(ids):
        raise ValidationError({"bills": _("有账单不存在或已缴清，请刷新后重试")})
    several = several_projects_refusal(bills)
    if several:
        raise ValidationError({"bills": several})
    skipped = earliest_first_violations(ids)
    if skipped:
        first = skipped[0]
        where = first.unit.code if first.unit_id else ""
        raise ValidationError({"bills": _("不支持跨时间缴费：请先缴纳 %(unit)s「%(item)s」%(month)s 的账单") % {
            "unit": where, "item": first.fee_item.name,
            "month": first.period_start.strftime("%Y-%m")}})
    owed = {bill.pk: bill.outstanding for bill in bills}
    quote = bills_quote(bills, owed, timezone.localdate(), company=bills[0].project.company)
    return BillSelection(bills=bills, total=quote.total, late_fees=sum(quote.late_fees.values(), Decimal("0.00")),
                         discount=sum(owed.values(), Decimal("0.00")) - sum(quote.payable.values(), Decimal("0.00")))


def online_payment_start(*, account, selection=None, topup=None, gateway=None, openid=None, return_url_for=None):
    """Place an online order for the chosen bills (a ``BillSelection``) or a prepaid top-up ``(unit, amount)`` and
    ask the gateway for the client's pay parameters.

    The gateway is the client's choice; by default WeChat when the account signed in from the mini program (it has
    an openid there), else Alipay's phone page. ``return_url_for(out_trade_no)`` is where a phone browser comes back
    to. Answers ``{"out_trade_no", "amount", "gateway", "pay"}``; raises ValidationError as ``order_create`` does.
    """
    bills, unit, amount = (selection.bills, None, None) if selection is not None else (None, *topup)
    units = {bill.unit_id for bill in bills} if bills else {unit.pk}
    binding = (OwnerBinding.objects.filter(account=account, unit_id__in=units).select_related("customer")
               .order_by("-verified_at").first())
    if openid is None and gateway != Gateway.ALIPAY:
        openid = (OwnerWechatIdentity.objects.filter(account=account).order_by("-linked_at")
                  .values_list("openid", flat=True).first())
    gateway = gateway or (Gateway.WECHAT if openid else Gateway.ALIPAY)
    if gateway == Gateway.WECHAT and not openid:
        raise ValidationError({"gateway": _("微信支付请在小程序内进行（需先用微信登录）")})
    order = order_create(gateway=gateway, bills=bills, topup=amount, unit=unit,
                         payer=binding.customer if binding else None,
                         actor_label=_("业主 %(mobile)s") % {"mobile": mask_phone(account.mobile)})
    return_url = return_url_for(order.out_trade_no) if return_url_for else ""
    pay = order_prepay(order, openid=openid if gateway == Gateway.WECHAT else None, return_url=return_url)
    return {"out_trade_no": order.out_trade_no, "amount": order.amount, "gateway": gateway, "pay": pay}


def owner_messages_mark_read(account, message_ids=None):
    """Mark the account's messages read (all of them without ids); returns how many changed."""

    from .selectors import owner_messages

    messages = owner_messages(account).filter(read_at__isnull=True)
    if message_ids is not None:
        messages = messages.filter(pk__in=list(message_ids))
    return messages.update(read_at=timezone.now())
