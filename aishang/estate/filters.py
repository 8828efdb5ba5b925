import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet

from .choices import ParkingKind, ParkingStatus, ProjectStatus, PropertyKind, UnitStatus
from .models import Building, Entrance, ParkingSpace, Project, PropertyType, Unit
from .selectors import building_phases, parking_zones, units_with_owner


class ProjectFilter(StyledFilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ProjectStatus.choices, empty_label=_("全部"))
    property_types = django_filters.ModelChoiceFilter(label=_("业态"), queryset=PropertyType.objects.all(),
                                                      empty_label=_("全部"))
    city = django_filters.CharFilter(label=_("城市"), lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["status", "property_types", "city"]


def several_projects(user):
    return len(user.permitted_project_ids()) > 1


def _selected(data, name):
    value = data.get(name) if data is not None else None
    return int(value) if value and str(value).isdigit() else None


class PropertyTypeFilter(StyledFilterSet):
    kind = django_filters.ChoiceFilter(label=_("业态大类"), choices=PropertyKind.choices, empty_label=_("全部"))

    class Meta:
        model = PropertyType
        fields = ["kind"]


class BuildingFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    property_type = django_filters.ModelChoiceFilter(label=_("业态"), queryset=PropertyType.objects.all(),
                                                     empty_label=_("全部"))
    phase = django_filters.ChoiceFilter(label=_("期数"), choices=[], empty_label=_("全部"))

    class Meta:
        model = Building
        fields = ["project", "property_type", "phase"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.form.fields["phase"].choices = [(p, p) for p in building_phases(request.user)]


class UnitFilter(StyledFilterSet):
    """Everything a unit list is narrowed by; the building and entrance choices follow the chosen project."""

    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    building = django_filters.ModelChoiceFilter(label=_("楼栋"), queryset=Building.objects.all(), empty_label=_("全部"))
    entrance = django_filters.ModelChoiceFilter(label=_("单元"), queryset=Entrance.objects.all(), empty_label=_("全部"))
    property_type = django_filters.ModelChoiceFilter(label=_("业态"), queryset=PropertyType.objects.all(),
                                                     empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("房屋状态"), choices=UnitStatus.choices, empty_label=_("全部"))
    floor_min = django_filters.NumberFilter(label=_("楼层从"), field_name="floor", lookup_expr="gte")
    floor_max = django_filters.NumberFilter(label=_("楼层至"), field_name="floor", lookup_expr="lte")
    area_min = django_filters.NumberFilter(label=_("建筑面积从(㎡)"), field_name="building_area", lookup_expr="gte")
    area_max = django_filters.NumberFilter(label=_("建筑面积至(㎡)"), field_name="building_area", lookup_expr="lte")
    has_owner = django_filters.ChoiceFilter(label=_("有无业主"), choices=[("yes", _("有业主")), ("no", _("无业主"))],
                                            empty_label=_("全部"), method="filter_has_owner")

    class Meta:
        model = Unit
        fields = ["project", "building", "entrance", "property_type", "status"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        fields = self.form.fields
        project, building = _selected(self.data, "project"), _selected(self.data, "building")
        buildings = fields["building"].queryset.select_related("project")
        entrances = fields["entrance"].queryset.select_related("building")
        if project:
            buildings = buildings.filter(project_id=project)
            entrances = entrances.filter(project_id=project)
        if building:
            entrances = entrances.filter(building_id=building)
        fields["building"].queryset = buildings
        fields["entrance"].queryset = entrances
        if request is not None and several_projects(request.user) and not project:
            fields["building"].label_from_instance = lambda b: f"{b.project.name} · {b}"
        for name in ("floor_min", "floor_max"):
            fields[name].widget.attrs.update({"inputmode": "numeric", "step": 1})
        for name in ("area_min", "area_max"):
            fields[name].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": 0})

    def filter_has_owner(self, queryset, name, value):
        return units_with_owner(queryset, value == "yes")


class ParkingSpaceFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    kind = django_filters.ChoiceFilter(label=_("车位类型"), choices=ParkingKind.choices, empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ParkingStatus.choices, empty_label=_("全部"))
    zone = django_filters.ChoiceFilter(label=_("区域"), choices=[], empty_label=_("全部"))

    class Meta:
        model = ParkingSpace
        fields = ["project", "kind", "status", "zone"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.form.fields["zone"].choices = [(z, z) for z in parking_zones(request.user)]
