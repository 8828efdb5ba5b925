"""公摊 and 损耗 allocation: the issue's arithmetic, exact totals, deterministic tie-breaks, refusals."""

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aishang.meters.allocation import (
    AllocationError,
    AllocationUnit,
    allocate,
    allocate_loss,
    loss,
    split_by_weights,
)
from aishang.meters.choices import AllocationBasis, LossMethod

D = Decimal


def by_key(shares):
    return {share.key: share for share in shares}


# The arithmetic


def test_a_master_meter_of_10000_over_sub_meters_of_9400_loses_600_kwh():
    assert loss(D("10000"), [D("150"), D("9250")]) == D("600")


def test_a_household_using_150_of_9400_kwh_bears_9_57_kwh_of_a_600_kwh_loss():
    shares = by_key(allocate_loss(master_usage="10000", sub_usages={"1-101": D("150"), "1-102": D("9250")}))

    # 600 × 150 / 9400 = 9.5745…, 600 × 9250 / 9400 = 590.4255…: the one 0.01 left goes to the larger remainder.
    assert shares["1-101"].amount == D("9.57")
    assert shares["1-102"].amount == D("590.43")
    assert shares["1-101"].explanation == (
        "损耗 600 kWh × 本户用量 150 / 分表合计 9400 = 9.57 kWh（精确值 9.574468…，尾数舍去）")
    assert "按最大余数法补足尾差" in shares["1-102"].explanation


def test_1200_kwh_of_public_lighting_over_10000_square_metres_gives_a_100_square_metre_unit_12_kwh():
    areas = {"1-101": D("100"), "1-102": D("4900"), "2-101": D("5000")}
    units = [AllocationUnit(key, area=area) for key, area in areas.items()]

    shares = by_key(allocate(D("1200"), AllocationBasis.AREA, units))

    assert shares["1-101"].amount == D("12.00")
    assert shares["1-101"].explanation == "公摊 1200 kWh × 本户面积 100 ㎡ / 总面积 10000 ㎡ = 12.00 kWh"
    assert sum(share.amount for share in shares.values()) == D("1200")


def building_of_37_units():
    # Varied areas with two decimals, summing to an awkward 3,976.66 ㎡ that divides nothing evenly.
    return [AllocationUnit(f"{1 + i // 12}-{101 + i % 12}", area=D(60 + (i * 37) % 97) + D(i % 100) / 100,
                           persons=1 + i % 5) for i in range(37)]


def test_shares_across_a_37_unit_building_add_up_exactly_in_kwh_and_in_fen():
    units = building_of_37_units()
    area_sum = sum(D(unit.area) for unit in units)

    usage = allocate(D("1234.57"), AllocationBasis.AREA, units)
    money = allocate(D("987.65"), AllocationBasis.AREA, units, unit_label="元")

    assert sum(share.amount for share in usage) == D("1234.57")
    assert sum(share.amount for share in money) == D("987.65")
    for shares, total in ((usage, D("1234.57")), (money, D("987.65"))):
        for share in shares:
            exact = Fraction(total) * Fraction(share.weight) / Fraction(area_sum)
            assert abs(Fraction(share.amount) - exact) < Fraction(1, 100)
            assert share.amount == share.amount.quantize(D("0.01"))


def test_by_household_every_unit_gets_an_equal_share_and_the_odd_fen_goes_to_the_first_keys():
    shares = allocate(D("100.00"), AllocationBasis.HOUSEHOLD, [AllocationUnit(key) for key in ("C", "A", "B")],
                      unit_label="元")

    assert [(share.key, share.amount) for share in shares] == [("C", D("33.33")), ("A", D("33.34")),
                                                                ("B", D("33.33"))]
    assert shares[0].explanation == "公摊 100 元 ÷ 3 户 = 33.33 元（精确值 33.333333…，尾数舍去）"


def test_by_persons_a_household_of_three_in_a_building_of_twelve_bears_a_quarter():
    units = [AllocationUnit("1-101", persons=3), AllocationUnit("1-102", persons=4), AllocationUnit("1-103", persons=5)]

    shares = by_key(allocate(D("360"), AllocationBasis.PERSONS, units, unit_label="m³"))

    assert shares["1-101"].amount == D("90.00")
    assert shares["1-101"].explanation == "公摊 360 m³ × 本户人数 3 / 总人数 12 = 90.00 m³"


def test_by_formula_weights_a_unit_with_weight_zero_bears_nothing():
    units = [AllocationUnit("A", weight=D("1.5")), AllocationUnit("B", weight=D("0")), AllocationUnit("C", weight=3)]

    shares = by_key(allocate(D("90"), AllocationBasis.WEIGHT, units))

    assert [shares[key].amount for key in "ABC"] == [D("30.00"), D("0.00"), D("60.00")]
    assert shares["A"].explanation == "公摊 90 kWh × 本户权重 1.5 / 权重合计 4.5 = 30.00 kWh"


def test_usage_can_be_split_at_the_precision_of_the_meter():
    shares = allocate(D("10.000"), AllocationBasis.HOUSEHOLD, [AllocationUnit(key) for key in (1, 2, 3)], places=3)

    assert [share.amount for share in shares] == [D("3.334"), D("3.333"), D("3.333")]


# Tie-breaks


def test_equal_remainders_go_to_the_larger_weight_first():
    # 0.02 over weights 1 and 3: exact 0.005 and 0.015, both remainders half a fen; the larger weight takes it
    # although its key comes later.
    assert split_by_weights(D("0.02"), {"1-101": 1, "1-102": 3}) == {"1-101": D("0.00"), "1-102": D("0.02")}


def test_equal_remainders_and_equal_weights_go_to_the_smaller_key_whatever_the_input_order():
    assert split_by_weights(D("0.01"), {"1-102": 1, "1-101": 1}) == {"1-102": D("0.00"), "1-101": D("0.01")}


# Loss


def test_a_negative_loss_is_returned_and_allocated_with_a_warning_never_hidden():
    assert loss(D("9400"), [D("5000"), D("4450")]) == D("-50")

    shares = allocate_loss(master_usage=D("9400"), sub_usages={"A": D("5000"), "B": D("4450")})

    assert sum(share.amount for share in shares) == D("-50")
    assert [share.amount for share in shares] == [D("-26.46"), D("-23.54")]
    assert all(share.explanation.startswith("负损耗：分表合计 9450 kWh 大于总表 9400 kWh，请核查读数。")
               for share in shares)


def test_a_loss_can_be_shared_by_area_instead_of_usage():
    shares = by_key(allocate_loss(master_usage=D("1000"), sub_usages={"A": D("100"), "B": D("800")},
                                  method=LossMethod.AREA, areas={"A": D("90"), "B": D("110")}))

    assert shares["A"].amount == D("45.00")
    assert shares["B"].amount == D("55.00")
    assert shares["A"].explanation == "损耗 100 kWh × 本户面积 90 ㎡ / 总面积 200 ㎡ = 45.00 kWh"


def test_a_fixed_loss_coefficient_charges_each_unit_its_own_usage_times_the_coefficient():
    # 5 % of each unit's own usage, whatever the master meter says.
    shares = by_key(allocate_loss(sub_usages={"A": D("150"), "B": D("150.5")}, method=LossMethod.COEFFICIENT,
                                  coefficient=D("0.05"), master_usage=D("99999")))

    assert shares["A"].amount == D("7.50")
    assert shares["A"].explanation == "本户用量 150 kWh × 损耗系数 0.05 = 7.50 kWh"
    assert shares["B"].amount == D("7.53")
    assert shares["B"].explanation == "本户用量 150.5 kWh × 损耗系数 0.05 = 7.53 kWh（精确值 7.525，四舍五入）"


# Refusals


def test_no_area_recorded_anywhere_is_refused_by_name_not_by_zero_division():
    units = [AllocationUnit("1-101", area=D("0")), AllocationUnit("1-102", area=D("0"))]

    with pytest.raises(AllocationError, match="参与分摊的房屋面积合计为 0，无法按面积分摊"):
        allocate(D("1200"), AllocationBasis.AREA, units)


def test_a_unit_without_an_area_is_refused_and_named():
    units = [AllocationUnit("1-101", area=D("80")), AllocationUnit("1-102")]

    with pytest.raises(AllocationError, match="以下房屋未登记面积，不能按面积分摊：1-102"):
        allocate(D("1200"), AllocationBasis.AREA, units)


def test_a_negative_weight_is_refused_and_named():
    with pytest.raises(AllocationError, match="以下房屋的人数为负数，不能分摊：1-102"):
        allocate(D("10"), "persons", [AllocationUnit("1-101", persons=2), AllocationUnit("1-102", persons=-1)])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: allocate(D("10"), AllocationBasis.HOUSEHOLD, []), "没有参与分摊的房屋"),
        (lambda: allocate(D("10"), AllocationBasis.HOUSEHOLD, [AllocationUnit("A"), AllocationUnit("A")]),
         "以下房屋重复出现在同一次分摊中：A"),
        (lambda: allocate(D("1.005"), AllocationBasis.HOUSEHOLD, [AllocationUnit("A")]), "超过 2 位小数"),
        (lambda: allocate(D("10"), AllocationBasis.PERSONS, [AllocationUnit("A", persons=D("1.5"))]),
         "以下房屋的人数不是整数：A"),
        (lambda: allocate(D("10"), AllocationBasis.USAGE, [AllocationUnit("A", usage=0)]), "分表用量合计为 0"),
        (lambda: loss(D("-1"), []), "总表用量不能为负数"),
        (lambda: loss(D("10"), [D("-1")]), "分表用量不能为负数"),
        (lambda: allocate_loss(sub_usages={"A": 1}), "按实测损耗分摊需要总表用量"),
        (lambda: allocate_loss(sub_usages={"A": 1}, method=LossMethod.COEFFICIENT), "需要损耗系数"),
        (lambda: allocate_loss(sub_usages={"A": 1}, method=LossMethod.COEFFICIENT, coefficient=D("-0.1")),
         "损耗系数不能为负数"),
        (lambda: allocate_loss(master_usage=10, sub_usages={"A": 1, "B": 2}, method=LossMethod.AREA,
                               areas={"A": 50}), "以下房屋未登记面积，不能按面积分摊：B"),
    ],
)
def test_impossible_allocations_are_refused_with_a_chinese_message(call, message):
    with pytest.raises(AllocationError, match=message):
        call()


def test_a_float_is_refused_as_inexact():
    with pytest.raises(ValueError, match="浮点数"):
        allocate(1200.0, AllocationBasis.HOUSEHOLD, [AllocationUnit("A")])


# Properties


places = st.integers(min_value=0, max_value=4)
weight_maps = st.dictionaries(
    keys=st.integers(min_value=1, max_value=10_000),
    values=st.decimals(min_value=0, max_value=10**5, places=3, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=40,
).filter(lambda weights: sum(weights.values()) > 0)


@given(steps=st.integers(min_value=-10**9, max_value=10**9), places=places, weights=weight_maps,
       seed=st.integers(min_value=0, max_value=2**32))
def test_random_splits_add_up_stay_within_one_last_place_unit_and_do_not_depend_on_input_order(
        steps, places, weights, seed):
    quantum = D(1).scaleb(-places)
    total = D(steps) * quantum
    shuffled_keys = list(weights)
    random.Random(seed).shuffle(shuffled_keys)

    parts = split_by_weights(total, weights, places=places)
    again = split_by_weights(total, {key: weights[key] for key in shuffled_keys}, places=places)

    assert sum(parts.values()) == total
    weight_sum = sum(Fraction(weight) for weight in weights.values())
    for key, part in parts.items():
        assert part == part.quantize(quantum)
        assert abs(Fraction(part) - Fraction(total) * Fraction(weights[key]) / weight_sum) < Fraction(quantum)
    assert again == parts
    assert list(again) == shuffled_keys
