"""Exact money arithmetic: Decimal yuan, rounding once, shares that add up, amounts in capitals.

Intermediate results may be `fractions.Fraction` so that a chain of multiplications and
divisions stays exact until the single rounding at the bill amount.
"""

from collections.abc import Sequence
from decimal import MAX_PREC, Context, Decimal, InvalidOperation
from fractions import Fraction
from math import lcm

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

FEN = Decimal("0.01")

Number = Decimal | Fraction | int


class RoundingMode(models.TextChoices):
    HALF_UP = "half_up", _("四舍五入")
    UP = "up", _("向上")
    DOWN = "down", _("向下")


class Precision(models.TextChoices):
    FEN = "0.01", _("分")
    JIAO = "0.1", _("角")
    YUAN = "1", _("元")

    @property
    def quantum(self) -> Decimal:
        return Decimal(self.value)


class InvalidAmount(ValueError):
    """A value that cannot be an amount of money (a float, NaN, infinity, text that is not a number)."""


def to_decimal(value) -> Decimal:
    """Decimal from a Decimal, int or numeric string; floats are refused because they are already inexact."""
    if type(value) is Decimal and value.is_finite():  # the common case, first
        return value
    if isinstance(value, bool | float):
        raise InvalidAmount(gettext("金额不能是浮点数或布尔值：%(value)r") % {"value": value})
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidAmount(gettext("「%(value)s」不是有效的金额") % {"value": value}) from None
    else:
        raise InvalidAmount(gettext("不支持的金额类型：%(type)s") % {"type": type(value).__name__})
    if not result.is_finite():
        raise InvalidAmount(gettext("金额必须是有限的数字：%(value)s") % {"value": value})
    return result


def to_fraction(value: Number | str) -> Fraction:
    if isinstance(value, Fraction):
        return value
    return Fraction(to_decimal(value))


def _round_to_integer(value: Fraction, rounding: RoundingMode) -> int:
    # Rounding works on the magnitude and keeps the sign, so a correction of −x rounds to exactly
    # −round(x) and cancels its bill to the fen: 向上 means away from zero, 向下 toward zero.
    magnitude = abs(value)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    if rounding == RoundingMode.HALF_UP:
        rounded = whole + (1 if 2 * rest >= magnitude.denominator else 0)
    elif rounding == RoundingMode.UP:
        rounded = whole + (1 if rest else 0)
    elif rounding == RoundingMode.DOWN:
        rounded = whole
    else:
        raise ValueError(rounding)
    return -rounded if value < 0 else rounded


def quantize_amount(value: Number | str, *, precision: Precision | str, rounding: RoundingMode | str) -> Decimal:
    """Round an amount once to 分, 角 or 元; the result always carries two places (fen).

    Rounding applies to the magnitude and the sign is kept: 四舍五入 rounds halves away from zero,
    向上 rounds away from zero (a charge never loses its last fen), 向下 toward zero. A negative
    amount (a refund or correction) therefore mirrors the positive one exactly.
    """
    quantum = Precision(precision).quantum
    steps = _round_to_integer(to_fraction(value) / Fraction(quantum), RoundingMode(rounding))
    return (Decimal(steps) * quantum).quantize(FEN)


def fraction_to_decimal(value: Fraction, places: int = 10) -> Decimal:
    """Decimal for display or storage of an intermediate value, rounded half up at `places` decimals."""
    quantum = Decimal(1).scaleb(-places)
    steps = _round_to_integer(value / Fraction(quantum), RoundingMode.HALF_UP)
    return (Decimal(steps) * quantum).quantize(quantum)


def split_largest_remainder(total: Decimal | int | str, weights: Sequence[Number | str], *,
                            unit: Decimal = FEN) -> list[Decimal]:
    """Split `total` in proportion to `weights` so that the parts add up exactly to `total`.

    Each part first gets its exact share rounded down to `unit`; the units left over go one each to
    the parts with the largest remainders, earlier parts first when remainders are equal.
    """
    total = to_decimal(total)
    unit = to_decimal(unit)
    if unit <= 0:
        raise ValueError(gettext("拆分单位必须大于零"))
    if not weights:
        raise ValueError(gettext("至少需要一个分摊权重"))
    if any(isinstance(weight, Fraction) for weight in weights):
        shares = [to_fraction(weight) for weight in weights]
        common = lcm(*(share.denominator for share in shares))
        scaled = [share.numerator * (common // share.denominator) for share in shares]
    else:
        scaled = integer_weights([to_decimal(weight) for weight in weights])
    if any(weight < 0 for weight in scaled):
        raise ValueError(gettext("分摊权重不能为负数"))
    if sum(scaled) == 0:
        raise ValueError(gettext("分摊权重之和不能为零"))
    units = Fraction(total) / Fraction(unit)
    if units.denominator != 1:
        raise ValueError(gettext("总额 %(total)s 不是拆分单位 %(unit)s 的整数倍") % {"total": total, "unit": unit})
    sign = -1 if units < 0 else 1
    counts, _remainders = largest_remainder_counts(abs(units.numerator), scaled)
    places = max(-unit.as_tuple().exponent, -total.as_tuple().exponent, 0)
    exponent = Decimal(1).scaleb(-places)
    return [(sign * count * unit).quantize(exponent) for count in counts]


_EXACT = Context(prec=MAX_PREC)


def integer_weights(values: Sequence[Decimal]) -> list[int]:
    """The Decimals scaled by one common power of ten to integers, so that their ratios stay exact."""
    places = max(0, *(-value.as_tuple().exponent for value in values))
    return [int(value.scaleb(places, context=_EXACT)) for value in values]


def largest_remainder_counts(units: int, weights: Sequence[int]) -> tuple[list[int], list[int]]:
    """`units` (≥ 0) split over non-negative integer `weights` (positive sum) by the largest remainder.

    Returns each part's count and its remainder (over the weight sum): the count is units × weight ÷ sum
    rounded down, plus one for the parts with the largest remainders, earlier parts first on ties.
    Integer `divmod` only: the same result as exact fractions at a fraction of the cost.
    """
    weight_sum = sum(weights)
    counts, remainders = [], []
    for weight in weights:
        count, remainder = divmod(units * weight, weight_sum)
        counts.append(count)
        remainders.append(remainder)
    left = units - sum(counts)
    if left:
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
            counts[index] += 1
    return counts, remainders


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("仟", "佰", "拾", "")


def _capitals_below_10000(number: int) -> str:
    text = []
    pending_zero = False
    for digit, unit in zip(f"{number:04d}", _SMALL_UNITS, strict=True):
        if digit == "0":
            pending_zero = bool(text)
            continue
        if pending_zero:
            text.append("零")
            pending_zero = False
        text.append(_DIGITS[int(digit)] + unit)
    return "".join(text)


def _capitals_of_integer(number: int) -> str:
    for size, name in ((10**8, "亿"), (10**4, "万")):
        if number >= size:
            high, low = divmod(number, size)
            text = _capitals_of_integer(high) + name
            if low:
                # A gap of zeros before the lower part is read as one 零 (壹亿零伍万, 壹万零伍拾).
                text += ("零" if low < size // 10 else "") + _capitals_of_integer(low)
            return text
    return _capitals_below_10000(number)


def amount_in_chinese_capitals(amount: Decimal | int | str) -> str:
    """The amount as written on receipts and bank documents (大写金额), with the 人民币 prefix.

    Rules of the central bank's 《正确填写票据和结算凭证的基本规定》, choosing where it allows two:
    - 整 follows 元 when there are no 角 or 分; after 角 it is not written (人民币壹拾元叁角).
    - Zeros between digits are read as one 零 (壹仟零伍元); when 角 is zero and 分 is not, 零 follows
      元 (壹仟零伍元零柒分); a zero 元 digit before a non-zero 角 is not read (壹拾元叁角).
    - A leading 1 in the tens is written 壹拾, never a bare 拾, so the amount cannot be altered.
    - Amounts under one yuan start at 角 or 分 (人民币伍角); nothing at all is 人民币零元整.
    - A negative amount is written with 负 after 人民币 (人民币负壹佰元整).
    """
    amount = to_decimal(amount)
    if amount != amount.quantize(FEN):
        raise InvalidAmount(gettext("大写金额只能精确到分：%(amount)s") % {"amount": amount})
    fen_total = int(abs(amount) * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    text = ""
    if yuan:
        text = _capitals_of_integer(yuan) + "元"
    if jiao:
        text += _DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            text += "零"
        text += _DIGITS[fen] + "分"
    if not cents:
        text = (text or "零元") + "整"
    sign = "负" if amount < 0 and fen_total else ""
    return "人民币" + sign + text


def format_money(amount: Decimal | int | str, *, places: int = 2) -> str:
    """¥1,234.56 — grouped thousands, rounded half up to `places` decimals, minus sign before ¥."""
    value = quantize_places(to_decimal(amount), places)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.{places}f}"


def quantize_places(value: Decimal, places: int) -> Decimal:
    return fraction_to_decimal(Fraction(value), places)


def describe_number(value: Number, *, min_places: int = 0, max_places: int = 4) -> tuple[str, bool]:
    """Text of a value for a computation a person reads, and whether the text is exact.

    Exact when the value has at most `max_places` decimals (trailing zeros kept down to
    `min_places`); otherwise rounded half up to `max_places`.
    """
    value = to_fraction(value)
    return describe_ratio(value.numerator, value.denominator, min_places=min_places, max_places=max_places)


def describe_ratio(numerator: int, denominator: int, *, min_places: int = 0, max_places: int = 4) -> tuple[str, bool]:
    """`describe_number` of numerator ÷ denominator (denominator > 0), in integer arithmetic and string formatting."""
    scale = 10**max_places
    steps, rest = divmod(abs(numerator) * scale, denominator)
    exact = rest == 0
    if 2 * rest >= denominator:  # half up, on the magnitude
        steps += 1
    whole, decimals = divmod(steps, scale)
    digits = f"{decimals:0{max_places}d}" if max_places else ""
    if exact:
        digits = digits.rstrip("0").ljust(min_places, "0")
    sign = "-" if numerator < 0 and steps else ""
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}", exact


def money_total(queryset, field: str = "amount") -> Decimal:
    """The exact sum of a money column.

    SQLite sums decimals as binary floats (911106.93 comes back as 911106.929999999); summing whole
    fen there is exact for any total below 2**53 fen. PostgreSQL's numeric sum is exact as it is.
    """
    from django.db import connections
    from django.db.models import F, Sum
    from django.db.models.functions import Round

    if connections[queryset.db].vendor == "sqlite":
        fen = queryset.aggregate(total=Sum(Round(F(field) * 100)))["total"]
        return (Decimal(int(fen)) / 100).quantize(FEN) if fen is not None else Decimal("0.00")
    total = queryset.aggregate(total=Sum(field))["total"]
    return (total or Decimal("0")).quantize(FEN)


def money_totals(queryset, group_by, field: str = "amount") -> dict:
    """group key (a tuple of ``group_by``'s values) → the exact sum of a money column, grouped in the database."""
    from django.db import connections
    from django.db.models import F, Sum
    from django.db.models.functions import Round

    grouped = queryset.order_by().values(*group_by)
    if connections[queryset.db].vendor == "sqlite":
        rows = grouped.annotate(fen=Sum(Round(F(field) * 100)))
        return {tuple(row[key] for key in group_by): (Decimal(int(row["fen"] or 0)) / 100).quantize(FEN)
                for row in rows}
    rows = grouped.annotate(total=Sum(field))
    return {tuple(row[key] for key in group_by): (row["total"] or Decimal(0)).quantize(FEN) for row in rows}
