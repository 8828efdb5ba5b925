from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("个人")
    ORGANIZATION = "organization", _("企业/单位")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO_PERMIT = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan", _("台湾居民来往大陆通行证")
    FOREIGN_RESIDENT = "foreign_resident", _("外国人永久居留身份证")
    BUSINESS_LICENSE = "business_license", _("统一社会信用代码")
    OTHER = "other", _("其他")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")
    UNKNOWN = "unknown", _("未知")


class OccupancyRole(models.TextChoices):
    OWNER = "owner", _("业主")
    TENANT = "tenant", _("租户")
    RESIDENT = "resident", _("住户")
    FAMILY = "family", _("家庭成员")


class Relation(models.TextChoices):
    SELF = "self", _("本人")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    RELATIVE = "relative", _("其他亲属")
    EMPLOYEE = "employee", _("员工")
    OTHER = "other", _("其他")


class VehicleKind(models.TextChoices):
    FUEL = "fuel", _("燃油车")
    NEW_ENERGY = "new_energy", _("新能源车")
    MOTORCYCLE = "motorcycle", _("摩托车/电动车")
