import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet

from .choices import Channel, MessageStatus
from .models import Message


def _permitted_projects(request):
    return request.user.permitted_projects().order_by("company_id", "code")


class MessageFilter(StyledFilterSet):
    channel = django_filters.ChoiceFilter(label=_("渠道"), choices=Channel.choices, empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=MessageStatus.choices, empty_label=_("全部"))
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=_permitted_projects)
    date_from = django_filters.DateFilter(label=_("开始日期"), field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(label=_("结束日期"), field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Message
        fields = ["channel", "status", "project", "date_from", "date_to"]
