from django import forms
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import style_widgets

from .choices import Gateway
from .models import GatewayConfig, PaymentSettings

SECRET_HELP = _("已保存，不显示；留空则不修改")


class GatewayConfigForm(forms.ModelForm):
    """Keys are write-only: the stored ones are never sent back to the browser; an empty field keeps them."""

    private_key = forms.CharField(
        label=_("商户私钥"), required=False, strip=True, widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"})
    )
    apiv3_key = forms.CharField(
        label=_("APIv3 密钥"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = GatewayConfig
        fields = [
            "app_id",
            "merchant_id",
            "merchant_serial_no",
            "private_key",
            "apiv3_key",
            "platform_public_key",
            "platform_serial",
            "is_active",
        ]
        widgets = {"platform_public_key": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, gateway, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.gateway = gateway
        if gateway == Gateway.ALIPAY:
            for name in ("merchant_serial_no", "apiv3_key", "platform_serial"):
                del self.fields[name]
            self.fields["private_key"].label = _("应用私钥")
            self.fields["platform_public_key"].label = _("支付宝公钥")
            self.fields["merchant_id"].label = _("卖家支付宝用户号（选填）")
        for name in ("private_key", "apiv3_key"):
            self.initial[name] = ""  # never rendered back into the page
            if name in self.fields:
                if self.instance.pk:
                    self.fields[name].help_text = SECRET_HELP
                else:
                    self.fields[name].required = name == "private_key"
        style_widgets(self)

    def clean_private_key(self):
        return self.cleaned_data.get("private_key") or self.instance.private_key

    def clean_apiv3_key(self):
        return self.cleaned_data.get("apiv3_key") or self.instance.apiv3_key


class PaymentSettingsForm(forms.ModelForm):
    class Meta:
        model = PaymentSettings
        fields = ["surplus_policy", "collect_late_fees", "order_expire_minutes", "query_after_minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order_expire_minutes"].min_value = 5
        self.fields["query_after_minutes"].min_value = 1
        style_widgets(self)

    def clean_order_expire_minutes(self):
        value = self.cleaned_data["order_expire_minutes"]
        if not 5 <= value <= 24 * 60:
            raise forms.ValidationError(_("请填写 5 到 1440 分钟"))
        return value

    def clean_query_after_minutes(self):
        value = self.cleaned_data["query_after_minutes"]
        if not 1 <= value <= 120:
            raise forms.ValidationError(_("请填写 1 到 120 分钟"))
        return value
