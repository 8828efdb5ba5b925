from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aishang.billing.formula import FormulaError, compile_formula
from aishang.billing.models import FeeItem
from aishang.core.models import ScopedModel
from aishang.estate.models import Building, Entrance, Project, Unit
from aishang.extras.features import ChangeLoggedModel

from .choices import (
    USAGE_UNITS,
    AllocationBasis,
    AllocationPurpose,
    AllocationRunStatus,
    AllocationScope,
    LossMethod,
    MeterKind,
    MeterRole,
    ReadingKind,
    ReadingSource,
)

READING_FIELD = {"max_digits": 14, "decimal_places": 2}


class Meter(ChangeLoggedModel, ScopedModel):
    """A water, electricity, gas or heat meter: a unit's (一户可多表), a public area's (公区) or a master meter
    (总表) whose sub-meters form a tree. A replaced meter stays, inactive, with its last reading; the new one
    starts from its own initial reading."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="meters")
    kind = models.CharField(_("表类型"), max_length=20, choices=MeterKind.choices)
    role = models.CharField(_("用途"), max_length=20, choices=MeterRole.choices, default=MeterRole.UNIT)
    number = models.CharField(_("表号"), max_length=40)
    name = models.CharField(_("名称"), max_length=60, blank=True, help_text=_("公区表、总表的位置，如 1号楼公区照明"))
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="meters")
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="meters")
    parent = models.ForeignKey("self", verbose_name=_("上级总表"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    multiplier = models.DecimalField(_("倍率"), max_digits=10, decimal_places=2, default=Decimal("1"),
                                     validators=[MinValueValidator(Decimal("0.01"))])
    digits = models.PositiveSmallIntegerField(_("整数位数"), default=5,
                                              validators=[MinValueValidator(3), MaxValueValidator(10)],
                                              help_text=_("读数超过该位数时归零（翻表），如 5 位表 99999 之后为 0"))
    install_date = models.DateField(_("安装日期"))
    initial_reading = models.DecimalField(_("起始读数"), default=Decimal("0"), **READING_FIELD)
    replaces = models.OneToOneField("self", verbose_name=_("替换的旧表"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="replaced_by")
    removed_on = models.DateField(_("拆除日期"), null=True, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("仪表")
        ordering = ["project", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="meter_unique_number"),
            models.CheckConstraint(condition=~Q(role=MeterRole.UNIT) | Q(unit__isnull=False),
                                   name="meter_unit_meter_has_unit"),
            models.CheckConstraint(condition=Q(multiplier__gt=0), name="meter_multiplier_positive"),
            models.CheckConstraint(condition=Q(digits__gte=3, digits__lte=10), name="meter_digits_in_range"),
            models.CheckConstraint(condition=Q(initial_reading__gte=0), name="meter_initial_reading_not_negative"),
        ]

    def __str__(self):
        where = self.unit.code if self.unit_id else self.name
        return f"{self.get_kind_display()} {self.number} {where}".strip()

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    def get_absolute_url(self):
        return reverse("meters:meter_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.role == MeterRole.UNIT and not self.unit_id:
            errors["unit"] = _("户表须选择房屋")
        for name in ("unit", "building", "parent"):
            related = getattr(self, name) if getattr(self, f"{name}_id") else None
            if related is not None and self.project_id and related.project_id != self.project_id:
                errors[name] = _("不属于该项目")
        if self.parent_id and "parent" not in errors:
            if self.parent.role != MeterRole.MASTER or self.parent.kind != self.kind:
                errors["parent"] = _("上级须为同类型的总表")
            elif self._above_itself():
                errors["parent"] = _("上级总表不能是本表或本表的下级表")
        if errors:
            raise ValidationError(errors)

    def _above_itself(self):
        seen, above = set(), self.parent
        while above is not None and above.pk not in seen:
            if self.pk and above.pk == self.pk:
                return True
            seen.add(above.pk)
            above = above.parent
        return False

    @property
    def is_active(self):
        return self.removed_on is None

    @property
    def rollover_at(self):
        """The reading at which the dial returns to zero: 10 ** digits (100000 for a 5-digit meter)."""
        return Decimal(10) ** self.digits


class MeterReading(ChangeLoggedModel, ScopedModel):
    """One reading of a meter, with the previous one it is measured from and the usage it gives."""

    scope_project_path = "project"

    # References are checked by the database once per statement, not row by row (ADR 0025): on PostgreSQL by
    # the triggers of migration 0005, which also refuse to delete what a reading refers to.
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+",
                                db_constraint=False)
    meter = models.ForeignKey(Meter, verbose_name=_("仪表"), on_delete=models.PROTECT, related_name="readings",
                              db_constraint=False)
    kind = models.CharField(_("类型"), max_length=20, choices=ReadingKind.choices, default=ReadingKind.NORMAL)
    read_on = models.DateField(_("本期抄表日期"))
    value = models.DecimalField(_("本期读数"), **READING_FIELD)
    previous_on = models.DateField(_("上期抄表日期"))
    previous_value = models.DecimalField(_("上期读数"), **READING_FIELD)
    usage = models.DecimalField(_("用量"), **READING_FIELD, help_text=_("（本期 − 上期，翻表时加满量程）× 倍率"))
    flagged = models.BooleanField(_("待复核"), default=False)
    flag_reason = models.CharField(_("复核原因"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=ReadingSource.choices, default=ReadingSource.WEB)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+", db_constraint=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复核人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+", db_constraint=False)
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    review_note = models.CharField(_("复核说明"), max_length=200, blank=True,
                                   help_text=_("更正或撤销的原因"))

    class Meta:
        verbose_name = verbose_name_plural = _("抄表读数")
        ordering = ["meter", "read_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "read_on"], name="reading_one_per_meter_and_day"),
            models.CheckConstraint(condition=Q(read_on__gt=models.F("previous_on")), name="reading_after_previous"),
            models.CheckConstraint(condition=Q(usage__gte=0), name="reading_usage_not_negative"),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_not_negative"),
        ]

    def __str__(self):
        return f"{self.meter.number} {self.read_on} {self.value}"

    def get_absolute_url(self):
        return f"{self.meter.get_absolute_url()}#reading-{self.pk}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


# The unit facts a 按公式权重 formula may use, by the names finance staff type.
WEIGHT_VARIABLES = {"建筑面积": "building_area", "面积": "building_area", "套内面积": "inner_area",
                    "人数": "persons", "用量": "usage"}
WEIGHT_FIELD = {"max_digits": 24, "decimal_places": 6}


class AllocationRule(ChangeLoggedModel, ScopedModel):
    """分摊规则: which meter's usage is shared (公摊: all of it; 损耗: the master meter's usage less its direct
    sub-meters'), among which units, and on what basis."""

    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT,
                                related_name="allocation_rules")
    name = models.CharField(_("名称"), max_length=60)
    meter = models.ForeignKey(Meter, verbose_name=_("分摊的表"), on_delete=models.PROTECT,
                              related_name="allocation_rules", help_text=_("公摊选公区表或总表，损耗选总表"))
    purpose = models.CharField(_("分摊类型"), max_length=20, choices=AllocationPurpose.choices,
                               default=AllocationPurpose.SHARED,
                               help_text=_("公摊：该表本期全部用量；损耗：总表用量 − 其直接下级分表用量合计"))
    basis = models.CharField(_("分摊方式"), max_length=20, choices=AllocationBasis.choices,
                             default=AllocationBasis.AREA,
                             help_text=_("公摊的分摊依据；默认按建筑面积（民法典第二百八十三条）"))
    loss_method = models.CharField(_("损耗分摊方式"), max_length=20, choices=LossMethod.choices,
                                   default=LossMethod.USAGE)
    loss_coefficient = models.DecimalField(_("损耗系数"), max_digits=8, decimal_places=4, null=True, blank=True,
                                           validators=[MinValueValidator(Decimal("0")),
                                                       MaxValueValidator(Decimal("1"))],
                                           help_text=_("按固定损耗系数时填写，如 0.05 即各户用量的 5%"))
    formula = models.CharField(_("权重公式"), max_length=500, blank=True,
                               help_text=_("按公式权重时填写，可用 建筑面积、套内面积、人数、用量，"
                                           "如 建筑面积 + 人数 × 10"))
    scope = models.CharField(_("分摊范围"), max_length=20, choices=AllocationScope.choices,
                             default=AllocationScope.PROJECT)
    buildings = models.ManyToManyField(Building, verbose_name=_("楼栋"), blank=True, related_name="+")
    entrances = models.ManyToManyField(Entrance, verbose_name=_("单元"), blank=True, related_name="+")
    units = models.ManyToManyField(Unit, verbose_name=_("房屋"), blank=True, related_name="+")
    include_all_units = models.BooleanField(
        _("含未交付、未入住房屋"), default=False,
        help_text=_("默认只有已交付（交付日期不晚于期末）或已入住的房屋参与分摊"))
    fee_item = models.ForeignKey(FeeItem, verbose_name=_("收费项目"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("如 公摊电费：分摊量按该收费项目出账；不填则计入各户同类表的用量"))
    is_active = models.BooleanField(_("启用"), default=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("分摊规则")
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="allocation_rule_unique_name"),
            models.CheckConstraint(condition=Q(loss_coefficient__isnull=True) | Q(loss_coefficient__gte=0),
                                   name="allocation_rule_coefficient_not_negative"),
        ]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    @property
    def method_display(self):
        if self.purpose == AllocationPurpose.LOSS:
            return self.get_loss_method_display()
        return self.get_basis_display()

    def clean(self):
        errors = {}
        meter = self.meter if self.meter_id else None
        if meter is not None and self.project_id and meter.project_id != self.project_id:
            errors["meter"] = _("不属于该项目")
        elif meter is not None:
            if self.purpose == AllocationPurpose.LOSS and meter.role != MeterRole.MASTER:
                errors["meter"] = _("计算损耗须选择总表")
            elif self.purpose == AllocationPurpose.SHARED and meter.role == MeterRole.UNIT:
                errors["meter"] = _("公摊须选择公区表或总表，不能是户表")
        coefficient_method = self.purpose == AllocationPurpose.LOSS and self.loss_method == LossMethod.COEFFICIENT
        if coefficient_method and self.loss_coefficient is None:
            errors["loss_coefficient"] = _("按固定损耗系数分摊须填写损耗系数")
        if self.purpose == AllocationPurpose.SHARED and self.basis == AllocationBasis.WEIGHT:
            if not self.formula.strip():
                errors["formula"] = _("按公式权重分摊须填写权重公式")
            else:
                try:
                    compile_formula(self.formula, WEIGHT_VARIABLES)
                except FormulaError as error:
                    errors["formula"] = str(error)
        if self.fee_item_id and self.project_id and self.fee_item.company_id != self.project.company_id:
            errors["fee_item"] = _("不属于该企业")
        if errors:
            raise ValidationError(errors)

    def scope_members_outside_project(self, *, buildings=(), entrances=(), units=()):
        """The chosen buildings, entrances and units of another project, as {field: message} (M2M values are
        set after the rule is saved, so forms and the API check them with this before)."""
        errors = {}
        for name, chosen in (("buildings", buildings), ("entrances", entrances), ("units", units)):
            outside = [str(item) for item in chosen if item.project_id != self.project_id]
            if outside:
                errors[name] = _("不属于该项目：%(items)s") % {"items": "、".join(outside[:5])}
        required = {AllocationScope.BUILDINGS: ("buildings", buildings, _("请选择楼栋")),
                    AllocationScope.ENTRANCES: ("entrances", entrances, _("请选择单元")),
                    AllocationScope.UNITS: ("units", units, _("请选择房屋"))}.get(self.scope)
        if required and not required[1] and required[0] not in errors:
            errors[required[0]] = required[2]
        return errors


class AllocationRun(ScopedModel):
    """分摊批次: one rule over one period, computed from the readings in it. A draft (预览) shows every unit's
    share; posting it (已入账) makes the shares count for billing; a posted run is reversed as a whole (已冲销)."""

    scope_project_path = "project"

    rule = models.ForeignKey(AllocationRule, verbose_name=_("分摊规则"), on_delete=models.PROTECT,
                             related_name="runs")
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("期初"))
    period_end = models.DateField(_("期末"))
    status = models.CharField(_("状态"), max_length=20, choices=AllocationRunStatus.choices,
                              default=AllocationRunStatus.DRAFT)
    # What the rule said when the run was computed: a later edit of the rule does not move posted shares.
    purpose = models.CharField(_("分摊类型"), max_length=20, choices=AllocationPurpose.choices)
    method = models.CharField(_("分摊方式"), max_length=40)
    kind = models.CharField(_("表类型"), max_length=20, choices=MeterKind.choices)
    fee_item = models.ForeignKey(FeeItem, verbose_name=_("收费项目"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    meter_usage = models.DecimalField(_("总表用量"), null=True, blank=True, **READING_FIELD)
    sub_meter_usage = models.DecimalField(_("分表合计"), null=True, blank=True, **READING_FIELD)
    loss = models.DecimalField(_("损耗"), null=True, blank=True, **READING_FIELD)
    total = models.DecimalField(_("分摊总量"), **READING_FIELD)
    unit_count = models.PositiveIntegerField(_("房屋数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("入账人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("入账时间"), null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("冲销人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reversed_at = models.DateTimeField(_("冲销时间"), null=True, blank=True)
    reverse_reason = models.CharField(_("冲销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("分摊批次")
        ordering = ["-period_start", "-id"]
        permissions = [("export_allocationrun", _("导出分摊明细"))]
        indexes = [models.Index(fields=["project", "status", "period_start"], name="allocation_run_period")]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="allocation_run_period_in_order"),
            models.CheckConstraint(condition=~Q(status=AllocationRunStatus.REVERSED) | ~Q(reverse_reason=""),
                                   name="allocation_run_reversal_has_reason"),
        ]

    def __str__(self):
        return f"{self.rule.name} {self.period_start:%Y-%m-%d} ～ {self.period_end:%Y-%m-%d}"

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    @property
    def usage_unit(self):
        return USAGE_UNITS.get(self.kind, "")


class AllocationShare(models.Model):
    """One unit's part of a run, with its weight and the computation in Chinese."""

    # Checked per statement like a reading's references (ADR 0025, migration 0005).
    run = models.ForeignKey(AllocationRun, verbose_name=_("分摊批次"), on_delete=models.CASCADE,
                            related_name="shares", db_constraint=False)
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="+",
                             db_constraint=False)
    weight = models.DecimalField(_("权重"), **WEIGHT_FIELD)
    usage = models.DecimalField(_("分摊量"), **READING_FIELD)
    explanation = models.TextField(_("计算过程"))

    class Meta:
        verbose_name = verbose_name_plural = _("分摊明细")
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "unit"], name="allocation_share_one_per_unit")]

    def __str__(self):
        return f"{self.unit_id} {self.usage}"
