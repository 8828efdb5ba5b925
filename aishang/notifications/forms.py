from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import style_widgets

from .models import MessageTemplate, SmsProviderConfig


class MessageTemplateForm(forms.ModelForm):
    wechat_fields = forms.CharField(label=_("微信模板字段"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text=_("每行一个，如 thing1: {project}{unit}"))

    class Meta:
        model = MessageTemplate
        fields = ["name", "title", "body", "is_active", "sms_template_code", "sms_sign_name", "wechat_template_id",
                  "wechat_fields"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            fields = self.instance.wechat_fields or {}
            self.initial["wechat_fields"] = "\n".join(f"{k}: {v}" for k, v in fields.items())
        style_widgets(self)

    def clean_wechat_fields(self):
        fields = {}
        for number, line in enumerate((self.cleaned_data.get("wechat_fields") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, text = line.partition(":")
            if not sep or not name.strip():
                raise forms.ValidationError(gettext("第 %(line)s 行应为“字段名: 文字”") % {"line": number})
            fields[name.strip()] = text.strip()
        return fields


class SmsProviderConfigForm(forms.ModelForm):
    # Write-only: the stored secret is never sent back to the browser.
    access_key_secret = forms.CharField(label=_("AccessKey Secret"), required=False,
                                        widget=forms.PasswordInput(render_value=False),
                                        help_text=_("留空则保留原值"))

    class Meta:
        model = SmsProviderConfig
        fields = ["kind", "access_key_id", "access_key_secret", "sign_name", "region", "app_id", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["access_key_secret"].required = True
            self.fields["access_key_secret"].help_text = ""
        style_widgets(self)

    def clean_access_key_secret(self):
        return self.cleaned_data.get("access_key_secret") or self.instance.access_key_secret

