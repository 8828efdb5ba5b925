"""Shared-cost (公摊) and loss (损耗) allocation: pure Decimal arithmetic, no database.

A public or master meter's usage, or its cost, is shared among units on one basis: area (the default:
民法典 第283条 shares common costs in proportion to each owner's exclusive area), household (equal),
persons, sub-meter usage, or arbitrary non-negative weights (a formula module computes them).

Rules every function here keeps:
- The parts add up exactly to the whole, at a stated number of decimal places, by the largest-remainder
  method of `aishang.core.money.split_largest_remainder`: each part gets its exact share rounded toward
  zero, and the units of the last place left over go one each to the largest remainders. Equal remainders
  go to the larger weight first, then to the smaller unit key (keys must be mutually orderable: all ints
  or all strings), so the result never depends on the order the units are given in.
- Bad input is refused with an `AllocationError` (a `ValueError`) whose Chinese message names the problem
  and the units: a negative weight, a missing area or count, a duplicate unit, a zero weight total
  (e.g. no area recorded), never a ZeroDivisionError.
- A negative loss (负损耗: the sub-meters add up to more than the master meter) is returned and allocated
  as it is, and every share's explanation says so; the caller decides whether to bill it or flag the
  readings. It is never clamped to zero.
- Each `Share` carries an explanation in Chinese of how it was computed, e.g.
  "损耗 600 kWh × 本户用量 150 / 分表合计 9400 = 9.57 kWh（精确值 9.574468…，尾数舍去）".
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.core.money import (
    Number,
    describe_number,
    describe_ratio,
    integer_weights,
    largest_remainder_counts,
    quantize_places,
    to_decimal,
)

from .choices import AllocationBasis, LossMethod


class AllocationError(ValueError):
    """An allocation that cannot be computed from its input; the message says why, in Chinese."""


@dataclass(frozen=True)
class AllocationUnit:
    """One unit taking part in an allocation, with whatever its basis needs (the others may stay None)."""

    key: Hashable
    area: Number | str | None = None
    persons: Number | str | None = None
    usage: Number | str | None = None
    weight: Number | str | None = None


class Share(NamedTuple):  # a tuple: a run may have tens of thousands, and a frozen dataclass is slow to make
    key: Hashable
    weight: Decimal
    amount: Decimal
    explanation: str


# What each basis reads from a unit, how it is named in messages and how one share's computation reads.
_BASES = {
    AllocationBasis.AREA: ("area", _("面积"), _("%(subject)s %(total)s %(unit)s × 本户面积 %(weight)s ㎡ / "
                                                "总面积 %(weight_sum)s ㎡ = %(amount)s %(unit)s")),
    AllocationBasis.PERSONS: ("persons", _("人数"), _("%(subject)s %(total)s %(unit)s × 本户人数 %(weight)s / "
                                                      "总人数 %(weight_sum)s = %(amount)s %(unit)s")),
    AllocationBasis.USAGE: ("usage", _("分表用量"), _("%(subject)s %(total)s %(unit)s × 本户用量 %(weight)s / "
                                                      "分表合计 %(weight_sum)s = %(amount)s %(unit)s")),
    AllocationBasis.WEIGHT: ("weight", _("分摊权重"), _("%(subject)s %(total)s %(unit)s × 本户权重 %(weight)s / "
                                                        "权重合计 %(weight_sum)s = %(amount)s %(unit)s")),
    AllocationBasis.HOUSEHOLD: (None, _("户数"), _("%(subject)s %(total)s %(unit)s ÷ %(weight_sum)s 户 = "
                                                  "%(amount)s %(unit)s")),
}


@lru_cache(maxsize=4096)  # areas and usages repeat across a building; equal values have the same text
def _text(value: Number) -> str:
    return describe_number(value, max_places=6)[0]


def _keys_text(keys: Iterable[Hashable]) -> str:
    return "、".join(str(key) for key in keys)


def _quantum(places: int) -> Decimal:
    if not isinstance(places, int) or isinstance(places, bool) or places < 0:
        raise AllocationError(gettext("小数位数必须是非负整数：%(places)r") % {"places": places})
    return Decimal(1).scaleb(-places)


def _refuse_negative(values: Mapping[Hashable, Decimal], name: str) -> None:
    negative = [key for key, value in values.items() if value < 0]
    if negative:
        raise AllocationError(gettext("以下房屋的%(name)s为负数，不能分摊：%(keys)s")
                              % {"name": name, "keys": _keys_text(negative)})


def _checked_weights(weights: Mapping[Hashable, Number | str], name: str) -> dict[Hashable, Decimal]:
    checked = {key: to_decimal(value) for key, value in weights.items()}
    _weight_sum(checked, name)
    return checked


def _weight_sum(weights: Mapping[Hashable, Decimal], name: str) -> Decimal:
    """The sum of Decimal weights, refused if there are none, any is negative or they add up to 0."""
    if not weights:
        raise AllocationError(gettext("没有参与分摊的房屋"))
    _refuse_negative(weights, name)
    weight_sum = sum(weights.values())
    if weight_sum == 0:
        raise AllocationError(gettext("参与分摊的房屋%(name)s合计为 0，无法按%(name)s分摊；请先核对各户%(name)s")
                              % {"name": name})
    return weight_sum


def _scaled_total(total: Number | str, places: int) -> tuple[Decimal, int]:
    """`total` as a Decimal and in units of its last place, refused if it has more than `places` decimals."""
    quantum = _quantum(places)
    total = to_decimal(total)
    if total != total.quantize(quantum):
        raise AllocationError(gettext("分摊总量 %(total)s 超过 %(places)s 位小数，请先按计量精度取整")
                              % {"total": total, "places": places})
    return total, int(total.scaleb(places))


def _largest_remainder(units: int, checked: dict[Hashable, Decimal]) -> dict[Hashable, tuple[int, int, int, int]]:
    """key → (count, remainder, scaled weight, weight sum) of `units` (≥ 0) over the checked weights.

    Equal remainders go to the larger weight, then to the smaller key: the keys are put in that order first.
    """
    try:
        order = sorted(checked)
    except TypeError:
        raise AllocationError(gettext("房屋编号必须可以互相比较（全是数字或全是文字）")) from None
    order.sort(key=checked.__getitem__, reverse=True)  # stable: equal weights stay in key order
    scaled = integer_weights([checked[key] for key in order])
    counts, remainders = largest_remainder_counts(units, scaled)
    weight_sum = sum(scaled)
    return {key: (count, remainder, weight, weight_sum)
            for key, count, remainder, weight in zip(order, counts, remainders, scaled, strict=True)}


def split_by_weights(total: Number | str, weights: Mapping[Hashable, Number | str], *, places: int = 2,
                     name: str | None = None) -> dict[Hashable, Decimal]:
    """Split `total` over keyed non-negative weights so that the parts add up exactly to `total` at `places`.

    Largest remainder; equal remainders go to the larger weight, then to the smaller key. `name` names
    the weight in error messages (面积, 人数, ...).
    """
    _total, units = _scaled_total(total, places)
    checked = _checked_weights(weights, name or gettext("分摊权重"))
    sign = -1 if units < 0 else 1
    parts = _largest_remainder(abs(units), checked)
    return {key: Decimal(sign * parts[key][0]).scaleb(-places) for key in checked}


def _shares(total: Decimal, weights: Mapping[Hashable, Decimal], template, *, name: str, places: int,
            unit_label: str, subject: str, prefix: str = "") -> list[Share]:
    total, units = _scaled_total(total, places)
    weight_sum = _weight_sum(weights, name)
    sign = -1 if units < 0 else 1
    units = abs(units)
    parts = _largest_remainder(units, weights)
    # What every share's text has in common is filled in once: a run may have tens of thousands of shares.
    fixed = {"subject": subject, "total": _text(total), "unit": unit_label, "weight_sum": _text(weight_sum)}
    line = (prefix.replace("%", "%%") + str(template) % {
        **{name: value.replace("%", "%%") for name, value in fixed.items()},
        "weight": "%(weight)s", "amount": "%(amount)s"})
    rounded_up, rounded_down = (gettext("（精确值 %(exact)s，按最大余数法补足尾差）"),
                                gettext("（精确值 %(exact)s，尾数舍去）"))
    place_value = 10**places
    # str() is plain notation down to 6 places and much quicker than format(); beyond, it would write 1E-7.
    amount_text = str if places <= 6 else "{:f}".format
    computed = {}  # (scaled weight, count) → (amount, text): units of equal area or usage read alike
    shares = []
    for key, weight in weights.items():
        count, remainder, scaled, weight_sum = parts[key]
        if (scaled, count) not in computed:
            amount = Decimal(sign * count).scaleb(-places)
            text = line % {"weight": _text(weight), "amount": amount_text(amount)}
            if remainder:  # the exact share, units × weight ÷ weight sum, is not a whole number of the last place
                exact_text, is_exact = describe_ratio(sign * units * scaled, weight_sum * place_value, max_places=6)
                note = rounded_up if count * weight_sum > units * scaled else rounded_down
                text += note % {"exact": exact_text + ("" if is_exact else "…")}
            computed[scaled, count] = amount, text
        amount, text = computed[scaled, count]
        shares.append(Share(key, weight, amount, text))
    return shares


def _unit_weights(units: Iterable[AllocationUnit], basis: AllocationBasis) -> dict[Hashable, Decimal]:
    field = _BASES[basis][0]
    return _fact_weights(((unit.key, 1 if field is None else getattr(unit, field)) for unit in units), basis)


def _fact_weights(facts: Iterable[tuple[Hashable, Number | str | None]], basis: AllocationBasis
                  ) -> dict[Hashable, Decimal]:
    """key → weight from (key, the fact the basis reads) pairs, refusing duplicates, missing and fractional persons."""
    _field, name, _template = _BASES[basis]
    weights: dict[Hashable, Decimal] = {}
    duplicates, missing = [], []
    for key, value in facts:
        if key in weights:
            duplicates.append(key)
        if value is None:
            missing.append(key)
        else:
            weights[key] = to_decimal(value)
    if duplicates:
        raise AllocationError(gettext("以下房屋重复出现在同一次分摊中：%(keys)s") % {"keys": _keys_text(duplicates)})
    if missing:
        raise AllocationError(gettext("以下房屋未登记%(name)s，不能按%(name)s分摊：%(keys)s")
                              % {"name": str(name), "keys": _keys_text(missing)})
    if basis == AllocationBasis.PERSONS:
        fractional = [key for key, value in weights.items() if value != value.to_integral_value()]
        if fractional:
            raise AllocationError(gettext("以下房屋的人数不是整数：%(keys)s") % {"keys": _keys_text(fractional)})
    return weights


def allocate(total: Number | str, basis: AllocationBasis | str, units: Iterable[AllocationUnit], *,
             places: int = 2, unit_label: str = "kWh", subject: str | None = None) -> list[Share]:
    """Share `total` (a usage in kWh / m³, or money in 元 with places=2) among `units` on `basis`.

    Returns one Share per unit, in the order given; the amounts add up exactly to `total`.
    `subject` starts each explanation (公摊 by default, 损耗 for a loss).
    """
    basis = AllocationBasis(basis)
    field = _BASES[basis][0]
    return allocate_facts(total, basis, ((unit.key, 1 if field is None else getattr(unit, field)) for unit in units),
                          places=places, unit_label=unit_label, subject=subject)


def allocate_facts(total: Number | str, basis: AllocationBasis | str,
                   facts: Iterable[tuple[Hashable, Number | str | None]], *, places: int = 2, unit_label: str = "kWh",
                   subject: str | None = None) -> list[Share]:
    """`allocate` with each unit given as (key, the fact its basis reads: area, persons, usage or weight; anything
    but None for 按户), without building an AllocationUnit per unit."""
    basis = AllocationBasis(basis)
    weights = _fact_weights(facts, basis)
    _field, name, template = _BASES[basis]
    return _shares(to_decimal(total), weights, template, name=str(name), places=places,
                   unit_label=unit_label, subject=subject or gettext("公摊"))


def loss(master_usage: Number | str, sub_usages: Iterable[Number | str]) -> Decimal:
    """损耗 = the master meter's usage − the sum of its sub-meters' usages.

    A negative result (负损耗: the sub-meters add up to more than the master) is returned as it is, never
    clamped: it usually means a misread or a sub-meter outside the master's circuit, and the caller decides
    whether to bill it or send the readings back for checking.
    """
    master = to_decimal(master_usage)
    if master < 0:
        raise AllocationError(gettext("总表用量不能为负数：%(usage)s") % {"usage": master})
    subs = [to_decimal(usage) for usage in sub_usages]
    if any(usage < 0 for usage in subs):
        raise AllocationError(gettext("分表用量不能为负数"))
    return master - sum(subs, Decimal(0))


def allocate_loss(*, sub_usages: Mapping[Hashable, Number | str], method: LossMethod | str = LossMethod.USAGE,
                  master_usage: Number | str | None = None, areas: Mapping[Hashable, Number | str] | None = None,
                  coefficient: Number | str | None = None, places: int = 2,
                  unit_label: str = "kWh") -> list[Share]:
    """Each sub-metered unit's part of the loss, in the order of `sub_usages`.

    - USAGE: the measured loss (master − Σ subs) split in proportion to each unit's sub-meter usage.
    - AREA: the measured loss split in proportion to `areas` (one per key of `sub_usages`).
    - COEFFICIENT: a fixed coefficient instead of the measured difference: each unit's loss is its own usage
      × `coefficient` (0.05 for 5 %), rounded half up to `places`; `master_usage` is not used and the
      parts add up to whatever they add up to.
    A measured negative loss is allocated as it is, and each explanation starts with a 负损耗 warning.
    """
    method = LossMethod(method)
    if method == LossMethod.COEFFICIENT:
        return _loss_by_coefficient(sub_usages, coefficient, places=places, unit_label=unit_label)
    if master_usage is None:
        raise AllocationError(gettext("按实测损耗分摊需要总表用量"))
    total = loss(master_usage, sub_usages.values())
    prefix = ""
    if total < 0:
        prefix = gettext("负损耗：分表合计 %(subs)s %(unit)s 大于总表 %(master)s %(unit)s，请核查读数。") % {
            "subs": _text(sum(to_decimal(u) for u in sub_usages.values())), "master": _text(to_decimal(master_usage)),
            "unit": unit_label}
    if method == LossMethod.AREA:
        units = [AllocationUnit(key, area=(areas or {}).get(key)) for key in sub_usages]
        basis = AllocationBasis.AREA
        weights = _unit_weights(units, basis)
    else:
        basis = AllocationBasis.USAGE
        weights = {key: to_decimal(usage) for key, usage in sub_usages.items()}
    _field, name, template = _BASES[basis]
    return _shares(total, weights, template, name=str(name), places=places, unit_label=unit_label,
                   subject=gettext("损耗"), prefix=prefix)


def _loss_by_coefficient(sub_usages: Mapping[Hashable, Number | str], coefficient: Number | str | None, *,
                         places: int, unit_label: str) -> list[Share]:
    if coefficient is None:
        raise AllocationError(gettext("按固定损耗系数分摊需要损耗系数"))
    rate = to_decimal(coefficient)
    if rate < 0:
        raise AllocationError(gettext("损耗系数不能为负数：%(rate)s") % {"rate": rate})
    quantum = _quantum(places)
    if not sub_usages:
        raise AllocationError(gettext("没有参与分摊的房屋"))
    usages = {key: to_decimal(usage) for key, usage in sub_usages.items()}
    _refuse_negative(usages, gettext("分表用量"))
    shares = []
    for key, usage in usages.items():
        exact = usage * rate
        amount = quantize_places(exact, places).quantize(quantum)
        explanation = gettext("本户用量 %(usage)s %(unit)s × 损耗系数 %(rate)s = %(amount)s %(unit)s") % {
            "usage": _text(usage), "rate": _text(rate), "amount": f"{amount:f}", "unit": unit_label}
        if amount != exact:
            explanation += gettext("（精确值 %(exact)s，四舍五入）") % {"exact": _text(exact)}
        shares.append(Share(key=key, weight=usage, amount=amount, explanation=explanation))
    return shares
