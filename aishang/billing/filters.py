import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet
from aishang.estate.models import Building, Project

from .choices import BillingCycle, ChargeMethod, FeeCategory
from .models import Bill, BillKind, BillRun, ChargeRule, DiscountKind, DiscountScheme, DiscountTiming, FeeItem


class FeeItemFilter(StyledFilterSet):
    category = django_filters.ChoiceFilter(label=_("类别"), choices=FeeCategory.choices, empty_label=_("全部"))

    class Meta:
        model = FeeItem
        fields = ["category", "is_active"]


class ChargeRuleFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    fee_item = django_filters.ModelChoiceFilter(label=_("收费项目"), queryset=FeeItem.objects.all(),
                                                empty_label=_("全部"))
    method = django_filters.ChoiceFilter(label=_("计费方式"), choices=ChargeMethod.choices, empty_label=_("全部"))
    cycle = django_filters.ChoiceFilter(label=_("收费周期"), choices=BillingCycle.choices, empty_label=_("全部"))

    class Meta:
        model = ChargeRule
        fields = ["project", "fee_item", "method", "cycle", "is_active"]


class BillRunFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))

    class Meta:
        model = BillRun
        fields = ["project", "status"]


class BillFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    building = django_filters.ModelChoiceFilter(label=_("楼栋"), field_name="unit__building",
                                                queryset=Building.objects.all(), empty_label=_("全部"))
    fee_item = django_filters.ModelChoiceFilter(label=_("收费项目"), queryset=FeeItem.objects.all(),
                                                empty_label=_("全部"))
    kind = django_filters.ChoiceFilter(label=_("账单类型"), choices=BillKind.choices, empty_label=_("全部"))
    period_from = django_filters.DateFilter(label=_("账期从"), field_name="period_start", lookup_expr="gte")
    period_to = django_filters.DateFilter(label=_("账期至"), field_name="period_start", lookup_expr="lte")

    class Meta:
        model = Bill
        fields = ["project", "building", "fee_item", "kind", "period_from", "period_to"]


class DiscountSchemeFilter(StyledFilterSet):
    kind = django_filters.ChoiceFilter(label=_("优惠方式"), choices=DiscountKind.choices, empty_label=_("全部"))
    timing = django_filters.ChoiceFilter(label=_("优惠时机"), choices=DiscountTiming.choices, empty_label=_("全部"))

    class Meta:
        model = DiscountScheme
        fields = ["kind", "timing", "is_active"]
