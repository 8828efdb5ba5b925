import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aishang.core.forms import ScopedModelForm, ShortListModelChoiceField, style_widgets
from aishang.customers.models import Customer
from aishang.estate.models import Building, Project, Unit

from .models import (
    ApprovalDecision,
    BillRunSchedule,
    BindingTarget,
    ChargeRule,
    DiscountScheme,
    FeeItem,
    RuleBinding,
    RulePrice,
)
from .payments import Tender
from .services import buildings_outside_project, metered_rules, rules_outside_project


class FeeItemForm(ScopedModelForm):
    class Meta:
        model = FeeItem
        fields = ["code", "name", "category", "rounding", "precision", "tax_rate", "late_fee_enabled",
                  "late_fee_daily_rate", "is_active"]

    def save(self, commit=True):
        if not self.instance.company_id:
            self.instance.company_id = self.user.company_id
        return super().save(commit=commit)


class ChargeRuleForm(ScopedModelForm):
    class Meta:
        model = ChargeRule
        fields = ["project", "fee_item", "name", "method", "unit_price", "cycle", "billing_mode", "due_date_rule",
                  "due_day", "charge_tenant", "effective_from", "effective_to", "formula", "tiers",
                  "tier_limit_basis", "is_active", "notes"]
        widgets = {"formula": forms.Textarea(attrs={"rows": 2}), "tiers": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(self.user, "view")
        if self.instance.pk:
            self.fields["project"].disabled = True
        self.fields["due_day"].help_text = _("预收从账期开始起算；后收从账期结束起算，如后收 10 月、首月固定日 15 "
                                             "→ 11 月 15 日应缴")


class RuleBindingForm(ScopedModelForm):
    unit_code = forms.CharField(label=_("房屋编码"), required=False, help_text=_("如 1-2-301"))
    customer_mobile = forms.CharField(label=_("客户手机号"), required=False, max_length=11,
                                      help_text=_("绑定对象为客户时填写"))

    class Meta:
        model = RuleBinding
        fields = ["target", "building", "property_type", "parking_space"]

    def __init__(self, *args, rule, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.rule = rule
        self.rule = rule
        self.fields["building"].queryset = self.fields["building"].queryset.filter(project=rule.project)
        self.fields["property_type"].queryset = self.fields["property_type"].queryset.filter(
            company_id=rule.project.company_id)
        self.fields["parking_space"].queryset = self.fields["parking_space"].queryset.filter(project=rule.project)
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        code = (cleaned.get("unit_code") or "").strip()
        if cleaned.get("target") == BindingTarget.UNIT:
            unit = Unit.objects.filter(project=self.rule.project, code=code).first() if code else None
            if unit is None:
                self.add_error("unit_code", _("该项目没有编码为「%(code)s」的房屋") % {"code": code} if code
                               else _("请填写房屋编码"))
            self.instance.unit = unit
        if cleaned.get("target") == BindingTarget.CUSTOMER:
            mobile = (cleaned.get("customer_mobile") or "").strip()
            customers = list(Customer.objects.filter(project=self.rule.project, mobile=mobile)[:2]) if mobile else []
            if len(customers) != 1:
                self.add_error("customer_mobile", _("请填写客户手机号") if not mobile
                               else _("该项目没有手机号为 %(mobile)s 的客户") % {"mobile": mobile} if not customers
                               else _("该手机号对应多位客户，请在客户页面核对"))
            else:
                self.instance.customer = customers[0]
        return cleaned

    def _post_clean(self):
        # Without a unit the model's own check would report on a field this form doesn't have.
        if not self.errors:
            super()._post_clean()


class RulePriceForm(ScopedModelForm):
    class Meta:
        model = RulePrice
        fields = ["effective_from", "unit_price"]

    def __init__(self, *args, rule, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.rule = rule


class BillRunForm(forms.Form):
    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none())
    period_month = forms.DateField(label=_("账期月份"), input_formats=["%Y-%m"],
                                   widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                                   help_text=_("预收的标准出本月，后收的标准出上一个账期"))
    rules = forms.ModelMultipleChoiceField(label=_("收费标准"), queryset=ChargeRule.objects.none(),
                                           widget=forms.CheckboxSelectMultiple)
    buildings = forms.ModelMultipleChoiceField(label=_("楼栋"), queryset=Building.objects.none(), required=False,
                                               widget=forms.CheckboxSelectMultiple,
                                               help_text=_("只出这些楼栋房屋的账单；不选为整个项目"))

    def __init__(self, *args, user, metered=False, **kwargs):
        """``metered``: a 抄表出账, offering only the rules priced by measured usage, all ticked."""
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(user, "view")
        rules = ChargeRule.objects.restrict(user, "view").filter(is_active=True).select_related("fee_item", "project")
        buildings = Building.objects.restrict(user, "view")
        project_id = self.data.get("project") or self.initial.get("project")
        if project_id:
            rules, buildings = rules.filter(project_id=project_id), buildings.filter(project_id=project_id)
        else:
            buildings = buildings.none()
        if metered:
            rules = rules.filter(pk__in=[rule.pk for rule in metered_rules(rules.prefetch_related(None))])
            self.initial.setdefault("rules", list(rules))
        self.fields["rules"].queryset = rules
        self.fields["buildings"].queryset = buildings
        style_widgets(self)
        self.fields["period_month"].widget.input_type = "month"

    def clean(self):
        cleaned = super().clean()
        if refusal := rules_outside_project(cleaned.get("project"), cleaned.get("rules")):
            self.add_error("rules", refusal)
        if refusal := buildings_outside_project(cleaned.get("project"), cleaned.get("buildings")):
            self.add_error("buildings", refusal)
        return cleaned


class WaiverRequestForm(forms.Form):
    amount = forms.DecimalField(label=_("减免金额"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("申请原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class VoidRequestForm(forms.Form):
    reason = forms.CharField(label=_("申请原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("结论"), choices=ApprovalDecision.choices)
    comment = forms.CharField(label=_("审批意见"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}), help_text=_("驳回时必填"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


def _unit_by_code(form, project, code, field="unit_code"):
    unit = Unit.objects.filter(project=project, code=code).first()
    if unit is None:
        form.add_error(field, _("该项目没有编码为「%(code)s」的房屋") % {"code": code})
    return unit


class TemporaryBillForm(forms.Form):
    """临时收费: a one-off charge to a unit, or to a customer found by mobile when there is no unit."""

    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none())
    unit_code = forms.CharField(label=_("房屋编码"), required=False, help_text=_("如 1-2-301；不填则按手机号找缴费人"))
    payer_mobile = forms.CharField(label=_("缴费人手机号"), required=False, max_length=11,
                                   help_text=_("不填则向房屋的缴费人收取"))
    fee_item = forms.ModelChoiceField(label=_("收费项目"), queryset=FeeItem.objects.none())
    amount = forms.DecimalField(label=_("金额（元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    period_start = forms.DateField(label=_("服务开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("服务结束日期"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}), help_text=_("一次性服务可不填"))
    due_date = forms.DateField(label=_("应缴日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("收费事由"), max_length=200, help_text=_("如 装修管理费 2026-12-01 至 2027-02-28"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(user, "view")
        self.fields["fee_item"].queryset = FeeItem.objects.restrict(user, "view").filter(is_active=True)
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        code, mobile = (cleaned.get("unit_code") or "").strip(), (cleaned.get("payer_mobile") or "").strip()
        cleaned["unit"] = cleaned["payer"] = None
        if project is None:
            return cleaned
        if not code and not mobile:
            self.add_error("unit_code", _("请填写房屋编码或缴费人手机号"))
        if code:
            cleaned["unit"] = _unit_by_code(self, project, code)
        if mobile:
            customers = list(Customer.objects.filter(project=project, mobile=mobile)[:2])
            if not customers:
                self.add_error("payer_mobile", _("该项目没有手机号为 %(mobile)s 的客户") % {"mobile": mobile})
            elif len(customers) > 1 and cleaned["unit"] is None:
                self.add_error("payer_mobile", _("该手机号对应多位客户，请同时填写房屋编码"))
            else:
                cleaned["payer"] = customers[0]
        return cleaned


class AdvanceBillForm(forms.Form):
    """预缴账单: bill a unit's next N periods of one rule now."""

    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none())
    unit_code = forms.CharField(label=_("房屋编码"), help_text=_("如 1-2-301"))
    rule = forms.ModelChoiceField(label=_("收费标准"), queryset=ChargeRule.objects.none())
    periods = forms.IntegerField(label=_("预缴期数"), min_value=1, max_value=36, initial=12,
                                 help_text=_("按收费标准的周期计，如按月收取时 12 期即一年"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(user, "view")
        rules = ChargeRule.objects.restrict(user, "view").filter(is_active=True).select_related("fee_item")
        project_id = self.data.get("project") or self.initial.get("project")
        self.fields["rule"].queryset = rules.filter(project_id=project_id) if str(project_id).isdigit() else rules
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        if project is not None and cleaned.get("unit_code"):
            cleaned["unit"] = _unit_by_code(self, project, cleaned["unit_code"].strip())
        return cleaned


class DiscountSchemeForm(ScopedModelForm):
    unit_codes = forms.CharField(label=_("适用房屋编码"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text=_("每行或用逗号分隔一个房屋编码；不填表示不限房屋（须先选择项目）"))

    class Meta:
        model = DiscountScheme
        fields = ["name", "project", "kind", "rate", "amount", "min_periods", "free_periods", "timing", "fee_items",
                  "customer_tag", "customer_field", "customer_field_value", "on_time_months", "valid_from",
                  "valid_to", "is_active"]
        widgets = {"fee_items": forms.CheckboxSelectMultiple, "valid_from": forms.DateInput(attrs={"type": "date"}),
                   "valid_to": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(self.user, "view")
        self.fields["fee_items"].queryset = FeeItem.objects.restrict(self.user, "view").filter(is_active=True)
        if self.instance.pk:
            self.initial["unit_codes"] = "\n".join(self.instance.units.values_list("code", flat=True))
        if not self.instance.company_id:
            self.instance.company_id = self.user.company_id

    def clean(self):
        cleaned = super().clean()
        codes = [code.strip() for code in re.split(r"[\s,，、]+", cleaned.get("unit_codes") or "") if code.strip()]
        project = cleaned.get("project")
        self.picked_units = []
        if codes and project is None:
            self.add_error("unit_codes", _("指定房屋时须先选择项目"))
        elif codes:
            found = dict(Unit.objects.filter(project=project, code__in=codes).values_list("code", "pk"))
            missing = [code for code in codes if code not in found]
            if missing:
                self.add_error("unit_codes", _("该项目没有这些房屋：%(codes)s") % {"codes": "、".join(missing[:10])})
            self.picked_units = list(found.values())
        return cleaned

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.units.set(self.picked_units)


class ApprovalFlowForm(forms.Form):
    name = forms.CharField(label=_("流程名称"), max_length=60, error_messages={"required": _("请填写流程名称")})
    is_active = forms.BooleanField(label=_("启用"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class ApprovalLevelForm(forms.Form):
    """One row of a flow's levels; its number is its place in the list."""

    role = forms.ModelChoiceField(label=_("审批角色"), queryset=None, empty_label=_("请选择角色"),
                                  error_messages={"required": _("请选择审批角色"),
                                                  "invalid_choice": _("请选择本企业的角色")})
    min_amount = forms.DecimalField(
        label=_("起审金额"), required=False, max_digits=14, decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": _("留空：所有金额")}),
        error_messages={"invalid": _("请输入正确的金额"), "max_decimal_places": _("起审金额最多两位小数"),
                        "max_digits": _("金额过大"), "max_whole_digits": _("金额过大")})

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles
        style_widgets(self)


ApprovalLevelFormSet = forms.formset_factory(ApprovalLevelForm, extra=0)


class BillRunScheduleForm(ScopedModelForm):
    class Meta:
        model = BillRunSchedule
        fields = ["project", "name", "rules", "day_of_month", "is_active"]
        widgets = {"rules": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(self.user, "view")
        rules = ChargeRule.objects.restrict(self.user, "view").filter(is_active=True).select_related("fee_item")
        project_id = self.data.get("project") or self.initial.get("project") or self.instance.project_id
        self.fields["rules"].queryset = rules.filter(project_id=project_id) if str(project_id).isdigit() else rules
        if self.instance.pk:
            self.fields["project"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if refusal := rules_outside_project(cleaned.get("project"), cleaned.get("rules")):
            self.add_error("rules", refusal)
        return cleaned

    def save(self, commit=True):
        schedule = super().save(commit=False)
        if schedule.pk is None:
            schedule.created_by = self.user
        if commit:
            schedule.save()
            self.save_m2m()
        return schedule


class RuleTrialForm(forms.Form):
    """试算: what the rule charges one unit for a month, before anything is billed."""

    unit_code = forms.CharField(label=_("房屋编码"), help_text=_("如 1-2-301"))
    month = forms.DateField(label=_("账期月份"), input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    usage = forms.DecimalField(label=_("用量"), required=False, min_value=0, max_digits=14, decimal_places=4,
                               help_text=_("按用量、阶梯或含「用量」的公式计费时填写"))

    def __init__(self, *args, rule, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.user = user
        style_widgets(self)
        self.fields["month"].widget.input_type = "month"

    def clean(self):
        cleaned = super().clean()
        code = (cleaned.get("unit_code") or "").strip()
        if code:
            unit = Unit.objects.restrict(self.user, "view").filter(project=self.rule.project, code=code).first()
            if unit is None:
                self.add_error("unit_code", _("该项目没有编码为「%(code)s」的房屋") % {"code": code})
            cleaned["unit"] = unit
        cleaned.pop("unit_code", None)
        return cleaned


class PaymentForm(forms.Form):
    """收银台: the bills chosen and how much each method brings; empty methods are not used."""

    MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01"), "required": False}

    bills = forms.TypedMultipleChoiceField(label=_("账单"), coerce=int, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    cash = forms.DecimalField(label=_("现金"), **MONEY)
    cash_tendered = forms.DecimalField(label=_("实付现金"), help_text=_("找零按实付减现金计算"), **MONEY)
    card = forms.DecimalField(label=_("刷卡/POS"), **MONEY)
    wechat = forms.DecimalField(label=_("微信"), **MONEY)
    alipay = forms.DecimalField(label=_("支付宝"), **MONEY)
    transfer = forms.DecimalField(label=_("银行转账"), **MONEY)
    prepaid = forms.DecimalField(label=_("预存冲抵"), **MONEY)
    deposit = forms.DecimalField(label=_("押金冲抵"), **MONEY)
    deposit_from = forms.TypedChoiceField(label=_("冲抵的押金"), coerce=int, required=False, empty_value=None)
    reference = forms.CharField(label=_("交易号"), max_length=64, required=False,
                                help_text=_("扫码、刷卡或转账的交易号"))
    prepaid_to = ShortListModelChoiceField(label=_("余额存入"), queryset=FeeItem.objects.none(), required=False,
                                           empty_label=_("通用预存"), help_text=_("多收或不选账单时存入的预存账户"))
    late_fees = forms.BooleanField(label=_("同时收取滞纳金"), required=False,
                                   help_text=_("为所选逾期账单另开滞纳金账单并一并收取，须付清"))
    override_reason = forms.CharField(label=_("跳过较早账单的原因"), max_length=200, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    METHODS = ("cash", "card", "wechat", "alipay", "transfer", "prepaid", "deposit")

    def __init__(self, *args, bills=(), company_id=None, deposits=(), fee_items=None, **kwargs):
        """``bills`` and ``deposits`` (with ``receipt_number``) as the desk read them; ``fee_items``: the company's
        active fee items as (pk, name), read with them, or None to read them here."""
        super().__init__(*args, **kwargs)
        self.fields["bills"].choices = [(bill.pk, bill.pk) for bill in bills]
        prepaid_to = self.fields["prepaid_to"]
        prepaid_to.queryset = FeeItem.objects.filter(company_id=company_id, is_active=True).order_by("code")
        if fee_items is not None:
            prepaid_to.choices = [("", prepaid_to.empty_label), *fee_items]
        self.fields["deposit_from"].choices = [("", "---------")] + [
            (deposit.pk, f"{deposit.kind} {deposit.receipt_number}（{_('余额')} {deposit.held}）")
            for deposit in deposits]
        style_widgets(self)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not any(data.get(method) for method in self.METHODS):
            raise forms.ValidationError(_("请填写至少一种收款方式的金额"))
        if data.get("cash_tendered") and not data.get("cash"):
            self.add_error("cash", _("填写了实付现金，请同时填写现金金额"))
        if data.get("deposit") and not data.get("deposit_from"):
            self.add_error("deposit_from", _("请选择要冲抵的押金"))
        return data

    def tenders(self):
        data = self.cleaned_data
        return [Tender(method, data[method], data["cash_tendered"] if method == "cash" else None,
                       "" if method in ("cash", "prepaid", "deposit") else data["reference"],
                       data["deposit_from"] if method == "deposit" else None)
                for method in self.METHODS if data.get(method)]


class DepositCollectForm(forms.Form):
    """收押金: what kind, from whom, and how much each method brings."""

    MONEY = PaymentForm.MONEY
    METHODS = ("cash", "card", "wechat", "alipay", "transfer")

    kind = forms.CharField(label=_("押金类型"), max_length=30,
                           widget=forms.TextInput(attrs={"list": "deposit-kinds", "autocomplete": "off"}))
    customer = forms.ModelChoiceField(label=_("交款人"), queryset=Customer.objects.none(), required=False,
                                      empty_label=_("（不指定）"))
    cash = forms.DecimalField(label=_("现金"), **MONEY)
    card = forms.DecimalField(label=_("刷卡/POS"), **MONEY)
    wechat = forms.DecimalField(label=_("微信"), **MONEY)
    alipay = forms.DecimalField(label=_("支付宝"), **MONEY)
    transfer = forms.DecimalField(label=_("银行转账"), **MONEY)
    reference = forms.CharField(label=_("交易号"), max_length=64, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(pk__in=[customer.pk for customer in customers])
        style_widgets(self)

    def clean(self):
        data = super().clean()
        if not self.errors and not any(data.get(method) for method in self.METHODS):
            raise forms.ValidationError(_("请填写至少一种收款方式的金额"))
        return data

    def tenders(self):
        data = self.cleaned_data
        return [Tender(method, data[method], reference="" if method == "cash" else data["reference"])
                for method in self.METHODS if data.get(method)]


class RefundRequestForm(forms.Form):
    """退款申请: how much, back by which method, and why."""

    amount = forms.DecimalField(label=_("退款金额"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    refund_method = forms.ChoiceField(label=_("退款方式"))
    reason = forms.CharField(label=_("申请原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["refund_method"].choices = list(methods)
        style_widgets(self)
