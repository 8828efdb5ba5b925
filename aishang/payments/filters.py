import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet
from aishang.estate.models import Project

from .choices import Gateway, OrderStatus
from .models import PaymentOrder


class PaymentOrderFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=OrderStatus.choices, empty_label=_("全部"))
    gateway = django_filters.ChoiceFilter(label=_("支付渠道"), choices=Gateway.choices, empty_label=_("全部"))
    created_from = django_filters.DateFilter(label=_("下单日期从"), field_name="created_at", lookup_expr="date__gte")
    created_to = django_filters.DateFilter(label=_("下单日期至"), field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = PaymentOrder
        fields = ["project", "status", "gateway", "created_from", "created_to"]
