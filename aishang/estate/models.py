from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aishang.core.models import ScopedModel
from aishang.extras.choices import CustomFieldTarget
from aishang.extras.features import ChangeLoggedModel, CustomFieldsModel

from .choices import ParkingKind, ParkingStatus, ProjectStatus, PropertyKind, UnitStatus

AREA = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(0)]}


class Company(ChangeLoggedModel, ScopedModel):
    """A property-management company (物业企业); every other object belongs to one."""

    scope_company_path = ""

    name = models.CharField(_("企业名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("物业企业")
        verbose_name_plural = pgettext_lazy("plural", "物业企业")
        ordering = ["id"]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.pk, None


class PropertyType(ChangeLoggedModel, ScopedModel):
    """业态: 住宅, 商铺, 写字楼 ... or one of the company's own; it decides a unit's extra fields."""

    scope_company_path = "company"

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.CASCADE,
                                related_name="property_types")
    name = models.CharField(_("业态名称"), max_length=30)
    kind = models.CharField(_("业态大类"), max_length=20, choices=PropertyKind.choices, default=PropertyKind.OTHER)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    weight = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("业态")
        verbose_name_plural = pgettext_lazy("plural", "业态")
        ordering = ["weight", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="property_type_unique_name")]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, None


class Project(ChangeLoggedModel, ScopedModel):
    """项目: one managed estate, shopping street or office park; the unit of staff scope."""

    scope_project_path = ""

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="projects")
    code = models.CharField(_("项目编码"), max_length=30)
    name = models.CharField(_("项目名称"), max_length=100)
    status = models.CharField(_("状态"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE)
    property_types = models.ManyToManyField(PropertyType, verbose_name=_("业态"), blank=True, related_name="projects")
    province = models.CharField(_("省"), max_length=20, blank=True)
    city = models.CharField(_("市"), max_length=20, blank=True)
    district = models.CharField(_("区"), max_length=20, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    total_area = models.DecimalField(_("总建筑面积(㎡)"), null=True, blank=True, **AREA)
    manager_name = models.CharField(_("项目经理"), max_length=30, blank=True)
    service_phone = models.CharField(_("服务电话"), max_length=30, blank=True)
    delivered_on = models.DateField(_("交付日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = pgettext_lazy("plural", "项目")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="project_unique_code")]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.company_id, self.pk


class ProjectOwnedModel(ChangeLoggedModel, ScopedModel):
    scope_project_path = "project"

    class Meta:
        abstract = True

    def get_scope_ids(self):
        return self.project.company_id, self.project_id


class Building(ProjectOwnedModel):
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="buildings")
    code = models.CharField(_("楼栋编号"), max_length=20, help_text=_("房屋编码的第一段，如 1"))
    name = models.CharField(_("楼栋名称"), max_length=50, blank=True)
    property_type = models.ForeignKey(PropertyType, verbose_name=_("业态"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    floors_above = models.SmallIntegerField(_("地上层数"), null=True, blank=True, validators=[MinValueValidator(0)])
    floors_below = models.SmallIntegerField(_("地下层数"), null=True, blank=True, validators=[MinValueValidator(0)])
    phase = models.CharField(_("期数"), max_length=20, blank=True, help_text=_("如 一期、二期"))
    height_class = models.CharField(_("楼型"), max_length=20, blank=True, help_text=_("如 高层、多层、别墅"))
    completed_on = models.DateField(_("竣工日期"), null=True, blank=True)
    weight = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = pgettext_lazy("plural", "楼栋")
        ordering = ["project", "weight", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="building_unique_code")]

    def __str__(self):
        return self.name or f"{self.code}栋"


class Entrance(ProjectOwnedModel):
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="entrances")
    code = models.CharField(_("单元编号"), max_length=20)
    name = models.CharField(_("单元名称"), max_length=50, blank=True)
    has_elevator = models.BooleanField(_("有电梯"), default=True)

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = pgettext_lazy("plural", "单元")
        ordering = ["building", "code"]
        constraints = [models.UniqueConstraint(fields=["building", "code"], name="entrance_unique_code")]

    def __str__(self):
        return f"{self.building}{self.name or self.code + '单元'}"

    def clean(self):
        if self.building_id and self.project_id and self.building.project_id != self.project_id:
            raise ValidationError({"building": gettext("楼栋不属于该项目")})


def unit_code(building_code, entrance_code, number):
    return "-".join(part for part in (building_code, entrance_code, number) if part)


class Unit(CustomFieldsModel, ProjectOwnedModel):
    """房屋/资源: a flat, shop or suite, coded 楼栋-单元-房号 (1-2-301), unique in its project."""

    custom_field_target = CustomFieldTarget.UNIT

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="units")
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="units")
    entrance = models.ForeignKey(Entrance, verbose_name=_("单元"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="units")
    number = models.CharField(_("房号"), max_length=20)
    code = models.CharField(_("房屋编码"), max_length=60, editable=False, db_index=True)
    floor = models.SmallIntegerField(_("楼层"))
    property_type = models.ForeignKey(PropertyType, verbose_name=_("业态"), on_delete=models.PROTECT,
                                      related_name="units")
    building_area = models.DecimalField(_("建筑面积(㎡)"), **AREA)
    inner_area = models.DecimalField(_("套内面积(㎡)"), null=True, blank=True, **AREA)
    layout = models.CharField(_("户型"), max_length=30, blank=True, help_text=_("如 三室两厅"))
    decoration = models.CharField(_("装修标准"), max_length=30, blank=True, help_text=_("如 毛坯、简装、精装"))
    status = models.CharField(_("房屋状态"), max_length=20, choices=UnitStatus.choices, default=UnitStatus.VACANT)
    delivered_on = models.DateField(_("交付日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = pgettext_lazy("plural", "房屋")
        permissions = [("export_unit", _("导出房屋")), ("import_unit", _("导入房屋及业主"))]
        ordering = ["project", "building__weight", "building_id", "entrance__code", "floor", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="unit_unique_code"),
            models.CheckConstraint(condition=Q(building_area__gte=0), name="unit_area_not_negative"),
            models.CheckConstraint(condition=Q(inner_area__isnull=True) | Q(inner_area__lte=models.F("building_area")),
                                   name="unit_inner_area_within_building_area"),
        ]

    def __str__(self):
        return self.code

    def custom_field_property_type_id(self):
        return self.property_type_id

    def compose_code(self):
        entrance_code = self.entrance.code if self.entrance_id else ""
        return unit_code(self.building.code, entrance_code, self.number)

    def clean(self):
        errors = {}
        if self.building_id and self.project_id and self.building.project_id != self.project_id:
            errors["building"] = gettext("楼栋不属于该项目")
        if self.entrance_id and self.building_id and self.entrance.building_id != self.building_id:
            errors["entrance"] = gettext("单元不属于该楼栋")
        if self.inner_area is not None and self.building_area is not None and self.inner_area > self.building_area:
            errors["inner_area"] = gettext("套内面积不能大于建筑面积")
        if self.property_type_id and self.project_id and self.property_type.company_id != self.project.company_id:
            errors["property_type"] = gettext("业态不属于该企业")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.building_id and self.number:
            self.code = self.compose_code()
        super().save(*args, **kwargs)


class ParkingSpace(ProjectOwnedModel):
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT,
                                related_name="parking_spaces")
    number = models.CharField(_("车位编号"), max_length=30)
    zone = models.CharField(_("区域"), max_length=30, blank=True, help_text=_("如 地下一层 B 区"))
    area = models.DecimalField(_("面积(㎡)"), null=True, blank=True, **AREA)
    kind = models.CharField(_("车位类型"), max_length=20, choices=ParkingKind.choices, default=ParkingKind.OWNED)
    status = models.CharField(_("状态"), max_length=20, choices=ParkingStatus.choices, default=ParkingStatus.FREE)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("车位")
        verbose_name_plural = pgettext_lazy("plural", "车位")
        ordering = ["project", "zone", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="parking_unique_number")]

    def __str__(self):
        return self.number
