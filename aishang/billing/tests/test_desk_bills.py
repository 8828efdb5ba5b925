"""临时收费 and 预缴账单: bills raised one at a time, with their journal entries, and how runs respect them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aishang.billing.choices import BillingCycle, ChargeMethod
from aishang.billing.models import Account, Bill, BillKind, BindingTarget, ChargeRule, FeeItem, Posting, RuleBinding
from aishang.billing.reconcile import reconcile
from aishang.billing.services import (
    advance_bills_create,
    advance_bills_preview,
    bill_run_create,
    bill_run_post,
    temporary_bill_create,
)
from aishang.core.money import Precision, money_total
from aishang.core.testing import make_customer, make_owner, make_staff, make_unit
from aishang.notifications.models import Message

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)


@pytest.fixture
def decoration(project):
    return FeeItem.objects.create(company=project.company, code="ZX", name="装修管理费", category="service")


def property_rule(project, **fields):
    fee_item, _ = FeeItem.objects.get_or_create(company=project.company, code="WY", defaults={"name": "物业费"})
    fields = {"method": ChargeMethod.BUILDING_AREA, "unit_price": Decimal("1.80")} | fields
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="住宅物业费",
                                     effective_from=datetime.date(2020, 1, 1), **fields)
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    return rule


def receivable(project):
    return money_total(Posting.objects.filter(project=project, account=Account.RECEIVABLE))


def test_a_temporary_bill_charges_the_units_payer_and_is_journalled(project, decoration):
    unit = make_unit(project)
    owner = make_owner(unit)

    bill = temporary_bill_create(project=project, fee_item=decoration, amount=Decimal("300.00"),
                                 reason="装修押金外的管理费", due_date=TODAY, period_start=TODAY, unit=unit)

    assert (bill.kind, bill.payer, bill.amount, bill.rule) == (BillKind.TEMPORARY, owner, Decimal("300.00"), None)
    assert bill.computation == "临时收费：装修押金外的管理费"
    assert receivable(project) == Decimal("300.00")
    notice = Message.objects.get(dedupe_key=f"bill-posted:{bill.pk}:sms")
    assert notice.recipient_customer == owner and "300.00" in notice.body


def test_a_temporary_bill_can_charge_a_customer_without_a_unit(project, decoration):
    customer = make_customer(project)

    bill = temporary_bill_create(project=project, fee_item=decoration, amount="50", reason="垃圾清运",
                                 due_date=TODAY, period_start=TODAY, payer=customer)

    assert (bill.unit, bill.payer) == (None, customer)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"amount": Decimal("0")}, "amount", "金额必须大于 0"),
    ({"amount": Decimal("12.345")}, "amount", "精确到分"),
    ({"unit": None}, "unit", "请填写房屋或缴费人"),
    ({"reason": " "}, "reason", "请填写收费事由"),
    ({"period_end": datetime.date(2026, 11, 1)}, "period_end", "结束日期不能早于开始日期"),
])
def test_a_bad_temporary_bill_is_refused_at_its_field_and_writes_nothing(project, decoration, fields, field, message):
    values = {"project": project, "fee_item": decoration, "amount": Decimal("10.00"), "reason": "清运",
              "due_date": TODAY, "period_start": TODAY, "unit": make_unit(project)} | fields

    with pytest.raises(ValidationError) as refused:
        temporary_bill_create(**values)

    assert any(message in text for text in refused.value.message_dict[field])
    assert not Bill.objects.exists() and receivable(project) == 0


def test_an_amount_finer_than_the_fee_items_precision_is_refused(project, decoration):
    decoration.precision = Precision.YUAN
    decoration.save()

    with pytest.raises(ValidationError) as refused:
        temporary_bill_create(project=project, fee_item=decoration, amount=Decimal("10.50"), reason="清运",
                              due_date=TODAY, period_start=TODAY, unit=make_unit(project))

    assert "精确到元" in refused.value.message_dict["amount"][0]


def test_advance_bills_cover_the_next_periods_and_a_later_run_skips_them(project):
    unit = make_unit(project, area="100.00")
    make_owner(unit)
    other = make_unit(project, area="100.00")
    rule = property_rule(project)

    bills = advance_bills_create(rule=rule, unit=unit, periods=12, today=TODAY)

    assert [bill.period_start for bill in bills][:2] == [datetime.date(2026, 11, 1), datetime.date(2026, 12, 1)]
    assert bills[-1].period_end == datetime.date(2027, 10, 31)
    assert {bill.kind for bill in bills} == {BillKind.ADVANCE}
    assert sum(bill.amount for bill in bills) == Decimal("2160.00")
    assert receivable(project) == Decimal("2160.00")

    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=datetime.date(2026, 12, 1)))

    december = Bill.objects.filter(period_start=datetime.date(2026, 12, 1))
    assert december.count() == 2 and december.get(unit=other).kind == BillKind.REGULAR
    assert receivable(project) == Decimal("2340.00")


def test_advance_bills_continue_after_the_last_billed_period(project):
    unit = make_unit(project, area="100.00")
    rule = property_rule(project, cycle=BillingCycle.QUARTERLY)
    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=datetime.date(2026, 10, 1)))

    charges = advance_bills_preview(rule=rule, unit=unit, periods=2, today=TODAY)

    assert [c.period.label for c in charges] == ["2027-01～2027-03", "2027-04～2027-06"]
    assert [c.amount for c in charges] == [Decimal("540.00"), Decimal("540.00")]


def test_advance_bills_refuse_usage_rules_and_rules_of_other_units(project):
    unit = make_unit(project)
    usage = property_rule(project, method=ChargeMethod.USAGE)
    unbound = ChargeRule.objects.create(project=project, fee_item=usage.fee_item, name="别的标准",
                                        unit_price=Decimal("1"), effective_from=datetime.date(2020, 1, 1))

    for rule, message in ((usage, "按用量计费的收费标准不能预缴"), (unbound, "没有绑定这套房屋")):
        with pytest.raises(ValidationError) as refused:
            advance_bills_preview(rule=rule, unit=unit, periods=3, today=TODAY)
        assert message in refused.value.message_dict["rule"][0]
    with pytest.raises(ValidationError):
        advance_bills_preview(rule=property_rule(project), unit=unit, periods=0, today=TODAY)


def test_the_cashier_raises_a_temporary_bill_from_the_page(client, project, decoration):
    unit = make_unit(project)
    make_owner(unit)
    client.force_login(make_staff(project.company, "cashier"))

    refused = client.post("/billing/bills/temporary/add/", {
        "project": project.pk, "unit_code": "无此房", "fee_item": decoration.pk, "amount": "80",
        "period_start": "2026-11-20", "due_date": "2026-11-30", "reason": "垃圾清运"})
    response = client.post("/billing/bills/temporary/add/", {
        "project": project.pk, "unit_code": unit.code, "fee_item": decoration.pk, "amount": "80",
        "period_start": "2026-11-20", "due_date": "2026-11-30", "reason": "垃圾清运"})

    assert refused.status_code == 400 and "该项目没有编码为「无此房」的房屋" in refused.content.decode()
    bill = Bill.objects.get()
    assert response["Location"] == f"/billing/bills/{bill.pk}/"
    assert (bill.unit, bill.amount, bill.due_date) == (unit, Decimal("80.00"), datetime.date(2026, 11, 30))


def test_the_cashier_previews_then_confirms_advance_bills_on_the_page(client, project):
    unit = make_unit(project, area="100.00")
    rule = property_rule(project)
    client.force_login(make_staff(project.company, "cashier"))
    data = {"project": project.pk, "unit_code": unit.code, "rule": rule.pk, "periods": 3}

    preview = client.post("/billing/bills/advance/add/", data).content.decode()
    assert 'data-testid="advance-total">¥540.00' in preview and not Bill.objects.exists()

    client.post("/billing/bills/advance/add/", data | {"confirm": "1"})
    assert Bill.objects.filter(unit=unit, kind=BillKind.ADVANCE).count() == 3


def test_staff_without_the_permission_cannot_raise_bills(client, project):
    client.force_login(make_staff(project.company, "steward"))

    assert client.get("/billing/bills/temporary/add/").status_code == 403
    assert client.get("/billing/bills/advance/add/").status_code == 403


def test_the_books_agree_after_temporary_and_advance_bills(project, decoration):
    unit = make_unit(project, area="100.00")
    make_owner(unit)
    temporary_bill_create(project=project, fee_item=decoration, amount=Decimal("80.00"), reason="清运",
                          due_date=TODAY, period_start=TODAY, unit=unit)
    advance_bills_create(rule=property_rule(project), unit=unit, periods=6, today=TODAY)

    report = reconcile([project])

    assert report.is_clean, report.differences
    assert receivable(project) == Decimal("1160.00")
