from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import style_widgets
from aishang.estate.forms import RegisterForm, as_id, only_project
from aishang.estate.models import Building, Entrance, Project, Unit

from .choices import MeterKind, MeterRole, ReadingKind
from .models import READING_FIELD, Meter


class MeterForm(RegisterForm):
    """A meter of one project: its unit is typed as the unit code clerks know (1-2-301), its building and master
    meter are chosen among the project's; the kind and starting reading are fixed once it has readings."""

    class Meta:
        model = Meter
        fields = ["project", "kind", "role", "number", "name", "unit", "building", "parent", "multiplier", "digits",
                  "install_date", "initial_reading", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        project_id = self.chosen("project")
        units = Unit.objects.restrict(self.user, "view")
        fields["unit"] = forms.ModelChoiceField(
            queryset=units.filter(project_id=project_id) if project_id else units.none(), to_field_name="code",
            required=False, label=_("房屋编码"), widget=forms.TextInput(attrs={"autocomplete": "off"}),
            help_text=_("户表填写，如 1-2-301"),
            error_messages={"invalid_choice": _("该项目没有房屋编码为 %(value)s 的房屋")})
        if self.instance.unit_id and not self.is_bound:
            self.initial["unit"] = self.instance.unit.code
        buildings = fields["building"].queryset
        fields["building"].queryset = buildings.filter(project_id=project_id) if project_id else buildings.none()
        fields["building"].help_text = _("户表可不填，按房屋所在楼栋")
        parents = fields["parent"].queryset.filter(role=MeterRole.MASTER, removed_on__isnull=True)
        parents = parents.filter(project_id=project_id) if project_id else parents.none()
        fields["parent"].queryset = parents.exclude(pk=self.instance.pk) if self.instance.pk else parents
        fields["parent"].label_from_instance = lambda m: f"{m.get_kind_display()} {m.number} {m.name}".strip()
        for name in ("multiplier", "initial_reading"):
            fields[name].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": 0})
        fields["project"].widget.attrs["data-reload-on-change"] = "project"
        if self.instance.pk and self.instance.readings.exists():
            for name in ("kind", "install_date", "initial_reading"):
                fields[name].disabled = True
                fields[name].help_text = gettext("已有读数，不能修改")
        style_widgets(self)

    def add_error(self, field, error):
        # A unit code that matched no unit already says so; the model's "户表须选择房屋" would only repeat it.
        if field is None and getattr(error, "error_dict", None) and "unit" in (self._errors or {}):
            error = forms.ValidationError({name: errors for name, errors in error.error_dict.items()
                                           if name != "unit"})
        super().add_error(field, error)

    def clean(self):
        cleaned = super().clean()
        unit = cleaned.get("unit")
        if unit is not None and not cleaned.get("building"):
            cleaned["building"] = unit.building
            self.instance.building = unit.building
        project, number = cleaned.get("project"), cleaned.get("number")
        if project and number:
            self.duplicate(Meter.objects.filter(project=project, number=number), "number",
                           gettext("表号「%(number)s」在该项目中已存在") % {"number": number})
        return cleaned


class MeterReplaceForm(forms.Form):
    final_value = forms.DecimalField(label=_("拆表读数"), min_value=0, **READING_FIELD,
                                     help_text=_("旧表拆下时的读数，其用量照常计入"))
    on = forms.DateField(label=_("拆表日期"))
    number = forms.CharField(label=_("新表号"), max_length=40)
    initial_reading = forms.DecimalField(label=_("新表起始读数"), min_value=0, initial=Decimal("0"), **READING_FIELD)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)
        for name in ("final_value", "initial_reading"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": 0})
        self.fields["final_value"].widget.attrs["autofocus"] = True


class ReadingGridForm(forms.Form):
    """What to read: a building (optionally one entrance), a kind of meter and the day of this reading."""

    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none(), empty_label=_("请选择项目"))
    building = forms.ModelChoiceField(label=_("楼栋"), queryset=Building.objects.none(),
                                      empty_label=_("请选择楼栋"))
    entrance = forms.ModelChoiceField(label=_("单元"), queryset=Entrance.objects.none(), required=False,
                                      empty_label=_("全部单元"))
    kind = forms.ChoiceField(label=_("表类型"), choices=MeterKind.choices, initial=MeterKind.WATER)
    read_on = forms.DateField(label=_("本期抄表日期"))

    def __init__(self, data=None, *, user):
        super().__init__(data=data, initial={"project": only_project(user), "kind": MeterKind.WATER,
                                             "read_on": timezone.localdate()})
        fields = self.fields
        fields["project"].queryset = Project.objects.restrict(user, "view")
        project_id, building_id = self._chosen("project"), self._chosen("building")
        buildings = Building.objects.restrict(user, "view")
        fields["building"].queryset = buildings.filter(project_id=project_id) if project_id else buildings.none()
        entrances = Entrance.objects.restrict(user, "view")
        fields["entrance"].queryset = entrances.filter(building_id=building_id) if building_id else entrances.none()
        fields["entrance"].label_from_instance = lambda e: e.name or gettext("%(code)s单元") % {"code": e.code}
        style_widgets(self)
        for name in ("project", "building", "entrance", "kind"):
            fields[name].widget.attrs["data-grid-reload"] = name

    def _chosen(self, name):
        if self.is_bound:
            return as_id(self.data.get(name))
        return as_id(self.initial.get(name))


def parse_reading(text):
    """A typed reading as a Decimal of at most 2 places, or raise ValueError with the reason."""
    text = (text or "").strip().replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(gettext("请输入数字")) from None
    if not value.is_finite() or value < 0:
        raise ValueError(gettext("请输入不小于 0 的数字"))
    if value.as_tuple().exponent < -2:
        raise ValueError(gettext("读数最多两位小数"))
    return value


class ReadingCorrectForm(forms.Form):
    value = forms.DecimalField(label=_("正确读数"), min_value=0, **READING_FIELD)
    kind = forms.ChoiceField(label=_("类型"), choices=[(ReadingKind.NORMAL, ReadingKind.NORMAL.label),
                                                        (ReadingKind.ROLLOVER, ReadingKind.ROLLOVER.label)])
    reason = forms.CharField(label=_("更正原因"), max_length=150)

    def __init__(self, *args, reading, **kwargs):
        super().__init__(*args, prefix="correct", **kwargs)
        if reading.kind == ReadingKind.FINAL:
            del self.fields["kind"]
        style_widgets(self)
        self.fields["value"].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": 0})


class ReadingWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="withdraw", **kwargs)
        style_widgets(self)
