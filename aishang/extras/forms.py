from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import ScopedModelForm

from .choices import CustomFieldTarget, CustomFieldType
from .models import CustomField

CHOICE_TYPES = (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE)


class CustomFieldForm(ScopedModelForm):
    """自定义字段. The code and the target are fixed once created: stored values are keyed by them."""

    choices = forms.CharField(label=_("选项"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                              help_text=_("单选、多选字段必填，每行一个选项"))

    class Meta:
        model = CustomField
        fields = ["target", "property_type", "label", "name", "field_type", "choices", "help_text", "weight",
                  "required", "filterable", "owner_visible"]
        help_texts = {"name": _("小写字母开头，只含小写字母、数字和下划线，如 pet_count；创建后不能修改"),
                      "property_type": _("仅房屋字段可按业态区分；留空表示适用于所有业态"),
                      "weight": _("数字小的排在前面")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        instance = self.instance
        if instance.pk is None:
            instance.company_id = user.company_id
        from aishang.estate.models import PropertyType

        self.fields["property_type"].queryset = PropertyType.objects.filter(company_id=instance.company_id)
        self.fields["property_type"].empty_label = gettext("所有业态")
        self.fields["target"].choices = CustomFieldTarget.choices
        self.initial["choices"] = "\n".join(instance.choices or [])
        if instance.pk:
            for name in ("target", "name"):
                self.fields[name].disabled = True
            self.fields["target"].help_text = gettext("创建后不能修改")
            self.fields["name"].help_text = gettext("创建后不能修改：已保存的值以编码存放")
        self.fields["choices"].widget.attrs["placeholder"] = gettext("例如：\n已养宠物\n未养宠物")
        self.fields["choices"].widget.attrs.pop("required", None)

    def clean_choices(self):
        lines = [line.strip() for line in self.cleaned_data.get("choices", "").splitlines()]
        values = list(dict.fromkeys(line for line in lines if line))
        too_long = [v for v in values if len(v) > 50]
        if too_long:
            raise forms.ValidationError(gettext("选项不能超过 50 个字：%(option)s…") % {"option": too_long[0][:20]})
        if self.cleaned_data.get("field_type") in CHOICE_TYPES and not values:
            # Also checked by the model, which stops at its first error; here it shows with the others.
            raise forms.ValidationError(gettext("单选、多选字段至少需要一个选项"))
        return values

    def _post_clean(self):
        super()._post_clean()
        for errors in self._errors.values():
            seen, kept = set(), []
            for index, item in enumerate(errors.data):
                if errors[index] not in seen:
                    seen.add(errors[index])
                    kept.append(item)
            errors.data = kept
        # After the model's own checks, so a taken code is not also reported as malformed.
        name, target = self.instance.name, self.instance.target
        if "name" not in self.errors and name and (
                CustomField.objects.filter(company_id=self.instance.company_id, target=target, name=name)
                .exclude(pk=self.instance.pk).exists()):
            self.add_error("name", gettext("%(target)s已有编码为“%(name)s”的字段")
                           % {"target": CustomFieldTarget(target).label, "name": name})

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("property_type") and cleaned.get("target") != CustomFieldTarget.UNIT:
            self.add_error("property_type", gettext("只有房屋字段可以按业态区分"))
        if cleaned.get("field_type") not in CHOICE_TYPES:
            # Options of a type without options would only confuse the next editor.
            cleaned["choices"] = []
        return cleaned
