from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aishang.billing.choices import ChargeMethod, TierLimitBasis
from aishang.billing.formula import compile_formula
from aishang.billing.periods import Period
from aishang.billing.pricing import FORMULA_VARIABLES, ChargeError, compute_charge, late_fee, parse_tiers
from aishang.core.money import Precision, RoundingMode

D = Decimal
JAN_2026 = Period(date(2026, 1, 1), date(2026, 1, 31))
Q1_2026 = Period(date(2026, 1, 1), date(2026, 3, 31))
YEAR_2026 = Period(date(2026, 1, 1), date(2026, 12, 31))
ELECTRICITY_TIERS = [(2520, D("0.55")), (4800, D("0.60")), (None, D("0.85"))]


# The arithmetic


def test_120_50_square_metres_at_1_80_a_month_is_216_90():
    computation = compute_charge(ChargeMethod.BUILDING_AREA, period=JAN_2026, unit_price=D("1.80"),
                                 building_area=D("120.50"))

    assert computation.amount == D("216.90")
    assert computation.steps == ("120.50 ㎡ × 1.80 元/㎡/月 × 1 月 = 216.90",)


def test_a_move_in_on_12_january_at_200_a_month_is_129_03():
    computation = compute_charge(ChargeMethod.FIXED, period=JAN_2026, unit_price=D("200"),
                                 active_from=date(2026, 1, 12))

    assert computation.exact == Fraction(200 * 20, 31)
    assert computation.amount == D("129.03")
    assert computation.steps == ("200 元/月 × 20/31 月 ≈ 129.0323", "按四舍五入保留到分：129.03")


def test_a_price_change_in_the_middle_of_a_quarter_splits_it_by_days_and_rounds_once():
    # 1.80 until 15 February, 2.00 from the 16th: January and 15/28 of February at 1.80, 13/28 and March at 2.00.
    computation = compute_charge(ChargeMethod.BUILDING_AREA, period=Q1_2026, building_area=D("120.50"),
                                 price_changes=[(date(2025, 1, 1), D("1.80")), (date(2026, 2, 16), D("2.00"))])

    # 120.50 × (1.80 × 43/28 + 2.00 × 41/28) = 19207.7 / 28 = 685.98928…
    assert computation.exact == Fraction("19207.7") / 28
    assert computation.amount == D("685.99")
    assert computation.steps[:2] == (
        "2026-01-01～2026-02-15：120.50 ㎡ × 1.80 元/㎡/月 × (1 + 15/28) 月 ≈ 333.0964",
        "2026-02-16～2026-03-31：120.50 ㎡ × 2.00 元/㎡/月 × (1 + 13/28) 月 ≈ 352.8929",
    )


def test_tiered_electricity_of_3000_kwh_a_year_is_1674():
    computation = compute_charge(ChargeMethod.TIERED, period=YEAR_2026, usage=3000, usage_unit="kWh",
                                 tiers=ELECTRICITY_TIERS, tier_limit_basis=TierLimitBasis.PER_YEAR)

    assert computation.amount == D("1674.00")
    assert computation.steps == (
        "第 1 档：2520 kWh × 0.55 元 = 1386.00",
        "第 2 档：480 kWh × 0.60 元 = 288.00",
        "合计：1386.00 + 288.00 = 1674.00",
    )


# Per-month methods


def test_a_whole_quarter_is_three_months():
    computation = compute_charge(ChargeMethod.BUILDING_AREA, period=Q1_2026, unit_price=D("1.80"),
                                 building_area=D("120.50"))

    assert computation.amount == D("650.70")


def test_inner_area_is_charged_by_the_inner_area():
    computation = compute_charge(ChargeMethod.INNER_AREA, period=JAN_2026, unit_price=D("5.00"),
                                 building_area=D("120.50"), inner_area=D("98.36"))

    assert computation.amount == D("491.80")
    assert computation.inputs["套内面积"] == "98.36 ㎡"


def test_persons_multiply_the_price_per_person():
    computation = compute_charge(ChargeMethod.PERSONS, period=JAN_2026, unit_price=D("15"), persons=3)

    assert computation.amount == D("45.00")


def test_a_parking_space_is_charged_per_space_and_month():
    computation = compute_charge(ChargeMethod.PARKING_SPACE, period=Q1_2026, unit_price=D("150"))

    assert computation.amount == D("450.00")


def test_a_one_off_price_is_not_multiplied_by_months():
    decoration = Period(date(2026, 3, 5), date(2026, 6, 4))

    computation = compute_charge(ChargeMethod.FIXED, period=decoration, unit_price=D("500"), per_month=False)

    assert computation.amount == D("500.00")


def test_a_unit_that_moved_out_before_the_period_pays_nothing():
    computation = compute_charge(ChargeMethod.BUILDING_AREA, period=JAN_2026, unit_price=D("1.80"),
                                 building_area=D("120.50"), active_to=date(2025, 12, 31))

    assert computation.amount == D("0.00")


def test_a_unit_without_an_area_cannot_be_charged_by_area():
    with pytest.raises(ChargeError, match="缺少建筑面积"):
        compute_charge(ChargeMethod.BUILDING_AREA, period=JAN_2026, unit_price=D("1.80"))


def test_a_negative_area_is_refused():
    with pytest.raises(ChargeError, match="不能为负数"):
        compute_charge(ChargeMethod.BUILDING_AREA, period=JAN_2026, unit_price=D("1.80"), building_area=D("-1"))


def test_a_float_price_is_refused():
    with pytest.raises(ChargeError, match="浮点数"):
        compute_charge(ChargeMethod.FIXED, period=JAN_2026, unit_price=1.8)


@pytest.mark.parametrize(
    ("rounding", "precision", "expected"),
    [
        (RoundingMode.HALF_UP, Precision.FEN, "129.03"),
        (RoundingMode.UP, Precision.FEN, "129.04"),
        (RoundingMode.DOWN, Precision.FEN, "129.03"),
        (RoundingMode.HALF_UP, Precision.JIAO, "129.00"),
        (RoundingMode.UP, Precision.JIAO, "129.10"),
        (RoundingMode.DOWN, Precision.JIAO, "129.00"),
        (RoundingMode.HALF_UP, Precision.YUAN, "129.00"),
        (RoundingMode.UP, Precision.YUAN, "130.00"),
        (RoundingMode.DOWN, Precision.YUAN, "129.00"),
    ],
)
def test_the_fee_items_rounding_is_applied_once_to_the_amount(rounding, precision, expected):
    computation = compute_charge(ChargeMethod.FIXED, period=JAN_2026, unit_price=D("200"),
                                 active_from=date(2026, 1, 12), rounding=rounding, precision=precision)

    assert computation.amount == D(expected)
    assert computation.exact == Fraction(4000, 31)


def test_the_computation_is_kept_as_plain_json():
    computation = compute_charge(ChargeMethod.FIXED, period=JAN_2026, unit_price=D("200"),
                                 active_from=date(2026, 1, 12))

    assert computation.as_dict() == {
        "method": "fixed",
        "inputs": {"账期": "2026-01", "计费期间": "2026-01-12～2026-01-31", "单价": "200 元/月"},
        "steps": ["200 元/月 × 20/31 月 ≈ 129.0323", "按四舍五入保留到分：129.03"],
        "unrounded": "129.0322580645",
        "amount": "129.03",
        "rounding": "half_up",
        "precision": "0.01",
    }


@given(
    area=st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False),
    price=st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False),
    change=st.dates(min_value=date(2026, 1, 2), max_value=date(2026, 3, 31)),
)
def test_a_price_change_to_the_same_price_changes_nothing(area, price, change):
    whole = compute_charge(ChargeMethod.BUILDING_AREA, period=Q1_2026, unit_price=price, building_area=area)
    split = compute_charge(ChargeMethod.BUILDING_AREA, period=Q1_2026, building_area=area,
                           price_changes=[(date(2026, 1, 1), price), (change, price)])

    assert split.exact == whole.exact == area * price * 3


# Usage and tiers


def test_usage_is_charged_by_the_unit_price_and_rounded_once():
    computation = compute_charge(ChargeMethod.USAGE, period=JAN_2026, usage=D("12.5"), usage_unit="吨",
                                 unit_price=D("3.45"))

    assert computation.amount == D("43.13")
    assert computation.steps[0] == "12.5 吨 × 3.45 元/吨 = 43.125"


def test_usage_in_the_first_tier_is_charged_at_the_first_price():
    computation = compute_charge(ChargeMethod.TIERED, period=YEAR_2026, usage=1000, tiers=ELECTRICITY_TIERS,
                                 tier_limit_basis=TierLimitBasis.PER_YEAR)

    assert computation.amount == D("550.00")


def test_usage_above_every_limit_reaches_the_last_tier():
    computation = compute_charge(ChargeMethod.TIERED, period=YEAR_2026, usage=5000, tiers=ELECTRICITY_TIERS,
                                 tier_limit_basis=TierLimitBasis.PER_YEAR)

    assert computation.amount == D("2520") * D("0.55") + D("2280") * D("0.60") + D("200") * D("0.85")


def test_yearly_tier_limits_are_scaled_to_a_month():
    computation = compute_charge(ChargeMethod.TIERED, period=JAN_2026, usage=300, usage_unit="kWh",
                                 tiers=ELECTRICITY_TIERS, tier_limit_basis=TierLimitBasis.PER_YEAR)

    assert computation.amount == D("210") * D("0.55") + D("90") * D("0.60")
    assert computation.steps[0] == "第 1 档上限 2520 kWh（按年）折算到本期 = 210 kWh"


def test_no_usage_costs_nothing():
    computation = compute_charge(ChargeMethod.TIERED, period=YEAR_2026, usage=0, tiers=ELECTRICITY_TIERS)

    assert computation.amount == D("0.00")


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([], "至少需要一档"),
        ([(None, "0.55"), (None, "0.60")], "只有最后一档"),
        ([(2520, "0.55"), (4800, "0.60")], "最后一档不能设上限"),
        ([(4800, "0.55"), (2520, "0.60"), (None, "0.85")], "大于上一档"),
        ([(2520, "-0.55"), (None, "0.60")], "不能为负数"),
    ],
)
def test_a_bad_tier_table_is_refused(tiers, message):
    with pytest.raises(ChargeError, match=message):
        parse_tiers(tiers)


def test_usage_charges_refuse_a_price_change_inside_the_period():
    with pytest.raises(ChargeError, match="调价"):
        compute_charge(ChargeMethod.USAGE, period=JAN_2026, usage=10,
                       price_changes=[(date(2026, 1, 1), "3.45"), (date(2026, 1, 15), "3.60")])


@given(usage=st.decimals(min_value=0, max_value=20000, places=2, allow_nan=False, allow_infinity=False))
def test_tiered_charges_match_a_direct_sum_over_the_tiers(usage):
    computation = compute_charge(ChargeMethod.TIERED, period=YEAR_2026, usage=usage, tiers=ELECTRICITY_TIERS,
                                 tier_limit_basis=TierLimitBasis.PER_YEAR)

    direct = (min(usage, 2520) * D("0.55") + max(min(usage, 4800) - 2520, 0) * D("0.60")
              + max(usage - 4800, 0) * D("0.85"))
    assert computation.exact == Fraction(direct)


# Formulas


def test_a_formula_charge_explains_itself_with_the_bills_values():
    computation = compute_charge(ChargeMethod.FORMULA, period=JAN_2026, unit_price=D("1.80"),
                                 building_area=D("120.50"), formula="面积 × 单价 × 月数")

    assert computation.amount == D("216.90")
    assert computation.steps == ("公式：面积 × 单价 × 月数", "120.50 × 1.80 × 1 = 216.90")


def test_a_formula_sees_the_months_of_a_partial_period():
    computation = compute_charge(ChargeMethod.FORMULA, period=JAN_2026, unit_price=D("200"),
                                 formula="单价 * months", active_from=date(2026, 1, 12))

    assert computation.amount == D("129.03")


def test_a_formula_can_use_extra_variables():
    compiled = compile_formula("基数 + 人数 * 5", {"基数", "人数"})

    computation = compute_charge(ChargeMethod.FORMULA, period=JAN_2026, persons=3, formula=compiled,
                                 variables={"基数": D("20")})

    assert computation.amount == D("35.00")


def test_a_formula_charge_without_a_value_it_needs_is_refused():
    with pytest.raises(ChargeError, match="未知的变量「人数」"):
        compute_charge(ChargeMethod.FORMULA, period=JAN_2026, formula="人数 * 5")


def test_every_standard_formula_variable_is_supplied_to_formulas():
    computation = compute_charge(
        ChargeMethod.FORMULA, period=JAN_2026, unit_price=1, building_area=1, inner_area=1, usage=1, persons=1,
        spaces=1, formula=" + ".join(FORMULA_VARIABLES),
    )

    assert computation.amount == 2 * D(8 + 31 + 31)


def test_formulas_saved_against_the_standard_variables_accept_ascii_names():
    compiled = compile_formula("area * price * months", FORMULA_VARIABLES)

    computation = compute_charge(ChargeMethod.FORMULA, period=JAN_2026, unit_price=D("1.80"),
                                 building_area=D("120.50"), formula=compiled)

    assert computation.amount == D("216.90")


def test_late_fee_runs_from_the_day_after_the_due_date():
    fee = late_fee(D("216.90"), due_date=date(2026, 11, 15), as_of=date(2026, 12, 15), daily_rate=D("0.0005"))

    assert fee.days == 30
    assert fee.amount == D("3.25")  # 216.90 × 0.0005 × 30 = 3.2535
    assert not fee.capped
    assert "2026-11-16 起" in fee.text


def test_late_fee_is_nothing_on_or_before_the_due_date():
    for as_of in (date(2026, 11, 1), date(2026, 11, 15)):
        fee = late_fee(D("216.90"), due_date=date(2026, 11, 15), as_of=as_of, daily_rate=D("0.0005"))
        assert (fee.days, fee.amount) == (0, D("0.00"))


def test_late_fee_is_capped_at_the_principal():
    fee = late_fee(D("100.00"), due_date=date(2020, 1, 15), as_of=date(2026, 1, 15), daily_rate=D("0.0005"))

    assert fee.capped
    assert fee.amount == D("100.00")
    assert "封顶" in fee.text


def test_late_fee_rounds_once_with_the_fee_items_rule():
    fee = late_fee(D("216.90"), due_date=date(2026, 11, 15), as_of=date(2026, 12, 15), daily_rate=D("0.0005"),
                   rounding=RoundingMode.UP, precision=Precision.JIAO)

    assert fee.amount == D("3.30")
