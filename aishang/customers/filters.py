import django_filters
from django.utils.translation import gettext_lazy as _

from aishang.core.filters import StyledFilterSet
from aishang.estate.models import Building, Project

from . import selectors
from .choices import CustomerKind, OccupancyRole, VehicleKind
from .models import Customer, Vehicle


class ProjectAwareFilterSet(StyledFilterSet):
    """The project filter only for users with several projects; related choices then carry the project's name."""

    @property
    def several_projects(self):
        return self.request is not None and selectors.several_projects(self.request.user)

    def prepare_filters(self):
        """Runs once, just before the form is built."""
        if not self.several_projects:
            self.filters.pop("project", None)

    @property
    def form(self):
        if not hasattr(self, "_form"):
            self.prepare_filters()
        return super().form


class CustomerFilter(ProjectAwareFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    kind = django_filters.ChoiceFilter(label=_("客户类型"), choices=CustomerKind.choices, empty_label=_("全部"))
    role = django_filters.ChoiceFilter(label=_("身份"), choices=OccupancyRole.choices, empty_label=_("全部"),
                                       method="filter_role")
    building = django_filters.ModelChoiceFilter(label=_("楼栋"), queryset=Building.objects.all(), empty_label=_("全部"),
                                                method="filter_building")
    tag = django_filters.CharFilter(label=_("标签"), method="filter_tag")

    class Meta:
        model = Customer
        fields = ["project", "kind", "role", "building", "tag"]

    def prepare_filters(self):
        super().prepare_filters()
        if self.request is not None:
            self.filters["building"].queryset = selectors.building_choices(self.request.user)

    @property
    def form(self):
        form = super().form
        if self.several_projects:
            form.fields["building"].label_from_instance = lambda b: f"{b.project.name} {b}"
        return form

    def filter_role(self, queryset, name, value):
        return selectors.customers_with_current_role(queryset, value) if value else queryset

    def filter_building(self, queryset, name, value):
        return selectors.customers_in_building(queryset, value) if value else queryset

    def filter_tag(self, queryset, name, value):
        return selectors.customers_with_tag(queryset, value) if value else queryset


class VehicleFilter(ProjectAwareFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    kind = django_filters.ChoiceFilter(label=_("车辆类型"), choices=VehicleKind.choices, empty_label=_("全部"))
    has_parking_space = django_filters.ChoiceFilter(label=_("车位"),
                                                    choices=(("yes", _("有车位")), ("no", _("无车位"))),
                                                    empty_label=_("全部"), method="filter_has_parking_space")

    class Meta:
        model = Vehicle
        fields = ["project", "kind", "has_parking_space"]

    def filter_has_parking_space(self, queryset, name, value):
        if value in ("yes", "no"):
            return queryset.filter(parking_space__isnull=value == "no")
        return queryset
