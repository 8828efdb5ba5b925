import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aishang.billing.models import Account, Bill, ChargeRule, JournalEntry, Posting
from aishang.billing.reconcile import reconcile
from aishang.billing.services import bill_run_create, bill_run_post
from aishang.billing.tests.test_bill_run import NOVEMBER, property_fee, run_for
from aishang.core.demo import demo_install
from aishang.core.testing import make_company, make_project, make_unit
from aishang.estate.models import Project

pytestmark = pytest.mark.django_db


def run_reconcile(*args):
    out = StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_the_books_agree_after_a_bill_run(project):
    make_unit(project, area="120.50")
    make_unit(project, area="88.00")
    bill_run_post(run_for(project, property_fee(project)))

    output, error = run_reconcile("--project", project.code, "--month", "2026-11")

    assert error is None
    assert "¥375.30" in output  # 216.90 + 158.40 on both sides
    assert output.strip().splitlines()[-1] == "对账结果：一致"


def test_a_bill_without_its_posting_is_reported_to_the_fen_and_fails(project):
    make_unit(project, area="120.50")
    rule = property_fee(project)
    bill_run_post(run_for(project, rule))
    Bill.objects.create(project=project, unit=make_unit(project), fee_item=rule.fee_item, rule=rule,
                        period_start=NOVEMBER, period_end=datetime.date(2026, 11, 30),
                        due_date=datetime.date(2026, 11, 15), amount=Decimal("0.07"))

    output, error = run_reconcile("--project", project.code)

    assert isinstance(error, CommandError)
    row = next(line for line in output.splitlines() if line.startswith(project.name) and "物业费" in line)
    assert row.split()[-3:] == ["¥216.90", "¥216.97", "-¥0.07"]
    assert output.strip().splitlines()[-1] == "对账结果：差额 ¥0.07（1 处）"


def test_an_entry_that_does_not_balance_is_reported(project):
    make_unit(project)
    rule = property_fee(project)
    bill_run_post(run_for(project, rule))
    entry = JournalEntry.objects.create(company=project.company, project=project, event="manual")
    # Written past journal_post, which refuses it: the check must not trust the writer.
    Posting.objects.create(entry=entry, account=Account.REVENUE, project=project, fee_item=rule.fee_item,
                           amount=Decimal("-12.34"))

    report = reconcile(Project.objects.filter(pk=project.pk))
    output, error = run_reconcile("--company", project.company.name)

    assert [(row.entry, row.total) for row in report.unbalanced] == [(entry, Decimal("-12.34"))]
    assert isinstance(error, CommandError)
    assert "-¥12.34" in output
    assert output.strip().splitlines()[-1] == "对账结果：差额 ¥12.34（1 处）"


def test_an_unknown_project_or_a_bad_month_is_refused(project):
    with pytest.raises(CommandError):
        call_command("reconcile", "--project", "NOPE", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("reconcile", "--month", "11/2026", stdout=StringIO())


def test_the_demo_company_reconciles_after_a_bill_run():
    company = demo_install().company
    for project in company.projects.all():
        bill_run_post(bill_run_create(project=project, rules=ChargeRule.objects.filter(project=project),
                                      period_month=NOVEMBER))

    output, error = run_reconcile("--company", company.name, "--month", "2026-11")

    assert error is None, output
    assert output.strip().splitlines()[-1] == "对账结果：一致"
    assert Bill.objects.filter(project__company=company).count() > 1700


def test_an_approved_waiver_is_a_correction_on_both_sides():
    from aishang.billing.approvals import approval_decide, approval_flows_install_defaults, approval_request_create
    from aishang.billing.models import ApprovalAction
    from aishang.core.testing import make_staff

    company = make_company()
    approval_flows_install_defaults(company)
    project = make_project(company)
    make_unit(project, area="120.50")
    bill_run_post(run_for(project, property_fee(project)))
    request = approval_request_create(action=ApprovalAction.WAIVER, bill=Bill.objects.get(), amount="16.90",
                                      reason="漏水", actor=make_staff(company, "cashier"))
    approval_decide(request=request, actor=make_staff(company, "finance"), approve=True)

    output, error = run_reconcile("--project", project.code, "--month", "2026-11")

    assert error is None, output
    assert "¥200.00" in output and "¥16.90" in output
    assert output.strip().splitlines()[-1] == "对账结果：一致"


def test_prepaid_money_in_the_journal_equals_the_prepaid_balances_and_a_stray_movement_is_caught(project):
    from aishang.billing.models import PrepaidMovement, PrepaidMovementKind
    from aishang.billing.payments import Tender, payment_collect, prepaid_account
    from aishang.core.testing import make_staff

    unit = make_unit(project)
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[Tender("cash", Decimal("80.00"))],
                    actor=make_staff(project.company, "cashier"))

    output, error = run_reconcile("--project", project.code)
    assert error is None
    assert any(line.split()[-3:] == ["¥80.00", "¥80.00", "¥0.00"] for line in output.splitlines())

    PrepaidMovement.objects.create(project=project, account=prepaid_account(unit), kind=PrepaidMovementKind.TOP_UP,
                                   amount=Decimal("5.00"))
    output, error = run_reconcile("--project", project.code)
    assert isinstance(error, CommandError)
    assert output.strip().splitlines()[-1] == "对账结果：差额 ¥5.00（1 处）"
