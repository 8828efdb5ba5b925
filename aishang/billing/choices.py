from django.db import models
from django.utils.translation import gettext_lazy as _

from aishang.core.money import Precision, RoundingMode

__all__ = [
    "BillingCycle",
    "BillingMode",
    "ChargeMethod",
    "DueDateRule",
    "FeeCategory",
    "Precision",
    "RoundingMode",
    "TierLimitBasis",
]


class FeeCategory(models.TextChoices):
    PROPERTY = "property", _("物业费")
    WATER = "water", _("水费")
    ELECTRICITY = "electricity", _("电费")
    GAS = "gas", _("燃气费")
    HEATING = "heating", _("供暖费")
    PARKING = "parking", _("停车费")
    RENT = "rent", _("租金")
    SHARED = "shared", _("公摊费")
    MAINTENANCE = "maintenance", _("维修费")
    SERVICE = "service", _("增值服务费")
    DEPOSIT = "deposit", _("押金")
    OTHER = "other", _("其他")


class ChargeMethod(models.TextChoices):
    FIXED = "fixed", _("固定金额")
    BUILDING_AREA = "building_area", _("单价 × 建筑面积")
    INNER_AREA = "inner_area", _("单价 × 套内面积")
    USAGE = "usage", _("单价 × 用量")
    PERSONS = "persons", _("单价 × 人数")
    PARKING_SPACE = "parking_space", _("按车位")
    TIERED = "tiered", _("阶梯计价")
    FORMULA = "formula", _("公式")

    @property
    def is_time_based(self) -> bool:
        """Priced per month and prorated by days; usage methods are priced by what was measured instead."""
        return self not in (ChargeMethod.USAGE, ChargeMethod.TIERED, ChargeMethod.FORMULA)


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", _("按月")
    BIMONTHLY = "bimonthly", _("按双月")
    QUARTERLY = "quarterly", _("按季")
    HALF_YEARLY = "half_yearly", _("按半年")
    YEARLY = "yearly", _("按年")
    ONE_OFF = "one_off", _("一次性")

    @property
    def months(self) -> int | None:
        return {"monthly": 1, "bimonthly": 2, "quarterly": 3, "half_yearly": 6, "yearly": 12}.get(self.value)


class BillingMode(models.TextChoices):
    ADVANCE = "advance", _("预收（先收后用）")
    ARREARS = "arrears", _("后收（先用后收）")


class DueDateRule(models.TextChoices):
    DAY_OF_FIRST_MONTH = "day_of_first_month", _("账期首月固定日")
    DAYS_AFTER_START = "days_after_start", _("账期开始后若干天")


class TierLimitBasis(models.TextChoices):
    PER_YEAR = "per_year", _("按年")
    PER_MONTH = "per_month", _("按月")
    PER_PERIOD = "per_period", _("按账期")
