from django.db import models


class PropertyKind(models.TextChoices):
    RESIDENTIAL = "residential", "住宅"
    SHOP = "shop", "商铺"
    OFFICE = "office", "写字楼"
    PARK = "park", "园区"
    PARKING = "parking", "车位"
    WAREHOUSE = "warehouse", "仓储"
    OTHER = "other", "其他"


class UnitStatus(models.TextChoices):
    UNDELIVERED = "undelivered", "未交付"
    VACANT = "vacant", "空置"
    OWNER_OCCUPIED = "occupied", "自住"
    RENTED = "rented", "出租"
    DECORATING = "decorating", "装修中"


class ParkingKind(models.TextChoices):
    OWNED = "owned", "产权"
    LEASED = "leased", "租赁"
    TEMPORARY = "temporary", "临停"


class ParkingStatus(models.TextChoices):
    FREE = "free", "空闲"
    SOLD = "sold", "已售"
    RENTED = "rented", "已租"
    RESERVED = "reserved", "预留"


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", "在管"
    PREPARING = "preparing", "筹备中"
    ENDED = "ended", "已撤场"
