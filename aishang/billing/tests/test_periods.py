from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aishang.billing.choices import BillingCycle, BillingMode, DueDateRule, TierLimitBasis
from aishang.billing.periods import (
    Period,
    PricedRange,
    due_date,
    month_parts,
    months_in,
    months_text,
    period_containing,
    period_to_bill,
    periods_covering,
    prorate,
    scale_tier_limit,
    split_by_effective_dates,
)
from aishang.core.money import Precision, RoundingMode, quantize_amount

D = Decimal
JAN_2026 = Period(date(2026, 1, 1), date(2026, 1, 31))
Q1_2026 = Period(date(2026, 1, 1), date(2026, 3, 31))


# Period


def test_a_period_counts_both_ends():
    assert JAN_2026.days == 31
    assert Q1_2026.days == 90


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="早于"):
        Period(date(2026, 2, 1), date(2026, 1, 31))


@pytest.mark.parametrize(
    ("period", "label"),
    [
        (Period(date(2026, 11, 1), date(2026, 11, 30)), "2026-11"),
        (Q1_2026, "2026-01～2026-03"),
        (Period(date(2026, 1, 12), date(2026, 1, 31)), "2026-01-12～2026-01-31"),
        (Period(date(2026, 1, 12), date(2026, 1, 12)), "2026-01-12"),
        (Period(date(2025, 12, 1), date(2026, 11, 30)), "2025-12～2026-11"),
    ],
)
def test_a_period_is_labelled_by_months_when_it_covers_whole_months(period, label):
    assert period.label == label


def test_a_day_is_in_a_period_from_its_first_to_its_last_day():
    assert date(2026, 1, 1) in JAN_2026
    assert date(2026, 1, 31) in JAN_2026
    assert date(2026, 2, 1) not in JAN_2026


# Cycles


@pytest.mark.parametrize(
    ("cycle", "day", "expected"),
    [
        (BillingCycle.MONTHLY, date(2026, 11, 17), Period(date(2026, 11, 1), date(2026, 11, 30))),
        (BillingCycle.BIMONTHLY, date(2026, 4, 1), Period(date(2026, 3, 1), date(2026, 4, 30))),
        (BillingCycle.QUARTERLY, date(2026, 2, 15), Q1_2026),
        (BillingCycle.HALF_YEARLY, date(2026, 12, 31), Period(date(2026, 7, 1), date(2026, 12, 31))),
        (BillingCycle.YEARLY, date(2026, 6, 30), Period(date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_each_cycle_finds_the_period_aligned_to_january(cycle, day, expected):
    assert period_containing(cycle, date(2026, 1, 1), day) == expected


def test_periods_align_to_the_anchor_month_even_before_it():
    # A heating season year that starts in November.
    period = period_containing(BillingCycle.YEARLY, date(2025, 11, 1), date(2025, 3, 10))

    assert period == Period(date(2024, 11, 1), date(2025, 10, 31))


def test_an_anchor_that_is_not_the_first_of_a_month_is_refused():
    with pytest.raises(ValueError, match="1 日"):
        period_containing(BillingCycle.MONTHLY, date(2026, 1, 5), date(2026, 2, 1))


def test_quarters_covering_a_range_are_whole_aligned_quarters():
    periods = periods_covering(BillingCycle.QUARTERLY, date(2026, 1, 1), date(2026, 2, 10), date(2026, 7, 1))

    assert [p.label for p in periods] == ["2026-01～2026-03", "2026-04～2026-06", "2026-07～2026-09"]


def test_months_covering_a_year_are_twelve():
    periods = periods_covering(BillingCycle.MONTHLY, date(2026, 1, 1), date(2026, 1, 1), date(2026, 12, 31))

    assert len(periods) == 12
    assert periods[1] == Period(date(2026, 2, 1), date(2026, 2, 28))


def test_a_one_off_charge_covers_exactly_the_range_asked_for():
    periods = periods_covering(BillingCycle.ONE_OFF, date(2026, 1, 1), date(2026, 3, 5), date(2026, 4, 20))

    assert periods == [Period(date(2026, 3, 5), date(2026, 4, 20))]


def test_a_run_in_advance_bills_the_period_it_falls_in():
    period = period_to_bill(BillingCycle.MONTHLY, date(2026, 1, 1), date(2026, 3, 1), BillingMode.ADVANCE)

    assert period.label == "2026-03"


def test_a_run_in_arrears_bills_the_period_before():
    period = period_to_bill(BillingCycle.QUARTERLY, date(2026, 1, 1), date(2026, 4, 1), BillingMode.ARREARS)

    assert period == Q1_2026


def test_a_run_in_arrears_in_january_bills_last_december():
    period = period_to_bill(BillingCycle.MONTHLY, date(2026, 1, 1), date(2026, 1, 1), BillingMode.ARREARS)

    assert period.label == "2025-12"


# Due dates


def test_the_due_date_can_be_a_day_of_the_periods_first_month():
    assert due_date(Q1_2026, rule=DueDateRule.DAY_OF_FIRST_MONTH, value=15) == date(2026, 1, 15)


def test_a_due_day_past_the_end_of_the_month_falls_on_its_last_day():
    february = Period(date(2026, 2, 1), date(2026, 2, 28))

    assert due_date(february, rule=DueDateRule.DAY_OF_FIRST_MONTH, value=31) == date(2026, 2, 28)


def test_the_due_date_can_be_some_days_after_the_period_starts():
    assert due_date(JAN_2026, rule=DueDateRule.DAYS_AFTER_START, value=20) == date(2026, 1, 21)


def test_a_bill_in_arrears_falls_due_on_the_due_day_of_the_month_after_its_period():
    # October's water is read at the end of October and billed in November: due 15 November, not 15 October.
    october = Period(date(2026, 10, 1), date(2026, 10, 31))

    assert due_date(october, rule=DueDateRule.DAY_OF_FIRST_MONTH, value=15,
                    mode=BillingMode.ARREARS) == date(2026, 11, 15)
    assert due_date(Q1_2026, rule=DueDateRule.DAY_OF_FIRST_MONTH, value=15,
                    mode=BillingMode.ARREARS) == date(2026, 4, 15)
    assert due_date(Period(date(2026, 1, 1), date(2026, 1, 31)), rule=DueDateRule.DAY_OF_FIRST_MONTH, value=31,
                    mode=BillingMode.ARREARS) == date(2026, 2, 28)


def test_a_bill_in_arrears_counts_its_days_from_the_end_of_its_period():
    assert due_date(JAN_2026, rule=DueDateRule.DAYS_AFTER_START, value=20,
                    mode=BillingMode.ARREARS) == date(2026, 2, 20)


def test_a_bill_in_arrears_is_never_due_before_its_period_ends():
    for cycle in (BillingCycle.MONTHLY, BillingCycle.QUARTERLY, BillingCycle.YEARLY):
        for month in range(1, 13):
            period = period_containing(cycle, date(2026, 1, 1), date(2026, month, 1))
            for rule, value in ((DueDateRule.DAY_OF_FIRST_MONTH, 1), (DueDateRule.DAYS_AFTER_START, 0)):
                assert due_date(period, rule=rule, value=value, mode=BillingMode.ARREARS) >= period.end


@pytest.mark.parametrize(("rule", "value"), [(DueDateRule.DAY_OF_FIRST_MONTH, 0), (DueDateRule.DAY_OF_FIRST_MONTH, 32),
                                             (DueDateRule.DAYS_AFTER_START, -1)])
def test_an_impossible_due_setting_is_refused(rule, value):
    with pytest.raises(ValueError):
        due_date(JAN_2026, rule=rule, value=value)


# Proration


def test_a_move_in_on_the_12th_of_january_pays_20_31_of_the_month():
    amount = prorate(D("200"), JAN_2026, active_from=date(2026, 1, 12))

    assert amount == Fraction(200 * 20, 31)
    assert quantize_amount(amount, precision=Precision.FEN, rounding=RoundingMode.HALF_UP) == D("129.03")


def test_a_move_out_prorates_to_the_last_day_charged():
    assert prorate(D("310"), JAN_2026, active_to=date(2026, 1, 10)) == 100


def test_a_unit_not_active_in_the_period_pays_nothing():
    assert prorate(D("200"), JAN_2026, active_from=date(2026, 2, 1)) == 0


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    length=st.integers(min_value=0, max_value=800),
    amount=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
)
def test_prorating_the_whole_period_gives_the_full_amount(start, length, amount):
    period = Period(start, start + timedelta(days=length))

    assert prorate(amount, period, period.start, period.end) == amount
    assert prorate(amount, period, start - timedelta(days=5), None) == amount


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    length=st.integers(min_value=1, max_value=400),
    cut=st.integers(min_value=0, max_value=399),
    amount=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
)
def test_the_two_sides_of_a_move_prorate_to_the_full_amount(start, length, cut, amount):
    period = Period(start, start + timedelta(days=length))
    move = start + timedelta(days=min(cut, length - 1))

    before = prorate(amount, period, active_to=move)
    after = prorate(amount, period, active_from=move + timedelta(days=1))

    assert before + after == amount


# Months by calendar days


def test_months_of_a_partial_month_count_its_days():
    assert months_in(date(2026, 1, 12), date(2026, 1, 31)) == Fraction(20, 31)


def test_months_of_a_range_across_february_count_each_months_days():
    assert month_parts(date(2026, 1, 1), date(2026, 2, 15)) == [(date(2026, 1, 1), 31, 31), (date(2026, 2, 1), 15, 28)]
    assert months_in(date(2026, 1, 1), date(2026, 2, 15)) == 1 + Fraction(15, 28)
    assert months_text(date(2026, 1, 1), date(2026, 2, 15)) == "1 + 15/28"


def test_months_of_a_whole_quarter_are_three():
    assert Q1_2026.months == 3
    assert months_text(Q1_2026.start, Q1_2026.end) == "3"


# Price changes


def test_a_price_change_in_the_middle_of_a_quarter_splits_it_at_the_change():
    ranges = split_by_effective_dates(Q1_2026, [(date(2025, 1, 1), "1.80"), (date(2026, 2, 16), "2.00")])

    assert ranges == [
        PricedRange(Period(date(2026, 1, 1), date(2026, 2, 15)), D("1.80")),
        PricedRange(Period(date(2026, 2, 16), date(2026, 3, 31)), D("2.00")),
    ]
    assert sum(r.period.days for r in ranges) == Q1_2026.days == 46 + 44


def test_price_changes_outside_the_period_leave_one_range():
    changes = [(date(2027, 1, 1), "2.20"), (date(2025, 1, 1), "1.80"), (date(2024, 1, 1), "1.50")]

    assert split_by_effective_dates(Q1_2026, changes) == [PricedRange(Q1_2026, D("1.80"))]


def test_days_before_the_first_price_are_not_priced():
    ranges = split_by_effective_dates(Q1_2026, [(date(2026, 3, 1), "1.80")])

    assert ranges == [PricedRange(Period(date(2026, 3, 1), date(2026, 3, 31)), D("1.80"))]


def test_two_prices_effective_on_the_same_day_are_refused():
    with pytest.raises(ValueError, match="同一天"):
        split_by_effective_dates(Q1_2026, [(date(2026, 1, 1), "1.80"), (date(2026, 1, 1), "2.00")])


# Tier limits


def test_a_yearly_tier_limit_is_a_twelfth_for_a_month():
    assert scale_tier_limit(2520, TierLimitBasis.PER_YEAR, JAN_2026) == 210


def test_a_yearly_tier_limit_is_unchanged_for_a_year():
    year = Period(date(2026, 1, 1), date(2026, 12, 31))

    assert scale_tier_limit(4800, TierLimitBasis.PER_YEAR, year) == 4800


def test_a_monthly_tier_limit_is_tripled_for_a_quarter():
    assert scale_tier_limit(D("180"), TierLimitBasis.PER_MONTH, Q1_2026) == 540


def test_a_monthly_tier_limit_is_prorated_by_days_for_part_of_a_month():
    part = Period(date(2026, 1, 12), date(2026, 1, 31))

    assert scale_tier_limit(D("310"), TierLimitBasis.PER_MONTH, part) == 200


def test_a_tier_limit_per_period_is_not_scaled():
    assert scale_tier_limit(D("100"), TierLimitBasis.PER_PERIOD, Q1_2026) == 100
