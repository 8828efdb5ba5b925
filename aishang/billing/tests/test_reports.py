"""统计台账: exact figures of every report on a small ledger written by hand, both time axes, aging edges,
reminders, exports, scope and bad input.

The ledger (project 花园, 2026; amounts in yuan):

    bills   b1 101 物业费 Sep 300.00 (due 09-15)   b2 101 物业费 Oct 300.00 (discount 30.00)
            b3 101 停车费 Oct 150.00                b4 202 物业费 Oct 200.00      (due 10-15)
    10-05  P1 cash 100.00 → b1 (part payment)                                       cashier 甲
    10-20  P2 wechat 420.00 → b2 270.00, b3 150.00                                  cashier 甲
    11-02  P2 voided (wechat 420.00 back, b2 −270.00, b3 −150.00), 收错房屋          finance 丙
    11-03  P3 cash 470.00 → b2 270.00, b3 150.00, 50.00 to prepaid                  cashier 乙
    11-04  P3's receipt reprinted                                                   cashier 甲
    11-10  P3 refunded 150.00 in cash (b3 −150.00), 停车费多收                       finance 丙
    11-12  b1 waived 50.00, 漏水补偿;  11-15 b4 voided 200.00, 重复出账
    11-16  P4 预存冲抵 50.00 → b1                                                    cashier 甲

Another project (商业街) has a bill of 500.00 paid in cash on 10-06, which no one scoped to 花园 may see.
"""

import datetime
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aishang.billing import reports
from aishang.billing.balances import bill_outstanding
from aishang.billing.models import (
    Allocation,
    ApprovalAction,
    ApprovalRequest,
    ApprovalStatus,
    Bill,
    BillDiscount,
    BillKind,
    BillVoid,
    DiscountScheme,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PaymentTender,
    PrepaidMovement,
    PrepaidMovementKind,
    ReceiptPrint,
    ReversalKind,
    Waiver,
)
from aishang.billing.payments import prepaid_account
from aishang.billing.reports import Dimension, ReportFilters, View
from aishang.core.testing import (
    api_client,
    make_building,
    make_company,
    make_customer,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    make_unit,
)
from aishang.notifications.models import Message

pytestmark = pytest.mark.django_db

D = datetime.date
SEP, OCT, NOV = D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1)


def at(month, day, hour=10):
    return timezone.make_aware(datetime.datetime(2026, month, day, hour))


def money(value):
    return Decimal(value)


class LedgerWriter:
    """Writes bills, payments, voids and refunds of payments, waivers and bill voids straight into the sub-ledger's
    tables, each dated as given."""

    def __init__(self, company, project):
        self.company, self.project, self.receipts, self.default_payer = company, project, 0, None

    def bill(self, unit, fee_item, month, amount, *, project=None, payer=None, kind=BillKind.REGULAR, due_date=None):
        return Bill.objects.create(project=project or self.project, unit=unit, fee_item=fee_item,
                                   payer=payer or self.default_payer, period_start=month,
                                   period_end=reports.month_end(month), due_date=due_date or month.replace(day=15),
                                   amount=Decimal(amount), kind=kind)

    def pay(self, unit, when, cashier, tenders, allocations, *, to_prepaid=None, from_prepaid=None, project=None):
        project = project or self.project
        self.receipts += 1
        payment = Payment.objects.create(
            company=self.company, project=project, unit=unit, payer=allocations[0][0].payer,
            amount=sum(Decimal(amount) for _method, amount in tenders), receipt_number=f"SJ2026-{self.receipts:06d}",
            cashier=cashier, received_at=when)
        for method, amount in tenders:
            PaymentTender.objects.create(payment=payment, method=method, amount=Decimal(amount))
        for bill, amount in allocations:
            Allocation.objects.create(project=project, payment=payment, bill=bill, amount=Decimal(amount),
                                      created_at=when)
        for amount, kind in ((to_prepaid, PrepaidMovementKind.OVERPAYMENT), (from_prepaid, None)):
            if amount:
                PrepaidMovement.objects.create(
                    project=project, account=prepaid_account(unit), kind=kind or PrepaidMovementKind.PAYMENT,
                    amount=Decimal(amount) if kind else -Decimal(amount), payment=payment, created_by=cashier,
                    created_at=when)
        return payment

    def request(self, action, amount, reason, when, *, project, **subject):
        return ApprovalRequest.objects.create(
            company=self.company, project=project, action=action, amount=Decimal(amount), reason=reason,
            status=ApprovalStatus.APPROVED, requested_by=self.finance, decided_at=when, **subject)

    def reverse(self, payment, kind, amount, method, when, reason, allocations):
        action = ApprovalAction.PAYMENT_VOID if kind == ReversalKind.VOID else ApprovalAction.REFUND
        reversal = PaymentReversal.objects.create(
            project=payment.project, payment=payment, kind=kind, amount=Decimal(amount), method=method,
            request=self.request(action, amount, reason, when, project=payment.project, payment=payment),
            created_at=when, created_by=self.finance)
        for bill, part in allocations:
            Allocation.objects.create(project=payment.project, payment=payment, bill=bill, amount=-Decimal(part),
                                      reversal=reversal, created_at=when)
        return reversal

    def correct(self, model, bill, amount, when, reason):
        action = ApprovalAction.WAIVER if model is Waiver else ApprovalAction.VOID
        return model.objects.create(project=bill.project, bill=bill, amount=Decimal(amount), created_at=when,
                                    request=self.request(action, amount, reason, when, project=bill.project,
                                                         bill=bill))


class Ledger(LedgerWriter):
    """The hand-made ledger of the module docstring, written straight into the sub-ledger's tables."""

    def __init__(self):
        company = make_company()
        super().__init__(company, make_project(company, name="花园"))
        self.other = make_project(self.company, name="商业街")
        self.building1, self.building2 = make_building(self.project, code="1"), make_building(self.project, code="2")
        self.unit1 = make_unit(self.project, building=self.building1, number="101")
        self.unit2 = make_unit(self.project, building=self.building2, number="202")
        self.owner1, self.owner2 = make_owner(self.unit1), make_owner(self.unit2, make_customer(self.project,
                                                                                                 mobile=""))
        self.property_fee = make_fee_item(self.company, name="物业费")
        self.parking_fee = make_fee_item(self.company, name="停车费")
        self.cashier1 = make_staff(self.company, "cashier")
        self.cashier2 = make_staff(self.company, "cashier")
        self.finance = make_staff(self.company, "finance")
        self.default_payer = self.owner1
        self.b1 = self.bill(self.unit1, self.property_fee, SEP, "300.00")
        self.b2 = self.bill(self.unit1, self.property_fee, OCT, "300.00")
        self.b3 = self.bill(self.unit1, self.parking_fee, OCT, "150.00")
        self.b4 = self.bill(self.unit2, self.property_fee, OCT, "200.00", payer=self.owner2)
        scheme = DiscountScheme.objects.create(company=self.company, name="老人九折", kind="amount",
                                               amount=Decimal("30.00"), valid_from=SEP)
        BillDiscount.objects.create(project=self.project, bill=self.b2, scheme=scheme, amount=Decimal("30.00"),
                                    created_at=at(10, 1, 0))
        self.p1 = self.pay(self.unit1, at(10, 5), self.cashier1, [("cash", "100.00")], [(self.b1, "100.00")])
        self.p2 = self.pay(self.unit1, at(10, 20), self.cashier1, [("wechat", "420.00")],
                           [(self.b2, "270.00"), (self.b3, "150.00")])
        self.reverse(self.p2, ReversalKind.VOID, "420.00", "wechat", at(11, 2), "收错房屋",
                     [(self.b2, "270.00"), (self.b3, "150.00")])
        self.p3 = self.pay(self.unit1, at(11, 3), self.cashier2, [("cash", "470.00")],
                           [(self.b2, "270.00"), (self.b3, "150.00")], to_prepaid="50.00")
        ReceiptPrint.objects.create(payment=self.p3, copy_number=1, printed_by=self.cashier2, printed_at=at(11, 3))
        ReceiptPrint.objects.create(payment=self.p3, copy_number=2, printed_by=self.cashier1, printed_at=at(11, 4),
                                    output="pdf")
        self.reverse(self.p3, ReversalKind.REFUND, "150.00", "cash", at(11, 10), "停车费多收", [(self.b3, "150.00")])
        self.correct(Waiver, self.b1, "50.00", at(11, 12), "漏水补偿")
        self.correct(BillVoid, self.b4, "200.00", at(11, 15), "重复出账")
        self.p4 = self.pay(self.unit1, at(11, 16), self.cashier1, [("prepaid", "50.00")], [(self.b1, "50.00")],
                           from_prepaid="50.00")
        other_unit = make_unit(self.other, number="1")
        self.bq = self.bill(other_unit, self.property_fee, OCT, "500.00", project=self.other,
                            payer=make_owner(other_unit))
        self.pq = self.pay(other_unit, at(10, 6), self.cashier1, [("cash", "500.00")], [(self.bq, "500.00")],
                           project=self.other)


@pytest.fixture
def ledger():
    return Ledger()


@pytest.fixture
def finance(ledger):
    """财务 of 花园 only: everything of 商业街 is out of scope."""
    return make_staff(ledger.company, "finance", projects=[ledger.project])


def cash_view(**fields):
    return ReportFilters(view=View.CASH, **fields)


def accrual_view(**fields):
    return ReportFilters(view=View.ACCRUAL, **fields)


def by_group(table):
    return {str(row["group"]): row for row in table.rows}


def test_the_ledger_leaves_the_bills_as_the_docstring_says(ledger):
    assert [bill_outstanding(bill) for bill in (ledger.b1, ledger.b2, ledger.b3, ledger.b4)] == [
        money("100.00"), money("0.00"), money("150.00"), money("0.00")]


# 应收台账


def test_receivable_detail_shows_each_bill_with_what_became_of_it_and_exact_totals(ledger, finance):
    table = reports.receivable_detail(finance, accrual_view(period_from=SEP, period_to=OCT))

    assert table.rows.count() == 4  # 商业街's bill is out of scope
    assert table.totals == {"amount": money("950.00"), "discounted": money("30.00"), "waived": money("50.00"),
                            "voided": money("200.00"), "paid": money("420.00"), "outstanding": money("250.00")}
    rows = {row["pk"]: row for row in table.page_rows(table.rows)}
    assert rows[ledger.b1.pk]["outstanding"] == money("100.00")
    assert rows[ledger.b3.pk]["paid"] == money("0.00")
    assert rows[ledger.b1.pk]["subject"] == ledger.unit1.code


def test_receivable_summary_by_fee_item_and_by_building_add_up_to_the_same_totals(ledger, finance):
    by_item = reports.receivable_summary(finance, accrual_view(period_from=SEP, period_to=OCT), Dimension.FEE_ITEM)
    by_building = reports.receivable_summary(finance, accrual_view(period_from=SEP, period_to=OCT),
                                             Dimension.BUILDING)

    assert by_group(by_item)["物业费"]["outstanding"] == money("100.00")
    assert by_group(by_item)["停车费"]["outstanding"] == money("150.00")
    assert by_item.totals == by_building.totals
    assert by_item.totals["outstanding"] == money("250.00")
    building2 = next(row for row in by_building.rows if row["group_key"] == ledger.building2.pk)
    assert building2["voided"] == money("200.00") and building2["outstanding"] == money("0.00")


# 收款明细 and 收款汇总: the cash view against the accrual view


def test_collections_detail_in_the_cash_view_lists_tenders_and_negative_voids_and_refunds(ledger, finance):
    table = reports.collections_detail(finance, cash_view(date_from=D(2026, 10, 1), date_to=D(2026, 11, 30)))
    rows = table.page_rows(table.rows)

    assert [(row["receipt_number"], row["line_type"], row["line_amount"]) for row in rows] == [
        ("SJ2026-000004", "收款", money("50.00")),
        ("SJ2026-000003", "退款", money("-150.00")),
        ("SJ2026-000003", "收款", money("470.00")),
        ("SJ2026-000002", "作废", money("-420.00")),
        ("SJ2026-000002", "收款", money("420.00")),
        ("SJ2026-000001", "收款", money("100.00")),
    ]
    assert table.totals == {"line_amount": money("470.00")}
    assert table.extra["split"] == {"gross": money("1040.00"), "reversed": money("-570.00"), "net": money("470.00"),
                                    "offset": money("50.00"), "received": money("420.00")}


def test_the_cash_view_counts_october_and_november_by_when_money_moved(ledger, finance):
    october = reports.collections_detail(finance, cash_view(date_from=D(2026, 10, 1), date_to=D(2026, 10, 31)))
    november = reports.collections_detail(finance, cash_view(date_from=D(2026, 11, 1), date_to=D(2026, 11, 30)))

    assert october.totals["line_amount"] == money("520.00")
    assert november.totals["line_amount"] == money("-50.00")  # P2's void falls in November


def test_the_accrual_view_counts_what_the_bills_of_a_period_received(ledger, finance):
    september = reports.collections_detail(finance, accrual_view(period_from=SEP, period_to=SEP))
    october = reports.collections_detail(finance, accrual_view(period_from=OCT, period_to=OCT))

    assert september.totals["line_amount"] == money("150.00")
    assert september.extra["split"]["offset"] == money("50.00")
    assert october.totals["line_amount"] == money("270.00")
    assert october.extra["split"]["gross"] == money("840.00")
    assert october.extra["split"]["reversed"] == money("-570.00")
    assert {row["period"] for row in october.page_rows(october.rows)} == {"2026-10"}


def test_collections_summary_by_method_and_by_cashier(ledger, finance):
    filters = cash_view(date_from=D(2026, 10, 1), date_to=D(2026, 11, 30))
    by_method = by_group(reports.collections_summary(finance, filters, Dimension.METHOD))
    by_cashier = reports.collections_summary(finance, filters, Dimension.CASHIER)

    assert by_method["现金"]["net"] == money("420.00")
    assert by_method["微信"]["gross"] == money("420.00") and by_method["微信"]["net"] == money("0.00")
    assert by_method["预存冲抵"]["offset"] == money("50.00") and by_method["预存冲抵"]["received"] == money("0.00")
    cashiers = {row["group_key"]: row for row in by_cashier.rows}
    assert cashiers[ledger.cashier1.pk]["gross"] == money("570.00")
    assert cashiers[ledger.cashier2.pk]["gross"] == money("470.00")
    assert cashiers[ledger.finance.pk]["reversed"] == money("-570.00")
    assert by_cashier.totals["net"] == money("470.00")


def test_collections_summary_by_fee_item_in_the_cash_view_keeps_the_totals_with_a_prepaid_row(ledger, finance):
    filters = cash_view(date_from=D(2026, 10, 1), date_to=D(2026, 11, 30))
    table = reports.collections_summary(finance, filters, Dimension.FEE_ITEM)
    rows = by_group(table)

    assert rows["物业费"]["net"] == money("420.00")
    assert rows["停车费"]["net"] == money("0.00") and rows["停车费"]["reversed"] == money("-300.00")
    assert rows["未核销到账单（预存、押金等）"]["net"] == money("50.00")
    assert table.totals == reports.collections_summary(finance, filters, Dimension.METHOD).totals


def test_received_and_offset_are_told_apart(ledger, finance):
    filters = dict(date_from=D(2026, 10, 1), date_to=D(2026, 11, 30))
    offset = reports.collections_detail(finance, cash_view(kind=reports.Kind.OFFSET, **filters))
    received = reports.collections_detail(finance, cash_view(kind=reports.Kind.RECEIVED, **filters))

    assert offset.totals["line_amount"] == money("50.00")
    assert received.totals["line_amount"] == money("420.00")


def test_collections_filter_by_cashier_method_building_and_fee_item(ledger, finance):
    filters = dict(date_from=D(2026, 10, 1), date_to=D(2026, 11, 30))

    def net(**more):
        return reports.collections_detail(finance, cash_view(**filters, **more)).totals["line_amount"]

    assert net(cashier=ledger.cashier2) == money("470.00")
    assert net(method=PaymentMethod.CASH) == money("420.00")
    assert net(building=ledger.building2) == money("0.00")
    assert net(fee_item=ledger.parking_fee) == money("320.00")  # payments that touched 停车费: P2 (voided) and P3
    assert net(unit=ledger.unit1) == money("470.00")


# 减免 and 作废


def test_waivers_and_voids_with_who_and_why(ledger, finance):
    waivers = reports.corrections_detail(Waiver, finance, cash_view(date_from=D(2026, 11, 1),
                                                                    date_to=D(2026, 11, 30)))
    voids = reports.corrections_summary(BillVoid, finance, accrual_view(period_from=OCT, period_to=OCT),
                                        Dimension.BUILDING)

    [waiver] = waivers.page_rows(waivers.rows)
    assert (waiver["amount"], waiver["reason"], waiver["requester_name"]) == (money("50.00"), "漏水补偿",
                                                                             str(ledger.finance))
    assert waivers.totals == {"amount": money("50.00")}
    assert voids.totals == {"count": 1, "amount": money("200.00")}
    assert reports.corrections_detail(Waiver, finance, cash_view(date_from=D(2026, 10, 1),
                                                                 date_to=D(2026, 10, 31))).totals["amount"] == 0


# 收费情况统计


def test_collection_rate_of_october_and_of_the_arrears_brought_into_it(ledger, finance):
    table = reports.collection_rate(finance, ReportFilters(period_from=OCT, period_to=OCT), Dimension.PROJECT)

    assert table.extra["as_of"] == D(2026, 10, 31)
    [row] = table.rows
    assert row["receivable"] == money("620.00")  # 650 less the 30 discount
    assert row["due"] == money("620.00")  # the void of b4 came in November
    assert row["collected"] == money("420.00")  # P2, voided only on 11-02
    assert row["outstanding"] == money("200.00")
    assert row["rate"] == money("67.74")
    assert row["opening_arrears"] == money("300.00") and row["arrears_collected"] == money("100.00")
    assert row["arrears_rate"] == money("33.33")
    assert table.totals["rate"] == money("67.74")


# 变更记录


def test_change_log_lists_every_void_waiver_refund_and_reprint_with_who_and_why(ledger, finance):
    table = reports.changes_report(finance, cash_view(date_from=D(2026, 11, 1), date_to=D(2026, 11, 30)))
    rows = table.page_rows(table.rows)

    assert [(row["change_kind"], row["change_amount"], row["change_reason"]) for row in rows] == [
        ("账单作废", money("200.00"), "重复出账"),
        ("账单减免", money("50.00"), "漏水补偿"),
        ("收款退款", money("150.00"), "停车费多收"),
        ("收据补打", money("470.00"), "补打，第 2 次打印（下载 PDF）"),
        ("收款作废", money("420.00"), "收错房屋"),
    ]
    assert rows[3]["change_by"] == str(ledger.cashier1)
    assert {row["change_by"] for row in rows if row["change_kind"] != "收据补打"} == {str(ledger.finance)}
    assert {row["kind"]: row["count"] for row in table.extra["by_kind"]}["收据补打"] == 1


# 对账单


def test_statement_of_a_unit_runs_from_the_opening_to_the_closing_balance(ledger, finance):
    result = reports.statement(finance, unit=ledger.unit1, date_from=D(2026, 10, 1), date_to=D(2026, 11, 30))

    assert result["opening"] == money("300.00")
    assert [(line["kind"], line["debit"], line["credit"]) for line in result["lines"]] == [
        ("应收", money("300.00"), None), ("应收", money("150.00"), None), ("优惠", None, money("30.00")),
        ("收款", None, money("100.00")), ("收款", None, money("420.00")), ("作废", money("420.00"), None),
        ("收款", None, money("420.00")), ("退款", money("150.00"), None), ("减免", None, money("50.00")),
        ("收款", None, money("50.00")),
    ]
    assert result["closing"] == money("250.00") == bill_outstanding(ledger.b1) + bill_outstanding(ledger.b3)
    assert result["lines"][-1]["balance"] == result["closing"]


def test_statement_of_a_customer_covers_the_bills_they_pay(ledger, finance):
    result = reports.statement(finance, customer=ledger.owner2, date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))

    assert result["opening"] == 0
    assert [(line["kind"], line["debit"], line["credit"]) for line in result["lines"]] == [
        ("应收", money("200.00"), None), ("作废", None, money("200.00"))]
    assert result["closing"] == 0


# 欠费 by age


def test_arrears_by_age_today_and_at_the_end_of_october(ledger, finance):
    today = reports.arrears_report(finance, ReportFilters(as_of=D(2026, 11, 24)))
    october = reports.arrears_report(finance, ReportFilters(as_of=D(2026, 10, 31)))

    [row] = today.page_rows(today.rows)
    assert (row["unit_id"], row["total"], row["age_31_90"], row["bill_count"]) == (
        ledger.unit1.pk, money("250.00"), money("250.00"), 2)
    assert row["days"] == 70 and row["oldest_due"] == D(2026, 9, 15)
    rows = {row["unit_id"]: row for row in october.page_rows(october.rows)}
    assert rows[ledger.unit1.pk]["total"] == money("200.00") and rows[ledger.unit1.pk]["age_31_90"] == 200
    assert rows[ledger.unit2.pk]["age_0_30"] == money("200.00")
    assert october.totals["total"] == money("400.00") and october.extra["subjects"] == 2


@pytest.mark.parametrize(("days_overdue", "bucket"), [
    (0, "age_0_30"), (30, "age_0_30"), (31, "age_31_90"), (90, "age_31_90"), (91, "age_91_365"),
    (365, "age_91_365"), (366, "age_over_365")])
def test_aging_buckets_at_their_edges(days_overdue, bucket):
    company = make_company()
    project = make_project(company)
    unit = make_unit(project)
    as_of = D(2026, 11, 24)
    due = as_of - datetime.timedelta(days=days_overdue)
    Bill.objects.create(project=project, unit=unit, fee_item=make_fee_item(company), period_start=due.replace(day=1),
                        period_end=reports.month_end(due), due_date=due, amount=Decimal("88.80"))
    Bill.objects.create(project=project, unit=unit, fee_item=make_fee_item(company), period_start=as_of,
                        period_end=as_of, due_date=as_of + datetime.timedelta(days=1), amount=Decimal("1.00"))

    table = reports.arrears_report(make_staff(company, "finance"), ReportFilters(as_of=as_of))

    [row] = table.page_rows(table.rows)
    assert row[bucket] == row["total"] == money("88.80")  # the bill not yet due is not arrears
    assert sum(row[key] for key, *_rest in reports.AGING_BUCKETS) == money("88.80")


def test_reminders_go_once_per_unit_a_day_and_count_who_cannot_be_reached(ledger, finance):
    filters = ReportFilters(as_of=D(2026, 10, 31))

    first = reports.arrears_remind(user=finance, filters=filters, actor=finance)
    again = reports.arrears_remind(user=finance, filters=filters, actor=finance)

    assert (first.queued, first.unreachable, first.already) == (1, 1, 0)  # owner2 has no mobile number
    assert (again.queued, again.already) == (0, 2)
    message = Message.objects.get(template_code="arrears_reminder", recipient_customer=ledger.owner1)
    assert "1-101" in message.body or ledger.unit1.code in message.body
    assert "200.00元" in message.body and "2026-09-15" in message.body
    assert Message.objects.filter(template_code="arrears_reminder").count() == 2


def test_reminders_for_chosen_units_only(ledger, finance):
    result = reports.arrears_remind(user=finance, filters=ReportFilters(as_of=D(2026, 10, 31)),
                                    unit_ids=[ledger.unit1.pk], actor=finance)

    assert result.queued == 1
    assert Message.objects.filter(template_code="arrears_reminder").count() == 1


# Scope


def test_another_projects_data_never_shows(ledger, finance):
    everything = dict(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))
    tables = [
        reports.receivable_detail(finance, accrual_view(period_from=SEP, period_to=OCT)),
        reports.collections_detail(finance, cash_view(**everything)),
        reports.collections_detail(finance, accrual_view(period_from=SEP, period_to=OCT)),
        reports.changes_report(finance, cash_view(**everything)),
        reports.arrears_report(finance, ReportFilters(as_of=D(2026, 10, 31))),
    ]
    for table in tables:
        text = str(table.page_rows(table.rows))
        assert "商业街" not in text and "500.00" not in text
    summary = reports.collections_summary(finance, cash_view(**everything), Dimension.PROJECT)
    assert list(by_group(summary)) == ["花园"]
    admin = make_staff(ledger.company, "admin")
    assert by_group(reports.collections_summary(admin, cash_view(**everything), Dimension.PROJECT))["商业街"][
        "net"] == money("500.00")
    assert reports.statement(finance, unit=ledger.bq.unit, date_from=SEP, date_to=NOV)["lines"] == []


# Pages, export and API


def page(client, slug, **params):
    return client.get(reverse("billing:report", args=[slug]), params)


def test_the_index_lists_the_reports_a_role_may_open_and_the_menu_leads_there(client, ledger):
    client.force_login(make_staff(ledger.company, "finance"))
    index = client.get(reverse("billing:report_index")).content.decode()

    for title in ("收款明细", "收款汇总", "收费情况统计", "变更记录", "对账单", "欠费账龄", "应收台账"):
        assert title in index
    assert f'href="{reverse("billing:report_index")}"' in index  # the menu entry is live

    client.force_login(make_staff(ledger.company, "steward"))  # 管家 reads bills, not payments
    index = client.get(reverse("billing:report_index")).content.decode()
    assert "欠费账龄" in index and "收款明细" not in index
    assert page(client, "collections").status_code == 403


def test_collections_page_shows_the_rows_the_totals_row_and_the_split(client, ledger, finance):
    client.force_login(finance)
    response = page(client, "collections", date_from="2026-10-01", date_to="2026-11-30")
    html = response.content.decode()

    assert response.status_code == 200
    assert "SJ2026-000003" in html and "-¥150.00" in html and "商业街" not in html
    assert 'data-testid="totals"' in html and "¥470.00" in html
    assert "其中冲抵" in html and "¥50.00" in html


def test_summaries_have_a_chart_of_their_groups(client, ledger, finance):
    client.force_login(finance)
    response = page(client, "collections-summary", date_from="2026-10-01", date_to="2026-11-30", group_by="method")
    html = response.content.decode()

    assert 'id="report-chart"' in html and "vendor/echarts/echarts.min.js" in html
    assert 'id="report-chart-data"' in html
    assert response.context["chart"]["categories"] == ["现金", "微信", "预存冲抵"]


@pytest.mark.parametrize(("slug", "params"), [
    ("collections", {"date_from": "2026-10-01", "date_to": "2026-11-30"}),
    ("collections-summary", {"date_from": "2026-10-01", "date_to": "2026-11-30", "group_by": "fee_item"}),
    ("collection-rate", {"period_from": "2026-10", "period_to": "2026-10", "group_by": "project"}),
    ("receivable", {"period_from": "2026-09", "period_to": "2026-10", "mode": "summary", "group_by": "building"}),
    ("arrears", {"as_of": "2026-10-31"}),
    ("changes", {"date_from": "2026-11-01", "date_to": "2026-11-30"}),
])
def test_every_report_exports_to_xlsx_with_the_same_totals(client, ledger, finance, slug, params):
    client.force_login(finance)
    table = page(client, slug, **params).context["table"]

    response = page(client, slug, export="xlsx", **params)

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [str(column.label) for column in table.columns]
    totals = rows[-1]
    assert totals[0] == "合计"
    for index, column in enumerate(table.columns):
        expected = table.totals.get(column.key)
        if index and expected is not None:
            assert Decimal(str(totals[index])) == expected, column.key
    assert len(rows) == 2 + (table.rows.count() if hasattr(table.rows, "count") and not isinstance(
        table.rows, list) else len(table.rows))


def test_export_needs_the_export_permission(client, ledger):
    client.force_login(make_staff(ledger.company, "cashier"))  # 收银员: may read payments, may not export

    assert page(client, "collections").status_code == 200
    assert page(client, "collections", export="xlsx").status_code == 403


def test_the_statement_page_prints_a_units_account(client, ledger, finance):
    client.force_login(finance)
    response = client.get(reverse("billing:report_statement_unit", args=[ledger.unit1.pk]),
                          {"date_from": "2026-10-01", "date_to": "2026-11-30"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "期初欠费" in html and "¥300.00" in html and "期末欠费" in html and "¥250.00" in html
    assert "@media print" in html and "收错房屋" in html
    by_code = client.get(reverse("billing:report_statement"), {"unit": ledger.unit1.code,
                                                               "date_from": "2026-10-01", "date_to": "2026-11-30"})
    assert by_code.context["result"]["closing"] == money("250.00")
    other = client.get(reverse("billing:report_statement_unit", args=[ledger.bq.unit_id]))
    assert other.status_code == 404


def test_dunning_from_the_arrears_page_queues_one_message_per_unit_a_day(client, ledger, finance):
    client.force_login(finance)
    querystring = urlencode({"as_of": "2026-10-31"})
    url = reverse("billing:report_arrears_remind")

    first = client.post(url, {"querystring": querystring, "select_all_matching": "1"}, follow=True)
    again = client.post(url, {"querystring": querystring, "pk": [ledger.unit1.pk]}, follow=True)

    assert "已加入发送队列 1 条催缴短信；今天已催缴过 0 户；1 户没有缴费人或手机号" in first.content.decode()
    assert "已加入发送队列 0 条催缴短信；今天已催缴过 1 户" in again.content.decode()
    assert Message.objects.filter(template_code="arrears_reminder", status="pending").count() == 1
    nothing = client.post(url, {"querystring": querystring}, follow=True)
    assert "请先勾选要催缴的房屋" in nothing.content.decode()


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"date_from": "2026-13-01"}, "date_from", "请按 2026-11-23 的格式填写日期"),
    ({"date_from": "2026-11-30", "date_to": "2026-11-01"}, "date_to", "结束日期不能早于开始日期"),
    ({"view": "accrual", "period_from": "2026/11"}, "period_from", "请按 2026-11 的格式填写月份"),
    ({"unit": "9-9-999"}, "unit", "没有找到房屋「9-9-999」"),
    ({"project": "999999999"}, "project", "选择一个有效的选项"),
    ({"date_from": "0001-01-01"}, "date_from", "日期须在 1900 年到 2999 年之间"),
])
def test_bad_filters_get_a_chinese_message_at_their_field_not_a_500(client, ledger, finance, params, field, message):
    client.force_login(finance)

    response = page(client, "collections", **params)

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in response.content.decode()


def test_bad_arrears_date_is_refused_too(client, ledger, finance):
    client.force_login(finance)

    assert page(client, "arrears", as_of="yesterday").status_code == 400
    assert page(client, "no-such-report").status_code == 404


def test_the_api_answers_the_same_figures_and_refuses_bad_filters_in_chinese(ledger, finance):
    client = api_client(finance)

    response = client.get("/api/v1/reports/collections-summary/", {
        "date_from": "2026-10-01", "date_to": "2026-11-30", "group_by": "method"})
    body = response.json()

    assert response.status_code == 200
    assert body["totals"]["net"] == "470.00"
    assert {row["group"]: row["net"] for row in body["results"]} == {"现金": "420.00", "微信": "0.00",
                                                                     "预存冲抵": "50.00"}
    arrears = client.get("/api/v1/reports/arrears/", {"as_of": "2026-10-31"}).json()
    assert arrears["totals"]["total"] == "400.00" and arrears["count"] == 2
    statement = client.get("/api/v1/reports/statement/", {"unit": ledger.unit1.code, "date_from": "2026-10-01",
                                                          "date_to": "2026-11-30"}).json()
    assert (statement["opening"], statement["closing"]) == ("300.00", "250.00")
    bad = client.get("/api/v1/reports/collections/", {"date_from": "2026-02-30"})
    assert bad.status_code == 400 and bad.json()["date_from"] == ["请按 2026-11-23 的格式填写日期"]
    other = client.get("/api/v1/reports/collections/", {"project": ledger.other.pk})
    assert other.status_code == 400  # another project is not a choice
    assert api_client(make_staff(ledger.company, "steward")).get("/api/v1/reports/collections/").status_code == 403
    assert api_client().get("/api/v1/reports/collections/").status_code == 401
