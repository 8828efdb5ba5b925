from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    mobile = forms.CharField(label=_("手机号"), max_length=11, widget=forms.TextInput(attrs={
        "inputmode": "numeric", "autocomplete": "tel", "placeholder": _("物业登记的手机号")}))
    code = forms.CharField(label=_("验证码"), max_length=6, required=False, widget=forms.TextInput(attrs={
        "inputmode": "numeric", "autocomplete": "one-time-code", "placeholder": _("6 位数字")}))


class TopUpForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("房屋"), coerce=int)
    amount = forms.DecimalField(label=_("预存金额（元）"), min_value=1, max_value=100000, max_digits=10,
                                decimal_places=2, widget=forms.NumberInput(attrs={"inputmode": "decimal",
                                                                                  "step": "0.01"}))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(unit.pk, f"{unit.project.name} {unit.code}") for unit in units]
