from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aishang.core.models import ScopedModel
from aishang.estate.models import Building, Project, Unit
from aishang.extras.features import ChangeLoggedModel

from .choices import MeterKind, MeterRole, ReadingKind, ReadingSource

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

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    meter = models.ForeignKey(Meter, verbose_name=_("仪表"), on_delete=models.PROTECT, related_name="readings")
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
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复核人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
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
