"""Deposits (押金): money held for a unit or customer, collected with a receipt, later offset against bills or
returned with approval. What a deposit still holds is the sum of its movements."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .ledger import journal_post
from .models import (
    MONEY_IN_METHODS,
    Account,
    Deposit,
    DepositMovement,
    DepositMovementKind,
    Payment,
    PaymentSource,
    PaymentTender,
)
from .payments import checked_tenders, receipt_number_next

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
DEPOSIT_KINDS = ("装修押金", "门禁卡押金", "车位押金", "水电押金", "物品借用押金", "其他押金")


class DepositStatus:
    """Derived from what a deposit still holds, for lists and filters."""

    HELD = "held"
    PARTLY = "partly"
    SETTLED = "settled"
    LABELS = {HELD: gettext_lazy("持有中"), PARTLY: gettext_lazy("部分退还/冲抵"), SETTLED: gettext_lazy("已退清")}


def deposits_with_held(queryset):
    """Annotate ``held``: what each deposit of the queryset still holds (rounded in SQL, see balances.py)."""
    held = (DepositMovement.objects.filter(deposit=OuterRef("pk")).order_by().values("deposit")
            .annotate(total=Sum("amount")).values("total"))
    return queryset.annotate(held=Round(Coalesce(Subquery(held, output_field=MONEY_FIELD),
                                                 Value(Decimal("0"), output_field=MONEY_FIELD)), 2,
                                        output_field=MONEY_FIELD))


def deposits_by_status(queryset, status):
    """Deposits (annotated with ``held``) of one DepositStatus; every deposit for an empty status."""
    queryset = deposits_with_held(queryset)
    if status == DepositStatus.HELD:
        return queryset.filter(held__gte=F("amount"))
    if status == DepositStatus.PARTLY:
        return queryset.filter(held__gt=0, held__lt=F("amount"))
    if status == DepositStatus.SETTLED:
        return queryset.filter(held__lte=0)
    return queryset


def deposit_status(deposit, held):
    if held <= 0:
        return DepositStatus.SETTLED
    return DepositStatus.HELD if held >= deposit.amount else DepositStatus.PARTLY


def deposit_collect(*, project, kind, tenders, actor, unit=None, customer=None, note=""):
    """收押金: one payment with its receipt, by one or more methods that bring money in, held as one deposit."""
    kind = (kind or "").strip()
    errors = {}
    if not kind:
        errors["kind"] = _("请填写押金类型")
    elif len(kind) > Deposit._meta.get_field("kind").max_length:
        errors["kind"] = _("押金类型最多 30 个字")
    if unit is None and customer is None:
        errors["unit"] = _("请选择房屋或客户")
    if unit is not None and unit.project_id != project.pk:
        errors["unit"] = _("房屋不属于该项目")
    if errors:
        raise ValidationError(errors)
    tenders = checked_tenders(tenders)
    if any(tender.method not in MONEY_IN_METHODS for tender in tenders):
        raise ValidationError({"tenders": _("押金只能以现金、刷卡、微信、支付宝或银行转账收取")})
    total = sum((tender.amount for tender in tenders), Decimal(0))
    with transaction.atomic():
        payment = Payment.objects.create(
            company_id=project.company_id, project=project, unit=unit, payer=customer, amount=total,
            receipt_number=receipt_number_next(project.company, timezone.localdate().year),
            cashier=actor, source=PaymentSource.DEPOSIT, note=note)
        PaymentTender.objects.bulk_create([
            PaymentTender(payment=payment, method=tender.method, amount=tender.amount, tendered=tender.tendered,
                          change=(tender.tendered - tender.amount) if tender.tendered else 0,
                          reference=tender.reference)
            for tender in tenders
        ])
        deposit = Deposit.objects.create(company_id=project.company_id, project=project, unit=unit,
                                         customer=customer, kind=kind, amount=total, payment=payment, note=note,
                                         created_by=actor)
        DepositMovement.objects.create(project=project, deposit=deposit, kind=DepositMovementKind.COLLECT,
                                       amount=total, payment=payment, created_by=actor)
        by_method = {}
        for tender in tenders:
            by_method[tender.method] = by_method.get(tender.method, Decimal(0)) + tender.amount
        journal_post(project=project, event="deposit_collected", actor=actor,
                     memo=_("收押金 %(number)s %(kind)s") % {"number": payment.receipt_number, "kind": kind},
                     lines=[*[(Account.CASH, None, amount, method) for method, amount in by_method.items()],
                            (Account.DEPOSIT, None, -total, "")])
    return deposit
