"""The integer fast path gives exactly what the former exact-Fraction computation gave: shares and texts."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from aishang.core.money import (
    describe_number,
    fraction_to_decimal,
    split_largest_remainder,
    to_decimal,
    to_fraction,
)
from aishang.meters.allocation import AllocationUnit, allocate, allocate_loss, split_by_weights
from aishang.meters.choices import AllocationBasis, LossMethod

ROUNDED_UP = "（精确值 %(exact)s，按最大余数法补足尾差）"
ROUNDED_DOWN = "（精确值 %(exact)s，尾数舍去）"


def fraction_split(total, weights, unit):
    """split_largest_remainder as it was, all in Fractions."""
    shares = [to_fraction(weight) for weight in weights]
    weight_sum = sum(shares, Fraction(0))
    units = Fraction(total) / Fraction(unit)
    sign = -1 if units < 0 else 1
    units = abs(units.numerator)
    quotas = [units * share / weight_sum for share in shares]
    counts = [quota.numerator // quota.denominator for quota in quotas]
    left = units - sum(counts)
    for index in sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - counts[i]), i))[:left]:
        counts[index] += 1
    places = max(-unit.as_tuple().exponent, -total.as_tuple().exponent, 0)
    exponent = Decimal(1).scaleb(-places)
    return [(sign * count * unit).quantize(exponent) for count in counts]


def fraction_describe(value, max_places, min_places=0):
    value = to_fraction(value)
    approximate = fraction_to_decimal(value, max_places)
    exact = Fraction(approximate) == value
    text = approximate.normalize() if exact else approximate
    if exact:
        text = text.quantize(Decimal(1).scaleb(-max(-text.as_tuple().exponent, min_places, 0)))
    return f"{text:f}", exact


def fraction_notes(total, weights, places):
    """key → (amount, the explanation's ending) as the Fraction code computed them."""
    quantum = Decimal(1).scaleb(-places)
    order = sorted(weights, key=lambda key: (-weights[key], key))
    parts = fraction_split(total, [weights[key] for key in order], quantum)
    amounts = {key: part.quantize(quantum) for key, part in zip(order, parts, strict=True)}
    ratio = Fraction(total) / Fraction(sum(weights.values()))
    notes = {}
    for key, weight in weights.items():
        exact, amount = ratio * Fraction(weight), Fraction(amounts[key])
        ending = ""
        if amount != exact:
            text, is_exact = fraction_describe(exact, 6)
            ending = (ROUNDED_UP if abs(amount) > abs(exact) else ROUNDED_DOWN) % {
                "exact": text + ("" if is_exact else "…")}
        notes[key] = (amounts[key], ending)
    return notes


decimals = st.builds(lambda digits, places: Decimal(digits).scaleb(-places),
                     st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=6))
weight_maps = st.dictionaries(st.integers(min_value=1, max_value=10**6), decimals, min_size=1, max_size=30).filter(
    lambda weights: sum(weights.values()) > 0)
places = st.integers(min_value=0, max_value=4)


@settings(max_examples=300)
@given(steps=st.integers(min_value=-10**10, max_value=10**10), places=places, weights=weight_maps)
def test_shares_and_explanations_equal_the_fraction_computation(steps, places, weights):
    total = Decimal(steps).scaleb(-places)
    expected = fraction_notes(total, weights, places)
    assert split_by_weights(total, weights, places=places) == {key: amount for key, (amount, _e) in expected.items()}
    units = [AllocationUnit(key, weight=weight) for key, weight in weights.items()]
    for share in allocate(total, AllocationBasis.WEIGHT, units, places=places):
        amount, ending = expected[share.key]
        assert (share.amount, f"{share.amount:f}") == (amount, f"{amount:f}")
        assert share.explanation.endswith(f"= {amount:f} kWh{ending}")


@given(master=decimals, weights=weight_maps)
def test_loss_explanations_equal_the_fraction_computation(master, weights):
    master = master.quantize(Decimal("0.01"))
    usages = {key: weight.quantize(Decimal("0.01")) for key, weight in weights.items()}
    if not sum(usages.values()):
        return
    measured = master - sum(usages.values())
    expected = fraction_notes(measured, usages, 2)
    for share in allocate_loss(sub_usages=usages, method=LossMethod.USAGE, master_usage=master):
        amount, ending = expected[share.key]
        assert f"{share.amount:f}" == f"{amount:f}"
        assert share.explanation.endswith(f"= {amount:f} kWh{ending}")


@given(steps=st.integers(min_value=-10**9, max_value=10**9), unit=st.sampled_from(["0.01", "0.1", "1", "0.05"]),
       weights=st.lists(st.one_of(decimals, st.fractions(min_value=0, max_value=10**6, max_denominator=97),
                                  st.integers(min_value=0, max_value=10**6)), min_size=1, max_size=20)
       .filter(lambda weights: sum(map(to_fraction, weights)) > 0))
def test_split_largest_remainder_equals_the_fraction_computation(steps, unit, weights):
    unit = Decimal(unit)
    total = steps * unit
    parts = split_largest_remainder(total, weights, unit=unit)
    expected = fraction_split(to_decimal(total), weights, unit)
    assert [f"{part:f}" for part in parts] == [f"{part:f}" for part in expected]


@given(value=st.one_of(decimals, st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**4)),
       max_places=st.integers(min_value=0, max_value=8), min_places=st.integers(min_value=0, max_value=3))
def test_describe_number_equals_the_fraction_computation(value, max_places, min_places):
    assert (describe_number(value, min_places=min_places, max_places=max_places)
            == fraction_describe(value, max_places, min_places))
