from django.db import models
from django.utils.translation import gettext_lazy as _


class MeterKind(models.TextChoices):
    WATER = "water", _("水表")
    ELECTRICITY = "electricity", _("电表")
    GAS = "gas", _("燃气表")
    HEAT = "heat", _("热表")


class MeterRole(models.TextChoices):
    UNIT = "unit", _("户表")
    PUBLIC = "public", _("公区表")
    MASTER = "master", _("总表")


class ReadingKind(models.TextChoices):
    NORMAL = "normal", _("正常抄表")
    ROLLOVER = "rollover", _("翻表")
    FINAL = "final", _("换表拆表读数")


class ReadingSource(models.TextChoices):
    WEB = "web", _("网页录入")
    API = "api", _("接口")
    IMPORT = "import", _("导入")
    DEVICE = "device", _("智能表")


class AllocationBasis(models.TextChoices):
    AREA = "area", _("按面积")
    HOUSEHOLD = "household", _("按户")
    PERSONS = "persons", _("按人数")
    USAGE = "usage", _("按分表用量")
    WEIGHT = "weight", _("按公式权重")


class LossMethod(models.TextChoices):
    USAGE = "usage", _("按用量分摊损耗")
    AREA = "area", _("按面积分摊损耗")
    COEFFICIENT = "coefficient", _("按固定损耗系数")


class AllocationPurpose(models.TextChoices):
    SHARED = "shared", _("公摊")
    LOSS = "loss", _("损耗")


class AllocationScope(models.TextChoices):
    PROJECT = "project", _("整个项目")
    BUILDINGS = "buildings", _("指定楼栋")
    ENTRANCES = "entrances", _("指定单元")
    UNITS = "units", _("指定房屋")


class AllocationRunStatus(models.TextChoices):
    DRAFT = "draft", _("预览")
    POSTED = "posted", _("已入账")
    REVERSED = "reversed", _("已冲销")


# The unit each kind of meter measures in, as explanations and pages show it.
USAGE_UNITS = {MeterKind.WATER: "m³", MeterKind.ELECTRICITY: "kWh", MeterKind.GAS: "m³", MeterKind.HEAT: "GJ"}
