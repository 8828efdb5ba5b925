"""Validators for Chinese mobile numbers and resident ID numbers (GB 11643-1999)."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def validate_mobile(value):
    if not MOBILE_RE.match(value or ""):
        raise ValidationError(gettext("手机号格式不正确，应为 11 位数字且以 1 开头"), code="invalid_mobile")


def id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def validate_resident_id(value):
    value = (value or "").upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(gettext("身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X"),
                              code="invalid_id_format")
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(gettext("身份证号中的出生日期无效"), code="invalid_id_birth") from None
    if birth > timezone.localdate() or birth.year < 1900:
        raise ValidationError(gettext("身份证号中的出生日期无效"), code="invalid_id_birth")
    if id_check_char(value[:17]) != value[17]:
        raise ValidationError(gettext("身份证号校验位错误"), code="invalid_id_check")
