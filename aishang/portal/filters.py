"""The owner's bill filters, shared by the API and the pages: unit, fee item, month and status."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import BillStatus

BIGINT_MAX = 2**63 - 1
STATUS_CHOICES = [("", _("全部")), (BillStatus.OPEN, _("待缴")), (BillStatus.PAID, _("已缴清"))]


class BillFilterForm(forms.Form):
    unit = forms.IntegerField(label=_("房屋"), required=False, min_value=1, max_value=BIGINT_MAX)
    fee_item = forms.IntegerField(label=_("收费项目"), required=False, min_value=1, max_value=BIGINT_MAX)
    period = forms.CharField(label=_("账期"), required=False, max_length=7, help_text=_("如 2026-11"))
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)

    def clean_period(self):
        value = (self.cleaned_data.get("period") or "").strip()
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("账期格式应为 2026-11")) from None

    def selector_kwargs(self):
        data = self.cleaned_data
        return {"unit_id": data.get("unit"), "fee_item_id": data.get("fee_item"), "period": data.get("period"),
                "status": data.get("status") or None}
