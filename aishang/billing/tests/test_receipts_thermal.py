"""小票 on 58/80 mm thermal rolls: one narrow column, amounts at the right edge, a page as long as the receipt, on
the print page, in the editor's preview and in the PDF (ADR 0018)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aishang.billing.models import ApprovalRequest, PaymentReversal, ReceiptTemplate
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.receipts import (
    receipt_context,
    receipt_pdf,
    receipt_sheet,
    receipt_template_save,
    suggested_positions,
)
from aishang.core.testing import (
    make_bill,
    make_company,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    make_unit,
)

from .test_receipts import media_box_mm, pdf_text

pytestmark = pytest.mark.django_db

FIELDS = ["company", "receipt_number", "received_at", "unit", "payer", "items", "total", "total_capitals",
          "tenders", "refunds", "cashier"]


@pytest.fixture
def project():
    return make_project(make_company(), name="阳光花园")


def pay(project, cashier, months=2):
    unit = make_unit(project)
    make_owner(unit)
    fee_item = make_fee_item(project.company, name="物业服务费")
    bills = [make_bill(project, "216.90", unit=unit, fee_item=fee_item, period_month=datetime.date(2026, month, 1))
             for month in range(1, months + 1)]
    total = Decimal("216.90") * months
    return payment_collect(project=project, unit=unit, bill_ids=[bill.pk for bill in bills], actor=cashier,
                           tenders=[Tender("cash", total, total + Decimal("20.00"))])


def roll(company, paper="roll58", **values):
    template = ReceiptTemplate(company=company, name=f"小票{paper}", title="收款小票", paper=paper,
                               layout="standard", fields=FIELDS, positions=suggested_positions(), **values)
    return receipt_template_save(template=template, actor=None)


@pytest.fixture
def payment(project, cashier):
    return pay(project, cashier)


# Templates


def test_a_roll_template_is_saved_with_its_places_kept_but_not_checked_against_the_narrow_paper(project):
    template = roll(project.company)

    assert template.pk and template.paper == "roll58"
    assert template.positions["receipt_number"] == [180.0, 14.0]  # kept for a switch back to a 241×93 form


def test_a_roll_cannot_be_printed_as_an_overlay_and_says_so_at_the_layout(project):
    template = ReceiptTemplate(company=project.company, name="小票套打", title="收据", paper="roll80",
                               layout="overlay", fields=FIELDS, positions=suggested_positions())

    with pytest.raises(ValidationError) as caught:
        receipt_template_save(template=template, actor=None)

    assert caught.value.message_dict == {"layout": ["热敏小票不能套打，请选择「标准收据」版式"]}


def test_the_editor_refuses_an_overlay_roll_at_the_layout_field(client, project):
    client.force_login(make_staff(project.company, "finance"))

    response = client.post(reverse("billing:receipttemplate_add"), {
        "name": "小票", "title": "收据", "paper": "roll58", "layout": "overlay", "show_fields": FIELDS})

    assert response.status_code == 400
    assert response.context["form"].errors["layout"] == ["热敏小票不能套打，请选择「标准收据」版式"]
    assert not ReceiptTemplate.objects.filter(name="小票").exists()


def test_the_editors_preview_shows_the_roll_at_its_width_as_one_column(client, cashier):
    response = client.post(reverse("billing:receipttemplate_preview"), {
        "title": "收款小票", "paper": "roll58", "layout": "standard", "show_fields": FIELDS,
        "pos_receipt_number_x": "180", "pos_receipt_number_y": "14"})

    page = response.content.decode()
    assert response.status_code == 200 and "preview-errors" not in page
    assert 'data-paper="58xroll"' in page and 'style="width: 58mm;"' in page and "receipt-roll-58" in page
    assert 'data-testid="roll-items"' in page and "<table" not in page
    assert "人民币肆佰叁拾叁元捌角" in page


# The print page


def test_the_print_page_prints_a_roll_at_its_width_with_a_page_as_long_as_the_receipt(client, payment):
    template = roll(payment.company, "roll80")

    page = client.get(reverse("billing:payment_receipt", args=[payment.pk]), {"template": template.pk})

    html = page.content.decode()
    sheet = page.context["sheet"]
    assert sheet["roll"] and sheet["width"] == 80 and 60 < sheet["height"] < 200
    assert f"@page {{ size: 80mm {sheet['height']:g}mm; margin: 0; }}" in html.replace(".0mm", "mm")
    assert 'data-paper="80xroll"' in html and "height: calc(" not in html
    items = re.search(r'data-testid="roll-items">(.*?)</ul>', html, re.S).group(1)
    # Each charge a line: its name at the left, its amount at the right edge, the period below.
    assert items.count('<div class="receipt-pair"><span>物业服务费</span><span class="num">¥216.90</span></div>') == 2
    assert '<div class="receipt-period">2026-01</div>' in items
    assert 'data-testid="capitals">人民币肆佰叁拾叁元捌角<' in html and payment.receipt_number in html
    assert f"收款人：{payment.cashier}" in html


def test_a_voided_roll_receipt_carries_the_stamp_and_a_refunded_one_lists_its_refunds(client, project, cashier):
    voided, refunded = pay(project, cashier, 1), pay(project, cashier, 1)
    template = roll(project.company)
    for payment, kind, amount in ((voided, "void", voided.amount), (refunded, "refund", Decimal("50.00"))):
        request = ApprovalRequest.objects.create(
            company=project.company, project=project, payment=payment, amount=amount, reason="收错房屋",
            action="payment_void" if kind == "void" else "refund", status="approved", requested_by=cashier)
        PaymentReversal.objects.create(project=project, payment=payment, kind=kind, request=request, amount=amount,
                                       method="wechat")

    void_page = client.get(reverse("billing:payment_receipt", args=[voided.pk]), {"template": template.pk})
    refund_page = client.get(reverse("billing:payment_receipt", args=[refunded.pk]), {"template": template.pk})

    assert 'data-testid="void-stamp"' in void_page.content.decode()
    refunds = re.search(r'data-testid="refunds">(.*?)</p>', refund_page.content.decode(), re.S).group(1)
    assert "退款 ¥50.00（微信）" in refunds
    void_pdf = pdf_text(receipt_pdf(receipt_sheet(template, receipt_context(voided))))
    assert "作废" in void_pdf


# The PDF


@pytest.mark.parametrize("paper, width", [("roll58", 58), ("roll80", 80)])
def test_the_roll_pdf_is_as_wide_as_the_roll_and_as_long_as_its_receipt(project, cashier, paper, width):
    template = roll(project.company, paper)
    short, long = pay(project, cashier, 1), pay(project, cashier, 6)

    short_sheet = receipt_sheet(template, receipt_context(short), copy_number=2)
    long_sheet = receipt_sheet(template, receipt_context(long))
    short_pdf, long_pdf = receipt_pdf(short_sheet), receipt_pdf(long_sheet)

    assert media_box_mm(short_pdf) == (width, round(short_sheet["height"]))
    assert media_box_mm(long_pdf) == (width, round(long_sheet["height"]))
    # Five more charges, each a line and a period line below it.
    assert long_sheet["height"] > short_sheet["height"] + 5 * 5
    text = pdf_text(long_pdf)
    assert long.receipt_number in text and "人民币壹仟叁佰零壹元肆角" in text and str(cashier) in text
    assert "补打（第 2 次）" in pdf_text(short_pdf) and "补打" not in text


def test_roll_amounts_end_at_the_printable_edge(project, cashier):
    template = roll(project.company)
    payment = pay(project, cashier, 1)

    data = receipt_pdf(receipt_sheet(template, receipt_context(payment)), compress=False)

    # The amounts' digits (in Helvetica; ¥ is drawn in the CID font before them) end 5 mm from the roll's edge:
    # the charge's at 7.5 pt, the total's at 8.5 pt.
    from reportlab.pdfbase.pdfmetrics import stringWidth

    ends, size = [], None
    for token in re.finditer(rb"/F\d+ ([\d.]+) Tf|1 0 0 1 ([\d.]+) [\d.]+ Tm \(216\.90\) Tj", data):
        if token.group(1):
            size = float(token.group(1))
        else:
            ends.append((size, round((float(token.group(2)) + stringWidth("216.90", "Helvetica", size)) / 72 * 25.4,
                                     1)))
    assert ends[:2] == [(7.5, 53.0), (8.5, 53.0)]


def test_sheet_papers_still_print_at_their_sizes(project, cashier):
    payment = pay(project, cashier, 1)
    for paper, size in (("a4", (210, 297)), ("a5", (210, 148)), ("241x93", (241, 93)), ("241x140", (241, 140))):
        template = ReceiptTemplate(company=project.company, name=paper, title="收据", paper=paper, fields=FIELDS)

        sheet = receipt_sheet(template, receipt_context(payment))

        assert not sheet["roll"] and (sheet["width"], sheet["height"]) == size
        assert media_box_mm(receipt_pdf(sheet)) == size
