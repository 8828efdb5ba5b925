"""Prove the books agree: every journal entry balances, the receivable control account equals the
bills' outstanding total per project and fee item, billed − discounted − waived − voided = outstanding + paid, and
the prepaid and deposit control accounts equal the sums of the prepaid and deposit balances."""

import datetime
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from aishang.billing.reconcile import reconcile, result_line
from aishang.core.money import format_money
from aishang.estate.models import Project


def _width(text):
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text, width, right=False):
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def table(headers, rows, numeric_from):
    widths = [max(_width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in [headers, *rows]:
        lines.append("  ".join(_pad(str(cell), width, right=index >= numeric_from)
                               for index, (cell, width) in enumerate(zip(row, widths, strict=True))))
    return lines


def parse_month(value):
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(_("账期格式应为 YYYY-MM，如 2026-11")) from exc


class Command(BaseCommand):
    help = "对账：凭证借贷平衡、总账应收与明细应收一致、应收 − 优惠 − 减免 − 作废 = 欠费 + 实收"

    def add_arguments(self, parser):
        parser.add_argument("--project", help="项目编码")
        parser.add_argument("--company", help="企业名称")
        parser.add_argument("--month", help="账期月份，如 2026-11")

    def handle(self, *args, project=None, company=None, month=None, **options):
        projects = Project.objects.select_related("company").order_by("company__name", "code")
        if company:
            projects = projects.filter(company__name=company)
        if project:
            projects = projects.filter(code=project)
        if not projects.exists():
            raise CommandError(_("没有符合条件的项目"))
        report = reconcile(projects, month=parse_month(month) if month else None)
        write = self.stdout.write

        write(_("一、记账凭证借贷平衡"))
        if report.unbalanced:
            for line in table([_("凭证"), _("项目"), _("业务"), _("借贷差额")],
                              [[row.entry.pk, row.entry.project.name, row.entry.event, format_money(row.total)]
                               for row in report.unbalanced], numeric_from=3):
                write(line)
        else:
            write(_("全部凭证借贷平衡"))

        write("")
        write(_("二、总账应收与明细应收"))
        for line in table([_("项目"), _("收费项目"), _("总账应收"), _("明细应收"), _("差额")],
                          [[row.project.name, row.fee_item.name if row.fee_item else "-", format_money(row.ledger),
                            format_money(row.subledger), format_money(row.difference)] for row in report.control],
                          numeric_from=2):
            write(line)

        write("")
        write(_("三、应收 − 优惠 − 减免 − 作废 = 欠费 + 实收"))
        headers = [_("项目"), _("账期"), _("应收"), _("优惠"), _("减免"), _("作废"), _("欠费"), _("实收"), _("差额")]
        for line in table(headers,
                          [[row.project.name, f"{row.month:%Y-%m}", *(format_money(row.amounts[name]) for name in
                                                                    ("billed", "discounted", "waived", "voided")),
                            format_money(row.outstanding), format_money(row.amounts["paid"]),
                            format_money(row.difference)] for row in report.periods], numeric_from=2):
            write(line)

        balances = [(_("四、总账预收与预存明细"), _("总账预收"), _("预存余额合计"), _("没有预存"), report.prepaid),
                    (_("五、总账押金与押金明细"), _("总账押金"), _("押金余额合计"), _("没有押金"), report.deposit)]
        for title, ledger, subledger, nothing, rows in balances:
            write("")
            write(title)
            if not rows:
                write(nothing)
                continue
            for line in table([_("项目"), ledger, subledger, _("差额")],
                              [[row.project.name, format_money(row.ledger), format_money(row.subledger),
                                format_money(row.difference)] for row in rows], numeric_from=1):
                write(line)

        write("")
        result = result_line(report)
        write(result)
        if not report.is_clean:
            raise CommandError(result)
