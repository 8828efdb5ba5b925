from decimal import Decimal

import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.api.filters import IdFilter

from ..deposits import DepositStatus, deposits_by_status
from ..models import (
    ApprovalFlow,
    ApprovalRequest,
    Bill,
    BillDiscount,
    BillKind,
    BillRun,
    BillRunSchedule,
    BillVoid,
    ChargeRule,
    Deposit,
    DiscountScheme,
    FeeItem,
    JournalEntry,
    PrepaidAccount,
    RuleBinding,
    RulePrice,
    Waiver,
)
from ..selectors import approval_inbox_queryset

# Amounts are whole fen. Half a fen tells "nothing left" from the smallest real amount, even where
# SQLite subtracts the annotated decimals in binary floating point.
HALF_FEN = Decimal("0.005")


class FeeItemFilterSet(django_filters.FilterSet):
    company = IdFilter(field_name="company_id", label=_("企业"))

    class Meta:
        model = FeeItem
        fields = ("company", "code", "category", "is_active")


class ChargeRuleFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    fee_item = IdFilter(field_name="fee_item_id", label=_("收费项目"))

    class Meta:
        model = ChargeRule
        fields = ("project", "fee_item", "method", "cycle", "billing_mode", "is_active")


class RuleBindingFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="rule__project_id", label=_("项目"))
    rule = IdFilter(field_name="rule_id", label=_("收费标准"))
    building = IdFilter(field_name="building_id", label=_("楼栋"))
    unit = IdFilter(field_name="unit_id", label=_("房屋"))

    class Meta:
        model = RuleBinding
        fields = ("project", "rule", "target", "building", "unit")


class RulePriceFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="rule__project_id", label=_("项目"))
    rule = IdFilter(field_name="rule_id", label=_("收费标准"))

    class Meta:
        model = RulePrice
        fields = ("project", "rule")


class BillRunFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    period_month = django_filters.DateFilter(field_name="period_month", label=_("账期月份（当月第一天）"))

    class Meta:
        model = BillRun
        fields = ("project", "status", "period_month")


class BillStatus:
    OUTSTANDING = "outstanding"
    WAIVED = "waived"
    VOIDED = "voided"
    CHOICES = [(OUTSTANDING, _("未结清")), (WAIVED, _("有减免")), (VOIDED, _("已作废"))]


class BillFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    building = IdFilter(field_name="unit__building_id", label=_("楼栋"))
    unit = IdFilter(field_name="unit_id", label=_("房屋"))
    parking_space = IdFilter(field_name="parking_space_id", label=_("车位"))
    payer = IdFilter(field_name="payer_id", label=_("缴费人"))
    fee_item = IdFilter(field_name="fee_item_id", label=_("收费项目"))
    rule = IdFilter(field_name="rule_id", label=_("收费标准"))
    run = IdFilter(field_name="run_id", label=_("出账批次"))
    kind = django_filters.ChoiceFilter(choices=BillKind.choices, label=_("账单类型"))
    period_from = django_filters.DateFilter(field_name="period_start", lookup_expr="gte", label=_("账期开始不早于"))
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", label=_("账期开始不晚于"))
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", label=_("应缴日期不早于"))
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label=_("应缴日期不晚于"))
    status = django_filters.ChoiceFilter(choices=BillStatus.CHOICES, method="filter_status",
                                         label=_("outstanding 未结清、waived 有减免、voided 已作废"))

    class Meta:
        model = Bill
        fields = ("project", "building", "unit", "parking_space", "payer", "fee_item", "rule", "run", "kind",
                  "period_from", "period_to", "due_from", "due_to", "status")

    def filter_status(self, queryset, name, value):
        # ``waived``, ``voided`` and ``outstanding`` are annotated by selectors.bills_with_outstanding.
        if value == BillStatus.OUTSTANDING:
            return queryset.filter(outstanding__gte=HALF_FEN)
        if value == BillStatus.WAIVED:
            return queryset.filter(waived__gte=HALF_FEN)
        if value == BillStatus.VOIDED:
            return queryset.filter(voided__gte=HALF_FEN)
        return queryset


class CorrectionFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    bill = IdFilter(field_name="bill_id", label=_("账单"))
    request = IdFilter(field_name="request_id", label=_("审批申请"))


class WaiverFilterSet(CorrectionFilterSet):
    class Meta:
        model = Waiver
        fields = ("project", "bill", "request")


class BillVoidFilterSet(CorrectionFilterSet):
    class Meta:
        model = BillVoid
        fields = ("project", "bill", "request")


class JournalEntryFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    run = IdFilter(field_name="run_id", label=_("出账批次"))
    event = django_filters.CharFilter(field_name="event",
                                      label=_("业务（bills_posted、waiver_approved、bill_voided ...）"))

    class Meta:
        model = JournalEntry
        fields = ("project", "run", "event")


class ApprovalFlowFilterSet(django_filters.FilterSet):
    class Meta:
        model = ApprovalFlow
        fields = ("action", "is_active")


class ApprovalRequestFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    bill = IdFilter(field_name="bill_id", label=_("账单"))
    payment = IdFilter(field_name="payment_id", label=_("收款"))
    prepaid_account = IdFilter(field_name="prepaid_account_id", label=_("预存账户"))
    deposit = IdFilter(field_name="deposit_id", label=_("押金"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("仅我提交的"))
    awaiting_me = django_filters.BooleanFilter(method="filter_awaiting_me", label=_("仅等待我审批的"))

    class Meta:
        model = ApprovalRequest
        fields = ("project", "bill", "payment", "prepaid_account", "deposit", "status", "action", "mine",
                  "awaiting_me")

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = self.request.user
        return queryset.filter(requested_by=user) if value else queryset.exclude(requested_by=user)

    def filter_awaiting_me(self, queryset, name, value):
        if value is None:
            return queryset
        inbox = approval_inbox_queryset(self.request.user).values("pk")
        return queryset.filter(pk__in=inbox) if value else queryset.exclude(pk__in=inbox)


class DiscountSchemeFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))

    class Meta:
        model = DiscountScheme
        fields = ("project", "kind", "timing", "customer_tag", "is_active")


class BillDiscountFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    bill = IdFilter(field_name="bill_id", label=_("账单"))
    scheme = IdFilter(field_name="scheme_id", label=_("优惠方案"))

    class Meta:
        model = BillDiscount
        fields = ("project", "bill", "scheme")


class BillRunScheduleFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))

    class Meta:
        model = BillRunSchedule
        fields = ("project", "is_active")


class DepositFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    unit = IdFilter(field_name="unit_id", label=_("房屋"))
    customer = IdFilter(field_name="customer_id", label=_("客户"))
    status = django_filters.ChoiceFilter(choices=[(value, label) for value, label in DepositStatus.LABELS.items()],
                                         method="filter_status", label=_("状态"))
    collected_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte",
                                               label=_("收取日期起"))
    collected_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("收取日期止"))

    class Meta:
        model = Deposit
        fields = ("project", "unit", "customer", "status", "collected_from", "collected_to")

    def filter_status(self, queryset, name, value):
        return deposits_by_status(queryset, value) if value else queryset


class PrepaidAccountFilterSet(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("项目"))
    unit = IdFilter(field_name="unit_id", label=_("房屋"))

    class Meta:
        model = PrepaidAccount
        fields = ("project", "unit")
