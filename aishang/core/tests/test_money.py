from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aishang.core.money import (
    InvalidAmount,
    Precision,
    RoundingMode,
    amount_in_chinese_capitals,
    format_money,
    quantize_amount,
    split_largest_remainder,
    to_decimal,
)

D = Decimal

# Rounding: every mode at every precision, on halves and just either side of them


@pytest.mark.parametrize(
    ("value", "precision", "rounding", "expected"),
    [
        ("2.345", Precision.FEN, RoundingMode.HALF_UP, "2.35"),
        ("2.344", Precision.FEN, RoundingMode.HALF_UP, "2.34"),
        ("2.341", Precision.FEN, RoundingMode.UP, "2.35"),
        ("2.349", Precision.FEN, RoundingMode.DOWN, "2.34"),
        ("2.345", Precision.FEN, RoundingMode.UP, "2.35"),
        ("2.345", Precision.FEN, RoundingMode.DOWN, "2.34"),
        ("2.35", Precision.JIAO, RoundingMode.HALF_UP, "2.40"),
        ("2.34", Precision.JIAO, RoundingMode.HALF_UP, "2.30"),
        ("2.31", Precision.JIAO, RoundingMode.UP, "2.40"),
        ("2.35", Precision.JIAO, RoundingMode.UP, "2.40"),
        ("2.39", Precision.JIAO, RoundingMode.DOWN, "2.30"),
        ("2.35", Precision.JIAO, RoundingMode.DOWN, "2.30"),
        ("2.50", Precision.YUAN, RoundingMode.HALF_UP, "3.00"),
        ("2.49", Precision.YUAN, RoundingMode.HALF_UP, "2.00"),
        ("2.01", Precision.YUAN, RoundingMode.UP, "3.00"),
        ("2.50", Precision.YUAN, RoundingMode.UP, "3.00"),
        ("2.99", Precision.YUAN, RoundingMode.DOWN, "2.00"),
        ("2.50", Precision.YUAN, RoundingMode.DOWN, "2.00"),
    ],
)
def test_each_rounding_mode_rounds_a_positive_amount_at_each_precision(value, precision, rounding, expected):
    assert quantize_amount(D(value), precision=precision, rounding=rounding) == D(expected)


@pytest.mark.parametrize("precision", list(Precision))
@pytest.mark.parametrize("rounding", list(RoundingMode))
def test_an_amount_already_at_the_precision_is_left_as_it_is(precision, rounding):
    assert quantize_amount(D("1234"), precision=precision, rounding=rounding) == D("1234.00")


def test_the_result_always_carries_two_places():
    result = quantize_amount(D("216.94"), precision=Precision.JIAO, rounding=RoundingMode.HALF_UP)

    assert str(result) == "216.90"


def test_rounding_accepts_stored_choice_values():
    assert quantize_amount(D("1.005"), precision="0.01", rounding="half_up") == D("1.01")


def test_a_fraction_is_rounded_exactly_without_an_intermediate_decimal():
    assert quantize_amount(Fraction(200 * 20, 31), precision=Precision.FEN, rounding=RoundingMode.HALF_UP) == D(
        "129.03"
    )


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(RoundingMode.HALF_UP, "-2.35"), (RoundingMode.UP, "-2.35"), (RoundingMode.DOWN, "-2.34")],
)
def test_a_negative_amount_rounds_as_the_mirror_of_the_positive_one(rounding, expected):
    assert quantize_amount(D("-2.345"), precision=Precision.FEN, rounding=rounding) == D(expected)


@given(
    value=st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    precision=st.sampled_from(list(Precision)),
    rounding=st.sampled_from(list(RoundingMode)),
)
def test_rounding_twice_gives_the_same_amount_as_rounding_once(value, precision, rounding):
    once = quantize_amount(value, precision=precision, rounding=rounding)

    assert quantize_amount(once, precision=precision, rounding=rounding) == once


@given(
    value=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    precision=st.sampled_from(list(Precision)),
    rounding=st.sampled_from(list(RoundingMode)),
)
def test_a_correction_rounds_to_exactly_minus_its_bill(value, precision, rounding):
    assert quantize_amount(-value, precision=precision, rounding=rounding) == -quantize_amount(
        value, precision=precision, rounding=rounding
    )


@given(
    value=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    precision=st.sampled_from(list(Precision)),
)
def test_up_and_down_bracket_the_value_within_one_step(value, precision):
    up = quantize_amount(value, precision=precision, rounding=RoundingMode.UP)
    down = quantize_amount(value, precision=precision, rounding=RoundingMode.DOWN)

    assert down <= value <= up
    assert up - down in (0, precision.quantum)


def test_choices_carry_chinese_labels():
    assert [str(label) for label in RoundingMode.labels] == ["四舍五入", "向上", "向下"]
    assert [str(label) for label in Precision.labels] == ["分", "角", "元"]


# Decimals only


@pytest.mark.parametrize("value", [1.5, float("nan"), True])
def test_to_decimal_refuses_floats_and_booleans(value):
    with pytest.raises(InvalidAmount):
        to_decimal(value)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", D("NaN"), D("Infinity")])
def test_to_decimal_refuses_values_that_are_not_finite(value):
    with pytest.raises(InvalidAmount):
        to_decimal(value)


def test_to_decimal_refuses_text_that_is_not_a_number():
    with pytest.raises(InvalidAmount, match="不是有效的金额"):
        to_decimal("十二元")


@pytest.mark.parametrize(("value", "expected"), [(" 12.30 ", D("12.30")), (12, D(12)), (D("0.1"), D("0.1"))])
def test_to_decimal_accepts_text_integers_and_decimals(value, expected):
    assert to_decimal(value) == expected


# Largest remainder


def test_a_shared_cost_of_100_yuan_over_three_equal_units_adds_up_exactly():
    assert split_largest_remainder(D("100.00"), [1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]


def test_the_extra_fen_goes_to_the_largest_remainders():
    parts = split_largest_remainder(D("10.00"), [D("120.5"), D("89.3"), D("65.2")])

    assert parts == [D("4.38"), D("3.25"), D("2.37")]
    assert sum(parts) == D("10.00")


def test_a_zero_weight_gets_nothing():
    assert split_largest_remainder(D("1.00"), [0, 1, 2]) == [D("0.00"), D("0.33"), D("0.67")]


def test_a_negative_total_splits_into_negative_parts():
    assert split_largest_remainder(D("-0.05"), [1, 1, 1]) == [D("-0.02"), D("-0.02"), D("-0.01")]


def test_a_split_by_whole_yuan_keeps_whole_yuan():
    assert split_largest_remainder(D("10"), [1, 1, 1], unit=D("1")) == [D("4"), D("3"), D("3")]


@pytest.mark.parametrize(("total", "weights"), [("1.00", []), ("1.00", [0, 0]), ("1.00", [1, -1]), ("1.005", [1])])
def test_an_impossible_split_is_refused(total, weights):
    with pytest.raises(ValueError):
        split_largest_remainder(D(total), weights)


amounts = st.decimals(min_value=-10**7, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
weights = st.lists(st.decimals(min_value=0, max_value=10**5, places=3, allow_nan=False, allow_infinity=False),
                   min_size=1, max_size=30).filter(lambda ws: sum(ws) > 0)


@given(total=amounts, weights=weights)
def test_split_parts_always_add_up_to_the_total(total, weights):
    assert sum(split_largest_remainder(total, weights)) == total


@given(total=amounts, count=st.integers(min_value=1, max_value=50))
def test_equal_weights_give_parts_that_differ_by_at_most_one_fen(total, count):
    parts = split_largest_remainder(total, [1] * count)

    assert max(parts) - min(parts) <= D("0.01")


@given(total=amounts, weights=weights)
def test_every_part_is_within_one_fen_of_its_exact_share(total, weights):
    parts = split_largest_remainder(total, weights)

    weight_sum = sum(Fraction(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(Fraction(part) - Fraction(total) * Fraction(weight) / weight_sum) < Fraction(1, 100)


# Capitals


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("1200.00", "人民币壹仟贰佰元整"),
        ("0.50", "人民币伍角"),
        ("123.45", "人民币壹佰贰拾叁元肆角伍分"),
        ("1005.07", "人民币壹仟零伍元零柒分"),
        ("100000000.00", "人民币壹亿元整"),
        ("0.00", "人民币零元整"),
        ("10.30", "人民币壹拾元叁角"),
        ("0.05", "人民币伍分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("100005.00", "人民币壹拾万零伍元整"),
        ("100010000.00", "人民币壹亿零壹万元整"),
        ("1000010.00", "人民币壹佰万零壹拾元整"),
        ("325000.00", "人民币叁拾贰万伍仟元整"),
        ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
    ],
)
def test_amounts_are_written_in_capitals_as_on_a_receipt(amount, capitals):
    assert amount_in_chinese_capitals(D(amount)) == capitals


def test_a_negative_amount_is_written_with_fu():
    assert amount_in_chinese_capitals(D("-216.90")) == "人民币负贰佰壹拾陆元玖角"


def test_capitals_refuse_an_amount_finer_than_a_fen():
    with pytest.raises(InvalidAmount, match="精确到分"):
        amount_in_chinese_capitals(D("1.005"))


# Formatting


@pytest.mark.parametrize(
    ("amount", "text"),
    [("1234.56", "¥1,234.56"), ("0", "¥0.00"), ("-1234567.5", "-¥1,234,567.50"), ("2.345", "¥2.35")],
)
def test_money_is_formatted_with_the_yuan_sign_and_thousands(amount, text):
    assert format_money(D(amount)) == text


def test_a_unit_price_can_be_formatted_with_four_places():
    assert format_money(D("0.5583"), places=4) == "¥0.5583"
