from django.db import models


class CustomerKind(models.TextChoices):
    PERSON = "person", "个人"
    ORGANIZATION = "organization", "企业/单位"


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", "居民身份证"
    PASSPORT = "passport", "护照"
    HK_MACAO_PERMIT = "hk_macao", "港澳居民来往内地通行证"
    TAIWAN_PERMIT = "taiwan", "台湾居民来往大陆通行证"
    FOREIGN_RESIDENT = "foreign_resident", "外国人永久居留身份证"
    BUSINESS_LICENSE = "business_license", "统一社会信用代码"
    OTHER = "other", "其他"


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"
    UNKNOWN = "unknown", "未知"


class OccupancyRole(models.TextChoices):
    OWNER = "owner", "业主"
    TENANT = "tenant", "租户"
    RESIDENT = "resident", "住户"
    FAMILY = "family", "家庭成员"


class Relation(models.TextChoices):
    SELF = "self", "本人"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    RELATIVE = "relative", "其他亲属"
    EMPLOYEE = "employee", "员工"
    OTHER = "other", "其他"


class VehicleKind(models.TextChoices):
    FUEL = "fuel", "燃油车"
    NEW_ENERGY = "new_energy", "新能源车"
    MOTORCYCLE = "motorcycle", "摩托车/电动车"
