"""Billing over the API. Types and shapes are checked here; business rules by the same model ``clean()``,
services and approvals the web pages use, so the API refuses what the pages refuse.

Money is always a string with two decimals ("1200.00"), never a number a client could read as a float.
"""

import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aishang.core.api.serializers import (
    CompanyOwnedSerializerMixin,
    CurrentCompanyDefault,
    RegisterSerializer,
    ScopedPrimaryKeyRelatedField,
    request_user,
)
from aishang.core.money import amount_in_chinese_capitals
from aishang.customers.models import Customer
from aishang.estate.models import Building, Company, ParkingSpace, Project, PropertyType, Unit

from ..approvals import SUPPORTED_ACTIONS, approval_refusal
from ..deposits import deposit_status
from ..models import (
    Allocation,
    ApprovalAction,
    ApprovalDecision,
    ApprovalFlow,
    ApprovalLevel,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    Bill,
    BillDiscount,
    BillRun,
    BillRunSchedule,
    BillRunStatus,
    BillVoid,
    BindingTarget,
    ChargeRule,
    Deposit,
    DepositMovement,
    DepositMovementKind,
    DiscountKind,
    DiscountScheme,
    DiscountTiming,
    FeeItem,
    JournalEntry,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PaymentSource,
    PaymentTender,
    Posting,
    PrepaidAccount,
    PrepaidMovement,
    PrepaidMovementKind,
    ReversalKind,
    RuleBinding,
    RulePrice,
    Waiver,
)
from ..pricing import ChargeError, parse_tiers
from ..services import bill_run_create, buildings_outside_project, rules_outside_project

TIMESTAMPS = ("created_at", "updated_at")
# Bill runs bill whole months; outside these years period arithmetic would leave the calendar.
FIRST_PERIOD, LAST_PERIOD = datetime.date(1970, 1, 1), datetime.date(2100, 12, 1)
BINDING_FIELDS = {BindingTarget.BUILDING: "building", BindingTarget.PROPERTY_TYPE: "property_type",
                  BindingTarget.UNIT: "unit", BindingTarget.PARKING_SPACE: "parking_space",
                  BindingTarget.CUSTOMER: "customer"}


def choice_field(choices, component_name, **kwargs):
    """A choice field whose enum gets its own schema name: "status", "action" and "target" mean other
    things in other apps, and the schema must not guess between them."""
    field_class = _CHOICE_FIELDS.get(component_name)
    if field_class is None:
        # A class, not an instance, carries the annotation: serializers deep-copy their fields.
        schema = {"type": "string", "enum": [value for value, _label in choices]}
        field_class = _CHOICE_FIELDS[component_name] = extend_schema_field(schema, component_name=component_name)(
            type(component_name.removesuffix("Enum") + "Field", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, **kwargs)


_CHOICE_FIELDS = {}


def money(**kwargs):
    kwargs.setdefault("read_only", True)
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class PermittedPrimaryKeyRelatedField(ScopedPrimaryKeyRelatedField):
    """A reference to an object the caller may view: in scope *and* with the model's view permission."""

    def get_queryset(self):
        queryset = self.queryset
        user = request_user(self)
        if user is None or not user.is_authenticated:
            return queryset.none()
        return queryset.restrict(user, "view")


def _unchanged(serializer, attrs, name, message):
    """Refuse moving an object to another parent after it was created (a rule's project, a binding's rule)."""
    if serializer.instance is not None and name in attrs and attrs[name] != getattr(serializer.instance, name):
        raise serializers.ValidationError({name: message})


# Fee items and charge rules


class FeeItemSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))

    class Meta:
        model = FeeItem
        fields = ("id", "company", "code", "name", "category", "rounding", "precision", "tax_rate",
                  "late_fee_enabled", "late_fee_daily_rate", "is_active", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS


class RuleBindingNestedSerializer(serializers.ModelSerializer):
    target = choice_field(BindingTarget.choices, "RuleBindingTargetEnum", read_only=True)
    target_display = serializers.CharField(source="get_target_display", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True, default=None)

    class Meta:
        model = RuleBinding
        fields = ("id", "target", "target_display", "building", "property_type", "unit", "unit_code",
                  "parking_space", "customer")
        read_only_fields = fields


class RulePriceNestedSerializer(serializers.ModelSerializer):
    class Meta:
        model = RulePrice
        fields = ("id", "effective_from", "unit_price")
        read_only_fields = fields


class ChargeRuleSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"),
                                           help_text=_("创建后不能修改"))
    fee_item = ScopedPrimaryKeyRelatedField(queryset=FeeItem.objects.all(), label=_("收费项目"))
    fee_item_name = serializers.CharField(source="fee_item.name", read_only=True)
    tiers = serializers.JSONField(
        required=False, label=_("阶梯"),
        help_text=_("阶梯上限与单价，如 [[2520, \"0.55\"], [4800, \"0.60\"], [null, \"0.85\"]]"))
    bindings = RuleBindingNestedSerializer(many=True, read_only=True, label=_("绑定"),
                                           help_text=_("在 /api/v1/rule-bindings/ 增删"))
    prices = RulePriceNestedSerializer(many=True, read_only=True, label=_("调价记录"),
                                       help_text=_("在 /api/v1/rule-prices/ 新增"))

    class Meta:
        model = ChargeRule
        fields = ("id", "project", "fee_item", "fee_item_name", "name", "method", "unit_price", "tiers",
                  "tier_limit_basis", "formula", "cycle", "billing_mode", "due_date_rule", "due_day",
                  "charge_tenant", "effective_from", "effective_to", "is_active", "notes", "bindings", "prices",
                  *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate_tiers(self, value):
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(item, list) and len(item) == 2 for item in value):
            raise serializers.ValidationError(_("阶梯应为 [[上限, 单价], ...]，最后一档上限为 null"))
        if value:
            try:
                parse_tiers(value)
            except ChargeError as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs):
        attrs = super().validate(attrs)
        _unchanged(self, attrs, "project", _("收费标准的项目创建后不能修改"))
        start = attrs.get("effective_from", getattr(self.instance, "effective_from", None))
        end = attrs.get("effective_to", getattr(self.instance, "effective_to", None))
        if start and end and end < start:
            raise serializers.ValidationError({"effective_to": _("失效日期不能早于生效日期")})
        if self.instance is not None and "effective_from" in attrs and \
                self.instance.prices.filter(effective_from=attrs["effective_from"]).exists():
            raise serializers.ValidationError({"effective_from": _("该日期已有调价记录，同一天不能有两个价格生效")})
        return attrs


class RuleBindingSerializer(RegisterSerializer):
    rule = ScopedPrimaryKeyRelatedField(queryset=ChargeRule.objects.all(), label=_("收费标准"),
                                        help_text=_("创建后不能修改"))
    building = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all(), required=False, allow_null=True,
                                            label=_("楼栋"), help_text=_("绑定对象为楼栋时必填"))
    property_type = ScopedPrimaryKeyRelatedField(queryset=PropertyType.objects.all(), required=False,
                                                 allow_null=True, label=_("业态"),
                                                 help_text=_("绑定对象为业态时必填"))
    unit = ScopedPrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True,
                                        label=_("房屋"), help_text=_("绑定对象为房屋时必填"))
    parking_space = ScopedPrimaryKeyRelatedField(queryset=ParkingSpace.objects.all(), required=False,
                                                 allow_null=True, label=_("车位"),
                                                 help_text=_("绑定对象为车位时必填"))
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True,
                                            label=_("客户"), help_text=_("绑定对象为客户时必填"))
    target = choice_field(BindingTarget.choices, "RuleBindingTargetEnum", label=_("绑定对象"))
    target_display = serializers.CharField(source="get_target_display", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True, default=None)

    class Meta:
        model = RuleBinding
        fields = ("id", "rule", "target", "target_display", "building", "property_type", "unit", "unit_code",
                  "parking_space", "customer", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        _unchanged(self, attrs, "rule", _("绑定所属的收费标准不能修改"))
        rule = attrs.get("rule") or self.instance.rule
        target = attrs.get("target", getattr(self.instance, "target", None))
        needed = BINDING_FIELDS.get(target)
        # Only the object the target names is kept, so the row says exactly what the rule charges.
        for name in BINDING_FIELDS.values():
            if name != needed:
                attrs[name] = None
        chosen = attrs.get(needed, getattr(self.instance, needed, None)) if needed else None
        if chosen is None:
            return attrs
        if needed == "property_type":
            if chosen.company_id != rule.project.company_id:
                raise serializers.ValidationError({needed: _("业态不属于该收费标准的企业")})
        elif chosen.project_id != rule.project_id:
            raise serializers.ValidationError({needed: _("所选对象不属于该收费标准的项目")})
        return attrs


class RulePriceSerializer(RegisterSerializer):
    rule = ScopedPrimaryKeyRelatedField(queryset=ChargeRule.objects.all(), label=_("收费标准"))

    class Meta:
        model = RulePrice
        fields = ("id", "rule", "effective_from", "unit_price", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        rule = attrs["rule"]
        if attrs["effective_from"] <= rule.effective_from:
            raise serializers.ValidationError({"effective_from": _("调价日期须晚于收费标准的生效日期 %(date)s")
                                               % {"date": rule.effective_from.isoformat()}})
        return attrs


# Bill runs


class BillRunSerializer(serializers.ModelSerializer):
    project = PermittedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    project_name = serializers.CharField(source="project.name", read_only=True)
    rules = PermittedPrimaryKeyRelatedField(queryset=ChargeRule.objects.all(), many=True, allow_empty=False,
                                            label=_("收费标准"), help_text=_("该项目启用中的收费标准"))
    buildings = PermittedPrimaryKeyRelatedField(queryset=Building.objects.all(), many=True, required=False,
                                                label=_("楼栋"), help_text=_("只出这些楼栋房屋的账单；不填为整个项目"))
    period_month = serializers.DateField(input_formats=["%Y-%m", "iso-8601"], label=_("账期月份"),
                                         help_text=_("如 2026-11 或 2026-11-01；预收的标准出本月，后收的出上一个账期"))
    status = choice_field(BillRunStatus.choices, "BillRunStatusEnum", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    created_by_name = serializers.CharField(source="created_by", read_only=True, default=None)
    total_amount = money(label=_("应收合计"))

    class Meta:
        model = BillRun
        fields = ("id", "project", "project_name", "period_month", "rules", "buildings", "status", "status_display",
                  "created_by", "created_by_name", "posted_at", "bill_count", "total_amount", *TIMESTAMPS)
        read_only_fields = ("status", "created_by", "posted_at", "bill_count", *TIMESTAMPS)

    def create(self, validated_data):
        return bill_run_create(project=validated_data["project"], rules=validated_data["rules"],
                               period_month=validated_data["period_month"],
                               buildings=validated_data.get("buildings", ()), actor=request_user(self))

    def validate_period_month(self, value):
        value = value.replace(day=1)
        if not FIRST_PERIOD <= value <= LAST_PERIOD:
            raise serializers.ValidationError(_("账期月份须在 1970 年 1 月到 2100 年 12 月之间"))
        return value

    def validate(self, attrs):
        attrs = super().validate(attrs)
        rules = attrs["rules"]
        if refusal := rules_outside_project(attrs["project"], rules):
            raise serializers.ValidationError({"rules": refusal})
        if refusal := buildings_outside_project(attrs["project"], attrs.get("buildings")):
            raise serializers.ValidationError({"buildings": refusal})
        inactive = [rule.name for rule in rules if not rule.is_active]
        if inactive:
            raise serializers.ValidationError({"rules": _("收费标准「%(names)s」已停用")
                                               % {"names": "、".join(inactive)}})
        return attrs


class PreviewFeeItemSerializer(serializers.Serializer):
    fee_item = serializers.CharField(help_text=_("收费项目名称"))
    total = money()


class PreviewBuildingSerializer(serializers.Serializer):
    building = serializers.IntegerField(allow_null=True, help_text=_("楼栋编号；车位和客户的账单为空"))
    building_code = serializers.CharField(allow_null=True)
    building_name = serializers.CharField(allow_null=True)
    total = money()


class PreviewSampleSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    rule_name = serializers.CharField()
    unit = serializers.IntegerField()
    building = serializers.IntegerField()
    payer = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    amount = money()
    computation = serializers.CharField()


class BillRunPreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("将出账的账单数"))
    total = money(help_text=_("应收合计"))
    by_fee_item = PreviewFeeItemSerializer(many=True)
    by_building = PreviewBuildingSerializer(many=True)
    samples = PreviewSampleSerializer(many=True, help_text=_("前几张账单的金额与计算过程"))
    warnings = serializers.ListField(child=serializers.CharField())


# Bills and their corrections


class BillSerializer(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True, default=None)
    payer_name = serializers.CharField(source="payer.name", read_only=True, default=None)
    fee_item_name = serializers.CharField(source="fee_item.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    amount = money(label=_("应收金额"))
    discounted = money(label=_("已优惠"))
    waived = money(label=_("已减免"))
    voided = money(label=_("已作废"))
    outstanding = money(label=_("未结金额"), help_text=_("应收 − 优惠 − 减免 − 作废"))

    class Meta:
        model = Bill
        fields = ("id", "project", "project_name", "unit", "unit_code", "parking_space", "payer", "payer_name",
                  "fee_item", "fee_item_name", "rule", "run", "kind", "kind_display", "period_start", "period_end",
                  "due_date", "amount", "discounted", "waived", "voided", "outstanding", "computation", "created_at")
        read_only_fields = fields


class WaiverSerializer(serializers.ModelSerializer):
    amount = money(label=_("减免金额"))

    class Meta:
        model = Waiver
        fields = ("id", "project", "bill", "request", "amount", "created_at")
        read_only_fields = fields


class BillVoidSerializer(serializers.ModelSerializer):
    amount = money(label=_("作废金额"))

    class Meta:
        model = BillVoid
        fields = ("id", "project", "bill", "request", "amount", "created_at")
        read_only_fields = fields


class PostingSerializer(serializers.ModelSerializer):
    account_display = serializers.CharField(source="get_account_display", read_only=True)
    fee_item_name = serializers.CharField(source="fee_item.name", read_only=True, default=None)
    amount = money(label=_("金额"), help_text=_("借方为正，贷方为负"))

    class Meta:
        model = Posting
        fields = ("id", "account", "account_display", "project", "fee_item", "fee_item_name", "amount")
        read_only_fields = fields


class JournalEntrySerializer(serializers.ModelSerializer):
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = ("id", "company", "project", "event", "memo", "run", "created_at", "created_by", "postings")
        read_only_fields = fields


# Approvals


class ApprovalLevelSerializer(serializers.ModelSerializer):
    role_name = serializers.CharField(source="role.name", read_only=True)
    min_amount = money(allow_null=True, label=_("起审金额"),
                       help_text=_("金额达到此值时才需要本级审批；空表示总是需要"))

    class Meta:
        model = ApprovalLevel
        fields = ("id", "level", "role", "role_name", "min_amount")
        read_only_fields = fields


class ApprovalFlowSerializer(serializers.ModelSerializer):
    action = choice_field(ApprovalAction.choices, "ApprovalActionEnum", read_only=True)
    action_display = serializers.CharField(source="get_action_display", read_only=True)
    levels = ApprovalLevelSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalFlow
        fields = ("id", "company", "action", "action_display", "name", "is_active", "levels", *TIMESTAMPS)
        read_only_fields = fields


class ApprovalRouteStepSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    role = serializers.IntegerField()
    role_name = serializers.CharField()


class ApprovalStepSerializer(serializers.ModelSerializer):
    role_name = serializers.CharField(source="role.name", read_only=True, default=None)
    decided_by_name = serializers.CharField(source="decided_by", read_only=True)
    decision_display = serializers.CharField(source="get_decision_display", read_only=True)

    class Meta:
        model = ApprovalStep
        fields = ("id", "level", "role", "role_name", "decided_by", "decided_by_name", "decision",
                  "decision_display", "comment", "decided_at")
        read_only_fields = fields


class ApprovalRequestSerializer(serializers.ModelSerializer):
    action = choice_field(ApprovalAction.choices, "ApprovalActionEnum", read_only=True)
    status = choice_field(ApprovalStatus.choices, "ApprovalStatusEnum", read_only=True)
    action_display = serializers.CharField(source="get_action_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    unit_code = serializers.SerializerMethodField(label=_("房屋/客户"))
    fee_item_name = serializers.CharField(source="bill.fee_item.name", read_only=True, default=None)
    subject_label = serializers.CharField(read_only=True, label=_("申请对象"),
                                          help_text=_("如 物业费 2026-07、收据 SJ2026-000012、通用预存、装修押金"))
    refund_method = choice_field([("", _("无")), *PaymentMethod.choices], "RefundMethodEnum", read_only=True,
                                 label=_("退款方式"))
    requested_by_name = serializers.CharField(source="requested_by", read_only=True)
    current_role_name = serializers.CharField(source="current_role.name", read_only=True, default=None)
    amount = money(label=_("金额"))
    route = ApprovalRouteStepSerializer(many=True, read_only=True, label=_("审批路径"))

    class Meta:
        model = ApprovalRequest
        fields = ("id", "company", "project", "project_name", "action", "action_display", "bill", "payment",
                  "prepaid_account", "deposit", "subject_label", "unit_code", "fee_item_name", "amount",
                  "refund_method", "reason", "status", "status_display", "requested_by",
                  "requested_by_name", "route", "current_level", "current_role", "current_role_name", "decided_at",
                  *TIMESTAMPS)
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_unit_code(self, approval):
        subject = approval.subject_unit
        return getattr(subject, "code", None) or (str(subject) if subject else None)


class ApprovalRequestDetailSerializer(ApprovalRequestSerializer):
    steps = ApprovalStepSerializer(many=True, read_only=True)
    can_decide = serializers.SerializerMethodField(help_text=_("当前用户现在能否审批本级"))
    refusal = serializers.SerializerMethodField(help_text=_("待审批时，当前用户不能审批的原因"))
    can_withdraw = serializers.SerializerMethodField()

    class Meta(ApprovalRequestSerializer.Meta):
        fields = (*ApprovalRequestSerializer.Meta.fields, "steps", "can_decide", "refusal", "can_withdraw")
        read_only_fields = fields

    def _refusal(self, approval):
        cache = self.context.setdefault("refusals", {})
        if approval.pk not in cache:
            cache[approval.pk] = approval_refusal(approval, self.context["request"].user)
        return cache[approval.pk]

    def get_can_decide(self, approval) -> bool:
        return self._refusal(approval) is None

    @extend_schema_field(OpenApiTypes.STR)
    def get_refusal(self, approval):
        return str(self._refusal(approval) or "") if approval.is_pending else None

    def get_can_withdraw(self, approval) -> bool:
        return approval.is_pending and approval.requested_by_id == self.context["request"].user.pk


class ApprovalRequestCreateSerializer(serializers.Serializer):
    SUBJECTS = {ApprovalAction.WAIVER: "bill", ApprovalAction.VOID: "bill", ApprovalAction.PAYMENT_VOID: "payment",
                ApprovalAction.REFUND: "payment", ApprovalAction.PREPAID_REFUND: "prepaid_account",
                ApprovalAction.DEPOSIT_REFUND: "deposit"}
    WITHOUT_AMOUNT = (ApprovalAction.VOID, ApprovalAction.PAYMENT_VOID)

    action = choice_field([(a.value, a.label) for a in SUPPORTED_ACTIONS], "ApprovalSubmitActionEnum",
                          label=_("业务"),
                          help_text=_("waiver 减免、void 作废账单（当前全部未结金额）、payment_void 作废收款、"
                                      "refund 收款退款、prepaid_refund 预存退款、deposit_refund 押金退还"))
    bill = PermittedPrimaryKeyRelatedField(queryset=Bill.objects.all(), required=False, label=_("账单"),
                                           help_text=_("减免、作废账单时必填"))
    payment = PermittedPrimaryKeyRelatedField(queryset=Payment.objects.all(), required=False, label=_("收款"),
                                              help_text=_("作废收款、收款退款时必填"))
    prepaid_account = PermittedPrimaryKeyRelatedField(queryset=PrepaidAccount.objects.all(), required=False,
                                                      label=_("预存账户"), help_text=_("预存退款时必填"))
    deposit = PermittedPrimaryKeyRelatedField(queryset=Deposit.objects.all(), required=False, label=_("押金"),
                                              help_text=_("押金退还时必填"))
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True,
                                      label=_("金额"), help_text=_("减免和退款时必填；作废时忽略"))
    refund_method = choice_field([("", _("无")), *PaymentMethod.choices], "RefundMethodInputEnum", required=False,
                                 default="", label=_("退款方式"),
                                 help_text=_("退款时必填：收款原有的方式，或 prepaid 退回预存；预存和押金只能退到"
                                             "现金、刷卡、微信、支付宝或银行转账"))
    reason = serializers.CharField(max_length=500, label=_("申请原因"))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        action, subject = attrs["action"], self.SUBJECTS[attrs["action"]]
        if attrs.get(subject) is None:
            raise serializers.ValidationError({subject: _("该业务须指定此项")})
        for other in set(self.SUBJECTS.values()) - {subject}:
            if attrs.get(other) is not None:
                raise serializers.ValidationError({other: _("该业务不能指定此项")})
        if action in self.WITHOUT_AMOUNT:
            attrs["amount"] = None
        elif attrs.get("amount") is None:
            raise serializers.ValidationError({"amount": _("请填写减免金额") if action == ApprovalAction.WAIVER
                                               else _("请填写退款金额")})
        return attrs


class ApprovalDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ApprovalDecision.choices, label=_("结论"),
                                       help_text=_("approve 同意、reject 驳回"))
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                    label=_("审批意见"), help_text=_("驳回时必填"))


class DiscountSchemeSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), required=False, allow_null=True,
                                           label=_("项目"), help_text=_("留空表示企业全部项目"))
    kind = choice_field(DiscountKind.choices, "DiscountKindEnum")
    timing = choice_field(DiscountTiming.choices, "DiscountTimingEnum", required=False)
    fee_items = ScopedPrimaryKeyRelatedField(queryset=FeeItem.objects.all(), many=True, required=False,
                                             label=_("适用收费项目"), help_text=_("不填表示全部收费项目"))
    units = ScopedPrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False,
                                         label=_("适用房屋"), help_text=_("不填表示不限房屋"))
    amount = money(required=False, allow_null=True, label=_("立减金额"))

    class Meta:
        model = DiscountScheme
        fields = ("id", "company", "project", "name", "kind", "rate", "amount", "min_periods", "free_periods",
                  "timing", "fee_items", "customer_tag", "customer_field", "customer_field_value", "units",
                  "on_time_months", "valid_from", "valid_to", "is_active", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        project = attrs.get("project", getattr(self.instance, "project", None))
        units = attrs.get("units") or []
        if units and project is None:
            raise serializers.ValidationError({"units": _("指定房屋时须先选择项目")})
        if any(unit.project_id != project.pk for unit in units):
            raise serializers.ValidationError({"units": _("只能选择该项目的房屋")})
        return attrs


class BillDiscountSerializer(serializers.ModelSerializer):
    amount = money(label=_("优惠金额"))
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)

    class Meta:
        model = BillDiscount
        fields = ("id", "project", "bill", "scheme", "scheme_name", "amount", "computation", "created_at")
        read_only_fields = fields


class BillRunScheduleSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    rules = PermittedPrimaryKeyRelatedField(queryset=ChargeRule.objects.all(), many=True, allow_empty=False,
                                            label=_("收费标准"))

    class Meta:
        model = BillRunSchedule
        fields = ("id", "project", "name", "rules", "day_of_month", "is_active", "last_period_month",
                  "created_by", *TIMESTAMPS)
        read_only_fields = ("last_period_month", "created_by", *TIMESTAMPS)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        project = attrs.get("project", getattr(self.instance, "project", None))
        if refusal := rules_outside_project(project, attrs.get("rules")):
            raise serializers.ValidationError({"rules": refusal})
        return attrs

    def create(self, validated_data):
        validated_data["created_by"] = request_user(self)
        return super().create(validated_data)


# 收银台: payments.


class PaymentTenderSerializer(serializers.ModelSerializer):
    method = choice_field(PaymentMethod.choices, "PaymentMethodEnum", label=_("收款方式"))
    amount = money(label=_("金额"))
    tendered = money(label=_("实付"), allow_null=True)
    change = money(label=_("找零"))

    class Meta:
        model = PaymentTender
        fields = ("method", "amount", "tendered", "change", "reference")
        read_only_fields = fields


class AllocationSerializer(serializers.ModelSerializer):
    fee_item_name = serializers.CharField(source="bill.fee_item.name", read_only=True)
    period_start = serializers.DateField(source="bill.period_start", read_only=True)
    period_end = serializers.DateField(source="bill.period_end", read_only=True)
    amount = money(label=_("核销金额"))

    class Meta:
        model = Allocation
        fields = ("bill", "fee_item_name", "period_start", "period_end", "amount")
        read_only_fields = fields


class PaymentReversalSerializer(serializers.ModelSerializer):
    kind = choice_field(ReversalKind.choices, "ReversalKindEnum", read_only=True, label=_("类型"))
    method = choice_field(PaymentMethod.choices, "PaymentMethodEnum", read_only=True, label=_("退回方式"))
    amount = money(label=_("金额"))

    class Meta:
        model = PaymentReversal
        fields = ("id", "kind", "method", "amount", "request", "created_at", "created_by")
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True, default=None)
    payer_name = serializers.CharField(source="payer.name", read_only=True, default=None)
    cashier_name = serializers.CharField(source="cashier.__str__", read_only=True, default=None)
    amount = money(label=_("实收金额"))
    amount_in_words = serializers.SerializerMethodField(label=_("大写金额"))
    to_prepaid = serializers.SerializerMethodField(label=_("存入预存"))
    tenders = PaymentTenderSerializer(many=True, read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)
    reversals = PaymentReversalSerializer(many=True, read_only=True, label=_("作废与退款"))
    source = choice_field(PaymentSource.choices, "PaymentSourceEnum", read_only=True, label=_("来源"))

    class Meta:
        model = Payment
        fields = ("id", "project", "project_name", "unit", "unit_code", "payer", "payer_name", "amount",
                  "amount_in_words", "receipt_number", "cashier", "cashier_name", "received_at", "source",
                  "order_override_reason", "note", "tenders", "allocations", "to_prepaid", "reversals")
        read_only_fields = fields

    def get_amount_in_words(self, payment) -> str:
        return amount_in_chinese_capitals(payment.amount)

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_to_prepaid(self, payment):
        total = sum((m.amount for m in payment.prepaid_movements.all()
                     if m.kind == PrepaidMovementKind.OVERPAYMENT), Decimal(0))
        return f"{total:.2f}"


class TenderInputSerializer(serializers.Serializer):
    method = choice_field(PaymentMethod.choices, "PaymentTenderMethodEnum", label=_("收款方式"))
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"), label=_("金额"))
    tendered = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True,
                                        label=_("实付"), help_text=_("现金实付，找零 = 实付 − 金额"))
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                      label=_("交易号"))
    deposit = serializers.IntegerField(min_value=1, required=False, allow_null=True, label=_("冲抵的押金"),
                                       help_text=_("押金冲抵时必填：该房屋持有的押金 id"))


class TendersRequired:
    """Input serializers with a ``tenders`` list: at least one method must be given."""

    def validate_tenders(self, tenders):
        if not tenders:
            raise serializers.ValidationError(_("请至少选择一种收款方式"))
        return tenders


class PaymentCreateSerializer(TendersRequired, serializers.Serializer):
    unit = PermittedPrimaryKeyRelatedField(queryset=Unit.objects.all(), label=_("房屋"))
    bills = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                  label=_("账单"), help_text=_("要缴的账单 id；为空时全部存入通用预存"))
    tenders = TenderInputSerializer(many=True, label=_("收款方式"))
    override_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                            label=_("跳过较早账单的原因"))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", label=_("备注"))


class DepositMovementSerializer(serializers.ModelSerializer):
    kind = choice_field(DepositMovementKind.choices, "DepositMovementKindEnum", read_only=True, label=_("类型"))
    amount = money(label=_("金额"))

    class Meta:
        model = DepositMovement
        fields = ("id", "kind", "amount", "payment", "reversal", "request", "created_at", "created_by")
        read_only_fields = fields


class DepositSerializer(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True, default=None)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None)
    receipt_number = serializers.CharField(source="payment.receipt_number", read_only=True)
    amount = money(label=_("收取金额"))
    held = money(label=_("余额"))
    status = serializers.SerializerMethodField(label=_("状态"),
                                               help_text=_("held 持有中、partly 部分退还/冲抵、settled 已退清"))

    class Meta:
        model = Deposit
        fields = ("id", "project", "project_name", "unit", "unit_code", "customer", "customer_name", "kind",
                  "amount", "held", "status", "payment", "receipt_number", "note", "created_at", "created_by")
        read_only_fields = fields

    def get_status(self, deposit) -> str:
        return deposit_status(deposit, deposit.held)


class DepositDetailSerializer(DepositSerializer):
    movements = DepositMovementSerializer(many=True, read_only=True)

    class Meta(DepositSerializer.Meta):
        fields = (*DepositSerializer.Meta.fields, "movements")
        read_only_fields = fields


class DepositCreateSerializer(TendersRequired, serializers.Serializer):
    unit = PermittedPrimaryKeyRelatedField(queryset=Unit.objects.all(), label=_("房屋"))
    customer = PermittedPrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True,
                                               label=_("交款人"))
    kind = serializers.CharField(max_length=30, label=_("押金类型"), help_text=_("如 装修押金、门禁卡押金"))
    tenders = TenderInputSerializer(many=True, label=_("收款方式"),
                                    help_text=_("现金、刷卡/POS、微信、支付宝或银行转账"))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", label=_("备注"))


class PrepaidMovementSerializer(serializers.ModelSerializer):
    kind = choice_field(PrepaidMovementKind.choices, "PrepaidMovementKindEnum", read_only=True, label=_("类型"))
    amount = money(label=_("金额"))

    class Meta:
        model = PrepaidMovement
        fields = ("id", "kind", "amount", "payment", "reversal", "request", "created_at", "created_by")
        read_only_fields = fields


class PrepaidAccountSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    fee_item_name = serializers.CharField(source="fee_item.name", read_only=True, default=None,
                                          help_text=_("为空表示通用预存"))
    balance = money(label=_("余额"))

    class Meta:
        model = PrepaidAccount
        fields = ("id", "project", "unit", "unit_code", "fee_item", "fee_item_name", "balance")
        read_only_fields = fields


class PrepaidAccountDetailSerializer(PrepaidAccountSerializer):
    movements = PrepaidMovementSerializer(many=True, read_only=True, label=_("流水"))

    class Meta(PrepaidAccountSerializer.Meta):
        fields = (*PrepaidAccountSerializer.Meta.fields, "movements")
        read_only_fields = fields
