from django.db import models
from django.utils.translation import gettext_lazy as _


class PropertyKind(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅")
    SHOP = "shop", _("商铺")
    OFFICE = "office", _("写字楼")
    PARK = "park", _("园区")
    PARKING = "parking", _("车位")
    WAREHOUSE = "warehouse", _("仓储")
    OTHER = "other", _("其他")


class UnitStatus(models.TextChoices):
    UNDELIVERED = "undelivered", _("未交付")
    VACANT = "vacant", _("空置")
    OWNER_OCCUPIED = "occupied", _("自住")
    RENTED = "rented", _("出租")
    DECORATING = "decorating", _("装修中")


class ParkingKind(models.TextChoices):
    OWNED = "owned", _("产权")
    LEASED = "leased", _("租赁")
    TEMPORARY = "temporary", _("临停")


class ParkingStatus(models.TextChoices):
    FREE = "free", _("空闲")
    SOLD = "sold", _("已售")
    RENTED = "rented", _("已租")
    RESERVED = "reserved", _("预留")


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("在管")
    PREPARING = "preparing", _("筹备中")
    ENDED = "ended", _("已撤场")
