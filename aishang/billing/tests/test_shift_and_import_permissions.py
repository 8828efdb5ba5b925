"""查看全部收银员日结 (billing.view_all_shifts) and 导入历史账单 (billing.import_bills): permissions of their own, on
the pages and the API, in the roles of new companies, and given by migration 0014 to the roles that held the old
ones."""

import importlib
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from openpyxl import Workbook

from aishang.billing.closes import shift_close, shift_close_queryset
from aishang.billing.models import Bill, Payment
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import (
    api_client,
    make_bill,
    make_fee_item,
    make_role,
    make_staff,
    make_unit,
)
from aishang.extras.models import Job

pytestmark = pytest.mark.django_db

MIGRATION = "0014_view_all_shifts_and_import_bills"
# What seeing colleagues' shifts needed before 0014 besides closing one's own.
SHIFT_DESK = ["billing.view_shiftclose", "billing.add_shiftclose", "billing.view_payment"]


def staff_with(project, permissions):
    return make_staff(project.company, make_role(project.company, permissions).code)


def perms_of(company, code):
    return {f"billing.{codename}" for codename in
            company.roles.get(code=code).permissions.filter(content_type__app_label="billing")
            .values_list("codename", flat=True)}


# The roles a new company starts with


def test_finance_and_admin_start_with_both_rights_and_the_cashier_with_neither(project):
    company = project.company

    for code in ("finance", "admin"):
        assert {"billing.view_all_shifts", "billing.import_bills"} <= perms_of(company, code)
    assert not {"billing.view_all_shifts", "billing.import_bills"} & perms_of(company, "cashier")


# 查看全部收银员日结


@pytest.fixture
def colleague_shift(project):
    """A colleague's closed shift, and money they collected since."""
    colleague = make_staff(project.company, "cashier")
    bill = make_bill(project, "20.00")
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", Decimal("20.00"))], actor=colleague)
    closed = shift_close(cashier=colleague, cash_handed_over="20.00", actor=colleague)
    bill = make_bill(project, "7.00")
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", Decimal("7.00"))], actor=colleague)
    return colleague, closed


def test_reading_the_journal_no_longer_shows_colleagues_shifts(client, project, colleague_shift):
    colleague, closed = colleague_shift
    clerk = staff_with(project, [*SHIFT_DESK, "billing.view_journalentry"])
    client.force_login(clerk)

    assert client.get(reverse("billing:shift_open"), {"cashier": colleague.pk}).status_code == 404
    assert client.get(reverse("billing:shiftclose_detail", args=[closed.pk])).status_code == 404
    assert client.post(reverse("billing:shift_open"), {"cashier": colleague.pk,
                                                       "cash_handed_over": "7.00"}).status_code == 404
    assert not shift_close_queryset(clerk).exists()
    assert api_client(clerk).get("/api/v1/shift/", {"cashier": colleague.pk}).status_code == 404
    assert api_client(clerk).get(f"/api/v1/shift-closes/{closed.pk}/").status_code == 404


def test_the_right_to_see_every_cashiers_shifts_shows_and_closes_them(client, project, colleague_shift):
    colleague, closed = colleague_shift
    clerk = staff_with(project, [*SHIFT_DESK, "billing.view_all_shifts"])
    client.force_login(clerk)

    page = client.get(reverse("billing:shift_open"), {"cashier": colleague.pk})
    assert page.status_code == 200 and page.context["summary"].cash_expected == Decimal("7.00")
    assert client.get(reverse("billing:shiftclose_detail", args=[closed.pk])).status_code == 200
    assert colleague.pk in [user.pk for user in page.context["cashiers"]]
    api = api_client(clerk)
    assert api.get("/api/v1/shift/", {"cashier": colleague.pk}).json()["cash_expected"] == "7.00"
    assert api.get(f"/api/v1/shift-closes/{closed.pk}/").status_code == 200
    response = client.post(reverse("billing:shift_open"), {
        "cashier": colleague.pk, "cash_handed_over": "7.00", "seen_until": page.context["form"].initial["seen_until"]})
    assert response.status_code == 302
    assert colleague.shift_closes.latest("period_end").closed_by == clerk


# 导入历史账单


def bills_file(unit, paid=True):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["房屋编码", "收费项目", "开始时间", "结束时间", "应收金额", "实收金额", "收款日期", "收款方式"])
    sheet.append([unit.code, "物业费", "2025-01-01", "2025-01-31", "216.90", *(
        ["216.90", "2025-01-10", "现金"] if paid else [None, None, None])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("历史账单.xlsx", buffer.getvalue())


def test_raising_bills_and_collecting_payments_no_longer_imports_history(client, project):
    unit = make_unit(project)
    make_fee_item(project.company, name="物业费")
    cashier = make_staff(project.company, "cashier")  # holds add_bill and add_payment
    client.force_login(cashier)

    assert client.get(reverse("billing:bill_import")).status_code == 403
    assert client.get(reverse("billing:bill_import_template"), {"project": project.pk}).status_code == 403
    assert reverse("billing:bill_import") not in client.get(reverse("billing:bill_list")).content.decode()
    api = api_client(cashier)
    refused = api.post("/api/v1/imports/bills/", {"project": project.pk, "file": bills_file(unit)},
                       format="multipart")
    assert refused.status_code == 403 and refused.json()["detail"] == "没有导入账单的权限"
    assert api.get("/api/v1/imports/bills/template/", {"project": project.pk}).status_code == 403
    assert not Job.objects.exists() and not Bill.objects.filter(unit=unit).exists()


def test_the_import_right_alone_imports_bills_with_their_payments(client, project):
    unit = make_unit(project)
    make_fee_item(project.company, name="物业费")
    clerk = staff_with(project, ["billing.import_bills", "billing.view_bill"])
    client.force_login(clerk)

    assert client.get(reverse("billing:bill_import")).status_code == 200
    assert reverse("billing:bill_import") in client.get(reverse("billing:bill_list")).content.decode()
    assert client.get(reverse("billing:bill_import_template"), {"project": project.pk}).status_code == 200
    accepted = api_client(clerk).post("/api/v1/imports/bills/", {"project": project.pk, "file": bills_file(unit)},
                                      format="multipart")

    assert accepted.status_code == 202, accepted.content
    assert Bill.objects.get(unit=unit).amount == Decimal("216.90")
    assert Payment.objects.get(unit=unit).amount == Decimal("216.90")


# Migration 0014: existing roles keep what they could do


def test_the_migration_gives_the_new_rights_to_every_role_that_held_the_old_ones(project):
    company = project.company
    new = Permission.objects.filter(content_type__app_label="billing", codename__in=["view_all_shifts",
                                                                                   "import_bills"])
    for role in company.roles.all():  # as a company created before 0014
        role.permissions.remove(*new)
    overseer = make_role(company, ["billing.view_shiftclose", "billing.view_journalentry"])
    journal_only = make_role(company, ["billing.view_journalentry"])
    importer = make_role(company, ["billing.add_bill", "billing.add_payment"])
    raiser = make_role(company, ["billing.add_bill"])
    migration = importlib.import_module(f"aishang.billing.migrations.{MIGRATION}")
    state = MigrationLoader(connection).project_state(("billing", MIGRATION))

    migration.add_permissions(state.apps, None)

    def held(role):
        return set(role.permissions.filter(pk__in=new).values_list("codename", flat=True))

    assert held(company.roles.get(code="finance")) == held(company.roles.get(code="admin")) == {
        "view_all_shifts", "import_bills"}
    # The cashier raised bills and collected at the desk, so could import: it keeps that, and sees only its shift.
    assert held(company.roles.get(code="cashier")) == {"import_bills"}
    assert held(overseer) == {"view_all_shifts"} and held(importer) == {"import_bills"}
    assert held(journal_only) == held(raiser) == set()
    assert held(company.roles.get(code="steward")) == set()
