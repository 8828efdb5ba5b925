"""The amount of one charge for one unit and period, with the steps that explain it.

Every method works on exact fractions and rounds once, at the end, with the fee item's rounding
mode and precision. Prices of fixed, area, person and parking-space charges are per month (元/月,
元/㎡/月, 元/人/月, 元/个/月): a period is charged by its calendar months, a partial month by its
days over that month's days, and a price change inside the period splits it at the change.
Usage and tiered charges are priced by the usage measured for the period.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.billing.choices import ChargeMethod, TierLimitBasis
from aishang.billing.formula import CompiledFormula, FormulaError, compile_formula, evaluate_exact, explain, render
from aishang.billing.periods import (
    Period,
    PricedRange,
    active_part,
    months_in,
    months_text,
    scale_tier_limit,
    split_by_effective_dates,
)
from aishang.core.money import (
    InvalidAmount,
    Number,
    Precision,
    RoundingMode,
    describe_number,
    fraction_to_decimal,
    quantize_amount,
    to_decimal,
)

__all__ = [
    "FORMULA_VARIABLES",
    "ChargeError",
    "Computation",
    "LateFee",
    "Tier",
    "compute_charge",
    "formula_variables",
    "late_fee",
    "parse_tiers",
]

# Names a formula may use (validate a saved formula against these keys); each Chinese name has an
# ASCII twin so either can be typed.
_ASCII_TWINS = {
    "area": "面积", "building_area": "建筑面积", "inner_area": "套内面积", "usage": "用量", "persons": "人数",
    "spaces": "车位数", "price": "单价", "months": "月数", "days": "天数", "period_days": "账期天数",
}
_CHINESE_VARIABLES = {
    "面积": _("建筑面积（㎡）"),
    "建筑面积": _("建筑面积（㎡）"),
    "套内面积": _("套内面积（㎡）"),
    "用量": _("本期用量"),
    "人数": _("居住人数"),
    "车位数": _("车位数"),
    "单价": _("单价"),
    "月数": _("计费月数（不足一月按当月天数折算）"),
    "天数": _("计费天数"),
    "账期天数": _("账期天数"),
}
FORMULA_VARIABLES = _CHINESE_VARIABLES | {name: _CHINESE_VARIABLES[twin] for name, twin in _ASCII_TWINS.items()}


class ChargeError(ValueError):
    """A charge that cannot be computed from what was given (no area, a bad tier table ...)."""


@dataclass(frozen=True)
class Tier:
    upper: Decimal | None  # None: no upper limit (the last tier)
    price: Decimal


@dataclass(frozen=True)
class Computation:
    method: ChargeMethod
    inputs: dict[str, str]
    steps: tuple[str, ...]
    exact: Fraction
    amount: Decimal
    rounding: RoundingMode
    precision: Precision

    @property
    def unrounded(self) -> Decimal:
        return fraction_to_decimal(self.exact, 10)

    @property
    def text(self) -> str:
        return "\n".join(self.steps)

    def as_dict(self) -> dict:
        """JSON-ready, to keep with the bill as the computation that produced its amount."""
        return {
            "method": self.method.value,
            "inputs": dict(self.inputs),
            "steps": list(self.steps),
            "unrounded": f"{self.unrounded:f}",
            "amount": f"{self.amount:f}",
            "rounding": self.rounding.value,
            "precision": self.precision.value,
        }


def _number(value, label: str, *, required: bool = True) -> Decimal | None:
    if value is None:
        if required:
            raise ChargeError(gettext("缺少%(label)s") % {"label": label})
        return None
    try:
        number = to_decimal(value)
    except InvalidAmount as error:
        raise ChargeError(gettext("%(label)s无效：%(error)s") % {"label": label, "error": error}) from None
    if number < 0:
        raise ChargeError(gettext("%(label)s不能为负数：%(value)s") % {"label": label, "value": number})
    return number


def _shown(value: Number | str) -> str:
    return _approximately(value) if isinstance(value, Fraction) else f"{to_decimal(value):f}"


def _approximately(value: Fraction) -> str:
    text, exact = describe_number(value)
    return text if exact else f"≈{text}"


def _result(value: Fraction) -> str:
    text, exact = describe_number(value, min_places=2)
    return f"{'=' if exact else '≈'} {text}"


def parse_tiers(tiers: Sequence) -> list[Tier]:
    """Tiers from (upper limit or None, price) pairs, checked: limits rising, only the last one open."""
    if not tiers:
        raise ChargeError(gettext("阶梯计价至少需要一档"))
    parsed = []
    for index, item in enumerate(tiers, start=1):
        upper, price = (item.upper, item.price) if isinstance(item, Tier) else item
        label = gettext("第 %(index)s 档") % {"index": index}
        upper = _number(upper, label + gettext("上限"), required=False)
        price = _number(price, label + gettext("单价"))
        if upper is None and index != len(tiers):
            raise ChargeError(gettext("只有最后一档可以不设上限"))
        if upper is not None and index == len(tiers):
            raise ChargeError(gettext("最后一档不能设上限"))
        if upper is not None and (upper <= 0 or (parsed and upper <= parsed[-1].upper)):
            raise ChargeError(gettext("%(label)s的上限必须大于上一档") % {"label": label})
        parsed.append(Tier(upper, price))
    return parsed


def formula_variables(*, period: Period, part: Period | None, unit_price=None, building_area=None,
                      inner_area=None, usage=None, persons=None, spaces=None,
                      extra: Mapping | None = None) -> dict[str, Number]:
    """The values a formula sees for one unit and period, under both Chinese and ASCII names."""
    values: dict[str, Number] = {
        "建筑面积": building_area, "面积": building_area, "套内面积": inner_area, "用量": usage, "人数": persons,
        "车位数": spaces, "单价": unit_price,
        "月数": months_in(part.start, part.end) if part else Fraction(0),
        "天数": part.days if part else 0,
        "账期天数": period.days,
    }
    values = {name: value for name, value in values.items() if value is not None}
    values.update({ascii_name: values[name] for ascii_name, name in _ASCII_TWINS.items() if name in values})
    values.update(extra or {})
    return values


_PER_MONTH = {
    ChargeMethod.FIXED: (None, None, None),
    ChargeMethod.BUILDING_AREA: ("building_area", _("建筑面积"), "㎡"),
    ChargeMethod.INNER_AREA: ("inner_area", _("套内面积"), "㎡"),
    ChargeMethod.PERSONS: ("persons", _("人数"), _("人")),
    ChargeMethod.PARKING_SPACE: ("spaces", _("车位数"), _("个")),
}


def compute_charge(
    method: ChargeMethod | str,
    *,
    period: Period,
    unit_price: Number | str | None = None,
    price_changes: Sequence[tuple[date, Number | str]] | None = None,
    building_area: Number | str | None = None,
    inner_area: Number | str | None = None,
    usage: Number | str | None = None,
    usage_unit: str = "",
    persons: int | None = None,
    spaces: int | None = 1,
    tiers: Sequence | None = None,
    tier_limit_basis: TierLimitBasis | str = TierLimitBasis.PER_PERIOD,
    formula: str | CompiledFormula | None = None,
    variables: Mapping[str, Number | str] | None = None,
    active_from: date | None = None,
    active_to: date | None = None,
    per_month: bool = True,
    rounding: RoundingMode | str = RoundingMode.HALF_UP,
    precision: Precision | str = Precision.FEN,
) -> Computation:
    """Compute one charge and round it once.

    - `price_changes`: (effective from, price) pairs that replace `unit_price` when the price
      changed; the period is split at each change (per-month methods only).
    - `active_from` / `active_to`: move-in, move-out, or the rule's own dates; days outside are not
      charged.
    - `per_month=False`: the price is per bill (a one-off 装修管理费), not multiplied by months.
    - `tiers` with `tier_limit_basis`: limits per year or per month are scaled to `period`, the
      period the usage was measured over.
    """
    method = ChargeMethod(method)
    rounding, precision = RoundingMode(rounding), Precision(precision)
    part = active_part(period, active_from, active_to)
    inputs = {gettext("账期"): period.label}
    if part is not None and part != period:
        inputs[gettext("计费期间")] = part.label

    if method in _PER_MONTH:
        exact, steps = _per_month_charge(method, inputs, part, unit_price, price_changes, per_month, {
            "building_area": building_area, "inner_area": inner_area, "persons": persons, "spaces": spaces})
    elif price_changes:
        raise ChargeError(gettext("按用量、阶梯或公式计费时不支持账期内调价，请按调价日分期抄表"))
    elif method == ChargeMethod.USAGE:
        exact, steps = _usage_charge(inputs, usage, usage_unit, unit_price)
    elif method == ChargeMethod.TIERED:
        exact, steps = _tiered_charge(inputs, usage, usage_unit, tiers, TierLimitBasis(tier_limit_basis), period)
    else:
        exact, steps = _formula_charge(inputs, formula, formula_variables(
            period=period, part=part, unit_price=unit_price, building_area=building_area, inner_area=inner_area,
            usage=usage, persons=persons, spaces=spaces, extra=variables))

    amount = quantize_amount(exact, precision=precision, rounding=rounding)
    if amount != exact:
        steps.append(gettext("按%(rounding)s保留到%(precision)s：%(amount)s")
                     % {"rounding": rounding.label, "precision": precision.label, "amount": amount})
    return Computation(method, inputs, tuple(steps), exact, amount, rounding, precision)


def _per_month_charge(method, inputs, part, unit_price, price_changes, per_month, quantities):
    key, label, unit = _PER_MONTH[method]
    quantity = None
    if key is not None:
        quantity = _number(quantities[key], str(label))
        inputs[str(label)] = f"{quantity:f} {unit}"
    if price_changes:
        changes = [(effective_from, _number(price, gettext("单价"))) for effective_from, price in price_changes]
        ranges = split_by_effective_dates(part, changes) if part else []
    else:
        price = _number(unit_price, gettext("单价"))
        ranges = [PricedRange(part, price)] if part else []
    if part is None or not ranges:
        return Fraction(0), [gettext("本期无计费天数，金额 0.00")]

    price_unit = gettext("元") + (f"/{unit}" if unit else "") + (gettext("/月") if per_month else "")
    inputs[gettext("单价")] = "；".join(f"{r.price:f} {price_unit}" for r in ranges)
    steps, values = [], []
    for priced in ranges:
        factors = [f"{quantity:f} {unit}"] if quantity is not None else []
        factors.append(f"{priced.price:f} {price_unit}")
        value = Fraction(priced.price) * (Fraction(quantity) if quantity is not None else 1)
        if per_month:
            months = months_text(priced.period.start, priced.period.end)
            factors.append(f"{months if ' ' not in months else f'({months})'} {gettext('月')}")
            value *= months_in(priced.period.start, priced.period.end)
        prefix = f"{priced.period.label}：" if len(ranges) > 1 else ""
        steps.append(f"{prefix}{' × '.join(factors)} {_result(value)}")
        values.append(value)
    return _with_total(values, steps)


def _with_total(values: list[Fraction], steps: list[str]) -> tuple[Fraction, list[str]]:
    total = sum(values, Fraction(0))
    if len(values) > 1:
        parts = " + ".join(describe_number(value, min_places=2)[0] for value in values)
        steps.append(gettext("合计：%(parts)s %(result)s") % {"parts": parts, "result": _result(total)})
    return total, steps


def _usage_charge(inputs, usage, usage_unit, unit_price):
    usage = _number(usage, gettext("用量"))
    price = _number(unit_price, gettext("单价"))
    unit = f" {usage_unit}" if usage_unit else ""
    inputs[gettext("用量")] = f"{usage:f}{unit}"
    inputs[gettext("单价")] = f"{price:f} {gettext('元')}{'/' + usage_unit if usage_unit else ''}"
    value = Fraction(usage) * Fraction(price)
    return value, [f"{usage:f}{unit} × {inputs[gettext('单价')]} {_result(value)}"]


def _tiered_charge(inputs, usage, usage_unit, tiers, basis, period):
    usage = _number(usage, gettext("用量"))
    tiers = parse_tiers(tiers or [])
    unit = f" {usage_unit}" if usage_unit else ""
    inputs[gettext("用量")] = f"{usage:f}{unit}"
    steps = []
    limits = []
    for index, tier in enumerate(tiers, start=1):
        if tier.upper is None:
            limits.append(None)
            continue
        scaled = scale_tier_limit(tier.upper, basis, period)
        limits.append(scaled)
        if scaled != tier.upper:
            text, exact = describe_number(scaled)
            steps.append(gettext("第 %(index)s 档上限 %(limit)s%(unit)s（%(basis)s）折算到本期 %(result)s%(unit)s")
                         % {"index": index, "limit": f"{tier.upper:f}", "unit": unit, "basis": basis.label,
                            "result": f"{'=' if exact else '≈'} {text}"})
    inputs[gettext("阶梯")] = "；".join(
        (gettext("%(limit)s%(unit)s 以内") % {"limit": f"{tier.upper:f}", "unit": unit} if tier.upper is not None
         else gettext("以上")) + f" {tier.price:f} {gettext('元')}" for tier in tiers)

    lower, values = Fraction(0), []
    for index, (tier, upper) in enumerate(zip(tiers, limits, strict=True), start=1):
        if usage <= lower:
            break
        in_tier = Fraction(usage) - lower if upper is None else min(Fraction(usage), upper) - lower
        value = in_tier * Fraction(tier.price)
        steps.append(gettext("第 %(index)s 档：%(quantity)s%(unit)s × %(price)s 元 %(result)s")
                     % {"index": index, "quantity": _approximately(in_tier), "unit": unit,
                        "price": f"{tier.price:f}", "result": _result(value)})
        values.append(value)
        lower = upper if upper is not None else lower
    if not values:
        steps.append(gettext("本期无用量，金额 0.00"))
    return _with_total(values, steps)


def _formula_charge(inputs, formula, values):
    if formula is None or (isinstance(formula, str) and not formula.strip()):
        raise ChargeError(gettext("公式计费缺少公式"))
    try:
        compiled = formula if isinstance(formula, CompiledFormula) else compile_formula(formula, values.keys())
        exact = evaluate_exact(compiled, values)
        explanation = explain(compiled, values)
    except FormulaError as error:
        raise ChargeError(str(error)) from error
    for name in sorted(compiled.variables):
        inputs[name] = _shown(values[name])
    return exact, [gettext("公式：%(formula)s") % {"formula": render(compiled)}, explanation]


@dataclass(frozen=True)
class LateFee:
    days: int
    amount: Decimal
    capped: bool
    text: str


def late_fee(principal: Number | str, *, due_date: date, as_of: date, daily_rate: Number | str,
             rounding: RoundingMode | str = RoundingMode.HALF_UP,
             precision: Precision | str = Precision.FEN) -> LateFee:
    """滞纳金 on what is still owed: principal × daily rate × days from the day after the due date, never more
    than the principal itself, rounded once."""
    principal = _number(principal, gettext("欠费本金"))
    rate = _number(daily_rate, gettext("滞纳金日费率"))
    days = max((as_of - due_date).days, 0)
    accrued = Fraction(principal) * Fraction(rate) * days
    capped = accrued > principal
    exact = Fraction(principal) if capped else accrued
    if not days or not principal:
        return LateFee(days, Decimal("0.00"), False, gettext("未逾期，无滞纳金"))
    amount = quantize_amount(exact, precision=precision, rounding=rounding)
    text = gettext("%(principal)s 元 × %(rate)s × %(days)s 天（%(start)s 起）%(result)s") % {
        "principal": f"{principal:f}", "rate": describe_number(rate, max_places=6)[0], "days": days,
        "start": (due_date + timedelta(days=1)).isoformat(),
        "result": _result(accrued)}
    if capped:
        text += gettext("，超过本金，按本金 %(principal)s 元封顶") % {"principal": f"{principal:f}"}
    return LateFee(days, amount, capped, text)
