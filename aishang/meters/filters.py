import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet
from aishang.estate.filters import _selected, several_projects
from aishang.estate.models import Building, Project

from .choices import MeterKind, MeterRole, ReadingSource
from .models import Meter, MeterReading


class BuildingFollowsProject:
    """The building choices follow the chosen project; with several projects and none chosen, they name it."""

    def narrow_buildings(self, request):
        field = self.form.fields["building"]
        project = _selected(self.data, "project")
        buildings = field.queryset.select_related("project")
        field.queryset = buildings.filter(project_id=project) if project else buildings
        if request is not None and several_projects(request.user) and not project:
            field.label_from_instance = lambda b: f"{b.project.name} · {b}"


class MeterFilter(BuildingFollowsProject, StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    building = django_filters.ModelChoiceFilter(label=_("楼栋"), queryset=Building.objects.all(),
                                                empty_label=_("全部"), method="filter_building")
    kind = django_filters.ChoiceFilter(label=_("表类型"), choices=MeterKind.choices, empty_label=_("全部"))
    role = django_filters.ChoiceFilter(label=_("用途"), choices=MeterRole.choices, empty_label=_("全部"))
    state = django_filters.ChoiceFilter(label=_("状态"), choices=[("active", _("在用")), ("removed", _("已拆除"))],
                                        empty_label=_("全部"), method="filter_state")

    class Meta:
        model = Meter
        fields = ["project", "building", "kind", "role"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.narrow_buildings(request)

    def filter_building(self, queryset, name, value):
        return queryset.filter(Q(building=value) | Q(unit__building=value))

    def filter_state(self, queryset, name, value):
        return queryset.filter(removed_on__isnull=value == "active")


class MeterReadingFilter(BuildingFollowsProject, StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    building = django_filters.ModelChoiceFilter(label=_("楼栋"), queryset=Building.objects.all(),
                                                empty_label=_("全部"), method="filter_building")
    kind = django_filters.ChoiceFilter(label=_("表类型"), field_name="meter__kind", choices=MeterKind.choices,
                                       empty_label=_("全部"))
    read_from = django_filters.DateFilter(label=_("抄表日期从"), field_name="read_on", lookup_expr="gte")
    read_to = django_filters.DateFilter(label=_("抄表日期至"), field_name="read_on", lookup_expr="lte")
    flagged = django_filters.ChoiceFilter(label=_("待复核"), choices=[("1", _("仅待复核"))], empty_label=_("全部"),
                                          method="filter_flagged")
    source = django_filters.ChoiceFilter(label=_("来源"), choices=ReadingSource.choices, empty_label=_("全部"))

    class Meta:
        model = MeterReading
        fields = ["project", "building", "kind", "source"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.narrow_buildings(request)
        for name in ("read_from", "read_to"):
            self.form.fields[name].widget.input_type = "date"

    def filter_building(self, queryset, name, value):
        return queryset.filter(Q(meter__building=value)
                               | Q(meter__unit__building=value))

    def filter_flagged(self, queryset, name, value):
        return queryset.filter(flagged=True) if value == "1" else queryset
