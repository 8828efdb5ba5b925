"""收据: templates (fields, paper, 套打 positions, logo), the receipt page, prints and 补打, 作废, the PDF and the API.

Wording decided here and in ADR 0013: the first print of a receipt is the original and carries no mark; the
N-th print (N ≥ 2) is marked 补打（第 N 次）, N counting every print including the original, as the print
history's 第 N 次 does.
"""

import base64
import contextlib
import datetime
import re
import threading
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse

from aishang.billing import receipts
from aishang.billing.models import (
    ApprovalRequest,
    PaymentReversal,
    ReceiptPrint,
    ReceiptTemplate,
)
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.receipts import (
    DEFAULT_FIELDS,
    receipt_context,
    receipt_print_record,
    receipt_template_choose,
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
    make_staff,
    make_unit,
)
from aishang.extras.models import ObjectChange

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")


@pytest.fixture
def project():
    return make_project(make_company(), name="阳光花园")


@pytest.fixture
def payment(project, cashier):
    unit = make_unit(project)
    make_owner(unit)
    fee_item = make_fee_item(project.company, name="物业费")
    bills = [make_bill(project, "216.90", unit=unit, fee_item=fee_item, period_month=month)
             for month in (OCTOBER, NOVEMBER)]
    return payment_collect(project=project, unit=unit, bill_ids=[bill.pk for bill in bills], actor=cashier,
                           tenders=[Tender("cash", Decimal("400.00"), Decimal("500.00")),
                                    Tender("wechat", Decimal("50.00"), reference="4200001")])


def approved_request(payment, action="payment_void", amount=None):
    return ApprovalRequest.objects.create(company=payment.company, project=payment.project, action=action,
                                          payment=payment, amount=amount or payment.amount, reason="收错房屋",
                                          status="approved", requested_by=payment.cashier)


def void(payment):
    return PaymentReversal.objects.create(project=payment.project, payment=payment, kind="void",
                                          request=approved_request(payment), amount=payment.amount, method="cash")


def refund(payment, amount):
    return PaymentReversal.objects.create(project=payment.project, payment=payment, kind="refund",
                                          request=approved_request(payment, "refund", amount), amount=amount,
                                          method="wechat")


def overlay_template(company, **fields):
    values = {"name": "套打三联", "title": "收款收据", "paper": "241x93", "layout": "overlay",
              "fields": ["receipt_number", "unit", "items", "total_capitals", "cashier"],
              "positions": suggested_positions(), **fields}
    return ReceiptTemplate(company=company, **values)


def pdf_text(data):
    """The text one of our PDFs draws: Helvetica runs decoded as Latin-1, the CID font's (STSong-Light) as UCS-2."""
    cid_fonts = set(re.findall(rb"/Encoding /UniGB-UCS2-H /Name /(F\d+)", data))
    text, font = [], None
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):  # a stream we wrote uncompressed
            raw = zlib.decompress(raw)
        for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", raw, re.S):
            if token.group(1):
                font = token.group(1)
                continue
            string = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, token.group(2), flags=re.S)
            text.append(string.decode("utf-16-be") if font in cid_fonts else string.decode("latin-1"))
    return "".join(text)


def _unescape(match):
    escaped = match.group(1)
    if escaped[:1].isdigit():
        return bytes([int(escaped, 8)])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(escaped, escaped)


def media_box_mm(data):
    width, height = (float(n) for n in re.search(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", data).groups())
    return round(width / 72 * 25.4), round(height / 72 * 25.4)


# Templates


def test_every_new_company_starts_with_the_standard_receipt_as_its_default(project):
    template = ReceiptTemplate.objects.get(company=project.company)

    assert (template.is_default, template.paper, template.layout) == (True, "a5", "standard")
    assert template.fields == list(DEFAULT_FIELDS)


def test_a_company_without_templates_prints_with_the_built_in_standard_receipt(project):
    ReceiptTemplate.objects.filter(company=project.company).delete()

    template, templates = receipt_template_choose(project.company)

    assert templates == [] and template.pk is None and template.fields == list(DEFAULT_FIELDS)


def test_a_template_with_unknown_fields_or_bad_positions_is_refused_in_chinese_and_nothing_is_saved(project):
    template = ReceiptTemplate(company=project.company, name="错误模板", title="收据", paper="241x93",
                               layout="overlay", fields=["receipt_number", "items", "shoe_size"],
                               positions={"receipt_number": [250, 10], "items": ["左", 3], "hat": [1, 1]})

    with pytest.raises(ValidationError) as caught:
        receipt_template_save(template=template, actor=None)

    errors = caught.value.message_dict
    assert errors["fields"] == ["未知的字段：shoe_size", "收据必须显示「合计（大写）」"]
    assert errors["positions.receipt_number"] == ["「收据号」的位置超出纸张（宽 241 毫米、高 93 毫米）"]
    assert errors["positions.items"] == ["「收费明细」的位置应为两个数字：距纸张左边和上边的毫米数"]
    assert errors["positions"] == ["未知的字段「hat」"]
    assert ReceiptTemplate.objects.filter(company=project.company).count() == 1


def test_an_overlay_template_needs_a_place_for_every_field_it_shows(project):
    template = overlay_template(project.company, positions={"receipt_number": [180, 12]})

    with pytest.raises(ValidationError) as caught:
        receipt_template_save(template=template, actor=None)

    assert caught.value.message_dict["positions.unit"] == ["套打须填写「房屋」的位置"]


def test_a_template_saved_as_default_takes_the_place_of_the_old_default_and_is_change_logged(project):
    old = ReceiptTemplate.objects.get(company=project.company)
    template = overlay_template(project.company, is_default=True)

    receipt_template_save(template=template, actor=None)

    old.refresh_from_db()
    assert not old.is_default and template.is_default
    assert receipt_template_choose(project.company)[0] == template
    assert ObjectChange.objects.filter(object_id=template.pk, object_type__model="receipttemplate").exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"GIF89a" + b"\0" * 10, "标志只能是 PNG 或 JPEG 图片"),
    (b"<svg onload=alert(1)></svg>", "标志只能是 PNG 或 JPEG 图片"),
    (PNG + b"\0" * 210_000, "标志图片不能超过 200 KB（当前 206 KB）"),
], ids=["gif", "svg", "too-large"])
def test_a_logo_must_be_a_png_or_jpeg_by_its_content_of_at_most_200_kb(project, content, message):
    template = ReceiptTemplate.objects.get(company=project.company)
    template.logo = SimpleUploadedFile("logo.png", content, content_type="image/png")

    with pytest.raises(ValidationError) as caught:
        receipt_template_save(template=template, actor=None)

    assert message in caught.value.message_dict["logo"]


def test_the_editor_saves_a_template_with_its_logo_and_refuses_bad_positions_at_their_field(client, project):
    finance = make_staff(project.company, "finance")
    client.force_login(finance)
    form = {"name": "套打三联", "title": "收款收据", "paper": "241x93", "layout": "overlay",
            "show_fields": ["receipt_number", "unit", "items", "total_capitals"],
            **{f"pos_{code}_{axis}": value for code, place in suggested_positions().items()
               for axis, value in zip("xy", place, strict=True)}}

    refused = client.post(reverse("billing:receipttemplate_add"), {**form, "pos_unit_x": "300"})
    saved = client.post(reverse("billing:receipttemplate_add"),
                        {**form, "logo": SimpleUploadedFile("logo.png", PNG, content_type="image/png")})

    assert refused.status_code == 400
    assert "「房屋」的位置超出纸张（宽 241 毫米、高 93 毫米）" in refused.content.decode()
    assert saved.status_code == 302
    template = ReceiptTemplate.objects.get(company=project.company, name="套打三联")
    assert template.fields == ["receipt_number", "unit", "items", "total_capitals"]
    assert template.positions["unit"] == [30.0, 27.0] and template.logo.name.startswith("receipt-logos/")


def test_a_cashier_sees_the_templates_but_may_not_change_them(client, project, cashier):
    template = ReceiptTemplate.objects.get(company=project.company)

    page = client.get(reverse("billing:receipttemplate_detail", args=[template.pk]))
    home = client.get("/").content.decode()

    assert page.status_code == 200 and "<fieldset disabled" in page.content.decode()
    assert "收据模板" in home
    assert client.post(reverse("billing:receipttemplate_detail", args=[template.pk]),
                       {"name": "改名"}).status_code == 403
    assert client.get(reverse("billing:receipttemplate_add")).status_code == 403
    assert client.post(reverse("billing:receipttemplate_delete", args=[template.pk])).status_code == 403


def test_the_preview_shows_a_sample_receipt_at_the_papers_size_with_overlay_fields_at_their_places(client,
                                                                                                 cashier):
    response = client.post(reverse("billing:receipttemplate_preview"), {
        "title": "收款收据", "paper": "241x93", "layout": "overlay", "show_fields": ["receipt_number", "items"],
        "pos_receipt_number_x": "180", "pos_receipt_number_y": "12.5", "pos_items_x": "20", "pos_items_y": "abc"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "width: 241mm; height: 93mm" in page
    assert 'style="left: 180.0mm; top: 12.5mm" data-testid="receipt-field-receipt_number"' in page
    assert "「收费明细」的位置应为两个数字" in page and "收据必须显示「合计（大写）」" in page
    assert 'data-testid="receipt-field-items"' not in page  # a place that is not a number is left out


def test_the_standard_preview_shows_title_logo_and_the_sample_charges(client, cashier):
    response = client.post(reverse("billing:receipttemplate_preview"), {
        "title": "物业收费收据", "paper": "a5", "layout": "standard", "show_fields": list(DEFAULT_FIELDS),
        "logo": SimpleUploadedFile("logo.png", PNG, content_type="image/png")})

    page = response.content.decode()
    assert "width: 210mm; height: 148mm" in page and "物业收费收据" in page
    assert 'src="data:image/png;base64,' in page and "人民币肆佰叁拾叁元捌角" in page
    assert "preview-errors" not in page


def test_what_users_type_into_a_template_is_shown_as_text_never_run(client, project):
    client.force_login(make_staff(project.company, "finance"))
    template = ReceiptTemplate.objects.get(company=project.company)
    template.title = "<script>alert('x')</script>"
    template.footer = '"><img src=x onerror=alert(1)>'
    receipt_template_save(template=template, actor=None)
    payment = payment_collect(project=project, unit=make_unit(project), bill_ids=[],
                              tenders=[Tender("cash", Decimal("10.00"))], actor=make_staff(project.company, "cashier"))

    pages = [client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode(),
             client.get(reverse("billing:receipttemplate_detail", args=[template.pk])).content.decode(),
             client.post(reverse("billing:receipttemplate_preview"),
                         {"title": "<script>alert(2)</script>", "show_fields": ["receipt_number"]}).content.decode()]

    for page in pages:
        assert "<script>alert(" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in pages[0]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in pages[2]


# The receipt


def test_the_receipt_says_what_was_paid_in_words_how_and_by_whom(payment):
    receipt = receipt_context(payment)

    assert [(item["name"], item["period"], item["amount"]) for item in receipt["items"]] == [
        ("物业费", "2026-10", Decimal("216.90")), ("物业费", "2026-11", Decimal("216.90")),
        ("多收转预存（通用预存）", "", Decimal("16.20"))]
    assert receipt["capitals"] == "人民币肆佰伍拾元整" and receipt["total_text"] == "¥450.00"
    assert receipt["tenders_text"] == "现金 ¥400.00（实付 ¥500.00，找零 ¥100.00）；微信 ¥50.00"
    assert receipt["prepaid_text"] == "存入通用预存 ¥16.20"
    assert receipt["cashier"] == str(payment.cashier) and not receipt["voided"]


def test_the_receipt_page_shows_the_default_template_and_offers_the_others(client, payment):
    other = overlay_template(payment.company)
    receipt_template_save(template=other, actor=None)

    page = client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode()
    chosen = client.get(reverse("billing:payment_receipt", args=[payment.pk]), {"template": other.pk})

    assert "人民币肆佰伍拾元整" in page and "@page { size: 210mm 148mm; margin: 0; }" in page
    assert f'<option value="{other.pk}"' in page and "尚未打印" in page
    assert "@page { size: 241mm 93mm; margin: 0; }" in chosen.content.decode()


def test_the_first_print_is_the_original_and_the_next_is_marked_reprint_with_its_number(client, payment, cashier):
    url = reverse("billing:payment_receipt", args=[payment.pk])

    first = client.post(reverse("billing:receipt_print", args=[payment.pk]))
    original = client.get(first.url).content.decode()
    second = client.post(reverse("billing:receipt_print", args=[payment.pk]))
    reprint = client.get(second.url).content.decode()
    after = client.get(url).content.decode()

    records = list(ReceiptPrint.objects.filter(payment=payment).order_by("copy_number"))
    assert [(r.copy_number, r.is_reprint, r.printed_by) for r in records] == [(1, False, cashier), (2, True, cashier)]
    assert first.url == f"{url}?print={records[0].pk}&template={records[0].template_id}"
    opens_dialog = 'window.addEventListener("load", () => window.print()'
    assert "已记录本次打印（原件）" in original and "reprint-mark" not in original and opens_dialog in original
    assert 'data-testid="reprint-mark">补打（第 2 次）<' in reprint and opens_dialog in reprint
    # The plain page shows the copy the next print will be, and only prints through the button.
    assert 'data-testid="reprint-mark">补打（第 3 次）<' in after and opens_dialog not in after
    assert "这张收据已打印 2 次" in after and after.count("补打</span>") == 1


def test_a_reprint_uses_the_template_of_the_copy_before_it(client, payment, cashier):
    overlay = overlay_template(payment.company)
    receipt_template_save(template=overlay, actor=None)
    client.post(reverse("billing:receipt_print", args=[payment.pk]), {"template": overlay.pk})

    page = client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode()
    again = api_client(cashier).post("/api/v1/receipt-prints/", {"payment": payment.pk}, format="json")

    assert "@page { size: 241mm 93mm; margin: 0; }" in page
    assert (again.json()["copy_number"], again.json()["template"]) == (2, overlay.pk)


def test_an_earlier_print_cannot_be_shown_again_as_an_unmarked_original(client, payment):
    first = client.post(reverse("billing:receipt_print", args=[payment.pk]))
    client.post(reverse("billing:receipt_print", args=[payment.pk]))

    page = client.get(first.url).content.decode()

    assert "已记录本次打印" not in page and "补打（第 3 次）" in page


def test_a_copy_number_taken_meanwhile_is_retried_with_the_next(payment, cashier, monkeypatch):
    receipt_print_record(payment=payment, template=None, actor=cashier)
    stale, real = [0], receipts._last_copy_number  # the first read misses the copy another desk just wrote
    monkeypatch.setattr(receipts, "_last_copy_number", lambda p: stale.pop() if stale else real(p))

    record = receipt_print_record(payment=payment, template=None, actor=cashier)

    assert record.copy_number == 2
    assert list(payment.prints.values_list("copy_number", flat=True).order_by("copy_number")) == [1, 2]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_prints_at_the_same_moment_get_distinct_copy_numbers(payment, cashier):
    barrier, errors = threading.Barrier(6), []

    def print_once():
        try:
            barrier.wait()
            receipt_print_record(payment=payment, template=None, actor=cashier)
        except Exception as error:  # a failed print is what this test looks for
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=print_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(payment.prints.values_list("copy_number", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_a_voided_payment_prints_with_a_void_stamp_and_its_refunds_are_listed(client, payment):
    refund(payment, Decimal("50.00"))
    void(payment)

    page = client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode()
    pdf = client.post(reverse("billing:receipt_pdf", args=[payment.pk])).content

    assert 'data-testid="void-stamp"' in page and "已作废" in page
    assert "退款 ¥50.00（微信）" in page
    assert "作废" in pdf_text(pdf)


def test_a_payment_without_reversals_has_no_stamp(client, payment):
    page = client.get(reverse("billing:payment_receipt", args=[payment.pk])).content.decode()

    assert 'data-testid="void-stamp"' not in page and "已作废" not in page


def test_the_pdf_is_a_real_pdf_on_the_templates_paper_and_is_recorded_as_a_print(client, payment):
    url = reverse("billing:receipt_pdf", args=[payment.pk])

    first = client.post(url)
    second = client.post(url)

    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert "attachment" in first["Content-Disposition"] and payment.receipt_number in first["Content-Disposition"]
    data = first.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert media_box_mm(data) == (210, 148)
    text = pdf_text(data)
    assert payment.receipt_number in text and "人民币肆佰伍拾元整" in text and "补打" not in text
    assert "补打（第 2 次）" in pdf_text(second.content)
    assert list(payment.prints.values_list("copy_number", flat=True).order_by("copy_number")) == [1, 2]


def test_the_standard_pdf_carries_the_templates_logo_and_title(client, payment):
    template = ReceiptTemplate.objects.get(company=payment.company)
    template.title, template.footer = "物业费收据", "加盖财务专用章后有效"
    template.logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    receipt_template_save(template=template, actor=None)

    data = client.post(reverse("billing:receipt_pdf", args=[payment.pk])).content

    assert b"/Subtype /Image" in data
    assert "物业费收据" in pdf_text(data) and "加盖财务专用章后有效" in pdf_text(data)


def test_an_overlay_pdf_draws_only_the_values_at_their_places_on_the_forms_paper(client, payment):
    template = overlay_template(payment.company)
    receipt_template_save(template=template, actor=None)

    data = client.post(reverse("billing:receipt_pdf", args=[payment.pk]), {"template": template.pk}).content

    assert media_box_mm(data) == (241, 93)
    text = pdf_text(data)
    assert payment.receipt_number in text and "收款收据" not in text and "收据号" not in text
    x, y = suggested_positions()["receipt_number"]
    streams = b"".join(zlib.decompress(base64.a85decode(s.strip()[:-2]))
                       for s in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S))
    drawn_at = re.search(rb"1 0 0 1 ([\d.]+) ([\d.]+) Tm \(" + payment.receipt_number.encode() + rb"\) Tj", streams)
    # The number's baseline sits 3.5 mm below its place; PDF measures points from the bottom left.
    assert [round(float(n) / 72 * 25.4, 1) for n in drawn_at.groups()] == [x, round(93 - y - 3.5, 1)]


def test_another_companys_payment_or_template_answers_404(client, payment, cashier):
    other = make_project(make_company())
    other_payment = payment_collect(project=other, unit=make_unit(other), bill_ids=[],
                                    tenders=[Tender("cash", Decimal("10.00"))], actor=make_staff(other.company))
    other_template = ReceiptTemplate.objects.get(company=other.company)
    client.force_login(make_staff(payment.company, "admin"))

    for url in (reverse("billing:payment_receipt", args=[other_payment.pk]),
                reverse("billing:receipttemplate_detail", args=[other_template.pk])):
        assert client.get(url).status_code == 404
    for url in (reverse("billing:receipt_print", args=[other_payment.pk]),
                reverse("billing:receipt_pdf", args=[other_payment.pk]),
                reverse("billing:receipttemplate_delete", args=[other_template.pk])):
        assert client.post(url).status_code == 404
    assert client.post(reverse("billing:receipttemplate_preview"),
                       {"template_id": other_template.pk}).status_code == 404
    # Naming another company's template for one's own receipt prints with one's own default.
    own = client.post(reverse("billing:receipt_print", args=[payment.pk]), {"template": other_template.pk})
    assert ReceiptPrint.objects.get(payment=payment).template.company_id == payment.company_id
    assert own.status_code == 302 and not other_payment.prints.exists()


def test_a_project_scoped_cashier_cannot_print_another_projects_receipt(client, payment):
    elsewhere = make_project(payment.company)
    client.force_login(make_staff(payment.company, "cashier", projects=[elsewhere]))

    assert client.get(reverse("billing:payment_receipt", args=[payment.pk])).status_code == 404
    assert client.post(reverse("billing:receipt_print", args=[payment.pk])).status_code == 404
    assert not payment.prints.exists()


def test_a_template_printed_with_is_kept_and_an_unused_one_is_deleted(client, payment):
    used = ReceiptTemplate.objects.get(company=payment.company)
    receipt_print_record(payment=payment, template=used, actor=payment.cashier)
    unused = overlay_template(payment.company)
    receipt_template_save(template=unused, actor=None)
    client.force_login(make_staff(payment.company, "finance"))

    refused = client.post(reverse("billing:receipttemplate_delete", args=[used.pk]), follow=True)
    deleted = client.post(reverse("billing:receipttemplate_delete", args=[unused.pk]))
    api = api_client(make_staff(payment.company, "admin")).delete(f"/api/v1/receipt-templates/{used.pk}/")

    assert "已打印过 1 次收据，打印记录须保留所用模板，不能删除" in refused.content.decode()
    assert api.status_code == 409 and "不能删除" in api.json()["detail"]
    assert deleted.status_code == 302 and not ReceiptTemplate.objects.filter(pk=unused.pk).exists()
    assert payment.prints.get().template == used


def test_a_company_whose_templates_are_all_deleted_prints_with_the_built_in_one(client, payment):
    ReceiptTemplate.objects.filter(company=payment.company).delete()

    response = client.post(reverse("billing:receipt_print", args=[payment.pk]))
    page = client.get(response.url).content.decode()

    assert payment.prints.get().template is None and "人民币肆佰伍拾元整" in page


# API


def test_the_api_creates_a_template_and_refuses_bad_ones_with_chinese_reasons(project):
    client = api_client(make_staff(project.company, "finance"))

    bad = client.post("/api/v1/receipt-templates/", {
        "name": "套打", "title": "收据", "paper": "241x93", "layout": "overlay",
        "fields": ["receipt_number", "total_capitals", "nonsense"],
        "positions": {"receipt_number": [300, 5], "total_capitals": "left"}}, format="json")
    good = client.post("/api/v1/receipt-templates/", {
        "name": "套打", "title": "收据", "paper": "241x93", "layout": "overlay", "is_default": True,
        "fields": ["receipt_number", "total_capitals"],
        "positions": {"receipt_number": [180, 12], "total_capitals": ["45", "66"]}}, format="json")

    assert bad.status_code == 400
    assert bad.json()["fields"] == ["未知的字段：nonsense"]
    assert set(bad.json()["positions"]) == {"「收据号」的位置超出纸张（宽 241 毫米、高 93 毫米）",
                                            "「合计（大写）」的位置应为两个数字：距纸张左边和上边的毫米数"}
    assert good.status_code == 201, good.content
    assert good.json()["positions"] == {"receipt_number": [180.0, 12.0], "total_capitals": [45.0, 66.0]}
    assert ReceiptTemplate.objects.get(company=project.company, is_default=True).name == "套打"


def test_a_cashier_reads_templates_through_the_api_but_may_not_write_them(project):
    client = api_client(make_staff(project.company, "cashier"))

    assert client.get("/api/v1/receipt-templates/").json()["count"] == 1
    assert client.post("/api/v1/receipt-templates/", {"name": "x", "title": "x", "fields": []},
                       format="json").status_code == 403


def test_the_api_records_prints_and_serves_the_pdf_of_each_copy(payment, cashier):
    client = api_client(cashier)

    first = client.post("/api/v1/receipt-prints/", {"payment": payment.pk}, format="json")
    second = client.post("/api/v1/receipt-prints/", {"payment": payment.pk}, format="json")
    listed = client.get("/api/v1/receipt-prints/", {"payment": payment.pk}).json()
    pdf = client.get(f"/api/v1/receipt-prints/{second.json()['id']}/pdf/", HTTP_ACCEPT="application/pdf")

    assert first.status_code == second.status_code == 201
    assert (first.json()["copy_number"], first.json()["mark"]) == (1, "")
    assert (second.json()["copy_number"], second.json()["mark"], second.json()["is_reprint"]) == (2, "补打（第 2 次）",
                                                                                                 True)
    assert second.json()["pdf"].endswith(f"/api/v1/receipt-prints/{second.json()['id']}/pdf/")
    assert [row["copy_number"] for row in listed["results"]] == [2, 1]
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "补打（第 2 次）" in pdf_text(pdf.content) and payment.receipt_number in pdf_text(pdf.content)


def test_the_api_refuses_a_template_of_another_company_and_hides_other_companies_prints(payment, cashier):
    other = make_company()
    other_template = ReceiptTemplate.objects.get(company=other)
    outsider = api_client(make_staff(other, "admin"))
    record = receipt_print_record(payment=payment, template=None, actor=cashier)

    refused = api_client(cashier).post("/api/v1/receipt-prints/",
                                       {"payment": payment.pk, "template": other_template.pk}, format="json")

    assert refused.status_code == 400 and "template" in refused.json()
    assert outsider.get(f"/api/v1/receipt-prints/{record.pk}/pdf/").status_code == 404
    assert outsider.post("/api/v1/receipt-prints/", {"payment": payment.pk}, format="json").status_code == 400
    assert payment.prints.count() == 1

