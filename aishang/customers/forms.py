import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import ScopedModelForm, style_widgets
from aishang.estate.models import Unit

from .models import Customer, Occupancy, Vehicle
from .selectors import PII_FIELDS, can_view_pii, mask_pii, several_projects

TAG_SEPARATORS = re.compile(r"[,，、]")
MAX_TAGS = 20
MAX_TAG_LENGTH = 20


class TagsField(forms.CharField):
    """Tags typed as one line, split on , ， or 、 and kept as a list without repeats."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return "、".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        tags = []
        for part in TAG_SEPARATORS.split(super().to_python(value) or ""):
            part = part.strip()
            if part and part not in tags:
                tags.append(part)
        return tags

    def validate(self, value):
        super().validate(value)
        if len(value) > MAX_TAGS:
            raise forms.ValidationError(gettext("标签最多 %(max)s 个") % {"max": MAX_TAGS})
        too_long = [tag for tag in value if len(tag) > MAX_TAG_LENGTH]
        if too_long:
            raise forms.ValidationError(gettext("每个标签不超过 %(max)s 个字：%(tags)s")
                                        % {"max": MAX_TAG_LENGTH, "tags": "、".join(too_long)})


def only_project(user):
    ids = user.permitted_project_ids()
    return ids[0] if len(ids) == 1 else None


class CustomerForm(ScopedModelForm):
    tags = TagsField(label=_("标签"), required=False, help_text=_("多个标签用逗号或顿号分隔，如 VIP、老人独居"))

    class Meta:
        model = Customer
        fields = ["project", "kind", "name", "mobile", "phone", "id_type", "id_number", "gender", "birth_date",
                  "occupation", "employer", "move_in_date", "emergency_contact", "emergency_phone", "email",
                  "tags", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["mobile"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off", "maxlength": 11})
        fields["id_number"].widget.attrs.update({"autocomplete": "off"})
        if self.instance.pk:
            # A customer's units and bills belong to its project: it never moves.
            fields["project"].disabled = True
        elif "project" not in self.initial:
            self.initial["project"] = only_project(self.user)
        self.masked_fields = []
        if self.instance.pk and not can_view_pii(self.user):
            for name in PII_FIELDS:
                stored = getattr(self.instance, name)
                self.initial[name] = mask_pii(name, stored)
                fields[name].disabled = True
                fields[name].validators = []
                fields[name].help_text = gettext("无权查看明文，保存时保持原值") if stored else ""
                self.masked_fields.append(name)

    def clean(self):
        cleaned = super().clean()
        # Masked values are for display; the stored ones are kept.
        for name in self.masked_fields:
            cleaned.pop(name, None)
        return cleaned


def _project_of(model, pk, user):
    if not pk or not str(pk).isdigit():
        return None
    return model.objects.restrict(user, "view").filter(pk=pk).values_list("project_id", flat=True).first()


def customer_label(customer):
    mobile = customer.masked_mobile
    return f"{customer.name}（{mobile}）" if mobile else customer.name


class OccupancyForm(ScopedModelForm):
    class Meta:
        model = Occupancy
        fields = ["customer", "unit", "role", "relation", "start_date", "end_date", "is_payer", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        if self.instance.pk:
            fields["customer"].disabled = True
            fields["unit"].disabled = True
            project_id = self.instance.unit.project_id
        else:
            if not self.initial.get("start_date"):
                self.initial["start_date"] = timezone.localdate()
            project_id = (_project_of(Customer, self.initial.get("customer"), self.user)
                          or _project_of(Unit, self.initial.get("unit"), self.user))
        if project_id and not self.is_bound:
            fields["customer"].queryset = fields["customer"].queryset.filter(project_id=project_id)
            fields["unit"].queryset = fields["unit"].queryset.filter(project_id=project_id)
        fields["unit"].queryset = fields["unit"].queryset.select_related("project")
        fields["customer"].queryset = fields["customer"].queryset.select_related("project")
        if several_projects(self.user) and not project_id:
            fields["unit"].label_from_instance = lambda u: f"{u.project.name} {u.code}"
            fields["customer"].label_from_instance = lambda c: f"{c.project.name} {customer_label(c)}"
        else:
            fields["customer"].label_from_instance = customer_label


class VehicleForm(ScopedModelForm):
    class Meta:
        model = Vehicle
        fields = ["project", "plate", "kind", "customer", "brand", "color", "parking_space", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["plate"].widget.attrs.update({"autocomplete": "off", "placeholder": gettext("如 粤B12345")})
        fields["plate"].help_text = gettext("新能源车为 8 位，如 粤BD12345")
        if self.instance.pk:
            fields["project"].disabled = True
            project_id = self.instance.project_id
        else:
            if not self.initial.get("project"):
                customer_project = _project_of(Customer, self.initial.get("customer"), self.user)
                self.initial["project"] = customer_project or only_project(self.user)
            initial_project = self.initial.get("project")
            project_id = getattr(initial_project, "pk", initial_project)
            # Choosing the project reloads the form so owners and spaces follow it.
            fields["project"].widget.attrs.update({
                "hx-trigger": "change", "hx-include": "closest form", "hx-target": "closest form",
                "hx-select": "main form[method=post]", "hx-swap": "outerHTML",
            })
        if project_id and not self.is_bound:
            fields["customer"].queryset = fields["customer"].queryset.filter(project_id=project_id)
            fields["parking_space"].queryset = fields["parking_space"].queryset.filter(project_id=project_id)
        fields["customer"].label_from_instance = customer_label
        fields["parking_space"].label_from_instance = lambda s: f"{s.number}（{s.zone}）" if s.zone else s.number


class TransferOwnershipForm(forms.Form):
    new_owner = forms.ModelChoiceField(label=_("新业主"), queryset=Customer.objects.none(),
                                       help_text=_("新业主须先登记为本项目的客户"))
    on_date = forms.DateField(label=_("过户日期"), help_text=_("原业主的入住关系截止到前一天"))
    is_payer = forms.BooleanField(label=_("新业主为缴费人"), required=False, initial=True)
    notes = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, unit, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_owner"].queryset = Customer.objects.restrict(user, "view").filter(project_id=unit.project_id)
        self.fields["new_owner"].label_from_instance = customer_label
        self.fields["on_date"].initial = timezone.localdate()
        self.fields["on_date"].widget = forms.DateInput()
        style_widgets(self)

