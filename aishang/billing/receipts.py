"""Receipts (收据): the fields a receipt can show, each company's print templates, what one payment's receipt
says, every print recorded (the first is the original, each later one a 补打), printer profiles with their
offsets and calibration page, and the PDF.

A template is data, never code: it picks fields from ``RECEIPT_FIELDS``, a paper, a layout and, for 套打
(printing onto pre-printed forms), each field's place in millimetres. Our own Django templates (autoescaped)
and the PDF renderer below draw it from the plain data of ``receipt_context``, so what a user types into a
template can neither run nor reach anything beyond the one receipt being printed.

Papers are sheets of a fixed size (A4, A5, dot-matrix forms) or thermal rolls (58/80 mm 小票): a roll has a
width only, its receipt is one narrow column and its page is as long as what is printed (ADR 0018).
"""

import base64
import datetime
import io
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.money import amount_in_chinese_capitals, format_money
from aishang.extras.services import register_object_delete

from .models import (
    Deposit,
    PaperSize,
    Payment,
    PaymentMethod,
    PrepaidMovementKind,
    PrinterProfile,
    PrintOutput,
    ReceiptLayout,
    ReceiptPrint,
    ReceiptTemplate,
    ReversalKind,
)


@dataclass(frozen=True)
class ReceiptField:
    code: str
    label: str
    section: str  # where the standard layout puts it: header, meta, items, details, signatures


RECEIPT_FIELDS = (
    ReceiptField("company", gettext_lazy("收款单位"), "header"),
    ReceiptField("receipt_number", gettext_lazy("收据号"), "meta"),
    ReceiptField("received_at", gettext_lazy("收款日期"), "meta"),
    ReceiptField("project", gettext_lazy("项目"), "meta"),
    ReceiptField("unit", gettext_lazy("房屋"), "meta"),
    ReceiptField("payer", gettext_lazy("缴费人"), "meta"),
    ReceiptField("items", gettext_lazy("收费明细"), "items"),
    ReceiptField("total", gettext_lazy("合计（小写）"), "items"),
    ReceiptField("total_capitals", gettext_lazy("合计（大写）"), "items"),
    ReceiptField("tenders", gettext_lazy("收款方式"), "details"),
    ReceiptField("prepaid", gettext_lazy("预存/押金"), "details"),
    ReceiptField("refunds", gettext_lazy("退款记录"), "details"),
    ReceiptField("note", gettext_lazy("备注"), "details"),
    ReceiptField("cashier", gettext_lazy("收款人"), "signatures"),
    ReceiptField("payer_signature", gettext_lazy("缴款人签字"), "signatures"),
    ReceiptField("seal", gettext_lazy("单位公章位置"), "signatures"),
)
FIELDS_BY_CODE = {field.code: field for field in RECEIPT_FIELDS}
FIELD_CODES = tuple(FIELDS_BY_CODE)
# A receipt without its number or its amount in words is not a receipt.
REQUIRED_FIELDS = ("receipt_number", "total_capitals")
DEFAULT_FIELDS = FIELD_CODES
PAPER_MM = {PaperSize.A4: (210, 297), PaperSize.A5: (210, 148), PaperSize.THIRDS: (241, 93),
            PaperSize.HALVES: (241, 140)}
# Thermal rolls: the paper's width, and the side margins that leave the printer's printable width (48 mm of a
# 58 mm roll, 72 mm of an 80 mm one).
ROLL_MM = {PaperSize.ROLL_58: (58, 5), PaperSize.ROLL_80: (80, 4)}
SHEET_PAPERS = tuple((value, label) for value, label in PaperSize.choices if value in PAPER_MM)
# 套打 of the charge table: each row one line lower, the columns at these distances from the field's place.
ITEM_ROW_MM = 6
ITEM_COLUMNS_MM = (0, 45, 125)  # fee item, period, right edge of the amount
# Where a 241×93 pre-printed form usually has its blanks; every other paper is at least as tall and, up to 185 mm
# from the left, as wide, so these fit all of them.
SUGGESTED_POSITIONS = {
    "company": (20, 8), "receipt_number": (180, 14), "received_at": (30, 20), "project": (120, 20),
    "unit": (30, 27), "payer": (120, 27), "items": (20, 36), "total": (180, 66), "total_capitals": (45, 66),
    "tenders": (30, 73), "prepaid": (140, 79), "refunds": (150, 58), "note": (30, 79), "cashier": (185, 86),
    "payer_signature": (110, 86), "seal": (30, 86),
}
LOGO_MAX_BYTES = 200 * 1024
LOGO_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def is_roll(paper):
    return paper in ROLL_MM


def paper_mm(paper):
    """(width, height) of a sheet; a roll's height is None, its page is as long as its receipt."""
    if is_roll(paper):
        return ROLL_MM[paper][0], None
    return PAPER_MM.get(paper, PAPER_MM[PaperSize.A5])


def suggested_positions():
    return {code: [float(x), float(y)] for code, (x, y) in SUGGESTED_POSITIONS.items()}


def copy_mark(copy_number):
    """What a printed copy says of itself: nothing on the original, 补打（第 N 次） on the N-th print (N ≥ 2)."""
    if not copy_number or copy_number < 2:
        return ""
    return _("补打（第 %(count)s 次）") % {"count": copy_number}


# Templates: validation, saving, the default every company starts with


def _point(value):
    """[x, y] in millimetres as two Decimals to 0.1 mm, or None when it is not two finite numbers."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    point = []
    for number in value:
        if isinstance(number, bool) or not isinstance(number, (int, float, Decimal, str)):
            return None
        try:
            number = Decimal(str(number).strip())
        except InvalidOperation:
            return None
        if not number.is_finite() or abs(number) > 10000:
            return None
        point.append(number.quantize(Decimal("0.1")))
    return tuple(point)


def _label(code):
    return str(FIELDS_BY_CODE[code].label) if code in FIELDS_BY_CODE else code


def receipt_template_errors(template):
    """What is wrong with a template's fields and 套打 positions, as {key: [messages]}; empty when nothing is.

    Keys: ``fields``, ``positions`` (the whole) and ``positions.<code>`` (one field's place).
    """
    errors = {}

    def add(key, message):
        errors.setdefault(key, []).append(message)

    fields = template.fields
    if not isinstance(fields, list) or not all(isinstance(code, str) for code in fields):
        add("fields", _("显示字段应为字段编码的列表"))
        fields = []
    else:
        unknown = [code[:40] for code in fields if code not in FIELDS_BY_CODE]
        if unknown:
            add("fields", _("未知的字段：%(codes)s") % {"codes": "、".join(unknown)})
        repeated = sorted({code for code in fields if fields.count(code) > 1 and code in FIELDS_BY_CODE})
        if repeated:
            add("fields", _("字段重复：%(labels)s") % {"labels": "、".join(_label(code) for code in repeated)})
        for code in REQUIRED_FIELDS:
            if code not in fields:
                add("fields", _("收据必须显示「%(label)s」") % {"label": _label(code)})
    positions = template.positions if template.positions not in (None, "") else {}
    if not isinstance(positions, dict):
        add("positions", _("套打位置应为 {字段编码: [距左边毫米, 距上边毫米]}"))
        return errors
    width, height = paper_mm(template.paper)
    roll = is_roll(template.paper)
    if roll and template.layout == ReceiptLayout.OVERLAY:
        add("layout", _("热敏小票不能套打，请选择「标准收据」版式"))
    for code, place in positions.items():
        if code not in FIELDS_BY_CODE:
            add("positions", _("未知的字段「%(code)s」") % {"code": str(code)[:40]})
            continue
        point = _point(place)
        if point is None:
            add(f"positions.{code}", _("「%(label)s」的位置应为两个数字：距纸张左边和上边的毫米数")
                % {"label": _label(code)})
        elif roll:
            continue  # a roll prints no places; they are kept for a switch back to a sheet
        elif not (0 <= point[0] < width and 0 <= point[1] < height):
            add(f"positions.{code}", _("「%(label)s」的位置超出纸张（宽 %(width)s 毫米、高 %(height)s 毫米）")
                % {"label": _label(code), "width": width, "height": height})
    if template.layout == ReceiptLayout.OVERLAY and not roll:
        for code in fields:
            if code in FIELDS_BY_CODE and code not in positions:
                add(f"positions.{code}", _("套打须填写「%(label)s」的位置") % {"label": _label(code)})
    return errors


def receipt_logo_errors(upload):
    """A new logo must be a PNG or JPEG (by its first bytes, not its name) of at most 200 KB."""
    errors = []
    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        errors.append(_("标志图片不能超过 200 KB（当前 %(size)s KB）") % {"size": (upload.size + 1023) // 1024})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic, _mime in LOGO_TYPES):
        errors.append(_("标志只能是 PNG 或 JPEG 图片"))
    return errors


def _normalized_positions(positions):
    normalized = {}
    for code, place in (positions or {}).items():
        point = _point(place)
        if code in FIELDS_BY_CODE and point is not None:
            normalized[code] = [float(point[0]), float(point[1])]
    return normalized


def receipt_template_save(*, template, actor):
    """Validate and save a template; a template saved as the default takes that place from the company's other.

    Raises ValidationError keyed by field (``positions.<code>`` for one field's place) and saves nothing when
    anything is wrong.
    """
    errors = receipt_template_errors(template)
    try:
        # The one-default constraint is kept by the switch below, not refused here.
        template.full_clean(exclude=["fields", "positions", "logo"], validate_constraints=False)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    logo = template.logo
    if logo and not getattr(logo, "_committed", True):
        logo_errors = receipt_logo_errors(logo.file)
        if logo_errors:
            errors["logo"] = logo_errors
    if errors:
        raise ValidationError(errors)
    template.positions = _normalized_positions(template.positions)
    with transaction.atomic():
        if template.is_default:
            # The database keeps one default per company: the old default gives its place up first.
            others = (ReceiptTemplate.objects.select_for_update()
                      .filter(company_id=template.company_id, is_default=True).exclude(pk=template.pk))
            for other in others:
                other.is_default = False
                other.save(update_fields=["is_default", "updated_at"])
        template.save()
    return template


def receipt_template_delete(*, template, actor):
    """Remove a template nobody has printed with; print records are insert-only and keep the template they used."""
    used = ReceiptPrint.objects.filter(template=template).count()
    if used:
        raise ValidationError(_("模板「%(name)s」已打印过 %(count)s 次收据，打印记录须保留所用模板，不能删除；"
                                "可另建模板并设为默认") % {"name": template.name, "count": used})
    register_object_delete(obj=template, actor=actor)


def builtin_receipt_template(company):
    """The standard receipt, unsaved: what a company without templates of its own prints with."""
    return ReceiptTemplate(company=company, name=_("标准收据"), is_default=True, title=_("收款收据"),
                           paper=PaperSize.A5, layout=ReceiptLayout.STANDARD, fields=list(DEFAULT_FIELDS),
                           positions={})


def receipt_templates_install_default(company):
    """Every company starts with the standard receipt as its default template."""
    if ReceiptTemplate.objects.filter(company=company).exists():
        return None
    template = builtin_receipt_template(company)
    template.save()
    return template


def install_company_receipt_template(sender, *, company, **kwargs):
    receipt_templates_install_default(company)


def receipt_templates_for(company_id):
    """A company's templates, the default first."""
    return list(ReceiptTemplate.objects.filter(company_id=company_id).order_by("-is_default", "name", "pk"))


def receipt_template_choose(company, template_id=None):
    """(the template to print with, the company's templates): the one asked for if it is the company's, else the
    company's default, else its first, else the built-in standard receipt."""
    templates = receipt_templates_for(company.pk)
    chosen = next((t for t in templates if str(t.pk) == str(template_id)), None) if template_id else None
    return chosen or (templates[0] if templates else builtin_receipt_template(company)), templates


def logo_data_uri(template, upload=None):
    """The logo inline (data: URI), so print pages and previews need no media server; None without a logo.

    Only PNG and JPEG pass, by their first bytes, so nothing else (an SVG with script) can be inlined.
    """
    data = None
    try:
        if upload is not None:
            upload.seek(0)
            data = upload.read(LOGO_MAX_BYTES + 1)
            upload.seek(0)
        elif template.logo:
            with template.logo.open("rb") as file:
                data = file.read(LOGO_MAX_BYTES + 1)
    except (OSError, ValueError):
        return None
    if not data or len(data) > LOGO_MAX_BYTES:
        return None
    mime = next((mime for magic, mime in LOGO_TYPES if data.startswith(magic)), None)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}" if mime else None


# Printer profiles: each printer's offset, applied to everything printed on a sheet


@dataclass(frozen=True)
class PrintOffset:
    """Where a print is moved to meet the paper: millimetres right (x) and down (y)."""

    x: Decimal = Decimal("0")
    y: Decimal = Decimal("0")

    def __bool__(self):
        return bool(self.x or self.y)


NO_OFFSET = PrintOffset()


def printer_profile_save(*, printer, actor):
    """Validate and save a printer profile; raises ValidationError by field (in Chinese) and saves nothing when
    a value is out of bounds or the name is taken in the company."""
    errors = {}
    try:
        printer.full_clean(exclude=["company"], validate_constraints=False)
    except ValidationError as exc:
        errors = exc.message_dict
    name_taken = (PrinterProfile.objects.filter(company_id=printer.company_id, name=printer.name)
                  .exclude(pk=printer.pk).exists())
    if name_taken and "name" not in errors:
        errors["name"] = [_("已有名为「%(name)s」的打印机") % {"name": printer.name}]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            printer.save()
    except IntegrityError:  # the same name saved by a colleague a moment ago
        raise ValidationError({"name": [_("已有名为「%(name)s」的打印机") % {"name": printer.name}]}) from None
    return printer


def printer_profile_delete(*, printer, actor):
    """Remove a profile; prints made with it keep its name and offset, which they copied when they were made."""
    register_object_delete(obj=printer, actor=actor)


def printer_profiles_for(company_id):
    return list(PrinterProfile.objects.filter(company_id=company_id).order_by("name", "pk"))


def printer_choose(company_id, printer_id):
    """The company's printer of this id, or None (no printer chosen: nothing moved)."""
    value = str(printer_id or "")
    if not (value.isascii() and value.isdigit() and len(value) < 18):
        return None
    return PrinterProfile.objects.filter(company_id=company_id, pk=int(value)).first()


def printer_last_used(user, company_id):
    """The printer the user printed their last receipt with, if the company still has it (so the choice outlives
    the session); None when they printed without one, or never."""
    last = ReceiptPrint.objects.filter(printed_by=user).order_by("-id").values_list("printer_name", flat=True).first()
    if not last:
        return None
    return PrinterProfile.objects.filter(company_id=company_id, name=last).first()


def print_offset(printer, paper):
    """How far a print on this paper is moved: the printer's offset on sheets; nothing on a thermal roll, whose
    printer feeds the paper itself and prints only what it is sent."""
    if printer is None or is_roll(paper):
        return NO_OFFSET
    return PrintOffset(printer.offset_x, printer.offset_y)


# What a receipt says


def _period(start, end):
    """2026-10 for a whole month, 2026-10 ～ 2026-12 for whole months, else the dates."""
    month_end = (end.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    if start.day == 1 and end == month_end:
        first, last = f"{start:%Y-%m}", f"{end:%Y-%m}"
        return first if first == last else f"{first} ～ {last}"
    return f"{start:%Y-%m-%d} ～ {end:%Y-%m-%d}"


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else \
        value.strftime("%Y-%m-%d %H:%M:%S")


def _tender_text(tender):
    text = f"{tender['method']} {format_money(tender['amount'])}"
    if tender["change"]:
        text += _("（实付 %(tendered)s，找零 %(change)s）") % {"tendered": format_money(tender["tendered"]),
                                                           "change": format_money(tender["change"])}
    return text


def receipt_context(payment):
    """The plain data one payment's receipt shows (strings, Decimals, lists): all a template can reach."""
    items = [{"name": allocation.bill.fee_item.name,
              "period": _period(allocation.bill.period_start, allocation.bill.period_end),
              "amount": allocation.amount}
             for allocation in payment.allocations.filter(reversal__isnull=True)
             .select_related("bill__fee_item").order_by("bill__period_start", "bill__fee_item_id", "pk")]
    prepaid_parts = []
    for movement in (payment.prepaid_movements.filter(reversal__isnull=True).select_related("account__fee_item")
                     .order_by("pk")):
        account = (_("%(item)s专项预存") % {"item": movement.account.fee_item.name} if movement.account.fee_item_id
                   else _("通用预存"))
        if movement.amount > 0:
            label = (_("预存充值（%(account)s）") if movement.kind == PrepaidMovementKind.TOP_UP
                     else _("多收转预存（%(account)s）")) % {"account": account}
            items.append({"name": label, "period": "", "amount": movement.amount})
            prepaid_parts.append(_("存入%(account)s %(amount)s") % {"account": account,
                                                                  "amount": format_money(movement.amount)})
        else:
            prepaid_parts.append(_("使用%(account)s %(amount)s") % {"account": account,
                                                                  "amount": format_money(-movement.amount)})
    deposit = Deposit.objects.filter(payment=payment).first()
    if deposit is not None:
        items.append({"name": _("押金：%(kind)s") % {"kind": deposit.kind}, "period": "", "amount": deposit.amount})
        prepaid_parts.append(_("收取押金「%(kind)s」%(amount)s") % {"kind": deposit.kind,
                                                                   "amount": format_money(deposit.amount)})
    tenders = []
    for tender in payment.tenders.select_related("deposit").order_by("pk"):
        tenders.append({"method": tender.get_method_display(), "amount": tender.amount, "tendered": tender.tendered,
                        "change": tender.change})
        if tender.method == PaymentMethod.DEPOSIT:
            kind = f"「{tender.deposit.kind}」" if tender.deposit_id else ""
            prepaid_parts.append(_("使用押金%(kind)s %(amount)s") % {"kind": kind,
                                                                  "amount": format_money(tender.amount)})
    reversals = list(payment.reversals.order_by("created_at", "pk"))
    void = next((reversal for reversal in reversals if reversal.kind == ReversalKind.VOID), None)
    refunds = [{"at": _when(reversal.created_at), "amount": reversal.amount, "method": reversal.get_method_display(),
                "text": _("%(at)s 退款 %(amount)s（%(method)s）") % {
                    "at": _when(reversal.created_at)[:10], "amount": format_money(reversal.amount),
                    "method": reversal.get_method_display()}}
               for reversal in reversals if reversal.kind == ReversalKind.REFUND]
    return {
        "company": payment.company.name if payment.company_id else "",
        "receipt_number": payment.receipt_number,
        "received_at": _when(payment.received_at),
        "project": payment.project.name,
        "unit": payment.unit.code if payment.unit_id else "",
        "payer": payment.payer.name if payment.payer_id else "",
        "items": items,
        "total": payment.amount,
        "total_text": format_money(payment.amount),
        "capitals": amount_in_chinese_capitals(payment.amount),
        "tenders": [{**tender, "text": _tender_text(tender)} for tender in tenders],
        "tenders_text": "；".join(_tender_text(tender) for tender in tenders),
        "prepaid_text": "；".join(prepaid_parts),
        "refunds": refunds,
        "refunds_text": "；".join(refund["text"] for refund in refunds),
        "note": "；".join(part for part in (payment.note, payment.order_override_reason and _(
            "跳过较早账单的原因：%(reason)s") % {"reason": payment.order_override_reason}) if part),
        "cashier": str(payment.cashier) if payment.cashier_id else "",
        "voided": void is not None,
        "voided_at": _when(void.created_at) if void else "",
    }


def sample_receipt_context(company_name=""):
    """A made-up payment for previews: every field filled, no one's real data."""
    tenders = [{"method": str(PaymentMethod.CASH.label), "amount": Decimal("400.00"), "tendered": Decimal("500.00"),
                "change": Decimal("100.00")},
               {"method": str(PaymentMethod.PREPAID.label), "amount": Decimal("33.80"), "tendered": None,
                "change": Decimal("0")}]
    items = [{"name": _("物业服务费"), "period": "2026-10", "amount": Decimal("216.90")},
             {"name": _("物业服务费"), "period": "2026-11", "amount": Decimal("216.90")}]
    return {
        "company": company_name or _("示例物业服务有限公司"), "receipt_number": f"SJ{timezone.localdate().year}-000123",
        "received_at": _when(timezone.now()), "project": _("阳光花园"), "unit": "1-2-301", "payer": _("张三"),
        "items": items, "total": Decimal("433.80"), "total_text": format_money(Decimal("433.80")),
        "capitals": amount_in_chinese_capitals(Decimal("433.80")),
        "tenders": [{**tender, "text": _tender_text(tender)} for tender in tenders],
        "tenders_text": "；".join(_tender_text(tender) for tender in tenders),
        "prepaid_text": _("使用通用预存 ¥33.80"), "refunds": [], "refunds_text": "", "note": _("示例收据"),
        "cashier": _("收银员"), "voided": False, "voided_at": "",
    }


def field_text(code, context):
    """One field's text as a single line, for 套打 and the PDF (the charge table has its own rows)."""
    texts = {
        "company": context["company"], "receipt_number": context["receipt_number"],
        "received_at": context["received_at"], "project": context["project"], "unit": context["unit"],
        "payer": context["payer"], "total": context["total_text"], "total_capitals": context["capitals"],
        "tenders": context["tenders_text"], "prepaid": context["prepaid_text"],
        "refunds": context["refunds_text"], "note": context["note"], "cashier": context["cashier"],
        "payer_signature": "", "seal": "",
    }
    return texts.get(code, "")


def receipt_sheet(template, context, *, copy_number=None, logo=None, offset=NO_OFFSET):
    """Everything a receipt page, preview or PDF draws: the template's choices applied to one receipt's data.

    ``offset`` moves the whole print (a printer's calibration); a roll is never moved. A roll's ``height`` is
    what its receipt takes, measured by laying the PDF out.
    """
    width, height = paper_mm(template.paper)
    roll = is_roll(template.paper)
    if roll:
        offset = NO_OFFSET
    fields = [code for code in (template.fields if isinstance(template.fields, list) else [])
              if isinstance(code, str) and code in FIELDS_BY_CODE]
    shown = dict.fromkeys(fields, True)
    positions = template.positions if isinstance(template.positions, dict) else {}
    overlay = template.layout == ReceiptLayout.OVERLAY and not roll
    placed = []
    for code in fields if overlay else ():
        point = _point(positions.get(code))
        if point is not None and 0 <= point[0] < width and 0 <= point[1] < height:
            rows = ([{**item, "top": row * ITEM_ROW_MM, "amount_text": format_money(item["amount"])}
                     for row, item in enumerate(context["items"])] if code == "items" else [])
            placed.append({"code": code, "label": _label(code), "x": float(point[0]), "y": float(point[1]),
                           "text": field_text(code, context), "rows": rows})
    sheet = {
        "template": template, "title": template.title, "footer": template.footer, "width": width, "height": height,
        "overlay": overlay, "roll": roll, "margin": ROLL_MM[template.paper][1] if roll else None,
        "compact": not roll and height < 120, "paper": f"{width}x{height or 'roll'}",
        "shown": shown, "placed": placed, "item_row_mm": ITEM_ROW_MM, "item_columns": ITEM_COLUMNS_MM,
        "receipt": context, "copy_number": copy_number, "mark": copy_mark(copy_number),
        "voided": context["voided"], "logo": logo, "offset_x": float(offset.x), "offset_y": float(offset.y),
        "shifted": bool(offset),
    }
    if roll:
        sheet["height"] = roll_height_mm(sheet)
    return sheet


# Prints


def receipt_print_record(*, payment, template, actor, output=PrintOutput.PRINT, printer=None):
    """Record one print (or PDF) of a payment's receipt and return it: copy 1 is the original, later copies 补打.

    ``output`` says whether the copy went to a printer or was downloaded as a PDF; the printer's name and the
    offset applied are copied onto the record, so the copy can be drawn again as it was.

    Two clicks of 打印 at once, on two desks, must not both become copy 2: the payment's row is locked while the
    next number is read, and where the database cannot lock rows (SQLite) the unique constraint refuses the
    second and it is tried again.
    """
    offset = print_offset(printer, template.paper if template is not None else PaperSize.A5)
    fields = {"output": output, "printer_name": printer.name if printer is not None else "",
              "offset_x": offset.x, "offset_y": offset.y}
    template = template if template is not None and template.pk else None
    attempts = 5
    while True:
        attempts -= 1
        try:
            with transaction.atomic():
                list(Payment.objects.select_for_update().filter(pk=payment.pk).values_list("pk", flat=True))
                return ReceiptPrint.objects.create(payment=payment, copy_number=_last_copy_number(payment) + 1,
                                                   template=template, printed_by=actor, **fields)
        except IntegrityError:
            if not attempts:
                raise


def _last_copy_number(payment):
    return ReceiptPrint.objects.filter(payment=payment).aggregate(last=Max("copy_number"))["last"] or 0


def receipt_prints(payment):
    return list(payment.prints.select_related("printed_by", "template").order_by("copy_number"))


def record_offset(record):
    """The offset a recorded copy was printed with."""
    return PrintOffset(record.offset_x, record.offset_y)


# PDF

PDF_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
_font_registered = False


def _pdf_font():
    global _font_registered
    if not _font_registered:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
        _font_registered = True
    return PDF_FONT


class _PdfWriter:
    """A cursor down a page in millimetres from the top, starting a new page when the content runs over."""

    def __init__(self, canvas, width, height, margin):
        from reportlab.lib.units import mm

        self.canvas, self.mm = canvas, mm
        self.width, self.height, self.margin = width, height, margin
        self.y = margin
        self.font = _pdf_font()

    def at(self, x, y):
        return x * self.mm, (self.height - y) * self.mm

    def runs(self, text):
        """Latin letters and digits in Helvetica, whose widths every viewer knows; the rest in the CID font
        (viewers substitute a CJK font for it, whose Latin glyphs would not match the declared widths)."""
        runs = []
        for char in text:
            font = LATIN_FONT if char.isascii() else self.font
            if runs and runs[-1][0] == font:
                runs[-1][1] += char
            else:
                runs.append([font, char])
        return runs

    def text_width(self, text, size):
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(part, font, size) for font, part in self.runs(text))

    def text(self, x, y, text, size=10, *, align="left", color=None):
        canvas = self.canvas
        if color:
            canvas.setFillColorRGB(*color)
        px, py = self.at(x, y)
        if align != "left":
            px -= self.text_width(text, size) / (1 if align == "right" else 2)
        for font, part in self.runs(text):
            canvas.setFont(font, size)
            canvas.drawString(px, py, part)
            px += canvas.stringWidth(part, font, size)
        if color:
            canvas.setFillColorRGB(0, 0, 0)

    def wrap(self, text, size, width_mm):
        lines, line = [], ""
        for char in text:
            if line and self.text_width(line + char, size) > width_mm * self.mm:
                lines.append(line)
                line = ""
            line += char
        return [*lines, line]

    def need(self, height_mm):
        if self.y + height_mm > self.height - self.margin:
            self.canvas.showPage()
            self.y = self.margin

    def line(self, x1, y1, x2, y2, width=0.4):
        self.canvas.setLineWidth(width)
        self.canvas.line(*self.at(x1, y1), *self.at(x2, y2))


def _pdf_marks(writer, sheet):
    if sheet["mark"] and not sheet["roll"]:  # a roll prints its mark in line, above the title
        writer.text(writer.width - writer.margin, writer.margin + 3, sheet["mark"], 11, align="right",
                    color=(0.75, 0.1, 0.1))
    if sheet["voided"]:
        canvas = writer.canvas
        canvas.saveState()
        canvas.setFillColorRGB(0.8, 0.1, 0.1, alpha=0.45)
        canvas.setStrokeColorRGB(0.8, 0.1, 0.1, alpha=0.45)
        canvas.translate(*writer.at(writer.width / 2, writer.height / 2))
        canvas.rotate(20)
        size = min(writer.width, writer.height) / 3 * writer.mm
        font_size = size * 0.9
        canvas.setFont(writer.font, font_size)
        canvas.drawCentredString(0, -font_size * 0.36, _("作废"))
        canvas.setLineWidth(2)
        canvas.rect(-size * 1.1, -size * 0.65, size * 2.2, size * 1.3)
        canvas.restoreState()


def _pdf_logo(writer, sheet, x, y, height_mm, *, measure=False):
    """Draw the logo ``height_mm`` tall with its top-left at (x, y); its width in mm (0 without a logo)."""
    if not sheet["logo"]:
        return 0
    from reportlab.lib.utils import ImageReader

    try:
        image = ImageReader(io.BytesIO(base64.b64decode(sheet["logo"].split(",", 1)[1])))
        image_width, image_height = image.getSize()
    except Exception:  # a logo that passed the magic-byte check but does not decode: print without it
        return 0
    width_mm = height_mm * image_width / image_height
    if measure:
        return width_mm
    px, py = writer.at(x, y + height_mm)
    writer.canvas.drawImage(image, px, py, width=width_mm * writer.mm, height=height_mm * writer.mm, mask="auto")
    return width_mm


def _pdf_standard(writer, sheet):
    receipt, shown = sheet["receipt"], sheet["shown"]
    left, right = writer.margin, writer.width - writer.margin
    small = sheet["compact"]
    title_size, size, step = (14, 9, 4.6) if small else (17, 10, 5.4)
    _pdf_logo(writer, sheet, left, writer.y, 10 if small else 13)
    writer.y += 6 if small else 8
    writer.text(writer.width / 2, writer.y, sheet["title"], title_size, align="center")
    writer.y += 5 if small else 6
    if shown.get("company"):
        writer.text(writer.width / 2, writer.y, receipt["company"], size, align="center")
        writer.y += step
    meta = [code for code in ("receipt_number", "received_at", "project", "unit", "payer") if shown.get(code)]
    column = (right - left) / 2
    for index, code in enumerate(meta):
        if index % 2 == 0:
            writer.need(step)
            writer.y += step
        x = left + (index % 2) * column
        writer.text(x, writer.y, f"{_label(code)}：{field_text(code, receipt) or '--'}", size)
    writer.y += 2
    if shown.get("items") or shown.get("total") or shown.get("total_capitals"):
        name_x, period_x = left + 1, left + (right - left) * 0.45
        if shown.get("items"):
            writer.need(step + 1)
            writer.line(left, writer.y + 1, right, writer.y + 1)
            writer.y += step
            writer.text(name_x, writer.y, _("收费项目"), size)
            writer.text(period_x, writer.y, _("账期"), size)
            writer.text(right - 1, writer.y, _("金额"), size, align="right")
            writer.line(left, writer.y + 1.5, right, writer.y + 1.5)
            for item in receipt["items"]:
                writer.need(step)
                writer.y += step
                writer.text(name_x, writer.y, item["name"], size)
                writer.text(period_x, writer.y, item["period"], size)
                writer.text(right - 1, writer.y, format_money(item["amount"]), size, align="right")
        writer.line(left, writer.y + 1.5, right, writer.y + 1.5)
        writer.need(step)
        writer.y += step
        if shown.get("total_capitals"):
            writer.text(name_x, writer.y, f"{_label('total_capitals')}：{receipt['capitals']}", size)
        if shown.get("total"):
            writer.text(right - 1, writer.y, f"{_('合计')} {receipt['total_text']}", size, align="right")
        writer.line(left, writer.y + 1.5, right, writer.y + 1.5)
        writer.y += 1.5
    for code in ("tenders", "prepaid", "refunds", "note"):
        text = field_text(code, receipt)
        if not shown.get(code) or (not text and code != "tenders"):
            continue
        for line in writer.wrap(f"{_label(code)}：{text or '--'}", size, right - left):
            writer.need(step)
            writer.y += step
            writer.text(left, writer.y, line, size)
    signatures = [code for code in ("cashier", "payer_signature") if shown.get(code)]
    if signatures or shown.get("seal"):
        writer.need(step + 4)
        writer.y += step + 3
        texts = {"cashier": f"{_label('cashier')}：{receipt['cashier'] or '--'}",
                 "payer_signature": f"{_label('payer_signature')}：＿＿＿＿＿＿"}
        for index, code in enumerate(signatures):
            writer.text(left + index * column * 0.7, writer.y, texts[code], size)
        if shown.get("seal"):
            canvas = writer.canvas
            canvas.saveState()
            canvas.setDash(2, 2)
            canvas.setStrokeColorRGB(0.6, 0.6, 0.6)
            radius = 9 if small else 12
            canvas.circle(*writer.at(right - radius - 2, writer.y - 2), radius * writer.mm)
            canvas.restoreState()
            writer.text(right - radius - 2, writer.y - 1, _("（单位公章）"), 7, align="center", color=(0.5, 0.5, 0.5))
    if sheet["footer"]:
        writer.text(writer.width / 2, writer.height - writer.margin / 2, sheet["footer"], 8, align="center")


def _pdf_overlay(writer, sheet):
    receipt = sheet["receipt"]
    size = 10
    for place in sheet["placed"]:
        x, y = place["x"], place["y"] + 3.5  # the place is the text's top-left; the baseline is lower
        if place["code"] == "items":
            for row, item in enumerate(receipt["items"]):
                row_y = y + row * ITEM_ROW_MM
                name_x, period_x, amount_right = (x + offset for offset in ITEM_COLUMNS_MM)
                writer.text(name_x, row_y, item["name"], size)
                writer.text(period_x, row_y, item["period"], size)
                writer.text(amount_right, row_y, format_money(item["amount"]), size, align="right")
        elif place["text"]:
            writer.text(x, y, place["text"], size)


# A thermal receipt: (font size, title size, line step in mm) by roll width; the top and bottom margins in mm.
ROLL_TYPE = {58: (7.5, 10.5, 3.6), 80: (8.5, 12, 4.1)}
ROLL_TOP_MM, ROLL_BOTTOM_MM = 3, 8  # below the last line, room to tear the paper off


def _pdf_roll(writer, sheet):
    """小票: one narrow column, amounts at the right edge; the cursor ends where the receipt does."""
    receipt, shown = sheet["receipt"], sheet["shown"]
    left, right = writer.margin, writer.width - writer.margin
    centre, column = writer.width / 2, right - left
    size, title_size, step = ROLL_TYPE.get(writer.width, ROLL_TYPE[58])
    writer.y = ROLL_TOP_MM

    def line(text, *, align="left", text_size=size, color=None):
        for part in writer.wrap(text, text_size, column) if align == "left" else [text]:
            writer.y += step * text_size / size
            x = {"left": left, "center": centre, "right": right}[align]
            writer.text(x, writer.y, part, text_size, align=align, color=color)

    def pair(label, value, text_size=size):
        """A label at the left and an amount at the right edge; a long label wraps above the amount."""
        value_width = writer.text_width(value, text_size) / writer.mm + 2
        parts = writer.wrap(label, text_size, max(column - value_width, column / 3))
        for part in parts[:-1]:
            line(part, text_size=text_size)
        writer.y += step * text_size / size
        writer.text(left, writer.y, parts[-1], text_size)
        writer.text(right, writer.y, value, text_size, align="right")

    def rule():
        writer.y += step * 0.45
        canvas = writer.canvas
        canvas.saveState()
        canvas.setDash(1.5, 1.5)
        writer.line(left, writer.y, right, writer.y, width=0.3)
        canvas.restoreState()
        writer.y += step * 0.15

    if sheet["mark"]:
        line(sheet["mark"], align="center", color=(0.75, 0.1, 0.1))
    logo_height = 9
    logo_width = _pdf_logo(writer, sheet, left, writer.y, logo_height, measure=True)
    if logo_width:
        _pdf_logo(writer, sheet, centre - logo_width / 2, writer.y + 1, logo_height)
        writer.y += logo_height + 1
    line(sheet["title"], align="center", text_size=title_size)
    if shown.get("company"):
        for part in writer.wrap(receipt["company"], size, column):
            line(part, align="center")
    meta = [code for code in ("receipt_number", "received_at", "project", "unit", "payer") if shown.get(code)]
    if meta:
        rule()
        for code in meta:
            line(f"{_label(code)}：{field_text(code, receipt) or '--'}")
    if shown.get("items") or shown.get("total") or shown.get("total_capitals"):
        rule()
        if shown.get("items"):
            for item in receipt["items"]:
                pair(item["name"], format_money(item["amount"]))
                if item["period"]:
                    line(item["period"], text_size=size - 1, color=(0.3, 0.3, 0.3))
            rule()
        if shown.get("total"):
            pair(_("合计"), receipt["total_text"], text_size=size + 1)
        if shown.get("total_capitals"):
            line(f"{_('大写')}：{receipt['capitals']}")
    details = [code for code in ("tenders", "prepaid", "refunds", "note")
               if shown.get(code) and (code == "tenders" or field_text(code, receipt))]
    if details:
        rule()
        for code in details:
            if code == "tenders":
                line(f"{_label(code)}：" if receipt["tenders"] else f"{_label(code)}：--")
                for tender in receipt["tenders"]:
                    line(_tender_text(tender))
            elif code == "refunds":
                line(f"{_label(code)}：")
                for refund in receipt["refunds"]:
                    line(refund["text"])
            else:
                line(f"{_label(code)}：{field_text(code, receipt)}")
    if shown.get("cashier") or shown.get("payer_signature") or shown.get("seal"):
        rule()
        if shown.get("cashier"):
            line(f"{_label('cashier')}：{receipt['cashier'] or '--'}")
        if shown.get("payer_signature"):
            writer.y += step * 0.5
            line(f"{_label('payer_signature')}：＿＿＿＿＿＿")
        if shown.get("seal"):
            radius = 8
            canvas = writer.canvas
            canvas.saveState()
            canvas.setDash(2, 2)
            canvas.setStrokeColorRGB(0.6, 0.6, 0.6)
            canvas.circle(*writer.at(centre, writer.y + 2 + radius), radius * writer.mm)
            canvas.restoreState()
            writer.text(centre, writer.y + 3 + radius, _("（单位公章）"), size - 1.5, align="center",
                        color=(0.5, 0.5, 0.5))
            writer.y += 2 + radius * 2
    if sheet["footer"]:
        rule()
        for part in writer.wrap(sheet["footer"], size - 0.5, column):
            line(part, align="center", text_size=size - 0.5)


def roll_height_mm(sheet):
    """How long a roll's page must be for its receipt: the PDF laid out once on an endless page."""
    from reportlab.pdfgen.canvas import Canvas

    writer = _PdfWriter(Canvas(io.BytesIO()), sheet["width"], 5000, margin=sheet["margin"])
    _pdf_roll(writer, sheet)
    return float(math.ceil(writer.y + ROLL_BOTTOM_MM))


def _pdf_canvas(width, height, title, compress):
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width * mm, height * mm), pageCompression=1 if compress else 0)
    canvas.setTitle(title)
    canvas.setCreator("Aishang")
    return buffer, canvas


def _pdf_offset(writer, sheet):
    """Move everything drawn after this by the printer's offset (right and down are positive)."""
    if sheet["shifted"]:
        writer.canvas.translate(sheet["offset_x"] * writer.mm, -sheet["offset_y"] * writer.mm)


def receipt_pdf(sheet, *, compress=True):
    """The receipt as a PDF on the template's paper; 套打 draws only the values, at their places; a roll's page is
    as long as its receipt."""
    width, height = sheet["width"], sheet["height"]
    buffer, canvas = _pdf_canvas(width, height, f"{sheet['title']} {sheet['receipt']['receipt_number']}", compress)
    if sheet["roll"]:
        writer = _PdfWriter(canvas, width, height, margin=sheet["margin"])
        _pdf_roll(writer, sheet)
    else:
        writer = _PdfWriter(canvas, width, height, margin=6 if sheet["compact"] else 9)
        _pdf_offset(writer, sheet)
        if sheet["overlay"]:
            _pdf_overlay(writer, sheet)
        else:
            _pdf_standard(writer, sheet)
    _pdf_marks(writer, sheet)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# Calibration: a page of known marks, printed through a printer's offset, to measure how far off it prints

CALIBRATION_INSET_MM = 30  # the crosses' distance from the paper's edges
CALIBRATION_RULER_MM = 10  # where the rulers run, from the top and from the left edge
POINT_MM = 25.4 / 72


def calibration_sheet(paper, offset=NO_OFFSET):
    """Rulers with a tick every millimetre and crosses at known places, on a sheet paper, moved by ``offset``; as
    lines, circles and texts in millimetres (texts at their baseline) that the page's SVG and the PDF both draw.

    The first cross is the one to measure: where it should be is ``reference``; the new offset is the old one plus
    (where it should be − where it was measured).
    """
    width, height = PAPER_MM.get(paper, PAPER_MM[PaperSize.THIRDS])
    inset, ruler = CALIBRATION_INSET_MM, CALIBRATION_RULER_MM
    bottom = max(height - inset, inset)
    places = dict.fromkeys([(inset, inset), (width - inset, inset), (inset, bottom), (width - inset, bottom),
                            (width // 2, height // 2)])
    lines, circles, texts = [], [], []

    def line(x1, y1, x2, y2, stroke=0.15):
        lines.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke})

    def text(x, y, value, points, anchor="start"):
        texts.append({"x": x, "y": y, "text": value, "points": points, "size": round(points * POINT_MM, 2),
                      "anchor": anchor})

    line(0, ruler, width, ruler, 0.2)
    line(ruler, 0, ruler, height, 0.2)
    for at in range(0, width + 1):
        line(at, ruler, at, ruler + _tick(at))
        if at % 10 == 0 and at not in (0, ruler):  # no number where the rulers cross
            text(at, ruler + 7, str(at), 5, "middle")
    for at in range(0, height + 1):
        line(ruler, at, ruler + _tick(at), at)
        if at % 10 == 0 and at not in (0, ruler):
            text(ruler + 5.5, at + 0.8, str(at), 5)
    for x, y in places:
        line(x - 6, y, x + 6, y, 0.2)
        line(x, y - 6, x, y + 6, 0.2)
        circles.append({"x": x, "y": y, "r": 2})
        text(x + 2, y - 2, f"({x}, {y})", 6)
    reference = {"x": inset, "y": inset}
    text(inset + 10, inset + 6, _("量出此十字中心到纸张左边、上边的距离（毫米）"), 7)
    return {"paper": paper, "width": width, "height": height, "lines": lines, "circles": circles, "texts": texts,
            "reference": reference, "offset_x": float(offset.x), "offset_y": float(offset.y),
            "shifted": bool(offset)}


def _tick(at):
    return 4 if at % 10 == 0 else 2.5 if at % 5 == 0 else 1.5


def calibrated_offset(offset, reference, measured_x, measured_y):
    """The offset that brings a cross printed with ``offset`` and measured at (measured_x, measured_y) back to
    where it belongs."""
    return PrintOffset(offset.x + Decimal(reference["x"]) - measured_x, offset.y + Decimal(reference["y"]) - measured_y)


def calibration_pdf(sheet, *, compress=True):
    """The calibration page as a PDF of the paper's size."""
    width, height = sheet["width"], sheet["height"]
    buffer, canvas = _pdf_canvas(width, height, _("打印机校准页"), compress)
    writer = _PdfWriter(canvas, width, height, margin=0)
    _pdf_offset(writer, sheet)
    for line in sheet["lines"]:
        writer.line(line["x1"], line["y1"], line["x2"], line["y2"], width=line["stroke"] * writer.mm)
    canvas.setLineWidth(0.2 * writer.mm)
    for circle in sheet["circles"]:
        canvas.circle(*writer.at(circle["x"], circle["y"]), circle["r"] * writer.mm)
    for text in sheet["texts"]:
        writer.text(text["x"], text["y"], text["text"], text["points"],
                    align="center" if text["anchor"] == "middle" else "left")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
