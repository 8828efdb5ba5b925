"""导入历史账单: paid and unpaid bills from xlsx, all or nothing, with their payments and journal."""

import datetime
import io
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from aishang.billing import imports
from aishang.billing.balances import bill_outstanding
from aishang.billing.imports import COLUMNS, BillImport, bill_import, bill_import_start, bill_import_template
from aishang.billing.models import (
    Account,
    Allocation,
    Bill,
    BillKind,
    JournalEntry,
    Payment,
    PaymentSource,
    PaymentTender,
    Posting,
    ReceiptSequence,
)
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.reconcile import reconcile
from aishang.core.money import money_total
from aishang.core.testing import (
    api_client,
    make_bill,
    make_company,
    make_customer,
    make_fee_item,
    make_occupancy,
    make_project,
    make_role,
    make_staff,
    make_unit,
)
from aishang.extras.choices import JobStatus
from aishang.extras.importing import ImportRejected, import_errors_xlsx
from aishang.extras.models import Job

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in COLUMNS]
TODAY = timezone.localdate()
THIS_YEAR = TODAY.year


def bill_row(unit, fee_item="物业费", start="2025-01-01", end="2025-01-31", amount="216.90", **values):
    row = {"房屋编码": getattr(unit, "code", unit), "收费项目": fee_item, "开始时间": start, "结束时间": end,
           "应收金额": amount}
    row.update(values)
    return row


def paid(unit, amount="216.90", paid_amount=None, method="现金", on="2025-01-10", **values):
    return bill_row(unit, amount=amount, 实收金额=paid_amount or amount, 收款日期=on, 收款方式=method, **values)


def xlsx_file(rows, headers=None, name="历史账单.xlsx"):
    headers = headers or list(dict.fromkeys([*HEADERS, *(key for row in rows for key in row)]))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def written(project):
    return (Bill.objects.filter(project=project).count(), Payment.objects.filter(project=project).count(),
            Allocation.objects.filter(project=project).count(), JournalEntry.objects.filter(project=project).count())


def rejected(project, rows, actor=None, **kwargs):
    before = written(project)
    with pytest.raises(ImportRejected) as caught:
        # The day the parametrized messages were written with, though the clock may pass midnight meanwhile.
        bill_import(project=project, file=xlsx_file(rows, **kwargs), actor=actor, today=TODAY)
    assert written(project) == before
    return caught.value.errors.as_list()


def ledger(project, account, fee_item=None, method=None):
    postings = Posting.objects.filter(project=project, account=account)
    if fee_item is not None:
        postings = postings.filter(fee_item=fee_item)
    if method is not None:
        postings = postings.filter(method=method)
    return money_total(postings)


def reconcile_output(project):
    out = StringIO()
    call_command("reconcile", "--project", project.code, stdout=out)
    return out.getvalue()


@pytest.fixture
def fee_items(project):
    return (make_fee_item(project.company, code="WY", name="物业费"),
            make_fee_item(project.company, code="TC", name="停车费"))


@pytest.fixture
def units(project):
    return [make_unit(project, number=str(number)) for number in (301, 302, 303)]


@pytest.fixture
def finance(project):
    return make_staff(project.company, "finance")


# A good file ---------------------------------------------------------------------------------

def test_a_good_file_creates_bills_payments_allocations_and_journal_totals_and_reconcile_stays_clean(
        project, fee_items, units, finance):
    property_fee, parking_fee = fee_items
    owner = make_customer(project, name="张三")
    make_occupancy(units[0], owner, is_payer=True, start_date=datetime.date(2020, 1, 1))
    rows = [
        paid(units[0], "216.90", method="现金", 收据号="OLD-0001"),
        paid(units[0], "216.90", "100.00", method="微信", start="2025-02-01", end="2025-02-28", on="2025-02-05"),
        bill_row(units[1], amount="180.00"),
        paid(units[2], "150.00", method="银行转账", fee_item="TC", on="2025-01-20"),
        bill_row(units[2], fee_item="停车费", start="2025-02-01", end="2025-02-28", amount="150.00"),
    ]

    result = bill_import(project=project, file=xlsx_file(rows), actor=finance, receipt_prefix="DR9")

    assert result == {"bills": 5, "total": "¥913.80", "payments": 3, "paid": "¥466.90", "open_bills": 3}
    bills = Bill.objects.filter(project=project).order_by("pk")
    assert {(b.kind, b.rule_id, b.run_id) for b in bills} == {(BillKind.IMPORTED, None, None)}
    first = bills[0]
    assert (first.unit, first.fee_item, first.period_start, first.period_end, first.due_date, first.amount,
            first.payer) == (units[0], property_fee, datetime.date(2025, 1, 1), datetime.date(2025, 1, 31),
                             datetime.date(2025, 1, 31), Decimal("216.90"), owner)
    assert "历史导入" in first.computation and "第 2 行" in first.computation
    assert [bill_outstanding(b) for b in bills] == [Decimal("0.00"), Decimal("116.90"), Decimal("180.00"),
                                                    Decimal("0.00"), Decimal("150.00")]

    payments = Payment.objects.filter(project=project).order_by("pk")
    assert [(p.receipt_number, p.amount, p.source, p.cashier_id) for p in payments] == [
        ("OLD-0001", Decimal("216.90"), PaymentSource.IMPORT, None),
        ("DR9-3", Decimal("100.00"), PaymentSource.IMPORT, None),
        ("DR9-5", Decimal("150.00"), PaymentSource.IMPORT, None),
    ]
    assert timezone.localtime(payments[0].received_at).date() == datetime.date(2025, 1, 10)
    assert payments[0].payer == owner
    assert [(t.method, t.amount) for t in PaymentTender.objects.filter(payment__project=project).order_by("pk")] == [
        ("cash", Decimal("216.90")), ("wechat", Decimal("100.00")), ("transfer", Decimal("150.00"))]
    assert Allocation.objects.filter(project=project).count() == 3
    assert money_total(Allocation.objects.filter(project=project)) == Decimal("466.90")

    # One entry for the bills and one for the payments of each fee item in the batch, not one per bill.
    entries = JournalEntry.objects.filter(project=project)
    assert sorted(entries.values_list("event", flat=True)) == ["bills_imported", "bills_imported",
                                                                "payments_imported", "payments_imported"]
    assert ledger(project, Account.RECEIVABLE, property_fee) == Decimal("613.80") - Decimal("316.90")
    assert ledger(project, Account.RECEIVABLE, parking_fee) == Decimal("300.00") - Decimal("150.00")
    assert ledger(project, Account.REVENUE) == Decimal("-913.80")
    assert ledger(project, Account.CASH, method="cash") == Decimal("216.90")
    assert ledger(project, Account.CASH, method="wechat") == Decimal("100.00")
    assert ledger(project, Account.CASH, method="transfer") == Decimal("150.00")
    assert reconcile([project]).is_clean
    assert "对账结果：一致" in reconcile_output(project)


def test_a_large_file_is_written_in_batches_with_one_journal_entry_per_fee_item_per_batch(
        project, fee_items, units, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    rows = [paid(units[0], "10.00", start=f"2025-{month:02d}-01", end=f"2025-{month:02d}-28",
                 on=f"2025-{month:02d}-10") for month in range(1, 6)]

    bill_import(project=project, file=xlsx_file(rows))

    assert JournalEntry.objects.filter(project=project, event="bills_imported").count() == 3
    assert JournalEntry.objects.filter(project=project, event="payments_imported").count() == 3
    assert ledger(project, Account.CASH) == Decimal("50.00")
    assert ledger(project, Account.RECEIVABLE) == Decimal("0.00")
    assert reconcile([project]).is_clean


def test_dates_and_amounts_are_read_as_clerks_write_them(project, fee_items, units):
    rows = [
        bill_row(units[0], start=datetime.datetime(2025, 1, 1), end=datetime.date(2025, 1, 31), amount=0.1 + 0.2),
        bill_row(units[0], start="2025/2/1", end="2025年2月28日", amount="1,200.5"),
        bill_row(units[0], start="2025-03", end="2025-03", amount="¥99"),
        bill_row(units[0], start="20250401", end="2025.04.30", amount=12),
    ]

    bill_import(project=project, file=xlsx_file(rows))

    bills = Bill.objects.filter(project=project).order_by("period_start")
    assert [(b.period_start.isoformat(), b.period_end.isoformat(), b.amount) for b in bills] == [
        ("2025-01-01", "2025-01-31", Decimal("0.30")), ("2025-02-01", "2025-02-28", Decimal("1200.50")),
        ("2025-03-01", "2025-03-31", Decimal("99.00")), ("2025-04-01", "2025-04-30", Decimal("12.00"))]


def test_a_due_date_may_be_given_and_old_system_headers_are_understood(project, fee_items, units):
    headers = ["房号", "收费项目", "账期开始", "账期结束", "应缴日期", "应收", "实收", "缴费日期", "支付方式", "票据号"]
    rows = [{"房号": units[0].code, "收费项目": "物业费", "账期开始": "2025-01-01", "账期结束": "2025-12-31",
             "应缴日期": "2025-01-15", "应收": "2400", "实收": "2400", "缴费日期": "2025-01-03", "支付方式": "刷卡/POS",
             "票据号": "2025-A-17"}]

    bill_import(project=project, file=xlsx_file(rows, headers=headers))

    bill = Bill.objects.get(project=project)
    assert bill.due_date == datetime.date(2025, 1, 15)
    assert Payment.objects.get(project=project).receipt_number == "2025-A-17"
    assert PaymentTender.objects.get(payment__project=project).method == "card"


# Bad rows: a row and column message each, and nothing written ------------------------------

@pytest.mark.parametrize(("values", "column", "message"), [
    ({"房屋编码": "9-9-999"}, "房屋编码", "本项目没有房屋 9-9-999"),
    ({"房屋编码": None}, "房屋编码", "必填，不能为空"),
    ({"收费项目": "暖气费"}, "收费项目", "收费项目「暖气费」不存在，请从下拉列表中选择，或先在收费项目中建立"),
    ({"开始时间": "下个月"}, "开始时间", "应为日期，如 2025-01-31，实际为“下个月”"),
    ({"开始时间": "2025-02-30"}, "开始时间", "应为日期，如 2025-01-31，实际为“2025-02-30”"),
    ({"开始时间": (TODAY + datetime.timedelta(days=1)).isoformat(),
      "结束时间": (TODAY + datetime.timedelta(days=30)).isoformat()},
     "开始时间", f"历史账单的开始时间不能晚于今天（{TODAY}）"),
    ({"结束时间": "2024-12-31"}, "结束时间", "结束时间 2024-12-31 早于开始时间 2025-01-01"),
    ({"应收金额": "0"}, "应收金额", "应大于 0"),
    ({"应收金额": "-5"}, "应收金额", "不能为负数"),
    ({"应收金额": "一百"}, "应收金额", "应为金额，如 1200.50，实际为“一百”"),
    ({"应收金额": "10.005"}, "应收金额", "金额最多两位小数，实际为“10.005”"),
    ({"实收金额": "300.00", "收款日期": "2025-01-10", "收款方式": "现金"}, "实收金额",
     "实收金额 300.00 不能大于应收金额 216.90"),
    ({"实收金额": "100", "收款方式": "现金"}, "收款日期", "有实收金额时必填"),
    ({"实收金额": "100", "收款日期": "2025-01-10"}, "收款方式",
     "有实收金额时必填，可选：现金、刷卡、微信、支付宝、银行转账"),
    ({"实收金额": "100", "收款日期": "2025-01-10", "收款方式": "信用"}, "收款方式",
     "“信用”不是可选的值，可选：现金、刷卡、微信、支付宝、银行转账"),
    ({"实收金额": "100", "收款日期": (TODAY + datetime.timedelta(days=1)).isoformat(), "收款方式": "现金"}, "收款日期",
     f"收款日期不能晚于今天（{TODAY}）"),
    ({"收款日期": "2025-01-10", "收款方式": "现金"}, "实收金额", "填写了收款日期、收款方式，但实收金额为空或为 0"),
    ({"实收金额": "100", "收款日期": "2025-01-10", "收款方式": "现金", "收据号": f"SJ{THIS_YEAR}-000001"}, "收据号",
     f"收据号 SJ{THIS_YEAR}-000001 与收银台今年起的编号（SJ年份-序号）相同格式，"
     "会占用收银台今后的收据号；请加上原系统的前缀或留空"),
    ({"备注": "很" * 101}, "备注", "不能超过 100 个字"),
])
def test_a_bad_value_is_refused_by_row_and_column_and_nothing_is_written(project, fee_items, units, values, column,
                                                                          message):
    rows = [bill_row(units[0]), {**bill_row(units[1]), **values}]

    assert rejected(project, rows) == [{"row": 3, "column": column, "message": message}]


def test_an_error_on_the_last_row_of_a_long_file_saves_none_of_the_rows_before_it(project, fee_items, units,
                                                                                  monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)
    rows = [paid(units[0], "10.00", start=f"2025-{month:02d}-01", end=f"2025-{month:02d}-28",
                 on=f"2025-{month:02d}-10") for month in range(1, 11)]
    rows.append(bill_row(units[1], amount="abc"))

    assert rejected(project, rows) == [
        {"row": 12, "column": "应收金额", "message": "应为金额，如 1200.50，实际为“abc”"}]


def test_a_failure_while_writing_the_last_batch_rolls_back_the_batches_before_it(project, fee_items, units,
                                                                                 monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    original = BillImport._save_batch

    def fail_on_the_last_batch(self, rows, now, summary):
        original(self, rows, now, summary)
        if rows[-1] is self.rows[-1]:
            raise IntegrityError("simulated")

    monkeypatch.setattr(BillImport, "_save_batch", fail_on_the_last_batch)
    rows = [paid(units[0], "10.00", start=f"2025-{month:02d}-01", end=f"2025-{month:02d}-28",
                 on=f"2025-{month:02d}-10") for month in range(1, 6)]

    errors = rejected(project, rows)

    assert errors[0]["row"] is None and "请重新导入" in errors[0]["message"]
    assert not ReceiptSequence.objects.exists()


def test_the_same_unit_fee_item_and_period_twice_in_the_file_is_refused_naming_the_first_row(project, fee_items,
                                                                                             units):
    rows = [bill_row(units[0]), bill_row(units[1]), bill_row(units[0], amount="100.00"),
            bill_row(units[0], fee_item="停车费")]

    assert rejected(project, rows) == [
        {"row": 4, "column": "开始时间", "message": "与第 2 行重复（同一房屋、收费项目和账期）"}]


def test_overlapping_periods_in_the_file_are_refused(project, fee_items, units):
    rows = [bill_row(units[0], start="2025-01-01", end="2025-12-31"), bill_row(units[0], start="2025-06-01",
                                                                             end="2025-06-30")]

    assert rejected(project, rows) == [
        {"row": 3, "column": "开始时间", "message": "账期与第 2 行（2025-01-01 ～ 2025-12-31）重叠"}]


def test_bills_imported_before_are_refused_by_row_when_the_file_is_imported_again(project, fee_items, units):
    rows = [paid(units[0]), bill_row(units[1])]
    bill_import(project=project, file=xlsx_file(rows))

    errors = rejected(project, [bill_row(units[2]), *rows])

    assert errors == [
        {"row": 3, "column": "开始时间",
         "message": "该房屋「物业费」已有 2025-01-01 ～ 2025-01-31 的账单（此前已导入），与本行账期重叠"},
        {"row": 4, "column": "开始时间",
         "message": "该房屋「物业费」已有 2025-01-01 ～ 2025-01-31 的账单（此前已导入），与本行账期重叠"},
    ]


def test_a_period_already_billed_by_a_run_is_refused(project, fee_items, units):
    make_bill(project, "216.90", unit=units[0], fee_item=fee_items[0], period_month=datetime.date(2025, 3, 1))

    errors = rejected(project, [bill_row(units[0], start="2025-01-01", end="2025-12-31")])

    assert errors == [{"row": 2, "column": "开始时间",
                       "message": "该房屋「物业费」已有 2025-03-01 ～ 2025-03-31 的账单（周期账单），与本行账期重叠"}]


def test_an_import_that_finds_the_same_bills_saved_meanwhile_is_refused_by_row_when_it_writes(project, fee_items,
                                                                                              units):
    rows = [bill_row(units[1]), paid(units[0], 收据号="OLD-1")]
    slower = BillImport(project).read(xlsx_file(rows))
    bill_import(project=project, file=xlsx_file([paid(units[0], 收据号="OLD-1")]))
    before = written(project)

    with pytest.raises(ImportRejected) as caught:
        slower.save()

    assert written(project) == before
    assert [(e["row"], e["column"]) for e in caught.value.errors.as_list()] == [(3, "开始时间"), (3, "收据号")]


def test_receipt_numbers_repeated_in_the_file_or_used_in_the_company_are_refused(project, fee_items, units):
    other_project = make_project(project.company)
    bill_import(project=other_project, file=xlsx_file([paid(make_unit(other_project, number="301"),
                                                            收据号="OLD-7")]))
    rows = [paid(units[0], 收据号="OLD-7"), paid(units[1], 收据号="OLD-8"), paid(units[2], 收据号="OLD-8")]

    assert rejected(project, rows) == [
        {"row": 2, "column": "收据号", "message": "收据号 OLD-7 在本企业已使用过"},
        {"row": 4, "column": "收据号", "message": "收据号 OLD-8 与第 3 行重复"},
    ]


def test_a_fee_item_name_two_fee_items_share_must_be_given_by_code(project, fee_items, units):
    make_fee_item(project.company, code="WY2", name="物业费")

    assert rejected(project, [bill_row(units[0])]) == [
        {"row": 2, "column": "收费项目", "message": "有多个收费项目名为「物业费」，请改填收费项目编码"}]
    bill_import(project=project, file=xlsx_file([bill_row(units[0], fee_item="WY2")]))
    assert Bill.objects.get(project=project).fee_item.code == "WY2"


def test_a_missing_column_or_an_unknown_one_is_one_header_error(project, fee_items, units):
    headers = ["房屋编码", "收费项目", "开始时间", "应收金额", "楼层"]

    errors = rejected(project, [bill_row(units[0])], headers=headers)

    assert errors == [{"row": 1, "column": "楼层", "message": "无法识别的列，请使用下载的导入模板中的列名"},
                      {"row": 1, "column": "", "message": "缺少必填列：结束时间，请使用下载的导入模板"}]


def test_an_empty_file_is_refused(project, fee_items):
    assert rejected(project, [], headers=HEADERS) == [
        {"row": None, "column": "", "message": "文件中没有账单数据（表头下方为空）"}]


# Who may import what ---------------------------------------------------------------------

def test_the_import_right_covers_the_old_systems_payments_without_the_desks_payment_right(project, fee_items,
                                                                                          units):
    clerk = make_staff(project.company, make_role(project.company, ["billing.import_bills", "billing.view_bill"]).code)

    bill_import(project=project, file=xlsx_file([bill_row(units[0]), paid(units[1])]), actor=clerk)

    assert Bill.objects.filter(project=project).count() == 2
    assert Payment.objects.get(project=project).source == PaymentSource.IMPORT


def test_another_companys_unit_codes_are_unknown(project, fee_items, units):
    elsewhere = make_project(make_company())
    stranger = make_unit(elsewhere, number="999")

    errors = rejected(project, [bill_row(stranger)])

    assert errors == [{"row": 2, "column": "房屋编码", "message": f"本项目没有房屋 {stranger.code}"}]
    assert not Bill.objects.filter(project=elsewhere).exists()


def test_another_projects_unit_codes_are_unknown_too(project, fee_items):
    neighbour = make_unit(make_project(project.company), number="888")

    assert rejected(project, [bill_row(neighbour)])[0]["message"] == f"本项目没有房屋 {neighbour.code}"


# The desk and the bill pages ------------------------------------------------------------

def test_a_part_paid_imported_bill_is_paid_at_the_desk_for_the_rest_with_a_desk_receipt_number(
        project, fee_items, units, client):
    bill_import(project=project, file=xlsx_file([paid(units[0], "216.90", "100.00")]))
    bill = Bill.objects.get(project=project)
    cashier = make_staff(project.company, "cashier")
    client.force_login(cashier)

    desk = client.get(reverse("billing:desk_unit", args=[units[0].pk])).content.decode()
    assert f'id="bill-{bill.pk}"' in desk and "¥116.90" in desk

    response = client.post(reverse("billing:desk_unit", args=[units[0].pk]),
                           {"bills": [bill.pk], "cash": "116.90"})

    assert response.status_code == 302
    assert bill_outstanding(bill) == 0
    desk_payment = Payment.objects.get(project=project, source=PaymentSource.DESK)
    assert desk_payment.receipt_number == f"SJ{THIS_YEAR}-000001"
    assert reconcile([project]).is_clean


def test_imported_bills_show_as_imported_and_their_payments_as_historical_on_the_bill_and_desk_pages(
        project, fee_items, units, client, finance):
    job = bill_import_start(project=project, actor=finance,
                            uploaded_file=xlsx_file([paid(units[0], "216.90", "100.00", 备注="原系统欠费")]))
    bill = Bill.objects.get(project=project)
    payment = Payment.objects.get(project=project)
    client.force_login(finance)

    listing = client.get(reverse("billing:bill_list"), {"q": units[0].code}).content.decode()
    detail = client.get(reverse("billing:bill_detail", args=[bill.pk])).content.decode()
    desk = client.get(reverse("billing:desk_unit", args=[units[0].pk])).content.decode()
    payment_page = client.get(reverse("billing:payment_detail", args=[payment.pk])).content.decode()

    assert reverse("billing:bill_import") in listing and "<td>导入</td>" in listing.replace(" ", "")
    assert '<dd class="col-sm-9 col-xl-4">导入</dd>' in detail
    assert "历史导入（历史账单.xlsx）第 2 行；原系统欠费" in detail
    assert f"DR{job.pk}-2" in desk and reverse("billing:payment_detail", args=[payment.pk]) in desk
    assert '<dd class="col-sm-9 col-xl-4">历史导入</dd>' in payment_page


def test_imported_payments_do_not_take_desk_receipt_numbers(project, fee_items, units):
    bill_import(project=project, file=xlsx_file([paid(units[0]), paid(units[1])]))

    assert not ReceiptSequence.objects.exists()
    bill = make_bill(project, "50.00", unit=units[2], fee_item=fee_items[1])
    payment = payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", Decimal("50.00"))],
                              actor=make_staff(project.company, "cashier"))
    assert payment.receipt_number == f"SJ{THIS_YEAR}-000001"


# The background job, the template, the API and the page ---------------------------------

def test_the_job_numbers_receipts_after_itself_and_records_its_result(project, fee_items, units, finance):
    job = bill_import_start(project=project, uploaded_file=xlsx_file([paid(units[0]), bill_row(units[1])]),
                            actor=finance)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.percent == 100
    assert job.result == {"bills": 2, "total": "¥433.80", "payments": 1, "paid": "¥216.90", "open_bills": 1}
    assert job.message.startswith("导入完成：账单 2 张")
    assert Payment.objects.get(project=project).receipt_number == f"DR{job.pk}-2"
    assert "历史导入（历史账单.xlsx）第 2 行" in Bill.objects.get(unit=units[0]).computation


def test_a_failed_job_lists_its_errors_and_offers_them_as_a_spreadsheet(project, fee_items, units, finance):
    job = bill_import_start(project=project, uploaded_file=xlsx_file([bill_row(units[0]), bill_row("X-1")]),
                            actor=finance)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == [{"row": 3, "column": "房屋编码", "message": "本项目没有房屋 X-1"}]
    sheet = load_workbook(io.BytesIO(import_errors_xlsx(job))).active
    assert list(sheet.iter_rows(values_only=True)) == [("行号", "列", "错误原因"),
                                                       (3, "房屋编码", "本项目没有房屋 X-1")]
    assert not Bill.objects.filter(project=project).exists()


def test_the_template_has_the_headers_drop_downs_and_a_guide_and_imports_when_filled_in(project, fee_items, units):
    workbook = load_workbook(io.BytesIO(bill_import_template(project)))

    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers == HEADERS and sheet.max_row == 1
    letters = {header: cell.column_letter for header, cell in zip(headers, sheet[1], strict=True)}
    lists = {str(v.sqref).split(":")[0] for v in sheet.data_validations.dataValidation if v.type == "list"}
    assert {f"{letters['收费项目']}2", f"{letters['收款方式']}2"} == lists
    options = workbook["选项"]
    assert [options.cell(row=r, column=1).value for r in (1, 2, 3)] == ["收费项目", "停车费", "物业费"]
    guide = {row[0]: row for row in workbook["填写说明"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert guide["收款方式"][1] == "有实收金额时必填" and "现金、刷卡、微信、支付宝、银行转账" in guide["收款方式"][2]
    assert guide["房屋编码"][1] == "必填"

    row = paid(units[0])
    sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert bill_import(project=project, file=io.BytesIO(buffer.getvalue()))["bills"] == 1


def test_the_api_accepts_an_upload_and_answers_202_with_the_job(project, fee_items, units, finance):
    client = api_client(finance)

    response = client.post("/api/v1/imports/bills/", {"project": project.pk, "file": xlsx_file([paid(units[0])])},
                           format="multipart")

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "succeeded" and job["result"]["bills"] == 1
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    template = client.get("/api/v1/imports/bills/template/", {"project": project.pk})
    assert template.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(template.content)).worksheets[0][1]] == HEADERS


def test_the_api_reports_row_errors_on_the_job(project, fee_items, units, finance):
    client = api_client(finance)

    job_id = client.post("/api/v1/imports/bills/", {"project": project.pk,
                                                    "file": xlsx_file([bill_row(units[0], amount="0")])},
                         format="multipart").json()["id"]

    detail = client.get(f"/api/v1/jobs/{job_id}/").json()
    assert detail["status"] == "failed"
    assert detail["errors"] == [{"row": 2, "column": "应收金额", "message": "应大于 0"}]


def test_the_api_refuses_other_projects_users_without_permission_and_files_that_are_not_xlsx(project, fee_items,
                                                                                             units):
    other = make_project(project.company)
    clerk = make_staff(project.company, "finance", projects=[project])
    steward = make_staff(project.company, "steward", projects=[project])
    upload = {"file": xlsx_file([bill_row(units[0])])}

    assert api_client(clerk).post("/api/v1/imports/bills/", {"project": other.pk, **upload},
                                  format="multipart").status_code == 404
    assert api_client(clerk).get("/api/v1/imports/bills/template/", {"project": other.pk}).status_code == 404
    assert api_client(steward).post("/api/v1/imports/bills/", {"project": project.pk, **upload},
                                    format="multipart").status_code == 403
    not_xlsx = api_client(clerk).post("/api/v1/imports/bills/", {
        "project": project.pk, "file": SimpleUploadedFile("bills.csv", b"a,b")}, format="multipart")
    assert not_xlsx.status_code == 400 and "xlsx" in not_xlsx.json()["file"][0]
    assert not Job.objects.exists() and not Bill.objects.exists()


def test_uploading_on_the_page_starts_the_job_and_its_page_shows_the_result(project, fee_items, units, finance):
    client = Client()
    client.force_login(finance)

    page = client.get(reverse("billing:bill_import")).content.decode()
    assert project.name in page
    response = client.post(reverse("billing:bill_import"), {"project": project.pk, "file": xlsx_file([paid(units[0])])})

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/system/jobs/{job.pk}/"
    result = client.get(response["Location"]).content.decode()
    assert "导入完成" in result and "历史收款笔数" in result and reverse("billing:bill_list") in result


def test_the_page_refuses_a_file_that_is_not_xlsx_and_people_without_the_permission(project, fee_items, finance):
    client = Client()
    client.force_login(finance)
    response = client.post(reverse("billing:bill_import"),
                           {"project": project.pk, "file": SimpleUploadedFile("账单.xls", b"\xd0\xcf\x11\xe0")})
    assert "另存为 .xlsx" in response.content.decode() and not Job.objects.exists()

    client.force_login(make_staff(project.company, "steward", projects=[project]))
    assert client.get(reverse("billing:bill_import")).status_code == 403


def test_the_template_download_stays_within_the_users_projects(project, fee_items):
    other = make_project(project.company)
    client = Client()
    client.force_login(make_staff(project.company, "finance", projects=[project]))

    refused = client.get(reverse("billing:bill_import_template"), {"project": other.pk})
    served = client.get(reverse("billing:bill_import_template"), {"project": project.pk})

    assert refused.status_code == 302 and refused["Location"] == reverse("billing:bill_import")
    assert served.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(served.content)).worksheets[0][1]] == HEADERS
