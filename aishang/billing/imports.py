"""Import historical bills, paid and unpaid, from a spreadsheet: every row or none (ADR 0016).

Phase 1 reads every row, checks it against the project (units, fee items, bills already there, receipt
numbers already used) and collects row-numbered errors. Phase 2 runs only when there are none: one
transaction, under a lock on the project, of batched inserts of bills, payments, tenders and allocations,
with the journal written as totals per fee item per batch.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from aishang.core.money import format_money
from aishang.customers.choices import OccupancyRole
from aishang.customers.models import Occupancy
from aishang.estate.models import Project, Unit
from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind
from aishang.extras.import_jobs import project_import_job, run_project_import
from aishang.extras.importing import (
    MAX_ROWS,
    ImportRejected,
    RowErrors,
    SheetReader,
    cell_text,
    workbook_bytes,
)
from aishang.extras.jobs import job_enqueue, job_runner

from .ledger import journal_post
from .models import (
    Account,
    Allocation,
    Bill,
    BillKind,
    BillVoid,
    FeeItem,
    Payment,
    PaymentMethod,
    PaymentSource,
    PaymentTender,
)

JOB_KIND = "bill_import"
# 导入历史账单 is one right for the bills and the payments of the old system: those payments are history, not
# collections at the desk (ADR 0018).
BILL_PERMISSION = "billing.import_bills"
BATCH_SIZE = 2000
TEMPLATE_ROWS = 10_000
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1000000000000")  # the bill's 14 digits with 2 places
EARLIEST = datetime.date(1990, 1, 1)
RECEIPT_MAX_LENGTH = 30
# The desk numbers its receipts SJ<year>-NNNNNN without gaps from this year on; a historical number of that
# shape and year would take a number the desk is yet to give, and that payment would fail on the unique number.
DESK_RECEIPT_NUMBER = re.compile(r"SJ(\d{4})-\d+", re.IGNORECASE)

UNIT_CODE, FEE_ITEM, START, END, DUE = "房屋编码", "收费项目", "开始时间", "结束时间", "应缴日期"
AMOUNT, PAID, PAID_ON, METHOD, RECEIPT, NOTE = "应收金额", "实收金额", "收款日期", "收款方式", "收据号", "备注"
PAYMENT_COLUMNS = (PAID_ON, METHOD, RECEIPT)

# Names clerks' old systems give the same columns.
HEADER_ALIASES = {
    "房号": UNIT_CODE, "房间编码": UNIT_CODE, "房屋编号": UNIT_CODE, "收费项目名称": FEE_ITEM, "费用项目": FEE_ITEM,
    "账期开始": START, "计费开始时间": START, "开始日期": START, "账期结束": END, "计费结束时间": END,
    "结束日期": END, "应缴日": DUE, "应收": AMOUNT, "实收": PAID, "缴费日期": PAID_ON, "收款时间": PAID_ON,
    "支付方式": METHOD, "缴费方式": METHOD, "收据编号": RECEIPT, "票据号": RECEIPT,
}

INVALID_MONEY = gettext_lazy("应为金额，如 1200.50，实际为“%(text)s”")


def _money_text(text):
    return text.replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥").removesuffix("元")


METHOD_LABELS = {
    PaymentMethod.CASH: "现金", PaymentMethod.CARD: "刷卡", PaymentMethod.WECHAT: "微信",
    PaymentMethod.ALIPAY: "支付宝", PaymentMethod.TRANSFER: "银行转账",
}
METHOD_BY_LABEL = {label: method for method, label in METHOD_LABELS.items()}
METHOD_BY_LABEL.update({"刷卡/POS": PaymentMethod.CARD, "POS": PaymentMethod.CARD, "银行卡": PaymentMethod.CARD,
                        "转账": PaymentMethod.TRANSFER, "微信支付": PaymentMethod.WECHAT})


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    note: str
    kind: str = "text"  # text, date or money: how the template formats the column
    width: int = 14


COLUMNS = (
    Column(UNIT_CODE, True, "房屋编码，如 1-2-301（楼栋-单元-房号），须是本项目已有的房屋", width=16),
    Column(FEE_ITEM, True, "", width=16),
    Column(START, True, "账期开始日期，如 2025-01-01，不能晚于今天；填 2025-01 表示该月 1 日", kind="date"),
    Column(END, True, "账期结束日期，如 2025-01-31，不能早于开始时间；填 2025-01 表示该月最后一天", kind="date"),
    Column(DUE, False, "留空时为结束时间；开启了滞纳金的收费项目从应缴日期的次日起计滞纳金", kind="date"),
    Column(AMOUNT, True, "大于 0，单位：元，最多两位小数", kind="money"),
    Column(PAID, False, "已收的金额，不能大于应收金额；留空或 0 表示未缴。部分已收的账单剩余部分仍可在收银台收取",
           kind="money"),
    Column(PAID_ON, False, "有实收金额时必填，不能晚于今天", kind="date"),
    Column(METHOD, False, "", width=12),
    Column(RECEIPT, False, "原系统的收据号，可留空（系统自动编号 DR任务号-行号）；在本企业内不能重复，"
                           "也不能是收银台今年起的 SJ年份-序号 格式", width=20),
    Column(NOTE, False, "不超过 100 个字，写入账单的计算过程", width=24),
)
COLUMN_BY_HEADER = {c.header: c for c in COLUMNS}


@dataclass
class BillRow:
    """One checked row: the bill it becomes and, when something was paid, its payment."""

    row: int
    unit_id: int
    fee_item: FeeItem
    start: datetime.date
    end: datetime.date
    due: datetime.date
    amount: Decimal
    paid: Decimal
    paid_on: datetime.date | None
    method: str
    receipt: str
    note: str
    payer_id: int | None = None

    def overlaps(self, start, end):
        return self.start <= end and start <= self.end


def _fee_item_lookup(company):
    """Fee items by code and by name; a name two fee items share maps to None (the code must then be used)."""
    lookup = {}
    for fee_item in FeeItem.objects.filter(company=company).order_by("code"):
        lookup[fee_item.code] = fee_item
        lookup[fee_item.name] = None if fee_item.name in lookup and lookup[fee_item.name] != fee_item else fee_item
    return lookup


def bill_import_template(project):
    """The xlsx a clerk fills in: headers with drop-downs for 收费项目 and 收款方式, a 填写说明 sheet, no data."""
    fee_items = list(FeeItem.objects.filter(company_id=project.company_id, is_active=True).order_by("code"))
    notes = {
        FEE_ITEM: "可选：" + "、".join(f.name for f in fee_items) + "；也可填收费项目编码。停用的收费项目也可导入",
        METHOD: f"有实收金额时必填，可选：{'、'.join(METHOD_LABELS.values())}",
    }
    lists = {FEE_ITEM: [f.name for f in fee_items], METHOD: list(METHOD_LABELS.values())}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "历史账单"
    guide = workbook.create_sheet("填写说明")
    options = workbook.create_sheet("选项")
    options.sheet_state = "hidden"
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    formats = {"text": "@", "date": "yyyy-mm-dd", "money": "0.00"}
    list_column = 0
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = required_fill if column.required else header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        sheet.column_dimensions[letter].number_format = formats[column.kind]
        values = lists.get(column.header)
        if values:
            list_column += 1
            list_letter = get_column_letter(list_column)
            options.cell(row=1, column=list_column, value=column.header)
            for row, value in enumerate(values, start=2):
                options.cell(row=row, column=list_column, value=value)
            validation = DataValidation(
                type="list", allow_blank=True, showErrorMessage=True, errorTitle="输入有误",
                error=f"「{column.header}」请从下拉列表中选择",
                formula1=f"{quote_sheetname(options.title)}!${list_letter}$2:${list_letter}${len(values) + 1}",
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
        elif column.kind == "date":
            validation = DataValidation(type="date", operator="greaterThan", formula1="32874", allow_blank=True,
                                        showErrorMessage=True, errorTitle="输入有误",
                                        error=f"「{column.header}」请填写日期，如 2025-01-31")
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    guide.append(["列名", "是否必填", "填写说明"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for column in COLUMNS:
        required = "必填" if column.required else ("有实收金额时必填" if column.header in (PAID_ON, METHOD) else "选填")
        guide.append([column.header, required, notes.get(column.header) or column.note])
    guide.append([])
    for line in (
        f"项目：{project.name}（{project.code}）。每行一张历史账单，表头请勿修改；标红底色的列为必填。",
        "同一房屋、同一收费项目的账期不能重叠，也不能与系统中已有（出账或已导入）的账单重叠。",
        "导入的账单类型为「导入」，收款来源为「历史导入」，不占用收银台的收据号，不发送缴费通知，不计算优惠。",
        "整份文件要么全部导入，要么都不导入：有任何一处错误时不会保存任何数据，请按错误明细修改后重新上传。",
        f"单次最多导入 {MAX_ROWS} 行。",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 18
    guide.column_dimensions["C"].width = 90
    for row in guide.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    return workbook_bytes(workbook)


def _batches(items, size):
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class BillImport(SheetReader):
    """Reads a sheet of historical bills into checked rows, then writes them all in one transaction."""

    header_aliases = HEADER_ALIASES
    no_rows_message = gettext_lazy("文件中没有账单数据（表头下方为空）")
    earliest_date = EARLIEST

    def __init__(self, project, *, actor=None, receipt_prefix="DR", file_name="", today=None, progress=None):
        super().__init__(progress)
        self.project = project
        self.company = project.company
        self.actor = actor
        self.receipt_prefix = receipt_prefix
        self.file_name = file_name
        self.today = today or timezone.localdate()
        self.units = dict(Unit.objects.filter(project=project).values_list("code", "pk"))
        self.fee_items = _fee_item_lookup(self.company)
        self.rows = []

    # Phase 1 -----------------------------------------------------------------------------

    def read(self, file):
        self.read_file(file)
        if not self.errors:
            self._check_periods_in_file()
            self._check_against_database()
        if self.errors:
            raise ImportRejected(self.errors)
        self._assign_payers()
        return self

    def known_headers(self):
        return COLUMN_BY_HEADER

    def required_headers(self):
        return [c.header for c in COLUMNS if c.required]

    def _money(self, cells, header, row, required=False):
        value = self.decimal(cells, header, row, required=required, clean=_money_text, invalid=INVALID_MONEY)
        if value is None:
            return None
        raw = self.raw(cells, header)
        cents = value.quantize(CENT)
        # A sum worked out by Excel may carry binary noise (0.30000000000000004); more real digits are refused.
        if cents != value and not (isinstance(raw, float) and abs(cents - value) < Decimal("0.000001")):
            self.errors.add(row, header, _("金额最多两位小数，实际为“%(text)s”")
                            % {"text": _money_text(cell_text(raw))})
            return None
        if cents < 0:
            self.errors.add(row, header, _("不能为负数"))
            return None
        if cents >= MONEY_LIMIT:
            self.errors.add(row, header, _("金额过大"))
            return None
        return cents

    def read_row(self, row, cells):
        errors_before = self.errors.count
        code = self.text(cells, UNIT_CODE, row, required=True)
        unit_id = None
        if code:
            unit_id = self.units.get(code)
            if unit_id is None:
                self.errors.add(row, UNIT_CODE, _("本项目没有房屋 %(code)s") % {"code": code})
        fee_item = self._fee_item(cells, row)
        start = self.date(cells, START, row, required=True)
        end = self.date(cells, END, row, required=True, month_end=True)
        due = self.date(cells, DUE, row)
        if start and start > self.today:
            self.errors.add(row, START, _("历史账单的开始时间不能晚于今天（%(today)s）") % {"today": self.today})
        if start and end and end < start:
            self.errors.add(row, END, _("结束时间 %(end)s 早于开始时间 %(start)s") % {"end": end, "start": start})
        amount = self._money(cells, AMOUNT, row, required=True)
        if amount is not None and amount == 0:
            self.errors.add(row, AMOUNT, _("应大于 0"))
        paid = self._money(cells, PAID, row)
        if paid is None and cell_text(self.raw(cells, PAID)):
            paid_on, method, receipt = None, "", ""  # the amount is wrong already; its payment columns wait for it
        else:
            paid = paid or Decimal("0.00")
            if amount and paid > amount:
                self.errors.add(row, PAID, _("实收金额 %(paid)s 不能大于应收金额 %(amount)s")
                                % {"paid": paid, "amount": amount})
            paid_on, method, receipt = self._payment(cells, row, paid)
        note = self.text(cells, NOTE, row, max_length=100)
        if self.errors.count > errors_before:
            return
        self.rows.append(BillRow(row=row, unit_id=unit_id, fee_item=fee_item, start=start, end=end,
                                 due=due or end, amount=amount, paid=paid, paid_on=paid_on, method=method,
                                 receipt=receipt, note=note))

    def _fee_item(self, cells, row):
        text = self.text(cells, FEE_ITEM, row, required=True)
        if not text:
            return None
        if text not in self.fee_items:
            self.errors.add(row, FEE_ITEM, _("收费项目「%(name)s」不存在，请从下拉列表中选择，或先在收费项目中建立")
                            % {"name": text})
            return None
        fee_item = self.fee_items[text]
        if fee_item is None:
            self.errors.add(row, FEE_ITEM, _("有多个收费项目名为「%(name)s」，请改填收费项目编码") % {"name": text})
        return fee_item

    def _payment(self, cells, row, paid):
        paid_on = self.date(cells, PAID_ON, row)
        method_text = self.text(cells, METHOD, row)
        receipt = re.sub(r"\s", "", self.text(cells, RECEIPT, row))
        if not paid:
            given = [header for header, value in ((PAID_ON, paid_on), (METHOD, method_text), (RECEIPT, receipt))
                     if value]
            if given:
                self.errors.add(row, PAID, _("填写了%(columns)s，但实收金额为空或为 0") % {"columns": "、".join(given)})
            return None, "", ""
        if paid_on is None and not cell_text(self.raw(cells, PAID_ON)):
            self.errors.add(row, PAID_ON, _("有实收金额时必填"))
        elif paid_on and paid_on > self.today:
            self.errors.add(row, PAID_ON, _("收款日期不能晚于今天（%(today)s）") % {"today": self.today})
        method = ""
        if not method_text:
            self.errors.add(row, METHOD, _("有实收金额时必填，可选：%(options)s")
                            % {"options": "、".join(METHOD_LABELS.values())})
        else:
            method = METHOD_BY_LABEL.get(method_text.upper() if method_text.isascii() else method_text)
            if method is None:
                self.errors.add(row, METHOD, _("“%(text)s”不是可选的值，可选：%(options)s")
                                % {"text": method_text, "options": "、".join(METHOD_LABELS.values())})
                method = ""
        if len(receipt) > RECEIPT_MAX_LENGTH:
            self.errors.add(row, RECEIPT, _("不能超过 %(count)s 个字") % {"count": RECEIPT_MAX_LENGTH})
        elif (desk := DESK_RECEIPT_NUMBER.fullmatch(receipt)) and int(desk[1]) >= self.today.year:
            self.errors.add(row, RECEIPT, _("收据号 %(number)s 与收银台今年起的编号（SJ年份-序号）相同格式，"
                                            "会占用收银台今后的收据号；请加上原系统的前缀或留空") % {"number": receipt})
        return paid_on, method, receipt

    def _check_periods_in_file(self):
        """The same unit and fee item may not be billed twice for a day: periods in the file must not overlap."""
        by_key = defaultdict(list)
        for bill_row in self.rows:
            by_key[(bill_row.unit_id, bill_row.fee_item.pk)].append(bill_row)
        clashes = []
        for rows in by_key.values():
            rows.sort(key=lambda r: (r.start, r.row))
            widest = rows[0]
            for current in rows[1:]:
                if current.start <= widest.end:
                    first, second = sorted((widest, current), key=lambda r: r.row)
                    clashes.append((second, first))
                if current.end > widest.end:
                    widest = current
        for second, first in sorted(clashes, key=lambda pair: pair[0].row):
            if (second.start, second.end) == (first.start, first.end):
                message = _("与第 %(row)s 行重复（同一房屋、收费项目和账期）") % {"row": first.row}
            else:
                message = _("账期与第 %(row)s 行（%(start)s ～ %(end)s）重叠") % {
                    "row": first.row, "start": first.start, "end": first.end}
            self.errors.add(second.row, START, message)

    def _check_against_database(self):
        for bill_row, message in self.database_conflicts():
            self.errors.add(bill_row.row, *message)

    def database_conflicts(self):
        """(row, (column, message)) for each row whose period a bill in the project already covers, or whose
        receipt number the company has already given."""
        conflicts = []
        if not self.rows:
            return conflicts
        keys = {(r.unit_id, r.fee_item.pk) for r in self.rows}
        existing = defaultdict(list)
        bills = (Bill.objects.filter(project=self.project, unit__isnull=False,
                                     fee_item_id__in={fee_item_id for _unit, fee_item_id in keys},
                                     period_start__lte=max(r.end for r in self.rows),
                                     period_end__gte=min(r.start for r in self.rows))
                 # A bill voided in full no longer bills its period: a corrected file may import it again.
                 .exclude(pk__in=BillVoid.objects.filter(project=self.project).values("bill_id"))
                 .values_list("unit_id", "fee_item_id", "period_start", "period_end", "kind"))
        for unit_id, fee_item_id, start, end, kind in bills.iterator(chunk_size=5000):
            if (unit_id, fee_item_id) in keys:
                existing[(unit_id, fee_item_id)].append((start, end, kind))
        for bill_row in self.rows:
            for start, end, kind in existing.get((bill_row.unit_id, bill_row.fee_item.pk), ()):
                if bill_row.overlaps(start, end):
                    what = _("此前已导入") if kind == BillKind.IMPORTED else BillKind(kind).label
                    message = _("该房屋「%(item)s」已有 %(start)s ～ %(end)s 的账单（%(what)s），与本行账期重叠") % {
                        "item": bill_row.fee_item.name, "start": start, "end": end, "what": what}
                    conflicts.append((bill_row, (START, message)))
                    break
        conflicts.extend(self._receipt_conflicts())
        return sorted(conflicts, key=lambda conflict: conflict[0].row)

    def _receipt_conflicts(self):
        conflicts, first_row = [], {}
        for bill_row in self.rows:
            if not bill_row.paid:
                continue
            number = self.receipt_number(bill_row)
            if number in first_row:
                conflicts.append((bill_row, (RECEIPT, _("收据号 %(number)s 与第 %(row)s 行重复")
                                             % {"number": number, "row": first_row[number].row})))
            else:
                first_row[number] = bill_row
        for numbers in _batches(list(first_row), 1000):
            for number in Payment.objects.filter(company=self.company, receipt_number__in=numbers).values_list(
                    "receipt_number", flat=True):
                conflicts.append((first_row[number], (RECEIPT, _("收据号 %(number)s 在本企业已使用过")
                                                      % {"number": number})))
        return conflicts

    def receipt_number(self, bill_row):
        return bill_row.receipt or f"{self.receipt_prefix}-{bill_row.row}"

    def _assign_payers(self):
        """Each bill's payer: the unit's owner on the first day of its period, as a run would have chosen."""
        owners = defaultdict(list)
        occupancies = (Occupancy.objects.filter(unit__project=self.project, role=OccupancyRole.OWNER)
                       .order_by("unit_id", "-is_payer", "id")
                       .values_list("unit_id", "customer_id", "start_date", "end_date"))
        for unit_id, customer_id, start, end in occupancies.iterator(chunk_size=5000):
            owners[unit_id].append((customer_id, start, end))
        for bill_row in self.rows:
            bill_row.payer_id = next((customer_id for customer_id, start, end in owners.get(bill_row.unit_id, ())
                                      if (start is None or start <= bill_row.start)
                                      and (end is None or end >= bill_row.start)), None)

    # Phase 2 -----------------------------------------------------------------------------

    def save(self):
        total = self.row_count + len(self.rows)
        done = self.row_count
        self.progress(done, total, _("校验通过，正在写入 %(count)s 张账单") % {"count": len(self.rows)})
        summary = {"bills": 0, "total": Decimal("0.00"), "payments": 0, "paid": Decimal("0.00"), "open_bills": 0}
        with transaction.atomic():
            # Two imports of one project at once: the second waits here, then finds the first's bills below.
            Project.objects.select_for_update().filter(pk=self.project.pk).first()
            conflicts = self.database_conflicts()
            if conflicts:
                errors = RowErrors()
                for bill_row, (column, message) in conflicts:
                    errors.add(bill_row.row, column, message)
                raise ImportRejected(errors)
            now = timezone.now()
            for batch in _batches(self.rows, BATCH_SIZE):
                self._save_batch(batch, now, summary)
                done += len(batch)
                self.progress(done, total, _("已写入 %(count)s 张账单") % {"count": summary["bills"]})
            result = {**summary, "total": format_money(summary["total"]), "paid": format_money(summary["paid"])}
            audit_record(kind=AuditKind.IMPORT, user=self.actor, model=Bill, company_id=self.company.pk,
                         detail={"project_id": self.project.pk, "file_name": self.file_name, **result})
        return result

    def _save_batch(self, rows, now, summary):
        origin = _("历史导入") + (f"（{self.file_name}）" if self.file_name else "")
        bills = [Bill(project=self.project, unit_id=r.unit_id, payer_id=r.payer_id, fee_item=r.fee_item,
                      kind=BillKind.IMPORTED, period_start=r.start, period_end=r.end, due_date=r.due, amount=r.amount,
                      computation=_("%(origin)s第 %(row)s 行") % {"origin": origin, "row": r.row}
                      + (f"；{r.note}" if r.note else ""), created_at=now)
                 for r in rows]
        Bill.objects.bulk_create(bills)
        paid_rows = [(r, bill) for r, bill in zip(rows, bills, strict=True) if r.paid]
        payments = [Payment(company_id=self.company.pk, project=self.project, unit_id=r.unit_id, payer_id=r.payer_id,
                            amount=r.paid, receipt_number=self.receipt_number(r), cashier=None,
                            received_at=_start_of_day(r.paid_on), source=PaymentSource.IMPORT,
                            note=_("%(origin)s第 %(row)s 行") % {"origin": origin, "row": r.row})
                    for r, _bill in paid_rows]
        Payment.objects.bulk_create(payments)
        PaymentTender.objects.bulk_create([PaymentTender(payment=payment, method=r.method, amount=r.paid)
                                           for (r, _bill), payment in zip(paid_rows, payments, strict=True)])
        Allocation.objects.bulk_create([Allocation(project=self.project, payment=payment, bill=bill, amount=r.paid,
                                                   created_at=payment.received_at)
                                        for (r, bill), payment in zip(paid_rows, payments, strict=True)])

        billed, paid = defaultdict(Decimal), defaultdict(lambda: defaultdict(Decimal))
        fee_items = {}
        for r in rows:
            fee_items[r.fee_item.pk] = r.fee_item
            billed[r.fee_item.pk] += r.amount
            if r.paid:
                paid[r.fee_item.pk][r.method] += r.paid
        span = _("第 %(first)s～%(last)s 行") % {"first": rows[0].row, "last": rows[-1].row}
        for fee_item_id, amount in billed.items():
            fee_item = fee_items[fee_item_id]
            journal_post(project=self.project, event="bills_imported", actor=self.actor,
                         memo=_("导入历史账单 %(item)s %(span)s") % {"item": fee_item.name, "span": span},
                         lines=[(Account.RECEIVABLE, fee_item, amount), (Account.REVENUE, fee_item, -amount)])
        for fee_item_id, by_method in paid.items():
            fee_item = fee_items[fee_item_id]
            journal_post(project=self.project, event="payments_imported", actor=self.actor,
                         memo=_("导入历史收款 %(item)s %(span)s") % {"item": fee_item.name, "span": span},
                         lines=[*[(Account.CASH, None, amount, method) for method, amount in by_method.items()],
                                (Account.RECEIVABLE, fee_item, -sum(by_method.values(), Decimal(0)), "")])
        summary["bills"] += len(bills)
        summary["total"] += sum(billed.values(), Decimal(0))
        summary["payments"] += len(payments)
        summary["paid"] += sum((r.paid for r, _bill in paid_rows), Decimal(0))
        summary["open_bills"] += sum(1 for r in rows if r.paid < r.amount)


def _start_of_day(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def bill_import(*, project, file, actor=None, receipt_prefix="DR", file_name="", progress=None, today=None):
    """Validate the whole file, then save all of it; raises ``ImportRejected`` and saves nothing if any row is bad."""
    importer = BillImport(project, actor=actor, receipt_prefix=receipt_prefix, file_name=file_name,
                          progress=progress, today=today).read(file)
    try:
        return importer.save()
    except IntegrityError:
        errors = RowErrors()
        errors.add(None, "", _("保存时发现与他人刚保存的数据冲突（如同时使用了相同的收据号），请重新导入"))
        raise ImportRejected(errors) from None


@job_runner(JOB_KIND)
def run_bill_import(job):
    result = run_project_import(job, lambda project, file, progress: bill_import(
        project=project, file=file, actor=job.created_by, receipt_prefix=f"DR{job.pk}",
        file_name=job.params.get("file_name", ""), progress=progress))
    job.message = _("导入完成：账单 %(bills)s 张，应收合计 %(total)s；历史收款 %(payments)s 笔，实收合计 %(paid)s；"
                    "未结清 %(open)s 张") % {"bills": result["bills"], "total": result["total"],
                                          "payments": result["payments"], "paid": result["paid"],
                                          "open": result["open_bills"]}
    return result


def bill_import_start(*, project, uploaded_file, actor):
    """Check the upload is a readable xlsx, record it as a job and start the import."""
    return job_enqueue(project_import_job(
        kind=JOB_KIND, title=_("导入历史账单：%(project)s") % {"project": project.name}, project=project,
        uploaded_file=uploaded_file, actor=actor))
