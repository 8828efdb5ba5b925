import calendar
import re

import django_filters
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.billing.models import FeeItem
from aishang.core.filters import StyledFilterSet
from aishang.core.forms import ScopedModelForm, style_widgets
from aishang.estate.models import Building, Entrance, Project, Unit

from .allocation_runs import last_month
from .choices import AllocationPurpose, AllocationRunStatus, AllocationScope, MeterRole
from .models import AllocationRule, AllocationRun, Meter

CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")


class AllocationRuleForm(ScopedModelForm):
    # Units are typed as codes: a select of a project's 25,000 units helps nobody.
    unit_codes = forms.CharField(label=_("房屋编码"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("分摊范围为指定房屋时填写，多个编码用空格、逗号或换行分隔，"
                                             "如 1-1-101 1-1-102"))

    class Meta:
        model = AllocationRule
        fields = ["project", "name", "meter", "purpose", "basis", "formula", "loss_method", "loss_coefficient",
                  "scope", "buildings", "entrances", "include_all_units", "fee_item", "is_active", "notes"]
        widgets = {"buildings": forms.SelectMultiple(attrs={"size": 6}),
                   "entrances": forms.SelectMultiple(attrs={"size": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(self.user, "view")
        project_id = self.instance.project_id or self.data.get("project") or self.initial.get("project")
        meters = Meter.objects.restrict(self.user, "view").filter(role__in=[MeterRole.PUBLIC, MeterRole.MASTER],
                                                                  removed_on__isnull=True)
        buildings = Building.objects.restrict(self.user, "view")
        entrances = Entrance.objects.restrict(self.user, "view").select_related("building")
        if str(project_id or "").isdigit():
            meters, buildings, entrances = (queryset.filter(project_id=project_id)
                                            for queryset in (meters, buildings, entrances))
        self.fields["meter"].queryset = meters.select_related("unit")
        self.fields["buildings"].queryset = buildings
        self.fields["entrances"].queryset = entrances
        self.fields["fee_item"].queryset = FeeItem.objects.restrict(self.user, "view").filter(is_active=True)
        if self.instance.pk:
            self.fields["project"].disabled = True
            self.initial["unit_codes"] = " ".join(self.instance.units.order_by("code").values_list("code", flat=True))
        self.chosen_units = []

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project") or (self.instance.project if self.instance.project_id else None)
        scope = cleaned.get("scope")
        # Members of another scope than the chosen one are dropped, so the rule says only what it uses.
        if scope != AllocationScope.BUILDINGS:
            cleaned["buildings"] = Building.objects.none()
        if scope != AllocationScope.ENTRANCES:
            cleaned["entrances"] = Entrance.objects.none()
        if scope == AllocationScope.UNITS and project is not None:
            codes = [code for code in CODE_SEPARATORS.split(cleaned.get("unit_codes") or "") if code]
            found = dict(Unit.objects.filter(project=project, code__in=codes).values_list("code", "pk"))
            unknown = [code for code in codes if code not in found]
            if unknown:
                self.add_error("unit_codes", gettext("该项目没有这些房屋：%(codes)s")
                               % {"codes": "、".join(unknown[:10])})
            self.chosen_units = sorted(set(found.values()))
            cleaned["units"] = Unit.objects.filter(pk__in=self.chosen_units)
        if project is not None and scope:
            self.instance.project = project
            self.instance.scope = scope
            errors = self.instance.scope_members_outside_project(
                buildings=cleaned.get("buildings") or [], entrances=cleaned.get("entrances") or [],
                units=cleaned.get("units") or [])
            for name, message in errors.items():
                self.add_error("unit_codes" if name == "units" else name, message)
        return cleaned

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.units.set(self.chosen_units)


class AllocationRuleFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    purpose = django_filters.ChoiceFilter(label=_("分摊类型"), choices=AllocationPurpose.choices,
                                          empty_label=_("全部"))

    class Meta:
        model = AllocationRule
        fields = ["project", "purpose", "is_active"]


class AllocationRunFilter(StyledFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=Project.objects.all(), empty_label=_("全部"))
    rule = django_filters.ModelChoiceFilter(label=_("分摊规则"), queryset=AllocationRule.objects.all(),
                                            empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=AllocationRunStatus.choices, empty_label=_("全部"))

    class Meta:
        model = AllocationRun
        fields = ["project", "rule", "status"]


class AllocationRunForm(forms.Form):
    rule = forms.ModelChoiceField(label=_("分摊规则"), queryset=AllocationRule.objects.none())
    period_start = forms.DateField(label=_("期初"), help_text=_("抄表日期在期初到期末之间的读数参与计算"))
    period_end = forms.DateField(label=_("期末"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = (AllocationRule.objects.restrict(user, "view").filter(is_active=True)
                                        .select_related("project").order_by("project__name", "name"))
        self.fields["rule"].label_from_instance = lambda rule: f"{rule.project.name} · {rule.name}"
        start, end = last_month()
        self.fields["period_start"].initial = start
        self.fields["period_end"].initial = end
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("期末不能早于期初"))
        return cleaned


class AllocationReverseForm(forms.Form):
    reason = forms.CharField(label=_("冲销原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class AllocationBatchForm(forms.Form):
    """一键分摊: a project and a month; every active rule of the project is previewed for it."""

    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none())
    month = forms.DateField(label=_("月份"), input_formats=["%Y-%m"],
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10"}),
                            error_messages={"invalid": _("请按 年-月 填写月份，如 2026-10")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        projects = Project.objects.restrict(user, "view").order_by("name")
        self.fields["project"].queryset = projects
        self.fields["month"].initial = f"{last_month()[0]:%Y-%m}"
        if len(choices := list(projects[:2])) == 1:
            self.fields["project"].initial = choices[0].pk
        style_widgets(self)

    def period(self):
        first = self.cleaned_data["month"].replace(day=1)
        return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
