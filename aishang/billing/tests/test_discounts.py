"""优惠方案: who qualifies, how much comes off, and that discounts are correction rows the books agree with."""

import datetime
from decimal import Decimal

import pytest

from aishang.billing.balances import bill_outstanding
from aishang.billing.choices import ChargeMethod
from aishang.billing.models import (
    Account,
    Bill,
    BillDiscount,
    BindingTarget,
    ChargeRule,
    DiscountScheme,
    FeeItem,
    Posting,
    RuleBinding,
)
from aishang.billing.reconcile import reconcile
from aishang.billing.services import advance_bills_create, bill_run_create, bill_run_post, temporary_bill_create
from aishang.core.money import money_total
from aishang.core.testing import make_customer, make_owner, make_staff, make_unit

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture
def rule(project):
    fee_item = FeeItem.objects.create(company=project.company, code="WY", name="物业费")
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="住宅物业费",
                                     method=ChargeMethod.BUILDING_AREA, unit_price=Decimal("1.80"),
                                     effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    return rule


def scheme(project, name="老年人九折", kind="percent", timing="billing", fee_items=(), units=(), **fields):
    created = DiscountScheme.objects.create(company=project.company, name=name, kind=kind, timing=timing,
                                            valid_from=fields.pop("valid_from", datetime.date(2024, 1, 1)), **fields)
    created.fee_items.set(fee_items)
    created.units.set(units)
    return created


def senior_unit(project, area="120.50"):
    unit = make_unit(project, area=area)
    make_owner(unit, make_customer(project, tags=["老年人"]))
    return unit


def test_a_tagged_owner_gets_ninety_percent_in_a_run_and_the_books_agree(project, rule):
    senior, other = senior_unit(project), make_unit(project, area="120.50")
    make_owner(other)
    elderly = scheme(project, rate=Decimal("0.90"), customer_tag="老年人", fee_items=[rule.fee_item])

    run = bill_run_post(bill_run_create(project=project, rules=[rule], period_month=NOVEMBER))

    discount = BillDiscount.objects.get()
    assert (discount.bill.unit, discount.scheme, discount.amount) == (senior, elderly, Decimal("21.69"))
    assert discount.computation == "老年人九折：216.90 × (1 − 0.9) = 21.69"
    assert bill_outstanding(discount.bill) == Decimal("195.21")
    assert bill_outstanding(Bill.objects.get(unit=other)) == Decimal("216.90")
    assert money_total(Posting.objects.filter(account=Account.DISCOUNT)) == Decimal("21.69")
    assert reconcile([project]).is_clean

    bill_run_post(run)
    assert BillDiscount.objects.count() == 1


def test_schemes_for_payment_for_other_fee_items_or_out_of_dates_are_not_applied_at_billing(project, rule):
    senior_unit(project)
    other_item = FeeItem.objects.create(company=project.company, code="TC", name="停车费")
    scheme(project, "缴费时九折", rate=Decimal("0.90"), timing="payment")
    scheme(project, "停车九折", rate=Decimal("0.90"), fee_items=[other_item])
    scheme(project, "明年起", rate=Decimal("0.90"), valid_from=datetime.date(2027, 1, 1))
    scheme(project, "已停用", rate=Decimal("0.90"), is_active=False)

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=NOVEMBER))

    assert not BillDiscount.objects.exists()


def test_the_scheme_that_gives_most_is_the_one_applied(project, rule):
    unit = senior_unit(project)
    scheme(project, "九五折", rate=Decimal("0.95"))
    best = scheme(project, "指定房屋立减 50", kind="amount", amount=Decimal("50.00"), units=[unit])
    scheme(project, "老年人九折", rate=Decimal("0.90"), customer_tag="老年人")

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=NOVEMBER))

    discount = BillDiscount.objects.get()
    assert (discount.scheme, discount.amount) == (best, Decimal("50.00"))


def test_prepaying_twelve_months_makes_the_twelfth_free(project, rule):
    unit = make_unit(project, area="100.00")
    free_month = scheme(project, "预交12个月优惠1个月", kind="free_periods", min_periods=12, free_periods=1)

    bills = advance_bills_create(rule=rule, unit=unit, periods=12, today=datetime.date(2026, 11, 20))

    discount = BillDiscount.objects.get()
    assert (discount.bill, discount.scheme, discount.amount) == (bills[-1], free_month, Decimal("180.00"))
    assert sum(bill_outstanding(bill) for bill in bills) == Decimal("1980.00")  # 11 × 180
    assert reconcile([project]).is_clean


def test_prepaying_fewer_periods_than_the_scheme_asks_gets_no_free_period(project, rule):
    scheme(project, "预交12个月优惠1个月", kind="free_periods", min_periods=12, free_periods=1)

    advance_bills_create(rule=rule, unit=make_unit(project), periods=11, today=datetime.date(2026, 11, 20))

    assert not BillDiscount.objects.exists()


def test_a_temporary_bill_takes_an_amount_off_scheme(project):
    item = FeeItem.objects.create(company=project.company, code="LJ", name="垃圾清运费")
    scheme(project, "清运立减 5 元", kind="amount", amount=Decimal("5.00"), fee_items=[item])

    bill = temporary_bill_create(project=project, fee_item=item, amount=Decimal("30.00"), reason="清运",
                                 due_date=NOVEMBER, period_start=NOVEMBER, unit=make_unit(project))

    assert bill_outstanding(bill) == Decimal("25.00")


def test_paying_on_time_means_nothing_due_in_the_window_is_still_owed(project, rule):
    prompt, late = make_unit(project), make_unit(project)
    october = bill_run_post(bill_run_create(project=project, rules=[rule], period_month=datetime.date(2026, 10, 1)))
    for bill in Bill.objects.filter(run=october, unit=prompt):
        BillDiscount.objects.create(project=project, bill=bill, amount=bill.amount,
                                    scheme=scheme(project, "全额优惠", rate=Decimal("0"), is_active=False))
    scheme(project, "按时缴费九五折", rate=Decimal("0.95"), on_time_months=12)

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=NOVEMBER))

    november = BillDiscount.objects.filter(bill__period_start=NOVEMBER)
    assert [discount.bill.unit for discount in november] == [prompt]
    assert late.pk not in november.values_list("bill__unit", flat=True)


def test_a_scheme_is_refused_at_the_field_when_its_terms_do_not_add_up(client, project, rule):
    client.force_login(make_staff(project.company, "finance"))
    base = {"name": "新方案", "timing": "billing", "valid_from": "2026-01-01", "is_active": "on"}

    no_rate = client.post("/billing/discounts/add/", base | {"kind": "percent"})
    too_free = client.post("/billing/discounts/add/", base | {"kind": "free_periods", "min_periods": 3,
                                                              "free_periods": 3})
    unknown_unit = client.post("/billing/discounts/add/", base | {"kind": "percent", "rate": "0.9",
                                                                  "project": project.pk, "unit_codes": "9-9-999"})
    saved = client.post("/billing/discounts/add/", base | {"kind": "percent", "rate": "0.9", "customer_tag": "老年人",
                                                           "fee_items": [rule.fee_item.pk]})

    assert no_rate.status_code == 400 and "请填写小于 1 的折扣率" in no_rate.content.decode()
    assert too_free.status_code == 400 and "赠送期数须少于预缴满期数" in too_free.content.decode()
    assert unknown_unit.status_code == 400 and "该项目没有这些房屋：9-9-999" in unknown_unit.content.decode()
    assert saved.status_code == 302
    created = DiscountScheme.objects.get()
    assert (created.customer_tag, list(created.fee_items.all())) == ("老年人", [rule.fee_item])
