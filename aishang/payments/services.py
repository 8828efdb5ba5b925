"""Online payment orders: made from an owner's chosen bills, paid through a gateway, booked exactly as at the desk.

The order's amount is computed here from what the bills still owe; the client never sets it. A verified callback
(or a query, when no callback came) books the order in one transaction with the order row locked, so the same
callback delivered five times, or a callback racing a query, books it once. Gateway calls are never made inside
a transaction that may roll back: refunds are sent after commit.
"""

import datetime
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.billing.balances import bill_late_fee, earlier_open_bills, open_amounts
from aishang.billing.discounts import payment_grants
from aishang.billing.models import Bill, PaymentSource
from aishang.billing.payments import Tender, payment_collect

from . import gateways
from .choices import (
    Gateway,
    NotificationOutcome,
    OrderLineKind,
    OrderStatus,
    RefundKind,
    RefundStatus,
    SurplusPolicy,
)
from .crypto import GatewayError
from .models import (
    TRADE_NUMBER,
    GatewayConfig,
    GatewayRefund,
    PaymentOrder,
    PaymentOrderLine,
    PaymentOrderSettlement,
    PaymentSettings,
)

CENT = Decimal("0.01")
ZERO = Decimal("0")
GATEWAY_LABELS = {Gateway.WECHAT: "微信", Gateway.ALIPAY: "支付宝"}


def trade_number(prefix="AS"):
    """``AS`` + local time to the second + 10 random characters: 26 characters of [A-Z0-9], unique in practice and
    readable by a clerk on the phone with the gateway."""
    number = f"{prefix}{timezone.localtime():%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"
    assert TRADE_NUMBER.match(number)
    return number


def payment_settings(company):
    return PaymentSettings.objects.filter(company=company).first() or PaymentSettings(company=company)


def gateway_config(company, gateway):
    config = GatewayConfig.objects.filter(company=company, gateway=gateway, is_active=True).first()
    if config is None:
        label = Gateway(gateway).label if gateway in Gateway.values else gateway
        raise ValidationError({"gateway": _("本物业尚未开通「%(gateway)s」") % {"gateway": label}})
    return config


def _topup_amount(topup):
    try:
        amount = Decimal(str(topup))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"topup": _("请输入预存金额")}) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise ValidationError({"topup": _("预存金额须大于 0，最多两位小数")})
    return amount


def payable_amounts(bills, owed, day):
    """{bill id: what paying it in full costs on ``day``}: its outstanding less the payment-time discount it earns,
    computed per project as the desk computes it (billing.discounts.payment_grants)."""
    payable = {}
    by_project = defaultdict(list)
    for bill in bills:
        by_project[bill.project_id].append(bill)
    for group in by_project.values():
        grants = {grant.bill.pk: grant.amount for grant in payment_grants(group, owed, day)}
        for bill in group:
            payable[bill.pk] = max(owed.get(bill.pk, ZERO) - grants.get(bill.pk, ZERO), ZERO)
    return payable


def late_fees_due(bills, payable, day):
    """{bill id: the 滞纳金 accrued by ``day`` on what paying it still costs}, as the desk's 同时收取滞纳金 raises it;
    bills whose fee item charges none are left out."""
    fees = {}
    for bill in bills:
        fee = bill_late_fee(bill, payable.get(bill.pk, ZERO), day)
        if fee is not None and fee.amount > 0:
            fees[bill.pk] = fee.amount
    return fees


@dataclass(frozen=True)
class Quote:
    """What paying the bills online costs on a day: per bill the amount (outstanding less discount) and late fee."""

    payable: dict
    late_fees: dict

    @property
    def total(self):
        return sum(self.payable.values(), ZERO) + sum(self.late_fees.values(), ZERO)


def bills_quote(bills, owed, day, *, company):
    """The ``Quote`` of paying the bills on ``day``, with late fees where the company collects them online."""
    payable = payable_amounts(bills, owed, day)
    late_fees = late_fees_due(bills, payable, day) if payment_settings(company).collect_late_fees else {}
    return Quote(payable=payable, late_fees=late_fees)


def several_projects_refusal(bills, unit=None):
    """The message when the bills (and the top-up's unit) belong to more than one project, or None: an order is
    booked, scoped and reconciled within one project (小区), as at the desk."""
    projects = {bill.project_id for bill in bills} | ({unit.project_id} if unit else set())
    if len(projects) > 1:
        return _("一次只能缴同一小区（项目）的费用，请分开支付")
    return None


def earliest_first_refusal(bills):
    """不支持跨时间缴费: the message when the selection skips an open earlier bill of a fee item of a unit, or None."""
    earlier = earlier_open_bills(bills)
    if not earlier:
        return None
    first = earlier[0]
    return _("不支持跨时间缴费：请先缴「%(item)s」%(month)s 的账单") % {
        "item": first.fee_item.name,
        "month": first.period_start.strftime("%Y-%m"),
    }


def order_create(*, gateway, bills=None, bill_ids=None, topup=None, unit=None, payer=None, actor_label):
    """Make a 待支付 order for ``bills`` (or ``bill_ids``) and an optional prepaid ``topup`` of ``unit``.

    For the owner portal: ``bills``/``bill_ids`` are bills the owner may pay (the caller checks the owner is verified
    for their units); ``gateway`` is ``"wechat"`` or ``"alipay"``; ``payer`` the owner's Customer (for the receipt);
    ``actor_label`` who placed it, e.g. "业主 138****5678" (online orders have no cashier). The amount is what the
    bills still owe less the payment-time discounts they earn, plus the top-up. Bills of several units and fee items
    may be paid together; within one fee item of one unit the selection must start at the oldest open bill
    (不支持跨时间缴费). Raises ValidationError, with nothing written, when a bill is unknown or settled, the selection
    skips an earlier bill, the company has no active account at the gateway, or there is nothing to pay.
    """
    if gateway not in Gateway.values:
        raise ValidationError({"gateway": _("请选择支付方式")})
    ids = [bill.pk for bill in bills] if bills is not None else list(bill_ids or [])
    try:
        ids = sorted({int(pk) for pk in ids})
    except (TypeError, ValueError):
        raise ValidationError({"bills": _("账单编号不正确")}) from None
    chosen = list(Bill.objects.filter(pk__in=ids).select_related("project", "fee_item", "unit").order_by("pk"))
    if len(chosen) != len(ids):
        raise ValidationError({"bills": _("有账单不存在，请刷新后重试")})
    topup_amount = _topup_amount(topup) if topup not in (None, "", 0) else None
    if topup_amount and unit is None:
        raise ValidationError({"topup": _("请选择预存的房屋")})
    if not chosen and not topup_amount:
        raise ValidationError({"bills": _("请选择要缴的账单")})
    refusal = several_projects_refusal(chosen, unit)
    if refusal:
        raise ValidationError({"bills": refusal})
    owed = open_amounts(Bill.objects.filter(pk__in=ids))
    settled = [bill for bill in chosen if owed.get(bill.pk, ZERO) <= 0]
    if settled:
        raise ValidationError(
            {
                "bills": _("「%(item)s」%(month)s 的账单已结清，请刷新后重试")
                % {"item": settled[0].fee_item.name, "month": settled[0].period_start.strftime("%Y-%m")}
            }
        )
    refusal = earliest_first_refusal(chosen)
    if refusal:
        raise ValidationError({"bills": refusal})
    project = chosen[0].project if chosen else unit.project
    company = project.company
    quote = bills_quote(chosen, owed, timezone.localdate(), company=company)
    payable, late_fees = quote.payable, quote.late_fees
    amount = quote.total + (topup_amount or ZERO)
    if amount <= 0:
        raise ValidationError({"bills": _("所选账单无需缴费")})
    config = gateway_config(company, gateway)
    units = {bill.unit_id for bill in chosen} | ({unit.pk} if unit else set())
    fee_items = list(dict.fromkeys(bill.fee_item.name for bill in chosen))
    description = "、".join(fee_items[:3]) + (_("等") if len(fee_items) > 3 else "") if fee_items else _("预存充值")
    with transaction.atomic():
        order = PaymentOrder.objects.create(
            company=company,
            project=project,
            unit_id=units.pop() if len(units) == 1 else None,
            payer=payer or next((bill.payer for bill in chosen if bill.payer_id), None),
            out_trade_no=trade_number(),
            gateway=gateway,
            config=config,
            amount=amount,
            description=f"{project.name} {description}"[:120],
            created_by_label=actor_label[:60],
            expires_at=timezone.now() + datetime.timedelta(minutes=payment_settings(company).order_expire_minutes),
        )
        lines = [
            PaymentOrderLine(
                order=order,
                project_id=bill.project_id,
                unit_id=bill.unit_id,
                bill=bill,
                amount=payable[bill.pk],
                late_fee=late_fees.get(bill.pk, ZERO),
            )
            for bill in chosen
            if payable[bill.pk] > 0
        ]
        if topup_amount:
            lines.append(
                PaymentOrderLine(
                    order=order, kind=OrderLineKind.TOP_UP, project_id=unit.project_id, unit=unit, amount=topup_amount
                )
            )
        PaymentOrderLine.objects.bulk_create(lines)
    return order


def order_prepay(order, *, openid=None, return_url=""):
    """Ask the gateway for the client's pay parameters of a 待支付 order and return them (a dict).

    WeChat (JSAPI, mini program): ``openid`` of the payer is required; answers wx.requestPayment's parameters
    (appId, timeStamp, nonceStr, package, signType, paySign), plus ``cashier_url`` for the sandbox. Alipay: with
    ``openid`` (the buyer's user id in the mini program) answers ``{"tradeNO"}`` for my.tradePay; without, answers
    ``{"pay_url"}``, the page a phone browser opens (``return_url`` is where it comes back). Raises ValidationError
    when the order cannot be paid any more or the gateway refuses.
    """
    if order.status != OrderStatus.PENDING:
        raise ValidationError(_("订单%(status)s，不能再支付") % {"status": order.get_status_display()})
    if order.is_expired:
        raise ValidationError(_("订单已超时，请重新下单"))
    if order.gateway == Gateway.WECHAT and not openid:
        raise ValidationError({"openid": _("微信支付需要付款人的 openid（请在小程序内支付）")})
    try:
        prepay_id, params = gateways.prepay(order, openid=openid or "", return_url=return_url)
    except GatewayError as exc:
        # Closed at once so the owner's bills are not held by an order nobody can pay; should the gateway have made
        # the trade after all and someone pay it, the closed order's money goes back (_settle_locked).
        order_close(order, reason=_("渠道下单失败：%(error)s") % {"error": exc}, whatever_the_gateway_says=True)
        raise ValidationError({"gateway": _("%(error)s。订单已关闭，未扣款，请稍后重新支付") % {"error": exc}}) from exc
    PaymentOrder.objects.filter(pk=order.pk).update(prepay_id=prepay_id, openid=openid or "")
    order.prepay_id, order.openid = prepay_id, openid or ""
    return params


# Booking a paid order


def _refund_create(order, *, kind, amount, reason, payment=None, reversal=None):
    refund = GatewayRefund.objects.create(
        order=order,
        kind=kind,
        amount=amount,
        reason=reason[:80],
        payment=payment,
        reversal=reversal,
        out_refund_no=trade_number("RF"),
    )
    transaction.on_commit(lambda: refund_send(refund.pk))
    return refund


def _book(order, state):
    """Write the order's payments as the desk would: one per unit (and one per top-up), method 微信/支付宝, no cashier.

    Bills paid meanwhile (at the desk, or by another order) owe less now: what the order paid beyond them goes to the
    unit's prepaid or back through the gateway, as the company chose. Returns the amount sent back.
    """
    policy = payment_settings(order.company).surplus_policy
    lines = list(order.lines.select_related("project", "unit").order_by("pk"))
    bill_ids = [line.bill_id for line in lines if line.bill_id]
    # The same lock payment_collect takes, taken first for all of the order's bills at once (id order): what they
    # owe is read under it, so a desk payment of the same bills either committed before or waits for this one.
    bills = list(
        Bill.objects.select_for_update(of=("self",)).filter(pk__in=bill_ids).select_related("fee_item").order_by("pk")
    )
    owed = open_amounts(Bill.objects.filter(pk__in=bill_ids))
    # Priced on the day the order was made, as it was quoted: a callback after midnight adds no day of late fee.
    ordered_on = timezone.localdate(order.created_at)
    payable = payable_amounts(bills, owed, timezone.localdate())
    late_fees = late_fees_due(bills, payable, ordered_on)
    groups = defaultdict(list)
    for line in lines:
        groups[(line.project_id, line.unit_id, line.kind)].append(line)
    reference = state.transaction_id
    refund_total = ZERO
    for (_project_id, _unit_id, kind), group in groups.items():
        first = group[0]
        open_bills = [line.bill_id for line in group if line.bill_id and payable.get(line.bill_id, ZERO) > 0]
        paid = sum((line.amount + line.late_fee for line in group), ZERO)
        collect_late_fees = False
        if kind == OrderLineKind.TOP_UP:
            booked = paid
        else:
            due = sum((payable.get(line.bill_id, ZERO) for line in group), ZERO)
            # payment_collect raises the late fee of every bill it settles, so all of them count here.
            with_late_fees = due + sum((late_fees.get(line.bill_id, ZERO) for line in group), ZERO)
            collect_late_fees = any(line.late_fee > 0 for line in group) and paid >= with_late_fees
            due = with_late_fees if collect_late_fees else due
            keep_surplus = policy == SurplusPolicy.PREPAID and first.unit_id is not None
            booked = paid if keep_surplus or paid <= due else due
            refund_total += paid - booked
        if booked <= 0:
            continue
        payment = payment_collect(
            project=first.project,
            bill_ids=open_bills,
            unit=first.unit,
            payer=order.payer,
            actor=None,
            source=PaymentSource.ONLINE,
            tenders=[Tender(order.payment_method, booked, reference=reference)],
            note=_("线上支付 %(number)s") % {"number": order.out_trade_no},
            collect_late_fees=collect_late_fees,
            late_fees_as_of=ordered_on,
        )
        PaymentOrderSettlement.objects.create(order=order, payment=payment)
    if refund_total > 0:
        _refund_create(
            order, kind=RefundKind.SURPLUS, amount=refund_total, reason=_("账单已在其他渠道结清，多付款项退回")
        )
    return refund_total


def order_settle(*, config, state, notification=None):
    """Book a trade the gateway says is paid; answers (outcome, message). Safe to call any number of times."""
    with transaction.atomic():
        # Gateways deliver the same callback more than once, sometimes at the same moment, and a query may race
        # them: the order row lock makes them take turns, and whoever comes second finds it 已支付.
        order = (
            PaymentOrder.objects.select_for_update(of=("self",))
            .select_related("company")
            .filter(config=config, out_trade_no=state.out_trade_no)
            .first()
        )
        outcome, message = _settle_locked(config, order, state)
        if notification is not None:
            notification.order = order
            notification.outcome, notification.message = outcome, message[:200]
            notification.save()
    return outcome, message


def _settle_locked(config, order, state):
    if order is None:
        return NotificationOutcome.REFUSED, _("没有该订单")
    if not state.paid:
        return NotificationOutcome.IGNORED, _("交易状态 %(state)s，未支付") % {"state": state.state or "--"}
    if config.gateway == Gateway.WECHAT:
        foreign = state.merchant_id != config.merchant_id or state.app_id != config.app_id
    else:
        foreign = state.app_id != config.app_id or bool(
            config.merchant_id and state.merchant_id and state.merchant_id != config.merchant_id
        )
    if foreign:
        return NotificationOutcome.REFUSED, _("商户号或 AppID 与订单不符")
    if state.amount != order.amount:
        return NotificationOutcome.REFUSED, _("金额不符：通知 %(paid)s，订单 %(amount)s") % {
            "paid": state.amount,
            "amount": order.amount,
        }
    if order.status == OrderStatus.PAID:
        if order.transaction_id == state.transaction_id:
            return NotificationOutcome.DUPLICATE, _("订单已入账")
        return NotificationOutcome.REFUSED, _("订单已由另一笔交易支付")
    if order.status == OrderStatus.CLOSED:
        if not order.refunds.filter(kind=RefundKind.CLOSED_ORDER).exists():
            PaymentOrder.objects.filter(pk=order.pk).update(transaction_id=state.transaction_id)
            _refund_create(
                order, kind=RefundKind.CLOSED_ORDER, amount=order.amount, reason=_("订单已关闭，款项原路退回")
            )
        return NotificationOutcome.REFUNDED, _("订单已关闭，款项原路退回")
    refunded = _book(order, state)
    order.status = OrderStatus.PAID
    order.transaction_id = state.transaction_id
    order.paid_at = state.paid_at or timezone.now()
    order.save(update_fields=["status", "transaction_id", "paid_at", "updated_at"])
    if refunded:
        return NotificationOutcome.ACCEPTED, _("已入账，%(amount)s 已结清的部分原路退回") % {"amount": refunded}
    return NotificationOutcome.ACCEPTED, _("已入账")


def order_query(order):
    """查单: ask the gateway about a 待支付 order; book it if paid, close it if expired. Answers a message."""
    try:
        state = gateways.query(order)
    except GatewayError as exc:
        return _("查询失败：%(error)s") % {"error": exc}
    PaymentOrder.objects.filter(pk=order.pk).update(last_queried_at=timezone.now())
    if state.paid:
        return order_settle(config=order.config, state=state)[1]
    if order.status == OrderStatus.PENDING and order.is_expired:
        return order_close(order, reason=_("超时未支付"))
    return _("渠道状态：%(state)s") % {"state": state.state or _("未支付")}


def order_close(order, *, reason, whatever_the_gateway_says=False):
    """Close a 待支付 order at the gateway, then here; a trade paid meanwhile is booked instead. Where the gateway
    cannot close it, the order stays open unless ``whatever_the_gateway_says``."""
    try:
        gateways.close(order)
    except GatewayError as exc:
        if not whatever_the_gateway_says:
            return _("关闭失败：%(error)s") % {"error": exc}
    with transaction.atomic():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING:
            return locked.get_status_display()
        locked.status, locked.closed_at, locked.close_reason = OrderStatus.CLOSED, timezone.now(), reason[:100]
        locked.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    return _("订单已关闭")


def pending_orders_check(now=None):
    """Periodic: orders with no callback after the company's N minutes are queried (booked if paid, closed once
    expired); refunds not yet accepted by the gateway are sent again or asked about."""
    now = now or timezone.now()
    checked = 0
    a_minute_ago = now - datetime.timedelta(minutes=1)
    orders = (
        PaymentOrder.objects.filter(status=OrderStatus.PENDING, created_at__lte=a_minute_ago)
        .select_related("config", "company")
        .order_by("created_at")[:500]
    )
    waits = {}
    for order in orders:
        wait = waits.setdefault(order.company_id, payment_settings(order.company).query_after_minutes)
        if order.created_at > now - datetime.timedelta(minutes=wait):
            continue
        order_query(order)
        checked += 1
    refunds = 0
    for refund in GatewayRefund.objects.filter(
        status__in=[RefundStatus.PENDING, RefundStatus.PROCESSING], created_at__lte=a_minute_ago
    )[:200]:
        if refund.status == RefundStatus.PENDING:
            refund_send(refund.pk)
        else:
            refund_check(refund)
        refunds += 1
    return {"orders": checked, "refunds": refunds}


# Refunds through the gateway


def refund_send(refund_id):
    """Send a 待发起 refund to the gateway (after the commit that created it); a network failure leaves it to retry."""
    refund = GatewayRefund.objects.select_related("order__config").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    GatewayRefund.objects.filter(pk=refund.pk).update(attempts=refund.attempts + 1)
    try:
        status, refund_id_at_gateway, message = gateways.refund(refund)
    except GatewayError as exc:
        if exc.retryable:
            GatewayRefund.objects.filter(pk=refund.pk).update(message=str(exc)[:200])
            return refund
        status, refund_id_at_gateway, message = RefundStatus.FAILED, "", str(exc)
    return refund_advance(refund.pk, status, refund_id=refund_id_at_gateway, message=message)


def refund_check(refund):
    if refund.order.gateway != Gateway.WECHAT:
        return refund
    try:
        status, refund_id = gateways.refund_query(refund)
    except GatewayError:
        return refund
    return refund_advance(refund.pk, status, refund_id=refund_id)


def refund_advance(refund_pk, status, *, refund_id="", message=""):
    """Move a refund forward only: 待发起 → 退款中 → 退款成功 / 退款失败."""
    order = [RefundStatus.PENDING, RefundStatus.PROCESSING, RefundStatus.SUCCESS]
    with transaction.atomic():
        refund = GatewayRefund.objects.select_for_update().get(pk=refund_pk)
        current = refund.status
        final = current in (RefundStatus.SUCCESS, RefundStatus.FAILED)
        forward = status == RefundStatus.FAILED or order.index(status) > order.index(current)
        if final or not forward:
            return refund
        refund.status = status
        refund.refund_id = refund_id or refund.refund_id
        refund.message = message[:200] or refund.message
        if status in (RefundStatus.SUCCESS, RefundStatus.FAILED):
            refund.finished_at = timezone.now()
        refund.save(update_fields=["status", "refund_id", "message", "finished_at", "updated_at"])
    return refund


def refund_retry(refund, *, actor):
    """重新退款: a failed refund is sent again under the same refund number (gateways treat it as one refund)."""
    with transaction.atomic():
        locked = GatewayRefund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.FAILED:
            raise ValidationError(_("只有退款失败的记录可以重新发起"))
        locked.status, locked.finished_at = RefundStatus.PENDING, None
        locked.message = _("%(user)s 重新发起") % {"user": actor}
        locked.save(update_fields=["status", "finished_at", "message", "updated_at"])
    return refund_send(locked.pk)


def refunds_for_reversal(*, payment, reversals, actor):
    """An approved void or refund of an online payment, returned by 微信 or 支付宝, goes back through the gateway."""
    if payment.source != PaymentSource.ONLINE:
        return
    settlement = PaymentOrderSettlement.objects.filter(payment=payment).select_related("order").first()
    if settlement is None:
        return
    for reversal in reversals:
        if reversal.method == settlement.order.gateway:
            _refund_create(
                settlement.order,
                kind=RefundKind.PAYMENT,
                amount=reversal.amount,
                payment=payment,
                reversal=reversal,
                reason=_("收款%(kind)s %(number)s")
                % {"kind": reversal.get_kind_display(), "number": payment.receipt_number},
            )
