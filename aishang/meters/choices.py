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
