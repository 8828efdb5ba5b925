"""Receivables: fee items, charge rules and their bindings, bill runs, bills, and the journal.

Money rows are never edited or deleted: a correction is a new row that points at what it corrects,
and every movement of money writes a balanced journal entry (DESIGN.md, "Money").
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aishang.core.models import ScopedModel
from aishang.core.money import Precision, RoundingMode
from aishang.estate.models import Building, Company, ParkingSpace, Project, PropertyType, Unit
from aishang.extras.features import ChangeLoggedModel

from .choices import BillingCycle, BillingMode, ChargeMethod, DueDateRule, FeeCategory, TierLimitBasis

MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE = {"max_digits": 14, "decimal_places": 4}


class FeeItem(ChangeLoggedModel, ScopedModel):
    """收费项目: what is charged (物业费, 水费 ...) and how its amounts are rounded."""

    scope_company_path = "company"

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="fee_items")
    code = models.CharField(_("编码"), max_length=30)
    name = models.CharField(_("名称"), max_length=50)
    category = models.CharField(_("类别"), max_length=20, choices=FeeCategory.choices, default=FeeCategory.PROPERTY)
    rounding = models.CharField(_("取整方式"), max_length=20, choices=RoundingMode.choices,
                                default=RoundingMode.HALF_UP)
    precision = models.CharField(_("精度"), max_length=10, choices=Precision.choices, default=Precision.FEN)
    tax_rate = models.DecimalField(_("税率"), max_digits=5, decimal_places=4, default=Decimal("0"),
                                   validators=[MinValueValidator(0), MaxValueValidator(1)])
    late_fee_enabled = models.BooleanField(_("计收滞纳金"), default=False,
                                           help_text=_("合同约定可收滞纳金时才开启"))
    late_fee_daily_rate = models.DecimalField(_("滞纳金日费率"), max_digits=8, decimal_places=6,
                                              default=Decimal("0.0005"), validators=[MinValueValidator(0)])
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("收费项目")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="fee_item_unique_code")]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, None


class ChargeRule(ChangeLoggedModel, ScopedModel):
    """收费标准: how one fee item is computed for the units, spaces or customers bound to it."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="charge_rules")
    fee_item = models.ForeignKey(FeeItem, verbose_name=_("收费项目"), on_delete=models.PROTECT,
                                 related_name="charge_rules")
    name = models.CharField(_("名称"), max_length=60)
    method = models.CharField(_("计费方式"), max_length=20, choices=ChargeMethod.choices,
                              default=ChargeMethod.BUILDING_AREA)
    unit_price = models.DecimalField(_("单价"), default=Decimal("0"), **PRICE)
    tiers = models.JSONField(_("阶梯"), default=list, blank=True,
                             help_text=_("阶梯上限与单价，如 [[2520, \"0.55\"], [4800, \"0.60\"], [null, \"0.85\"]]"))
    tier_limit_basis = models.CharField(_("阶梯上限口径"), max_length=20, choices=TierLimitBasis.choices,
                                        default=TierLimitBasis.PER_YEAR)
    formula = models.TextField(_("公式"), blank=True)
    cycle = models.CharField(_("收费周期"), max_length=20, choices=BillingCycle.choices, default=BillingCycle.MONTHLY)
    billing_mode = models.CharField(_("收费模式"), max_length=20, choices=BillingMode.choices,
                                    default=BillingMode.ADVANCE)
    due_date_rule = models.CharField(_("应缴日规则"), max_length=30, choices=DueDateRule.choices,
                                     default=DueDateRule.DAY_OF_FIRST_MONTH)
    due_day = models.PositiveSmallIntegerField(_("应缴日"), default=15, validators=[MinValueValidator(0),
                                                                                    MaxValueValidator(365)])
    charge_tenant = models.BooleanField(_("向租户收取"), default=False,
                                        help_text=_("不勾选时向业主收取；勾选后有租户时向租户收取"))
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("收费标准")
        ordering = ["project", "fee_item", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="charge_rule_dates_in_order"),
        ]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    @property
    def due_date_text(self):
        """When its bills fall due, in words: 后收 counts from the period's end (periods.due_date)."""
        in_arrears = self.billing_mode == BillingMode.ARREARS
        if self.due_date_rule == DueDateRule.DAY_OF_FIRST_MONTH:
            text = _("账期结束后次月 %(day)s 日") if in_arrears else _("账期首月 %(day)s 日")
            return text % {"day": self.due_day}
        text = _("账期结束后 %(days)s 天") if in_arrears else _("账期开始后 %(days)s 天")
        return text % {"days": self.due_day}

    def clean(self):
        errors = {}
        if self.fee_item_id and self.project_id and self.fee_item.company_id != self.project.company_id:
            errors["fee_item"] = _("收费项目不属于该企业")
        if self.method == ChargeMethod.FORMULA:
            from .formula import FormulaError, compile_formula
            from .pricing import FORMULA_VARIABLES

            try:
                compile_formula(self.formula, FORMULA_VARIABLES)
            except FormulaError as exc:
                errors["formula"] = str(exc)
        if self.due_date_rule == DueDateRule.DAY_OF_FIRST_MONTH and not 1 <= (self.due_day or 0) <= 31:
            errors["due_day"] = _("应缴日须在 1 到 31 之间")
        if self.method == ChargeMethod.TIERED and not self.tiers:
            errors["tiers"] = _("阶梯计价至少需要一档")
        if errors:
            raise ValidationError(errors)


class RulePrice(ChangeLoggedModel, ScopedModel):
    """A change of a rule's unit price from a date on; a period that spans it is split by days."""

    scope_project_path = "rule__project"

    rule = models.ForeignKey(ChargeRule, verbose_name=_("收费标准"), on_delete=models.PROTECT, related_name="prices")
    effective_from = models.DateField(_("生效日期"))
    unit_price = models.DecimalField(_("单价"), **PRICE)

    class Meta:
        verbose_name = verbose_name_plural = _("调价记录")
        ordering = ["rule", "effective_from"]
        constraints = [models.UniqueConstraint(fields=["rule", "effective_from"], name="rule_price_unique_date")]

    def __str__(self):
        return f"{self.rule} {self.effective_from} {self.unit_price}"

    def get_scope_ids(self):
        return self.rule.project.company_id, self.rule.project_id


class BindingTarget(models.TextChoices):
    PROJECT = "project", _("整个项目")
    BUILDING = "building", _("楼栋")
    PROPERTY_TYPE = "property_type", _("业态")
    UNIT = "unit", _("房屋")
    PARKING_SPACE = "parking_space", _("车位")
    CUSTOMER = "customer", _("客户")


class RuleBinding(ChangeLoggedModel, ScopedModel):
    """Which units (or parking spaces) a rule charges: a whole project, a building, a property type or one unit.

    A hand-picked set of units is several ``UNIT`` bindings.
    """

    scope_project_path = "rule__project"

    rule = models.ForeignKey(ChargeRule, verbose_name=_("收费标准"), on_delete=models.CASCADE, related_name="bindings")
    target = models.CharField(_("绑定对象"), max_length=20, choices=BindingTarget.choices)
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    property_type = models.ForeignKey(PropertyType, verbose_name=_("业态"), null=True, blank=True,
                                      on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    parking_space = models.ForeignKey(ParkingSpace, verbose_name=_("车位"), null=True, blank=True,
                                      on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("客户"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("收费标准绑定")
        ordering = ["rule", "target", "id"]

    def __str__(self):
        subject = (self.building or self.property_type or self.unit or self.parking_space or self.customer
                   or self.rule.project)
        return f"{self.rule} → {subject}"

    def get_scope_ids(self):
        return self.rule.project.company_id, self.rule.project_id

    def clean(self):
        needed = {BindingTarget.BUILDING: "building", BindingTarget.PROPERTY_TYPE: "property_type",
                  BindingTarget.UNIT: "unit", BindingTarget.PARKING_SPACE: "parking_space",
                  BindingTarget.CUSTOMER: "customer"}
        field = needed.get(self.target)
        if field and not getattr(self, f"{field}_id"):
            raise ValidationError({field: _("请选择绑定的对象")})


class BillRunStatus(models.TextChoices):
    DRAFT = "draft", _("待出账")
    POSTING = "posting", _("出账中")
    POSTED = "posted", _("已出账")
    FAILED = "failed", _("失败")


class BillRun(ScopedModel):
    """出账批次: the rules and period one run bills; re-running it creates only what is missing."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="bill_runs")
    rules = models.ManyToManyField(ChargeRule, verbose_name=_("收费标准"), related_name="bill_runs")
    buildings = models.ManyToManyField(Building, verbose_name=_("楼栋"), blank=True, related_name="bill_runs",
                                       help_text=_("只出这些楼栋房屋的账单；不选为整个项目"))
    period_month = models.DateField(_("账期月份"), help_text=_("出账所属月份的第一天"))
    status = models.CharField(_("状态"), max_length=20, choices=BillRunStatus.choices, default=BillRunStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    posted_at = models.DateTimeField(_("出账时间"), null=True, blank=True)
    bill_count = models.PositiveIntegerField(_("账单数"), default=0)
    total_amount = models.DecimalField(_("应收合计"), default=Decimal("0"), **MONEY)

    class Meta:
        verbose_name = verbose_name_plural = _("出账批次")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.project} {self.period_month:%Y-%m}"


class BillRunSchedule(ChangeLoggedModel, ScopedModel):
    """定时出账: a project's rules billed every month on a day, by Celery beat (or ``manage.py scheduler``)."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT,
                                related_name="bill_run_schedules")
    name = models.CharField(_("名称"), max_length=60)
    rules = models.ManyToManyField(ChargeRule, verbose_name=_("收费标准"), related_name="schedules")
    day_of_month = models.PositiveSmallIntegerField(_("每月出账日"), default=1,
                                                    validators=[MinValueValidator(1), MaxValueValidator(28)],
                                                    help_text=_("1 到 28 日；当天没出成的，之后每天补出"))
    is_active = models.BooleanField(_("启用"), default=True)
    last_period_month = models.DateField(_("最近出账月份"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = verbose_name_plural = _("定时出账")
        ordering = ["project", "day_of_month", "name"]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    def save(self, *args, **kwargs):
        if self._state.adding and self.last_period_month is None:
            today = timezone.localdate()
            # A schedule made after this month's day starts next month: this month was billed by hand.
            if today.day > self.day_of_month:
                self.last_period_month = today.replace(day=1)
        super().save(*args, **kwargs)


class BillKind(models.TextChoices):
    REGULAR = "regular", _("周期账单")
    TEMPORARY = "temporary", _("临时收费")
    ADVANCE = "advance", _("预缴账单")
    LATE_FEE = "late_fee", _("滞纳金")
    IMPORTED = "imported", _("导入")


class Bill(ScopedModel):
    """应收账单: one amount owed for one fee item and period. Never edited: corrections point at it."""

    scope_project_path = "project"

    # The bill's references are checked by the database once per statement, not row by row (ADR 0009):
    # on PostgreSQL by the triggers of migration 0005, which also refuse to delete what a bill refers to.
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="bills",
                                db_constraint=False)
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="bills", db_constraint=False)
    parking_space = models.ForeignKey(ParkingSpace, verbose_name=_("车位"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="bills", db_constraint=False)
    payer = models.ForeignKey("customers.Customer", verbose_name=_("缴费人"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="bills", db_constraint=False)
    fee_item = models.ForeignKey(FeeItem, verbose_name=_("收费项目"), on_delete=models.PROTECT, related_name="bills",
                                 db_constraint=False)
    rule = models.ForeignKey(ChargeRule, verbose_name=_("收费标准"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="bills", db_constraint=False)
    run = models.ForeignKey(BillRun, verbose_name=_("出账批次"), null=True, blank=True, on_delete=models.PROTECT,
                            related_name="bills", db_constraint=False)
    kind = models.CharField(_("账单类型"), max_length=20, choices=BillKind.choices, default=BillKind.REGULAR)
    period_start = models.DateField(_("账期开始"))
    period_end = models.DateField(_("账期结束"))
    due_date = models.DateField(_("应缴日期"))
    amount = models.DecimalField(_("应收金额"), **MONEY)
    computation = models.TextField(_("计算过程"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("应收账单")
        ordering = ["project", "period_start", "id"]
        permissions = [("export_bill", _("导出账单")), ("import_bills", _("导入历史账单"))]
        constraints = [
            # One bill per (rule, unit, period): a run re-started after a crash creates only what is missing.
            models.UniqueConstraint(fields=["rule", "unit", "period_start"], name="bill_unique_rule_unit_period",
                                    condition=Q(rule__isnull=False, unit__isnull=False)),
            models.UniqueConstraint(fields=["rule", "parking_space", "period_start"],
                                    name="bill_unique_rule_space_period",
                                    condition=Q(rule__isnull=False, parking_space__isnull=False)),
            # A rule bound to a customer (no unit, no space) bills that customer once per period.
            models.UniqueConstraint(fields=["rule", "payer", "period_start"], name="bill_unique_rule_customer_period",
                                    condition=Q(rule__isnull=False, unit__isnull=True, parking_space__isnull=True)),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="bill_period_in_order"),
        ]
        indexes = [
            models.Index(fields=["unit", "fee_item", "period_start"], name="bill_unit_item_period"),
            # A unit's bills within the actor's projects (the scope filter) in one index: with the unit alone the
            # planner may AND in the project's index, a million rows for a unit's few hundred (ADR 0017).
            models.Index(fields=["unit", "project"], name="bill_unit_project"),
        ]

    def __str__(self):
        return f"{self.fee_item} {self.period_start:%Y-%m} {self.amount}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("现金")
    CARD = "card", _("刷卡/POS")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    TRANSFER = "transfer", _("银行转账")
    PREPAID = "prepaid", _("预存冲抵")
    DEPOSIT = "deposit", _("押金冲抵")


# Methods that bring money in (the cash account); prepaid and deposit move money already held.
MONEY_IN_METHODS = {PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.WECHAT, PaymentMethod.ALIPAY,
                    PaymentMethod.TRANSFER}


class Account(models.TextChoices):
    """General-ledger accounts; each posting also names project, fee item or method where it applies."""

    RECEIVABLE = "receivable", _("应收账款")
    REVENUE = "revenue", _("收入")
    CASH = "cash", _("现金及银行")
    PREPAID = "prepaid", _("预收款")
    DEPOSIT = "deposit", _("押金")
    WAIVER = "waiver", _("减免")
    DISCOUNT = "discount", _("优惠")


class JournalEntry(models.Model):
    """One business event in the general ledger; its postings sum to zero. Insert-only."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(_("业务"), max_length=40)
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    run = models.ForeignKey(BillRun, null=True, blank=True, on_delete=models.PROTECT, related_name="journal_entries")
    created_at = models.DateTimeField(_("记账时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("记账凭证")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.event} {self.memo}"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.CharField(_("科目"), max_length=20, choices=Account.choices)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    fee_item = models.ForeignKey(FeeItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("收款方式"), max_length=20, blank=True, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("金额"), help_text=_("借方为正，贷方为负"), **MONEY)

    class Meta:
        verbose_name = verbose_name_plural = _("分录")
        indexes = [models.Index(fields=["project", "account", "fee_item"], name="posting_balance")]

    def __str__(self):
        return f"{self.get_account_display()} {self.amount}"


# Approvals of corrections (减免, 作废, 退款) and the correction rows they write.


class ApprovalAction(models.TextChoices):
    WAIVER = "waiver", _("减免")
    VOID = "void", _("作废")
    REFUND = "refund", _("收款退款")
    PAYMENT_VOID = "payment_void", _("收款作废")
    PREPAID_REFUND = "prepaid_refund", _("预存退款")
    DEPOSIT_REFUND = "deposit_refund", _("押金退还")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve", _("同意")
    REJECT = "reject", _("驳回")


class ApprovalFlow(ScopedModel):
    """审批流程: the ordered levels a company's requests of one action pass through."""

    scope_company_path = "company"

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.CASCADE,
                                related_name="approval_flows")
    action = models.CharField(_("业务"), max_length=20, choices=ApprovalAction.choices)
    name = models.CharField(_("名称"), max_length=60)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("审批流程")
        ordering = ["company", "action"]
        constraints = [models.UniqueConstraint(fields=["company", "action"], name="approval_flow_unique_action")]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, None


class ApprovalLevel(ScopedModel):
    """One level of a flow: who decides it, and from which amount on it applies."""

    scope_company_path = "flow__company"

    flow = models.ForeignKey(ApprovalFlow, verbose_name=_("审批流程"), on_delete=models.CASCADE,
                             related_name="levels")
    level = models.PositiveSmallIntegerField(_("级次"), validators=[MinValueValidator(1)])
    role = models.ForeignKey("users.Role", verbose_name=_("审批角色"), on_delete=models.PROTECT, related_name="+")
    min_amount = models.DecimalField(_("起审金额"), null=True, blank=True, validators=[MinValueValidator(0)],
                                     help_text=_("金额达到此值时才需要本级审批；留空表示总是需要"), **MONEY)

    class Meta:
        verbose_name = verbose_name_plural = _("审批级次")
        ordering = ["flow", "level"]
        constraints = [models.UniqueConstraint(fields=["flow", "level"], name="approval_level_unique_level")]

    def __str__(self):
        return f"{self.flow} {self.level}"

    def get_scope_ids(self):
        return self.flow.company_id, None

    def applies_to(self, amount):
        return self.min_amount is None or amount >= self.min_amount


class ApprovalRequest(ScopedModel):
    """审批申请 about one subject: a bill (减免, 作废), a payment (收款作废, 收款退款), a prepaid account (预存退款)
    or a deposit (押金退还). ``route`` is the levels chosen by amount when it was submitted, so a later change
    of the flow does not move requests already under way."""

    scope_project_path = "project"

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT,
                                related_name="approval_requests")
    action = models.CharField(_("业务"), max_length=20, choices=ApprovalAction.choices)
    bill = models.ForeignKey(Bill, verbose_name=_("账单"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="approval_requests")
    payment = models.ForeignKey("Payment", verbose_name=_("收款"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="approval_requests")
    prepaid_account = models.ForeignKey("PrepaidAccount", verbose_name=_("预存账户"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="approval_requests")
    deposit = models.ForeignKey("Deposit", verbose_name=_("押金"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="approval_requests")
    amount = models.DecimalField(_("金额"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    refund_method = models.CharField(_("退款方式"), max_length=20, blank=True, choices=PaymentMethod.choices,
                                     help_text=_("退款退回的方式；预存冲抵表示退回预存"))
    reason = models.TextField(_("申请原因"))
    status = models.CharField(_("状态"), max_length=20, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
                                     related_name="+")
    route = models.JSONField(_("审批路径"), default=list)
    current_level = models.PositiveSmallIntegerField(_("当前级次"), null=True, blank=True)
    current_role = models.ForeignKey("users.Role", verbose_name=_("当前审批角色"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("审批申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two clerks submitting at once: the database keeps one pending request per bill and action.
            models.UniqueConstraint(fields=["bill", "action"], condition=Q(status="pending"),
                                    name="approval_request_one_pending"),
            models.UniqueConstraint(fields=["payment"], condition=Q(status="pending"),
                                    name="approval_request_one_pending_payment"),
            models.UniqueConstraint(fields=["prepaid_account", "action"], condition=Q(status="pending"),
                                    name="approval_request_one_pending_prepaid"),
            models.UniqueConstraint(fields=["deposit", "action"], condition=Q(status="pending"),
                                    name="approval_request_one_pending_deposit"),
            models.CheckConstraint(
                condition=(Q(bill__isnull=False, payment__isnull=True, prepaid_account__isnull=True,
                             deposit__isnull=True)
                           | Q(bill__isnull=True, payment__isnull=False, prepaid_account__isnull=True,
                               deposit__isnull=True)
                           | Q(bill__isnull=True, payment__isnull=True, prepaid_account__isnull=False,
                               deposit__isnull=True)
                           | Q(bill__isnull=True, payment__isnull=True, prepaid_account__isnull=True,
                               deposit__isnull=False)),
                name="approval_request_one_subject"),
        ]
        indexes = [models.Index(fields=["status", "current_role"], name="approval_request_inbox")]

    def __str__(self):
        return f"{self.get_action_display()} {self.subject} {self.amount}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("billing:approval_detail", kwargs={"pk": self.pk})

    @property
    def subject(self):
        """What the request is about: its bill, payment, prepaid account or deposit."""
        return self.bill or self.payment or self.prepaid_account or self.deposit

    @property
    def subject_unit(self):
        """The unit (or parking space, or customer) the request concerns, for people reading it."""
        if self.bill_id:
            return self.bill.unit or self.bill.parking_space or self.bill.payer
        if self.payment_id:
            return self.payment.unit or self.payment.payer
        if self.prepaid_account_id:
            return self.prepaid_account.unit
        return self.deposit.unit or self.deposit.customer

    @property
    def subject_label(self):
        """What the request is about, in a few words: 物业费 2026-07, 收据 SJ2026-000012, 通用预存, 装修押金."""
        if self.bill_id:
            return f"{self.bill.fee_item.name} {self.bill.period_start:%Y-%m}"
        if self.payment_id:
            return _("收据 %(number)s") % {"number": self.payment.receipt_number}
        if self.prepaid_account_id:
            return str(self.prepaid_account.fee_item or _("通用预存"))
        return self.deposit.kind

    @property
    def subject_url(self):
        from django.urls import reverse

        if self.bill_id:
            return reverse("billing:bill_detail", kwargs={"pk": self.bill_id})
        if self.payment_id:
            return reverse("billing:payment_detail", kwargs={"pk": self.payment_id})
        if self.prepaid_account_id:
            return reverse("billing:prepaidaccount_detail", kwargs={"pk": self.prepaid_account_id})
        return reverse("billing:deposit_detail", kwargs={"pk": self.deposit_id})

    def get_scope_ids(self):
        return self.company_id, self.project_id

    @property
    def is_pending(self):
        return self.status == ApprovalStatus.PENDING

    def route_level(self, level):
        return next((step for step in self.route if step["level"] == level), None)

    def next_level(self):
        levels = [step["level"] for step in self.route]
        index = levels.index(self.current_level)
        return self.route[index + 1] if index + 1 < len(levels) else None


class ApprovalStep(ScopedModel):
    """One decision on a request, kept as its history. Insert-only."""

    scope_project_path = "request__project"

    request = models.ForeignKey(ApprovalRequest, verbose_name=_("审批申请"), on_delete=models.PROTECT,
                                related_name="steps")
    level = models.PositiveSmallIntegerField(_("级次"))
    role = models.ForeignKey("users.Role", verbose_name=_("审批角色"), null=True, on_delete=models.SET_NULL,
                             related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT,
                                   related_name="+")
    decision = models.CharField(_("结论"), max_length=20, choices=ApprovalDecision.choices)
    comment = models.TextField(_("审批意见"), blank=True)
    decided_at = models.DateTimeField(_("审批时间"), default=timezone.now)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("审批记录")
        ordering = ["request", "decided_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(decision="reject") | ~Q(comment=""),
                                   name="approval_step_reject_has_comment"),
        ]

    def __str__(self):
        return f"{self.level} {self.get_decision_display()}"

    def get_scope_ids(self):
        return self.request.company_id, self.request.project_id


class Waiver(ScopedModel):
    """减免: an approved reduction of a bill. Insert-only; the bill itself is never edited."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(Bill, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="waivers")
    request = models.OneToOneField(ApprovalRequest, verbose_name=_("审批申请"), on_delete=models.PROTECT,
                                   related_name="waiver")
    amount = models.DecimalField(_("减免金额"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    created_at = models.DateTimeField(_("减免时间"), default=timezone.now)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("减免")
        ordering = ["bill", "created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="waiver_amount_positive")]

    def __str__(self):
        return f"{self.bill} −{self.amount}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class BillVoid(ScopedModel):
    """作废: an approved cancellation of what remained outstanding on a bill. Insert-only, at most one per bill."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    bill = models.OneToOneField(Bill, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="void")
    request = models.OneToOneField(ApprovalRequest, verbose_name=_("审批申请"), on_delete=models.PROTECT,
                                   related_name="bill_void")
    amount = models.DecimalField(_("作废金额"), **MONEY)
    created_at = models.DateTimeField(_("作废时间"), default=timezone.now)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("作废")
        ordering = ["bill", "created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="bill_void_amount_positive")]

    def __str__(self):
        return f"{self.bill} {_('作废')}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


# Discount schemes (优惠方案) and the discounts they grant.


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("打折")
    AMOUNT = "amount", _("每单立减")
    FREE_PERIODS = "free_periods", _("预缴满期赠送")


class DiscountTiming(models.TextChoices):
    BILLING = "billing", _("出账时")
    PAYMENT = "payment", _("缴费时")


class DiscountScheme(ChangeLoggedModel, ScopedModel):
    """优惠方案: who qualifies (customer tag or field, a set of units, dates, paying on time) and for what.

    Schemes applied at billing grant a ``BillDiscount`` when the bill is created; those applied at
    payment are granted by the cashier's desk. A bill takes the one scheme that gives most.
    """

    scope_company_path = "company"

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT,
                                related_name="discount_schemes")
    project = models.ForeignKey(Project, verbose_name=_("项目"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", help_text=_("留空表示企业全部项目"))
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("优惠方式"), max_length=20, choices=DiscountKind.choices, default=DiscountKind.PERCENT)
    rate = models.DecimalField(_("折扣率"), max_digits=5, decimal_places=4, null=True, blank=True,
                               validators=[MinValueValidator(0), MaxValueValidator(1)],
                               help_text=_("按原价的比例收取，如 0.90 即九折"))
    amount = models.DecimalField(_("立减金额"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY)
    min_periods = models.PositiveSmallIntegerField(_("预缴满期数"), null=True, blank=True,
                                                   help_text=_("如 预交 12 个月优惠 1 个月 填 12"))
    free_periods = models.PositiveSmallIntegerField(_("赠送期数"), null=True, blank=True)
    timing = models.CharField(_("优惠时机"), max_length=20, choices=DiscountTiming.choices,
                              default=DiscountTiming.BILLING)
    fee_items = models.ManyToManyField(FeeItem, verbose_name=_("适用收费项目"), blank=True, related_name="+",
                                       help_text=_("不选表示全部收费项目"))
    customer_tag = models.CharField(_("客户标签"), max_length=30, blank=True, help_text=_("如 老年人；留空表示不限"))
    customer_field = models.CharField(_("客户自定义字段"), max_length=50, blank=True)
    customer_field_value = models.CharField(_("自定义字段取值"), max_length=100, blank=True)
    units = models.ManyToManyField(Unit, verbose_name=_("适用房屋"), blank=True, related_name="+",
                                   help_text=_("不选表示不限房屋"))
    on_time_months = models.PositiveSmallIntegerField(
        _("连续按时缴费月数"), null=True, blank=True,
        help_text=_("如 12：此前 12 个月内到期的账单都已按时结清才享受"))
    valid_from = models.DateField(_("开始日期"))
    valid_to = models.DateField(_("结束日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("优惠方案")
        ordering = ["company", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                                   name="discount_scheme_dates_in_order"),
        ]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, self.project_id

    def clean(self):
        errors = {}
        if self.kind == DiscountKind.PERCENT and (self.rate is None or not 0 <= self.rate < 1):
            errors["rate"] = _("请填写小于 1 的折扣率，如 0.90 表示九折")
        if self.kind == DiscountKind.AMOUNT and not self.amount:
            errors["amount"] = _("请填写立减金额")
        if self.kind == DiscountKind.FREE_PERIODS:
            if not self.min_periods:
                errors["min_periods"] = _("请填写预缴满多少期")
            if not self.free_periods:
                errors["free_periods"] = _("请填写赠送期数")
            elif self.min_periods and self.free_periods >= self.min_periods:
                errors["free_periods"] = _("赠送期数须少于预缴满期数")
        if bool(self.customer_field) != bool(self.customer_field_value):
            errors["customer_field_value"] = _("自定义字段和取值须同时填写")
        if self.project_id and self.company_id and self.project.company_id != self.company_id:
            errors["project"] = _("项目不属于该企业")
        if errors:
            raise ValidationError(errors)


class BillDiscount(ScopedModel):
    """An amount a discount scheme took off a bill. Insert-only, like waivers; the bill is never edited."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(Bill, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="discounts")
    scheme = models.ForeignKey(DiscountScheme, verbose_name=_("优惠方案"), on_delete=models.PROTECT,
                               related_name="discounts")
    amount = models.DecimalField(_("优惠金额"), **MONEY)
    computation = models.CharField(_("计算过程"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("优惠时间"), default=timezone.now)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("账单优惠")
        ordering = ["bill", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "scheme"], name="bill_discount_once_per_scheme"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bill_discount_amount_positive"),
        ]

    def __str__(self):
        return f"{self.bill} −{self.amount}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


# Payments at the cashier's desk (收银台), prepaid balances (预存) and receipt numbers.


class PaymentSource(models.TextChoices):
    DESK = "desk", _("收银台")
    OFFSET = "offset", _("预存冲抵")
    DEPOSIT = "deposit", _("押金收取")
    IMPORT = "import", _("历史导入")
    ONLINE = "online", _("线上支付")


class Payment(ScopedModel):
    """收款: money collected once, by one or more methods, allocated to bills; the rest goes to prepaid or to a
    deposit. Insert-only: a void or refund is a ``PaymentReversal`` pointing at it."""

    scope_project_path = "project"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="payments")
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="payments")
    payer = models.ForeignKey("customers.Customer", verbose_name=_("缴费人"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("实收金额"), **MONEY)
    receipt_number = models.CharField(_("收据号"), max_length=30)
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("收款人"), null=True,
                                on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("收款时间"), default=timezone.now)
    source = models.CharField(_("来源"), max_length=20, choices=PaymentSource.choices, default=PaymentSource.DESK)
    order_override_reason = models.CharField(_("跳过较早账单的原因"), max_length=200, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("收款")
        ordering = ["-received_at", "-id"]
        permissions = [("override_payment_order", _("跳过较早的账单收款"))]
        constraints = [
            models.UniqueConstraint(fields=["company", "receipt_number"], name="payment_unique_receipt_number"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.receipt_number} {self.amount}"

    def get_scope_ids(self):
        return self.company_id, self.project_id


class PaymentTender(models.Model):
    """How part of a payment was paid: one row per method. For cash, what was handed over and the change."""

    payment = models.ForeignKey(Payment, verbose_name=_("收款"), on_delete=models.PROTECT, related_name="tenders")
    method = models.CharField(_("收款方式"), max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    tendered = models.DecimalField(_("实付"), null=True, blank=True, **MONEY)
    change = models.DecimalField(_("找零"), default=0, **MONEY)
    reference = models.CharField(_("交易号"), max_length=64, blank=True)
    deposit = models.ForeignKey("Deposit", verbose_name=_("冲抵的押金"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("收款方式明细")
        ordering = ["payment", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="tender_amount_positive")]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount}"


class Allocation(ScopedModel):
    """The part of a payment that settles a bill, or (negative, with ``reversal``) that a void or refund of the
    payment takes back, reopening the bill. Insert-only; a bill's allocations never exceed what it owed."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, verbose_name=_("收款"), on_delete=models.PROTECT,
                                related_name="allocations")
    bill = models.ForeignKey(Bill, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("核销金额"), **MONEY)
    reversal = models.ForeignKey("PaymentReversal", verbose_name=_("冲回"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="allocations")
    created_at = models.DateTimeField(_("核销时间"), default=timezone.now)
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("账单核销")
        ordering = ["bill", "created_at", "id"]
        constraints = [
            # Settling rows are positive; the rows of a void or refund are negative and name it.
            models.CheckConstraint(condition=Q(amount__gt=0, reversal__isnull=True)
                                   | Q(amount__lt=0, reversal__isnull=False),
                                   name="allocation_sign_matches_reversal"),
        ]

    def __str__(self):
        return f"{self.bill} {self.amount}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class PrepaidAccount(ScopedModel):
    """A unit's prepaid balance (预存): general, or restricted to one fee item. The balance is its movements' sum."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="prepaid_accounts")
    fee_item = models.ForeignKey(FeeItem, verbose_name=_("限定收费项目"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+", help_text=_("留空为通用预存"))

    class Meta:
        verbose_name = verbose_name_plural = _("预存账户")
        ordering = ["unit", "fee_item"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "fee_item"], name="prepaid_unique_unit_fee_item"),
            models.UniqueConstraint(fields=["unit"], condition=Q(fee_item__isnull=True),
                                    name="prepaid_unique_unit_general"),
        ]

    def __str__(self):
        return f"{self.unit} {self.fee_item or _('通用预存')}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class PrepaidMovementKind(models.TextChoices):
    TOP_UP = "top_up", _("预存充值")
    OVERPAYMENT = "overpayment", _("多收转预存")
    PAYMENT = "payment", _("预存冲抵")
    REFUND = "refund", _("预存退款")
    REVERSAL = "reversal", _("收款冲回")


class PrepaidMovement(ScopedModel):
    """One movement of a prepaid balance: in (positive) or out (negative). Insert-only."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(PrepaidAccount, verbose_name=_("预存账户"), on_delete=models.PROTECT,
                                related_name="movements")
    kind = models.CharField(_("类型"), max_length=20, choices=PrepaidMovementKind.choices)
    amount = models.DecimalField(_("金额"), help_text=_("存入为正，支出为负"), **MONEY)
    payment = models.ForeignKey(Payment, verbose_name=_("收款"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="prepaid_movements")
    reversal = models.ForeignKey("PaymentReversal", verbose_name=_("冲回"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="prepaid_movements")
    request = models.ForeignKey(ApprovalRequest, verbose_name=_("退款申请"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="prepaid_movements")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("预存流水")
        ordering = ["account", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="prepaid_movement_not_zero")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class ReceiptSequence(models.Model):
    """The last receipt number given in a company and year. Locked while a payment is written, so numbers are
    gapless: a payment that rolls back gives its number back."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "year"], name="receipt_sequence_unique_year")]

    def __str__(self):
        return f"{self.company_id} {self.year} {self.last_number}"


class ReversalKind(models.TextChoices):
    VOID = "void", _("作废")
    REFUND = "refund", _("退款")


class PaymentReversal(ScopedModel):
    """收款冲回: an approved void (the whole payment, its receipt 作废) or refund (wholly or partly) of a payment.

    ``method`` is where the money goes: one of the payment's methods, or 预存冲抵 for the unit's prepaid. A refund
    is one row; a void is one row per method of the payment, all naming the same request, so money out sums by
    method. The negative allocations and movements that take the money back point at the first row. Insert-only.
    """

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, verbose_name=_("收款"), on_delete=models.PROTECT, related_name="reversals")
    kind = models.CharField(_("类型"), max_length=20, choices=ReversalKind.choices)
    request = models.ForeignKey(ApprovalRequest, verbose_name=_("审批申请"), on_delete=models.PROTECT,
                                related_name="payment_reversals")
    amount = models.DecimalField(_("金额"), **MONEY)
    method = models.CharField(_("退回方式"), max_length=20, choices=PaymentMethod.choices)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("收款冲回")
        ordering = ["payment", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_reversal_amount_positive"),
            models.UniqueConstraint(fields=["payment", "method"], condition=Q(kind="void"),
                                    name="payment_reversal_one_void"),
        ]

    def __str__(self):
        return f"{self.payment.receipt_number} {self.get_kind_display()} {self.amount}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class Deposit(ScopedModel):
    """押金 held for a unit or a customer (装修押金, 门禁卡押金 …), collected by a payment with its receipt.

    What is still held is the sum of its movements; offsets against bills and refunds are movements. Insert-only.
    """

    scope_project_path = "project"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="deposits")
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="deposits")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("客户"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="deposits")
    kind = models.CharField(_("押金类型"), max_length=30)
    amount = models.DecimalField(_("收取金额"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    payment = models.OneToOneField(Payment, verbose_name=_("收款"), on_delete=models.PROTECT, related_name="deposit")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("收取时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("押金")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.CheckConstraint(condition=Q(unit__isnull=False) | Q(customer__isnull=False),
                                   name="deposit_has_unit_or_customer"),
        ]

    def __str__(self):
        return f"{self.kind} {self.payment.receipt_number}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("billing:deposit_detail", kwargs={"pk": self.pk})

    def get_scope_ids(self):
        return self.company_id, self.project_id


class DepositMovementKind(models.TextChoices):
    COLLECT = "collect", _("收取")
    OFFSET = "offset", _("冲抵账单")
    REFUND = "refund", _("退还")
    REVERSAL = "reversal", _("收款冲回")


class DepositMovement(ScopedModel):
    """One movement of a deposit: collected (positive), offset against bills or refunded (negative). Insert-only."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    deposit = models.ForeignKey(Deposit, verbose_name=_("押金"), on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("类型"), max_length=20, choices=DepositMovementKind.choices)
    amount = models.DecimalField(_("金额"), help_text=_("收入为正，支出为负"), **MONEY)
    payment = models.ForeignKey(Payment, verbose_name=_("收款"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="deposit_movements")
    reversal = models.ForeignKey(PaymentReversal, verbose_name=_("冲回"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="deposit_movements")
    request = models.ForeignKey(ApprovalRequest, verbose_name=_("退还申请"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="deposit_movements")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("押金流水")
        ordering = ["deposit", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="deposit_movement_not_zero")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class ShiftClose(ScopedModel):
    """日结: a cashier's shift closed, with what was collected by method and the cash handed over. Insert-only.

    The shift covers the cashier's payments and reversals after the previous close up to ``period_end``; a
    closed shift's payments are corrected only by voids and refunds, which fall into a later shift.
    """

    scope_company_path = "company"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("收款人"), on_delete=models.PROTECT,
                                related_name="shift_closes")
    period_start = models.DateTimeField(_("班次开始"), null=True, blank=True)
    period_end = models.DateTimeField(_("班次结束"))
    payment_count = models.PositiveIntegerField(_("收款笔数"), default=0)
    total = models.DecimalField(_("收款合计"), default=0, **MONEY)
    totals_by_method = models.JSONField(_("按收款方式"), default=dict)
    reversals_total = models.DecimalField(_("作废退款合计"), default=0, **MONEY)
    cash_expected = models.DecimalField(_("应交现金"), default=0, **MONEY)
    cash_handed_over = models.DecimalField(_("实交现金"), default=0, **MONEY)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("日结时间"), default=timezone.now)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                  on_delete=models.PROTECT, related_name="+")
    updated_at = None

    class Meta:
        verbose_name = verbose_name_plural = _("日结")
        ordering = ["-period_end", "-id"]
        permissions = [("view_all_shifts", _("查看全部收银员日结"))]
        constraints = [models.UniqueConstraint(fields=["cashier", "period_end"], name="shift_close_unique_end")]

    def __str__(self):
        return f"{self.cashier} {self.period_end:%Y-%m-%d %H:%M}"

    def get_scope_ids(self):
        return self.company_id, None


class PaperSize(models.TextChoices):
    A4 = "a4", _("A4 纵向")
    A5 = "a5", _("A5 横向")
    THIRDS = "241x93", _("241×93 毫米（针式三等分）")
    HALVES = "241x140", _("241×140 毫米（针式二等分）")
    # Thermal rolls (小票): a fixed width, and a page as long as the receipt.
    ROLL_58 = "roll58", _("58 毫米热敏小票")
    ROLL_80 = "roll80", _("80 毫米热敏小票")


class ReceiptLayout(models.TextChoices):
    STANDARD = "standard", _("标准收据")
    OVERLAY = "overlay", _("套打（预印收据）")


class ReceiptTemplate(ChangeLoggedModel, ScopedModel):
    """A company's receipt print template: title, logo, which fields show, paper, and 套打 positions.

    Users edit data, not code: ``fields`` lists field codes from a fixed set and ``positions`` maps a field code
    to its place in millimetres on a pre-printed form, so a template cannot run code or reach other data.
    """

    scope_company_path = "company"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="receipt_templates")
    name = models.CharField(_("名称"), max_length=60)
    is_default = models.BooleanField(_("默认模板"), default=False)
    title = models.CharField(_("标题"), max_length=60, default="收款收据")
    logo = models.FileField(_("标志"), upload_to="receipt-logos/", blank=True)
    paper = models.CharField(_("纸张"), max_length=20, choices=PaperSize.choices, default=PaperSize.A5)
    layout = models.CharField(_("版式"), max_length=20, choices=ReceiptLayout.choices,
                              default=ReceiptLayout.STANDARD)
    fields = models.JSONField(_("显示字段"), default=list)
    positions = models.JSONField(_("套打位置"), default=dict, blank=True)
    footer = models.CharField(_("页脚"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("收据模板")
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company"], condition=Q(is_default=True),
                                    name="receipt_template_one_default"),
        ]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, None


OFFSET_LIMIT_MM = 20
OFFSET_MESSAGE = _("偏移应在 -20 到 20 毫米之间")
# A printer's offset as typed: what is wrong with it, in words a cashier understands.
OFFSET_ERRORS = {"invalid": _("请输入毫米数，如 1.5 或 -2"), "max_decimal_places": _("偏移最多保留 1 位小数"),
                 "max_digits": OFFSET_MESSAGE, "max_whole_digits": OFFSET_MESSAGE,
                 "min_value": OFFSET_MESSAGE, "max_value": OFFSET_MESSAGE}


def _offset_validators():
    return [MinValueValidator(-OFFSET_LIMIT_MM, OFFSET_MESSAGE), MaxValueValidator(OFFSET_LIMIT_MM, OFFSET_MESSAGE)]


class PrinterProfile(ChangeLoggedModel, ScopedModel):
    """A printer as a company calibrated it: how far its prints land from where they should, in millimetres.

    A dot-matrix printer feeding pre-printed forms (套打) shifts everything by a few millimetres; the offset moves
    the whole print back (positive: right and down). Staff measure it on the calibration page.
    """

    scope_company_path = "company"

    # Nothing refers to a profile (prints copy its name and offset), so it goes with its company.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="printer_profiles")
    name = models.CharField(_("名称"), max_length=60, help_text=_("如 前台针式打印机"))
    offset_x = models.DecimalField(_("水平偏移（毫米）"), max_digits=4, decimal_places=1, default=Decimal("0"),
                                   validators=_offset_validators(), error_messages=OFFSET_ERRORS,
                                   help_text=_("正数向右移，负数向左移"))
    offset_y = models.DecimalField(_("垂直偏移（毫米）"), max_digits=4, decimal_places=1, default=Decimal("0"),
                                   validators=_offset_validators(), error_messages=OFFSET_ERRORS,
                                   help_text=_("正数向下移，负数向上移"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("打印机")
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="printer_profile_unique_name"),
            models.CheckConstraint(condition=Q(offset_x__gte=-OFFSET_LIMIT_MM, offset_x__lte=OFFSET_LIMIT_MM,
                                               offset_y__gte=-OFFSET_LIMIT_MM, offset_y__lte=OFFSET_LIMIT_MM),
                                   name="printer_profile_offset_in_bounds"),
        ]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, None


class PrintOutput(models.TextChoices):
    PRINT = "print", _("打印")
    PDF = "pdf", _("下载 PDF")


class ReceiptPrint(models.Model):
    """Each time a receipt is printed or downloaded; every copy after the first is a 补打. Insert-only."""

    payment = models.ForeignKey(Payment, verbose_name=_("收款"), on_delete=models.PROTECT, related_name="prints")
    copy_number = models.PositiveIntegerField(_("打印次序"))
    template = models.ForeignKey(ReceiptTemplate, verbose_name=_("模板"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # Empty on copies recorded before the way out was recorded (ADR 0018).
    output = models.CharField(_("方式"), max_length=10, choices=PrintOutput.choices, blank=True)
    # The printer profile as it was when this copy was printed: profiles change and go, this row stays as it is.
    printer_name = models.CharField(_("打印机"), max_length=60, blank=True)
    offset_x = models.DecimalField(_("水平偏移（毫米）"), max_digits=4, decimal_places=1, default=Decimal("0"))
    offset_y = models.DecimalField(_("垂直偏移（毫米）"), max_digits=4, decimal_places=1, default=Decimal("0"))
    printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("打印人"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField(_("打印时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("收据打印记录")
        ordering = ["payment", "copy_number"]
        constraints = [models.UniqueConstraint(fields=["payment", "copy_number"], name="receipt_print_unique_copy")]
        # A person's last print names the printer they chose last (remembered across sessions).
        indexes = [models.Index(fields=["printed_by", "-id"], name="receipt_print_by_latest")]

    def __str__(self):
        return f"{self.payment.receipt_number} #{self.copy_number}"

    @property
    def is_reprint(self):
        return self.copy_number > 1
