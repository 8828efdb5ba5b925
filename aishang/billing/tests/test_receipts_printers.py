"""Printer profiles (打印机): each printer's offset moves what is printed on a sheet, chosen when printing and
remembered for the person; the calibration page measures it; every print says whether it was printed or
downloaded, and with which printer's offset (ADR 0018)."""

import base64
import datetime
import importlib
import re
import zlib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse

from aishang.billing.models import PrinterProfile, PrintOutput, ReceiptPrint, ReceiptTemplate
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.receipts import (
    NO_OFFSET,
    PrintOffset,
    calibrated_offset,
    calibration_sheet,
    printer_profile_save,
    receipt_print_record,
    receipt_template_save,
    suggested_positions,
)
from aishang.core.testing import (
    api_client,
    make_bill,
    make_company,
    make_fee_item,
    make_owner,
    make_project,
    make_role,
    make_staff,
    make_unit,
)
from aishang.extras.models import ObjectChange

from .test_receipts import media_box_mm, pdf_text

pytestmark = pytest.mark.django_db

MIGRATION = "0015_thermal_papers_printers_and_print_output"
OUT_OF_BOUNDS = "偏移应在 -20 到 20 毫米之间"


@pytest.fixture
def project():
    return make_project(make_company(), name="阳光花园")


@pytest.fixture
def finance(project):
    return make_staff(project.company, "finance")


@pytest.fixture
def payment(project, cashier):
    unit = make_unit(project)
    make_owner(unit)
    bill = make_bill(project, "433.80", unit=unit, fee_item=make_fee_item(project.company, name="物业费"),
                     period_month=datetime.date(2026, 11, 1))
    return payment_collect(project=project, unit=unit, bill_ids=[bill.pk], actor=cashier,
                           tenders=[Tender("cash", Decimal("433.80"))])


@pytest.fixture
def printer(project):
    printer = PrinterProfile(company=project.company, name="前台针式", offset_x=Decimal("2.5"),
                             offset_y=Decimal("-1.5"))
    return printer_profile_save(printer=printer, actor=None)


@pytest.fixture
def overlay(project):
    template = ReceiptTemplate(company=project.company, name="针式套打", title="收据", paper="241x93",
                               layout="overlay", fields=["receipt_number", "unit", "items", "total_capitals"],
                               positions=suggested_positions())
    return receipt_template_save(template=template, actor=None)


def pdf_streams(data):
    return b"".join(zlib.decompress(base64.a85decode(s.strip()[:-2]))
                    for s in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S))


# Profiles


@pytest.mark.parametrize(("values", "errors"), [
    ({"offset_x": Decimal("20.5")}, {"offset_x": [OUT_OF_BOUNDS]}),
    ({"offset_y": Decimal("-21")}, {"offset_y": [OUT_OF_BOUNDS]}),
    ({"offset_x": Decimal("1.25")}, {"offset_x": ["偏移最多保留 1 位小数"]}),
    ({"offset_y": Decimal("123.4")}, {"offset_y": [OUT_OF_BOUNDS]}),
    ({"name": ""}, {"name": ["此字段不能为空。"]}),
], ids=["right-too-far", "up-too-far", "hundredths", "three-digits", "no-name"])
def test_a_profile_out_of_bounds_is_refused_at_its_field_in_chinese_and_not_saved(project, values, errors):
    printer = PrinterProfile(company=project.company, **{"name": "前台", **values})

    with pytest.raises(ValidationError) as caught:
        printer_profile_save(printer=printer, actor=None)

    assert caught.value.message_dict == errors
    assert not PrinterProfile.objects.exists()


def test_a_second_printer_of_the_same_name_is_refused_but_another_company_may_use_it(project, printer):
    with pytest.raises(ValidationError) as caught:
        printer_profile_save(printer=PrinterProfile(company=project.company, name="前台针式"), actor=None)

    assert caught.value.message_dict == {"name": ["已有名为「前台针式」的打印机"]}
    printer_profile_save(printer=PrinterProfile(company=make_company(), name="前台针式"), actor=None)
    assert ObjectChange.objects.filter(object_id=printer.pk, object_type__model="printerprofile").exists()


def test_finance_manages_printers_on_the_receipt_template_page(client, project, finance):
    client.force_login(finance)

    refused = client.post(reverse("billing:printer_add"), {"name": "前台", "offset_x": "25", "offset_y": "abc"})
    saved = client.post(reverse("billing:printer_add"), {"name": "前台", "offset_x": "-3.5", "offset_y": "2"})
    listing = client.get(reverse("billing:receipttemplate_list")).content.decode()

    assert refused.status_code == 400
    assert refused.context["form"].errors == {"offset_x": [OUT_OF_BOUNDS], "offset_y": ["请输入毫米数，如 1.5 或 -2"]}
    assert saved.status_code == 302
    printer = PrinterProfile.objects.get(company=project.company)
    assert (printer.name, printer.offset_x, printer.offset_y) == ("前台", Decimal("-3.5"), Decimal("2.0"))
    assert 'data-testid="printer-list"' in listing and "前台" in listing and "-3.5" in listing
    edited = client.post(reverse("billing:printer_detail", args=[printer.pk]),
                         {"name": "前台", "offset_x": "1", "offset_y": "0"})
    assert edited.status_code == 302 and PrinterProfile.objects.get().offset_x == Decimal("1.0")
    client.post(reverse("billing:printer_delete", args=[printer.pk]))
    assert not PrinterProfile.objects.exists()


def test_a_cashier_sees_printers_but_may_not_change_them(client, project, cashier, printer):
    listing = client.get(reverse("billing:receipttemplate_list")).content.decode()

    assert "前台针式" in listing and reverse("billing:printer_add") not in listing
    assert client.get(reverse("billing:printer_add")).status_code == 403
    assert client.post(reverse("billing:printer_detail", args=[printer.pk]),
                       {"name": "x", "offset_x": "0", "offset_y": "0"}).status_code == 403
    assert client.post(reverse("billing:printer_delete", args=[printer.pk])).status_code == 403
    assert PrinterProfile.objects.get().name == "前台针式"


def test_another_companys_printer_answers_404(client, project, finance):
    theirs = printer_profile_save(printer=PrinterProfile(company=make_company(), name="别家"), actor=None)
    client.force_login(finance)

    assert client.get(reverse("billing:printer_detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("billing:printer_delete", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("billing:printer_calibration"), {"printer": theirs.pk}).status_code == 404
    assert api_client(finance).get(f"/api/v1/printer-profiles/{theirs.pk}/").status_code == 404


# Printing with a printer


def test_the_printer_chosen_moves_the_sheet_and_its_copy_records_the_printer_and_the_offset(client, payment, printer,
                                                                                         overlay):
    url = reverse("billing:payment_receipt", args=[payment.pk])

    page = client.get(url, {"template": overlay.pk, "printer": printer.pk}).content.decode()
    printed = client.post(reverse("billing:receipt_print", args=[payment.pk]),
                          {"template": overlay.pk, "printer": printer.pk})
    reopened = client.get(printed.url).content.decode()

    assert 'style="transform: translate(2.5mm, -1.5mm)" data-offset="2.5,-1.5"' in page
    assert "按「前台针式」校正：水平 2.5 毫米，垂直 -1.5 毫米" in page
    record = payment.prints.get()
    assert (record.output, record.printer_name, record.offset_x, record.offset_y) == (
        PrintOutput.PRINT, "前台针式", Decimal("2.5"), Decimal("-1.5"))
    # The copy printed is drawn with the offset it was recorded with, even if the profile changes meanwhile.
    assert 'data-offset="2.5,-1.5"' in reopened


def test_the_pdf_is_moved_by_the_printers_offset_and_recorded_as_downloaded(client, payment, printer, overlay):
    data = client.post(reverse("billing:receipt_pdf", args=[payment.pk]),
                       {"template": overlay.pk, "printer": printer.pk}).content

    assert media_box_mm(data) == (241, 93)
    streams = pdf_streams(data)
    assert b"1 0 0 1 7.086614 4.251969 cm" in streams  # 2.5 mm right, 1.5 mm up (PDF measures y upwards)
    x, y = suggested_positions()["receipt_number"]
    drawn_at = re.search(rb"1 0 0 1 ([\d.]+) ([\d.]+) Tm \(" + payment.receipt_number.encode() + rb"\) Tj", streams)
    assert [round(float(n) / 72 * 25.4, 1) for n in drawn_at.groups()] == [x, round(93 - y - 3.5, 1)]
    record = payment.prints.get()
    assert (record.output, record.printer_name, record.offset_x) == (PrintOutput.PDF, "前台针式", Decimal("2.5"))
    history = client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode()
    assert re.search(r'data-testid="print-output">下载 PDF<', history)


def test_a_standard_sheet_is_moved_too_but_a_thermal_roll_never(client, project, payment, printer):
    rolls = ReceiptTemplate(company=project.company, name="小票", title="收据", paper="roll58",
                            fields=["receipt_number", "total_capitals"])
    receipt_template_save(template=rolls, actor=None)
    url = reverse("billing:payment_receipt", args=[payment.pk])

    standard = client.get(url, {"printer": printer.pk}).content.decode()
    thermal = client.get(url, {"printer": printer.pk, "template": rolls.pk}).content.decode()
    client.post(reverse("billing:receipt_print", args=[payment.pk]), {"template": rolls.pk, "printer": printer.pk})

    assert 'data-offset="2.5,-1.5"' in standard
    assert "data-offset" not in thermal and "热敏小票不校正偏移" in thermal
    record = payment.prints.get()
    assert (record.printer_name, record.offset_x, record.offset_y) == ("前台针式", 0, 0)


def test_the_printer_chosen_is_remembered_in_the_session_and_after_logging_in_again(client, payment, cashier,
                                                                                    printer):
    url = reverse("billing:payment_receipt", args=[payment.pk])
    other = printer_profile_save(printer=PrinterProfile(company=payment.company, name="后台"), actor=None)

    client.get(url, {"printer": other.pk})
    assert client.get(url).context["printer"] == other
    client.post(reverse("billing:receipt_print", args=[payment.pk]), {"printer": printer.pk})
    assert client.get(url).context["printer"] == printer

    again = Client()
    again.force_login(cashier)
    assert again.get(url).context["printer"] == printer  # a new session: the printer of their last print
    again.get(url, {"printer": ""})
    assert again.get(url).context["printer"] is None  # 不校正偏移 is a choice too
    colleague = Client()
    colleague.force_login(make_staff(payment.company, "cashier"))
    assert colleague.get(url).context["printer"] is None


def test_a_choice_of_another_companys_printer_prints_without_an_offset(client, payment):
    theirs = printer_profile_save(printer=PrinterProfile(company=make_company(), name="别家", offset_x=5), actor=None)

    client.post(reverse("billing:receipt_print", args=[payment.pk]), {"printer": theirs.pk})

    assert payment.prints.get().printer_name == "" and payment.prints.get().offset_x == 0


def test_the_print_history_says_how_each_copy_left_and_copies_recorded_before_say_nothing(client, payment, cashier,
                                                                                          printer):
    ReceiptPrint.objects.create(payment=payment, copy_number=1, printed_by=cashier)  # recorded before ADR 0018
    client.post(reverse("billing:receipt_print", args=[payment.pk]), {"printer": printer.pk})
    client.post(reverse("billing:receipt_pdf", args=[payment.pk]), {"printer": ""})

    page = client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode()

    assert re.findall(r'data-testid="print-output">([^<]*)<', page) == ["--", "打印", "下载 PDF"]
    assert "前台针式" in page and "（2.5, -1.5 毫米）" in page


# Calibration


def test_the_calibration_page_has_rulers_and_crosses_at_known_places_moved_by_the_printer(client, cashier, printer):
    page = client.get(reverse("billing:printer_calibration"), {"printer": printer.pk, "paper": "241x93"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "@page { size: 241mm 93mm; margin: 0; }" in html
    assert 'viewBox="0 0 241 93"' in html and 'transform="translate(2.5 -1.5)"' in html
    assert '<circle cx="30" cy="30" r="2"' in html and '<circle cx="211" cy="63" r="2"' in html
    assert html.count("<line ") == 2 + 242 + 94 + 2 * 5
    assert 'data-testid="calibration-form"' not in html  # a cashier measures; finance corrects


def test_the_calibration_pdf_is_the_papers_size_and_carries_the_marks(client, cashier, printer):
    response = client.get(reverse("billing:printer_calibration_pdf"), {"printer": printer.pk, "paper": "a5"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert media_box_mm(response.content) == (210, 148)
    assert "(30, 30)" in pdf_text(response.content) and "量出此十字中心" in pdf_text(response.content)
    assert b"1 0 0 1 7.086614 4.251969 cm" in pdf_streams(response.content)


def test_the_measured_cross_gives_the_printer_its_new_offset():
    sheet = calibration_sheet("241x93")

    assert calibrated_offset(NO_OFFSET, sheet["reference"], Decimal("32.5"), Decimal("28")) == PrintOffset(
        Decimal("-2.5"), Decimal("2"))
    assert calibrated_offset(PrintOffset(Decimal("-2.5"), Decimal("2")), sheet["reference"], Decimal("30.5"),
                             Decimal("30")) == PrintOffset(Decimal("-3.0"), Decimal("2"))


def test_finance_enters_the_measured_place_and_the_printer_takes_the_new_offset(client, finance, printer):
    client.force_login(finance)
    url = reverse("billing:printer_calibration")

    response = client.post(url, {"printer": printer.pk, "paper": "241x93", "measured_x": "31", "measured_y": "30.5"})

    printer.refresh_from_db()
    assert response.status_code == 302 and response.url == f"{url}?printer={printer.pk}&paper=241x93"
    assert (printer.offset_x, printer.offset_y) == (Decimal("1.5"), Decimal("-2.0"))


@pytest.mark.parametrize(("measured", "field", "message"), [
    ({"measured_x": "300", "measured_y": "30"}, "measured_x", "应在 0 到 241 毫米之间（纸张宽 241 毫米）"),
    ({"measured_x": "30", "measured_y": "abc"}, "measured_y", "请输入毫米数，如 31.5"),
    ({"measured_x": "30.25", "measured_y": ""}, "measured_y", "请填写量得的毫米数"),
    ({"measured_x": "5", "measured_y": "30"}, "measured_x",
     "按此测量偏移将为 +27.5 毫米，超出 ±20 毫米；请把纸张放正后重新测量"),
], ids=["off-the-paper", "not-a-number", "empty", "offset-too-large"])
def test_a_bad_measurement_is_refused_at_its_field_and_the_offset_stays(client, finance, printer, measured, field,
                                                                        message):
    client.force_login(finance)

    response = client.post(reverse("billing:printer_calibration"), {"printer": printer.pk, "paper": "241x93",
                                                                    **measured})

    assert response.status_code == 400 and response.context["form"].errors[field] == [message]
    printer.refresh_from_db()
    assert (printer.offset_x, printer.offset_y) == (Decimal("2.5"), Decimal("-1.5"))


def test_a_cashier_may_not_change_the_offset_through_the_calibration_page(client, cashier, printer):
    response = client.post(reverse("billing:printer_calibration"),
                           {"printer": printer.pk, "measured_x": "31", "measured_y": "31"})

    assert response.status_code == 403
    printer.refresh_from_db()
    assert printer.offset_x == Decimal("2.5")


def test_staff_without_the_printer_right_get_no_calibration_page(client, project):
    client.force_login(make_staff(project.company, make_role(project.company, ["billing.view_payment"]).code))

    assert client.get(reverse("billing:printer_calibration")).status_code == 403
    assert client.get(reverse("billing:printer_calibration_pdf")).status_code == 403


# API


def test_the_api_keeps_printers_and_refuses_bad_offsets_in_chinese(project, finance):
    client = api_client(finance)

    bad = client.post("/api/v1/printer-profiles/", {"name": "前台", "offset_x": "20.1", "offset_y": "x"},
                      format="json")
    good = client.post("/api/v1/printer-profiles/", {"name": "前台", "offset_x": "-4.5", "offset_y": "1"},
                       format="json")
    again = client.post("/api/v1/printer-profiles/", {"name": "前台"}, format="json")

    assert bad.status_code == 400
    assert bad.json() == {"offset_x": [OUT_OF_BOUNDS], "offset_y": ["请输入毫米数，如 1.5 或 -2"]}
    assert good.status_code == 201, good.content
    assert (good.json()["offset_x"], good.json()["offset_y"], good.json()["company"]) == ("-4.5", "1.0",
                                                                                         project.company_id)
    assert again.status_code == 400 and again.json() == {"name": ["已有名为「前台」的打印机"]}
    calibration = client.get(f"/api/v1/printer-profiles/{good.json()['id']}/calibration/", {"paper": "a4"},
                             HTTP_ACCEPT="application/pdf")
    assert calibration.status_code == 200 and media_box_mm(calibration.content) == (210, 297)
    assert client.get(f"/api/v1/printer-profiles/{good.json()['id']}/calibration/", {"paper": "roll58"}).status_code \
        == 400


def test_a_cashier_reads_printers_through_the_api_but_may_not_write_them(project, printer):
    client = api_client(make_staff(project.company, "cashier"))

    assert [row["name"] for row in client.get("/api/v1/printer-profiles/").json()["results"]] == ["前台针式"]
    assert client.patch(f"/api/v1/printer-profiles/{printer.pk}/", {"offset_x": "0"},
                        format="json").status_code == 403


def test_the_api_records_how_a_copy_left_and_its_pdf_is_moved_as_recorded(payment, cashier, printer, overlay):
    client = api_client(cashier)

    printed = client.post("/api/v1/receipt-prints/", {"payment": payment.pk, "template": overlay.pk,
                                                       "printer": printer.pk}, format="json")
    downloaded = client.post("/api/v1/receipt-prints/", {"payment": payment.pk, "output": "pdf"}, format="json")
    bad = client.post("/api/v1/receipt-prints/", {"payment": payment.pk, "output": "fax"}, format="json")
    pdf = client.get(f"/api/v1/receipt-prints/{printed.json()['id']}/pdf/", HTTP_ACCEPT="application/pdf")

    assert printed.status_code == downloaded.status_code == 201
    assert (printed.json()["output"], printed.json()["output_label"], printed.json()["printer_name"],
            printed.json()["offset_x"]) == ("print", "打印", "前台针式", "2.5")
    assert (downloaded.json()["output"], downloaded.json()["printer_name"]) == ("pdf", "")
    assert bad.status_code == 400 and "output" in bad.json()
    assert b"1 0 0 1 7.086614 4.251969 cm" in pdf_streams(pdf.content)


def test_the_api_refuses_another_companys_printer(payment, cashier):
    theirs = printer_profile_save(printer=PrinterProfile(company=make_company(), name="别家"), actor=None)

    response = api_client(cashier).post("/api/v1/receipt-prints/", {"payment": payment.pk, "printer": theirs.pk},
                                        format="json")

    assert response.status_code == 400 and "printer" in response.json()
    assert not payment.prints.exists()


# Roles


def test_finance_and_admin_set_printers_up_and_cashiers_see_them(project):
    def billing_perms(code):
        return set(project.company.roles.get(code=code).permissions.filter(codename__endswith="_printerprofile")
                   .values_list("codename", flat=True))

    everything = {"view_printerprofile", "add_printerprofile", "change_printerprofile", "delete_printerprofile"}
    assert billing_perms("finance") == billing_perms("admin") == everything
    assert billing_perms("cashier") == {"view_printerprofile"}
    assert billing_perms("steward") == set()


def test_the_migration_gives_printer_rights_to_roles_that_hold_the_template_rights(project):
    company = project.company
    printers = Permission.objects.filter(codename__endswith="_printerprofile")
    for role in company.roles.all():  # as a company created before 0015
        role.permissions.remove(*printers)
    editor = make_role(company, ["billing.view_receipttemplate", "billing.change_receipttemplate"])
    migration = importlib.import_module(f"aishang.billing.migrations.{MIGRATION}")

    migration.add_permissions(MigrationLoader(connection).project_state(("billing", MIGRATION)).apps, None)

    def held(role):
        return set(role.permissions.filter(pk__in=printers).values_list("codename", flat=True))

    everything = {"view_printerprofile", "add_printerprofile", "change_printerprofile", "delete_printerprofile"}
    assert held(company.roles.get(code="finance")) == held(editor) == everything
    assert held(company.roles.get(code="cashier")) == {"view_printerprofile"}
    assert held(company.roles.get(code="steward")) == set()


def test_a_print_recorded_by_the_service_copies_the_printer(payment, cashier, printer, overlay):
    record = receipt_print_record(payment=payment, template=overlay, actor=cashier, output=PrintOutput.PDF,
                                  printer=printer)
    printer.offset_x = Decimal("9")
    printer_profile_save(printer=printer, actor=None)

    record.refresh_from_db()
    assert (record.output, record.printer_name, record.offset_x) == ("pdf", "前台针式", Decimal("2.5"))
