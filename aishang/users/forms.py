from django import forms
from django.contrib.auth.forms import AuthenticationForm

from aishang.core.forms import style_widgets


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入。",
        "inactive": "该账号已停用，请联系管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        style_widgets(self)
        for field in self.fields.values():
            field.widget.attrs["class"] += " form-control-lg"


class StyledPasswordChangeMixin(forms.Form):
    pass
