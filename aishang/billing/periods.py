"""Billing periods: aligned cycles, proration by actual days, price changes inside a period, due dates.

All functions are pure; amounts come back as exact `Fraction`s so the bill amount is rounded once,
by the caller, with the fee item's rounding mode and precision.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext

from aishang.billing.choices import BillingCycle, BillingMode, DueDateRule, TierLimitBasis
from aishang.core.money import Number, to_decimal, to_fraction

__all__ = [
    "BillingCycle",
    "Period",
    "PricedRange",
    "active_part",
    "due_date",
    "month_parts",
    "months_in",
    "months_text",
    "period_containing",
    "period_to_bill",
    "periods_covering",
    "prorate",
    "scale_tier_limit",
    "split_by_effective_dates",
]

ONE_DAY = timedelta(days=1)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True, order=True)
class Period:
    """A range of days, both ends included."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            message = gettext("账期结束日 %(end)s 早于开始日 %(start)s")
            raise ValueError(message % {"start": self.start, "end": self.end})

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_whole_months(self) -> bool:
        return self.start.day == 1 and self.end == _month_end(self.end)

    @property
    def months(self) -> Fraction:
        return months_in(self.start, self.end)

    @property
    def label(self) -> str:
        """2026-11 for a month, 2026-01～2026-03 for whole months, 2026-01-12～2026-01-31 otherwise."""
        if self.is_whole_months:
            first, last = self.start.strftime("%Y-%m"), self.end.strftime("%Y-%m")
            return first if first == last else f"{first}～{last}"
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()}～{self.end.isoformat()}"

    def __str__(self) -> str:
        return self.label

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def intersection(self, start: date | None, end: date | None) -> "Period | None":
        first = max(self.start, start) if start else self.start
        last = min(self.end, end) if end else self.end
        return Period(first, last) if first <= last else None


@dataclass(frozen=True)
class PricedRange:
    period: Period
    price: Decimal


def month_parts(start: date, end: date) -> list[tuple[date, int, int]]:
    """(first day of the month, days covered, days in the month) for each calendar month touched."""
    parts = []
    for index in range(_month_index(start), _month_index(end) + 1):
        month = _month_start(index)
        covered = Period(month, _month_end(month)).intersection(start, end)
        parts.append((month, covered.days, calendar.monthrange(month.year, month.month)[1]))
    return parts


def months_in(start: date, end: date) -> Fraction:
    """Months covered, a partial month counting its days over that month's days (20/31 for 12–31 January)."""
    return sum((Fraction(covered, length) for _, covered, length in month_parts(start, end)), Fraction(0))


def months_text(start: date, end: date) -> str:
    """The months of `months_in` as a reader checks them: 3, 20/31, 1 + 15/28."""
    whole = 0
    fractions = []
    for _, covered, length in month_parts(start, end):
        if covered == length:
            whole += 1
        else:
            fractions.append(f"{covered}/{length}")
    terms = ([str(whole)] if whole or not fractions else []) + fractions
    return " + ".join(terms)


def _check_anchor(anchor_month_start: date) -> None:
    if anchor_month_start.day != 1:
        raise ValueError(gettext("账期起算月必须是某月的 1 日：%(anchor)s") % {"anchor": anchor_month_start})


def period_containing(cycle: BillingCycle | str, anchor_month_start: date, day: date) -> Period:
    """The aligned period of `cycle` that contains `day`; periods start every N months from the anchor."""
    months = BillingCycle(cycle).months
    if months is None:
        raise ValueError(gettext("一次性收费没有周期账期"))
    _check_anchor(anchor_month_start)
    anchor = _month_index(anchor_month_start)
    first = anchor + (_month_index(day) - anchor) // months * months
    return Period(_month_start(first), _month_start(first + months) - ONE_DAY)


def periods_covering(cycle: BillingCycle | str, anchor_month_start: date, start_date: date,
                     end_date: date) -> list[Period]:
    """Whole aligned periods that together cover start_date…end_date (a one-off covers exactly that range).

    Periods are not clipped: a unit active for part of a period is prorated with `prorate`.
    """
    if end_date < start_date:
        raise ValueError(gettext("结束日期不能早于开始日期"))
    if BillingCycle(cycle) == BillingCycle.ONE_OFF:
        return [Period(start_date, end_date)]
    periods = [period_containing(cycle, anchor_month_start, start_date)]
    while periods[-1].end < end_date:
        periods.append(period_containing(cycle, anchor_month_start, periods[-1].end + ONE_DAY))
    return periods


def period_to_bill(cycle: BillingCycle | str, anchor_month_start: date, run_date: date,
                   mode: BillingMode | str) -> Period:
    """The period a run on `run_date` bills: the current one in advance (预收), the previous one in arrears (后收)."""
    current = period_containing(cycle, anchor_month_start, run_date)
    if BillingMode(mode) == BillingMode.ADVANCE:
        return current
    return period_containing(cycle, anchor_month_start, current.start - ONE_DAY)


def due_date(period: Period, *, rule: DueDateRule | str, value: int,
             mode: BillingMode | str = BillingMode.ADVANCE) -> date:
    """Due date of a bill for `period`, counted from its start when billed in advance (预收) and from its end when
    billed in arrears (后收): usage is billed after it is measured, so it must not fall due before.

    DAY_OF_FIRST_MONTH: day `value` of the period's first month (预收) or of the month after its last (后收),
    clamped to that month's last day (a due day of 31 falls on 28 February): 预收 for 2026-10 → 2026-10-15, 后收
    for 2026-10 → 2026-11-15. DAYS_AFTER_START: `value` days after the period starts (预收) or ends (后收).
    """
    rule = DueDateRule(rule)
    in_arrears = BillingMode(mode) == BillingMode.ARREARS
    if rule == DueDateRule.DAY_OF_FIRST_MONTH:
        if not 1 <= value <= 31:
            raise ValueError(gettext("缴费日必须在 1 到 31 之间"))
        month = _month_end(period.end) + ONE_DAY if in_arrears else period.start
        return month.replace(day=min(value, _month_end(month).day))
    if value < 0:
        raise ValueError(gettext("天数不能为负数"))
    return (period.end if in_arrears else period.start) + timedelta(days=value)


def active_part(period: Period, active_from: date | None = None, active_to: date | None = None) -> Period | None:
    """The part of `period` in which a unit is charged (from move-in or rule start to move-out or rule end)."""
    return period.intersection(active_from, active_to)


def prorate(amount_per_period: Number | str, period: Period, active_from: date | None = None,
            active_to: date | None = None) -> Fraction:
    """The amount for the active days of the period, by actual days, unrounded.

    A move-in on 2026-01-12 at 200 元 for January gives 200 × 20/31; round it once with the fee item's rule.
    """
    part = active_part(period, active_from, active_to)
    if part is None:
        return Fraction(0)
    return to_fraction(amount_per_period) * part.days / period.days


def split_by_effective_dates(period: Period, price_changes: Iterable[tuple[date, Number | str]]) -> list[PricedRange]:
    """Sub-ranges of `period`, each with the price in force, from (effective from, price) pairs.

    A price stays in force until the day before the next change. Days before the first change have
    no price and are left out.
    """
    changes = sorted((effective_from, to_decimal(price)) for effective_from, price in price_changes)
    dates = [effective_from for effective_from, _ in changes]
    if len(set(dates)) != len(dates):
        raise ValueError(gettext("同一天有两个价格生效"))
    ranges = []
    for index, (effective_from, price) in enumerate(changes):
        until = changes[index + 1][0] - ONE_DAY if index + 1 < len(changes) else None
        part = period.intersection(effective_from, until)
        if part is not None:
            ranges.append(PricedRange(part, price))
    return ranges


def scale_tier_limit(limit: Number | str, basis: TierLimitBasis | str, period: Period) -> Fraction:
    """A tier limit for a period of another length: a yearly limit times months/12, a monthly one times months.

    Months are counted by calendar days (see `months_in`), so 12–31 January holds 20/31 of a monthly limit.
    """
    basis = TierLimitBasis(basis)
    limit = to_fraction(limit)
    if basis == TierLimitBasis.PER_PERIOD:
        return limit
    months = period.months
    return limit * months / 12 if basis == TierLimitBasis.PER_YEAR else limit * months
