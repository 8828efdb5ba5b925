from django import forms
from django.urls import reverse
from django.utils.translation import gettext

from aishang.core.forms import ScopedModelForm

from .models import Building, Entrance, ParkingSpace, Project, PropertyType, Unit, unit_code


def only_project(user):
    ids = user.permitted_project_ids()
    return ids[0] if len(ids) == 1 else None


def as_id(value):
    value = getattr(value, "pk", value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProjectForm(ScopedModelForm):
    class Meta:
        model = Project
        fields = ["code", "name", "status", "property_types", "province", "city", "district", "address",
                  "total_area", "manager_name", "service_phone", "delivered_on", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property_types"].widget.attrs["size"] = 6

    def save(self, commit=True):
        # New projects belong to the creator's company; the company is never chosen in a form.
        if not self.instance.company_id:
            self.instance.company_id = self.user.company_id
        return super().save(commit=commit)


class RegisterForm(ScopedModelForm):
    """A register object's form: the project never changes once the object exists, and one is preselected."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if getattr(field, "empty_label", None) == "---------" and field.required:
                field.empty_label = gettext("请选择%(field)s") % {"field": field.label}
        project = self.fields.get("project")
        if project is None:
            return
        if self.instance.pk:
            project.disabled = True
            project.help_text = gettext("创建后不能更换项目")
        elif not self.initial.get("project"):
            self.initial["project"] = only_project(self.user)

    def chosen(self, name):
        """The id currently chosen for a foreign key: from the submitted data, else the initial value."""
        if self.is_bound and not self.fields[name].disabled:
            return as_id(self.data.get(self.add_prefix(name)))
        return as_id(self.initial.get(name, getattr(self.instance, f"{name}_id", None)))

    def duplicate(self, queryset, field, message):
        if queryset.exclude(pk=self.instance.pk).exists():
            self.add_error(field, message)


class PropertyTypeForm(ScopedModelForm):
    class Meta:
        model = PropertyType
        fields = ["name", "kind", "description", "weight"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A company's own type; set before validation so its unique name is checked within the company.
        if not self.instance.company_id:
            self.instance.company_id = self.user.company_id

    def clean_name(self):
        name = self.cleaned_data["name"]
        others = PropertyType.objects.filter(company_id=self.instance.company_id, name=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(gettext("业态「%(name)s」已存在") % {"name": name})
        return name


class BuildingForm(RegisterForm):
    class Meta:
        model = Building
        fields = ["project", "code", "name", "property_type", "phase", "height_class", "floors_above",
                  "floors_below", "completed_on", "weight"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.units.exists():
            self.fields["code"].disabled = True
            self.fields["code"].help_text = gettext("已有房屋，楼栋编号不能修改（房屋编码由它生成）")

    def clean(self):
        cleaned = super().clean()
        project, code = cleaned.get("project"), cleaned.get("code")
        if project and code:
            self.duplicate(Building.objects.filter(project=project, code=code), "code",
                           gettext("楼栋编号「%(code)s」在该项目中已存在") % {"code": code})
        return cleaned


class EntranceForm(ScopedModelForm):
    class Meta:
        model = Entrance
        fields = ["code", "name", "has_elevator"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["placeholder"] = gettext("如 1")
        if self.instance.pk and self.instance.units.exists():
            self.fields["code"].disabled = True
            self.fields["code"].help_text = gettext("已有房屋，单元编号不能修改（房屋编码由它生成）")

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.instance.building_id and (Entrance.objects.filter(building_id=self.instance.building_id, code=code)
                                          .exclude(pk=self.instance.pk).exists()):
            raise forms.ValidationError(gettext("单元编号「%(code)s」在该楼栋中已存在") % {"code": code})
        return code


class UnitForm(RegisterForm):
    """Building choices follow the project, entrance choices the building (re-rendered by htmx on change)."""

    class Meta:
        model = Unit
        fields = ["project", "building", "entrance", "number", "floor", "property_type", "building_area",
                  "inner_area", "layout", "decoration", "status", "delivered_on", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        project_id, building_id = self.chosen("project"), self.chosen("building")
        buildings = fields["building"].queryset.select_related("project")
        entrances = fields["entrance"].queryset.select_related("building")
        if project_id:
            buildings = buildings.filter(project_id=project_id)
        elif len(self.user.permitted_project_ids()) > 1:
            fields["building"].label_from_instance = lambda b: f"{b.project.name} · {b}"
        fields["building"].queryset = buildings
        fields["entrance"].queryset = entrances.filter(building_id=building_id) if building_id else entrances.none()
        fields["entrance"].empty_label = gettext("无单元") if building_id else gettext("请先选择楼栋")
        fields["entrance"].label_from_instance = lambda e: e.name or gettext("%(code)s单元") % {"code": e.code}
        fields["number"].widget.attrs.update({"placeholder": gettext("如 301"), "autocomplete": "off"})
        fields["floor"].widget.attrs["inputmode"] = "numeric"
        for name in ("building_area", "inner_area"):
            fields[name].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": 0})
        self.add_htmx()

    def add_htmx(self):
        def attrs(url_name, target, **extra):
            url = reverse(url_name)
            if self.instance.pk:
                url = f"{url}?unit={self.instance.pk}"
            return {"hx-get": url, "hx-target": target, "hx-swap": "outerHTML", **extra}

        location = "[name=project],[name=building],[name=entrance],[name=number]"
        widgets = {name: field.widget for name, field in self.fields.items()}
        widgets["project"].attrs.update(attrs("estate:unit_building_options", "#field-building",
                                              **{"hx-include": location}))
        widgets["building"].attrs.update(attrs("estate:unit_entrance_options", "#field-entrance",
                                               **{"hx-include": location}))
        widgets["entrance"].attrs.update(attrs("estate:unit_code_preview", "#code-preview",
                                               **{"hx-include": location}))
        widgets["number"].attrs.update(attrs("estate:unit_code_preview", "#code-preview",
                                             **{"hx-include": location, "hx-trigger": "input changed delay:300ms"}))
        widgets["property_type"].attrs.update(attrs("estate:unit_custom_fields", "#unit-custom-fields",
                                                    **{"hx-include": "[name=property_type],[name^=cf_]"}))

    def code_preview(self):
        building = self.fields["building"].queryset.filter(pk=self.chosen("building")).first()
        entrance = self.fields["entrance"].queryset.filter(pk=self.chosen("entrance")).first()
        number = (self.data.get(self.add_prefix("number")) if self.is_bound else self.initial.get("number")) or ""
        return unit_code_preview(building, entrance, number.strip(), exclude_pk=self.instance.pk)

    def clean(self):
        cleaned = super().clean()
        building, entrance, number = cleaned.get("building"), cleaned.get("entrance"), cleaned.get("number")
        if building and number and "entrance" not in self.errors:
            code = unit_code(building.code, entrance.code if entrance else "", number)
            self.duplicate(Unit.objects.filter(project_id=building.project_id, code=code), "number",
                           gettext("房屋编码「%(code)s」在该项目中已存在") % {"code": code})
        return cleaned


def unit_code_preview(building, entrance, number, exclude_pk=None):
    """What the code will be (楼栋-单元-房号) and whether the project already has it."""
    if building is None or not number:
        return {"code": None, "taken": False}
    code = unit_code(building.code, entrance.code if entrance else "", number)
    taken = Unit.objects.filter(project_id=building.project_id, code=code).exclude(pk=exclude_pk).exists()
    return {"code": code, "taken": taken}


class ParkingSpaceForm(RegisterForm):
    class Meta:
        model = ParkingSpace
        fields = ["project", "number", "zone", "kind", "status", "area", "notes"]

    def clean(self):
        cleaned = super().clean()
        project, number = cleaned.get("project"), cleaned.get("number")
        if project and number:
            self.duplicate(ParkingSpace.objects.filter(project=project, number=number), "number",
                           gettext("车位编号「%(number)s」在该项目中已存在") % {"number": number})
        return cleaned
