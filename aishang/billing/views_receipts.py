"""收据: a payment's receipt (choose a template and a printer, print, PDF, print history), the company's receipt
templates, edited with a live preview of a sample receipt at the paper's real size, and its printers with their
offsets and the calibration page.

Printing goes through the server: 打印 records the copy and reopens the page showing that copy, which opens the
print dialog; so every copy is logged, and every copy after the first is marked 补打 with its number. The printer
chosen is remembered for the person (the session, else the printer of their last print).
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aishang.core.forms import style_widgets

from . import selectors
from .models import (
    OFFSET_ERRORS,
    OFFSET_LIMIT_MM,
    PaperSize,
    PrinterProfile,
    PrintOutput,
    ReceiptLayout,
    ReceiptTemplate,
)
from .receipts import (
    FIELDS_BY_CODE,
    PAPER_MM,
    RECEIPT_FIELDS,
    SHEET_PAPERS,
    _point,
    builtin_receipt_template,
    calibrated_offset,
    calibration_pdf,
    calibration_sheet,
    copy_mark,
    logo_data_uri,
    print_offset,
    printer_choose,
    printer_last_used,
    printer_profile_delete,
    printer_profile_save,
    printer_profiles_for,
    receipt_context,
    receipt_logo_errors,
    receipt_pdf,
    receipt_print_record,
    receipt_prints,
    receipt_sheet,
    receipt_template_choose,
    receipt_template_delete,
    receipt_template_errors,
    receipt_template_save,
    receipt_templates_for,
    record_offset,
    sample_receipt_context,
    suggested_positions,
)

# How long after 打印 the page may still show the copy just recorded (and open the print dialog for it).
PRINT_WINDOW = datetime.timedelta(minutes=10)


# A payment's receipt


def _payment(request, pk):
    return get_object_or_404(selectors.payment_queryset(request.user).select_related("company"), pk=pk)


PRINTER_SESSION_KEY = "receipt_printer"


def _printer(request, company, data):
    """The printer to print with: the one just chosen (``printer`` in ``data``, empty for none), else the one this
    person chose last (in the session, else the printer of their last print), remembered in the session."""
    remembered = request.session.get(PRINTER_SESSION_KEY, {})
    company_key = str(company.pk)
    if "printer" in data:
        printer = printer_choose(company.pk, data.get("printer"))
    elif company_key in remembered:
        return printer_choose(company.pk, remembered[company_key])
    else:
        printer = printer_last_used(request.user, company.pk)
    request.session[PRINTER_SESSION_KEY] = {**remembered, company_key: printer.pk if printer is not None else ""}
    return printer


@login_required
@permission_required("billing.view_payment", raise_exception=True)
def receipt_page(request, pk):
    payment = _payment(request, pk)
    prints = receipt_prints(payment)
    last = prints[-1] if prints else None
    printing = None
    if (last is not None and request.GET.get("print") == str(last.pk) and last.printed_by_id == request.user.pk
            and timezone.now() - last.printed_at < PRINT_WINDOW):
        printing = last  # only the copy just printed here; an older one would print a second "original"
    # A reprint uses the template of the copy before it, unless another is chosen.
    template, templates = receipt_template_choose(payment.company, request.GET.get("template")
                                                  or (last.template_id if last else None))
    if printing is not None and printing.template is not None:
        template = printing.template
    printers = printer_profiles_for(payment.company_id)
    printer = _printer(request, payment.company, request.GET)
    # The copy just printed is drawn as it was recorded; otherwise with the printer chosen now.
    offset = record_offset(printing) if printing is not None else print_offset(printer, template.paper)
    copy_number = printing.copy_number if printing else (last.copy_number if last else 0) + 1
    sheet = receipt_sheet(template, receipt_context(payment), copy_number=copy_number,
                          logo=logo_data_uri(template), offset=offset)
    return render(request, "billing/receipt_page.html", {
        "payment": payment, "sheet": sheet, "template": template, "templates": templates, "prints": prints,
        "printing": printing, "next_mark": copy_mark(copy_number), "printed_count": len(prints),
        "printers": printers, "printer": printer,
    })


def _print_choices(request, payment):
    template, _templates = receipt_template_choose(payment.company, request.POST.get("template"))
    return template, _printer(request, payment.company, request.POST)


@login_required
@permission_required("billing.view_payment", raise_exception=True)
@require_POST
def receipt_print(request, pk):
    payment = _payment(request, pk)
    template, printer = _print_choices(request, payment)
    record = receipt_print_record(payment=payment, template=template, actor=request.user, printer=printer,
                                  output=PrintOutput.PRINT)
    url = reverse("billing:payment_receipt", args=[payment.pk])
    query = f"print={record.pk}" + (f"&template={template.pk}" if template.pk else "")
    return redirect(f"{url}?{query}")


@login_required
@permission_required("billing.view_payment", raise_exception=True)
@require_POST
def receipt_pdf_download(request, pk):
    payment = _payment(request, pk)
    template, printer = _print_choices(request, payment)
    record = receipt_print_record(payment=payment, template=template, actor=request.user, printer=printer,
                                  output=PrintOutput.PDF)
    sheet = receipt_sheet(template, receipt_context(payment), copy_number=record.copy_number,
                          logo=logo_data_uri(template), offset=record_offset(record))
    response = HttpResponse(receipt_pdf(sheet), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("收据-%(number)s.pdf") % {"number": payment.receipt_number})
    return response


# Receipt templates


def _position_name(code, axis):
    return f"pos_{code}_{axis}"


class ReceiptTemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=60)
    title = forms.CharField(label=gettext_lazy("标题"), max_length=60, help_text=gettext_lazy("如 收款收据"))
    is_default = forms.BooleanField(label=gettext_lazy("默认模板"), required=False,
                                    help_text=gettext_lazy("收银台打印时默认使用；每个企业一个"))
    paper = forms.ChoiceField(label=gettext_lazy("纸张"), choices=PaperSize.choices)
    layout = forms.ChoiceField(label=gettext_lazy("版式"), choices=ReceiptLayout.choices,
                               widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                               help_text=gettext_lazy("套打：在预印好的收据上只打印内容，按下方位置摆放"))
    show_fields = forms.MultipleChoiceField(label=gettext_lazy("显示字段"), required=False,
                                       choices=[(field.code, field.label) for field in RECEIPT_FIELDS],
                                       widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))
    footer = forms.CharField(label=gettext_lazy("页脚"), max_length=200, required=False,
                             help_text=gettext_lazy("如 本收据加盖财务专用章后有效"))
    logo = forms.FileField(label=gettext_lazy("标志"), required=False,
                           help_text=gettext_lazy("PNG 或 JPEG，不超过 200 KB；套打时不打印"))
    clear_logo = forms.BooleanField(label=gettext_lazy("去掉标志"), required=False,
                                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in RECEIPT_FIELDS:
            for axis, label in (("x", _("距左边（毫米）")), ("y", _("距上边（毫米）"))):
                self.fields[_position_name(field.code, axis)] = forms.DecimalField(
                    label=f"{field.label} {label}", required=False, max_digits=6, decimal_places=1, min_value=0,
                    widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))
        style_widgets(self)
        self.fields["logo"].widget.attrs["accept"] = "image/png,image/jpeg"

    def position_rows(self):
        """(field, x input, y input) for the 套打 table."""
        return [(field, self[_position_name(field.code, "x")], self[_position_name(field.code, "y")])
                for field in RECEIPT_FIELDS]

    def clean(self):
        cleaned = super().clean()
        for field in RECEIPT_FIELDS:
            x, y = (cleaned.get(_position_name(field.code, axis)) for axis in ("x", "y"))
            if (x is None) != (y is None) and not self.errors.get(_position_name(field.code, "x")):
                self.add_error(_position_name(field.code, "x"), _("请同时填写「%(label)s」距左边和距上边的毫米数")
                               % {"label": field.label})
        return cleaned

    def positions(self):
        positions = {}
        for field in RECEIPT_FIELDS:
            x, y = (self.cleaned_data.get(_position_name(field.code, axis)) for axis in ("x", "y"))
            if x is not None and y is not None:
                positions[field.code] = [float(x), float(y)]
        return positions

    def apply_to(self, template):
        data = self.cleaned_data
        for name in ("name", "title", "is_default", "paper", "layout", "footer"):
            setattr(template, name, data[name])
        template.fields = [code for code in FIELDS_BY_CODE if code in data["show_fields"]]
        template.positions = self.positions()
        if data.get("logo"):
            template.logo = data["logo"]
        elif data.get("clear_logo"):
            template.logo = ""


def _initial(template):
    # Places for every field, so switching to 套打 starts from a usual pre-printed form's places.
    positions = {**suggested_positions(), **(template.positions or {})}
    initial = {"name": template.name, "title": template.title, "is_default": template.is_default,
               "paper": template.paper, "layout": template.layout, "show_fields": template.fields,
               "footer": template.footer}
    for code, place in positions.items():
        point = _point(place)
        if code in FIELDS_BY_CODE and point is not None:
            initial[_position_name(code, "x")], initial[_position_name(code, "y")] = point
    return initial


def _form_errors(form, errors):
    """Put the service's errors on the fields they name (a field's place on its 距左边 input)."""
    for key, messages_ in errors.items():
        target = {"fields": "show_fields"}.get(key, key)
        if key.startswith("positions."):
            target = _position_name(key.split(".", 1)[1], "x")
        if target not in form.fields:
            target = None
        for message in messages_:
            form.add_error(target, message)


def _require(user, permission):
    if not user.has_perm(permission):
        raise PermissionDenied(_("没有权限"))


@login_required
def receipt_template_list(request):
    _require(request.user, "billing.view_receipttemplate")
    templates = (ReceiptTemplate.objects.restrict(request.user, "view").select_related("company")
                 .order_by("company", "-is_default", "name", "pk"))
    user = request.user
    printers = (PrinterProfile.objects.restrict(user, "view").select_related("company").order_by("company", "name")
                if user.has_perm("billing.view_printerprofile") else None)
    return render(request, "billing/receipttemplate_list.html", {
        "title": _("收据模板"), "templates": templates, "show_company": user.is_superuser,
        "can_add": user.has_perm("billing.add_receipttemplate") and user.company_id,
        "can_delete": user.has_perm("billing.delete_receipttemplate"),
        "builtin": builtin_receipt_template(None), "printers": printers,
        "can_add_printer": user.has_perm("billing.add_printerprofile") and user.company_id,
        "can_change_printer": user.has_perm("billing.change_printerprofile"),
        "can_delete_printer": user.has_perm("billing.delete_printerprofile")})


@login_required
def receipt_template_edit(request, pk=None):
    user = request.user
    if pk is None:
        _require(user, "billing.add_receipttemplate")
        if not user.company_id:
            raise Http404
        template = builtin_receipt_template(None)
        template.company_id, template.name = user.company_id, ""
        template.is_default = not receipt_templates_for(user.company_id)
        can_change = True
    else:
        _require(user, "billing.view_receipttemplate")
        template = get_object_or_404(ReceiptTemplate.objects.restrict(user, "view"), pk=pk)
        can_change = user.has_perm("billing.change_receipttemplate")
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("没有权限"))
        form = ReceiptTemplateForm(request.POST, request.FILES)
        if form.is_valid():
            form.apply_to(template)
            try:
                receipt_template_save(template=template, actor=user)
            except ValidationError as error:
                _form_errors(form, error.message_dict)
            except IntegrityError:
                form.add_error(None, _("另一位同事刚刚修改了默认模板，请刷新后重试"))
            else:
                messages.success(request, _("收据模板「%(name)s」已保存") % {"name": template.name})
                return redirect("billing:receipttemplate_list")
        status = 400
        if template.pk:
            template.refresh_from_db()  # the page's title and the preview's stored logo, not the refused edit
    else:
        form = ReceiptTemplateForm(initial=_initial(template))
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    preview = _preview_context(form, template) if form.is_bound else _template_preview(template)
    title = (_("编辑收据模板：%(name)s") % {"name": template.name} if template.pk and can_change
             else _("收据模板：%(name)s") % {"name": template.name} if template.pk else _("新增收据模板"))
    return render(request, "billing/receipttemplate_form.html", {
        "title": title, "form": form, "object": template, "can_change": can_change,
        "can_delete": bool(template.pk) and user.has_perm("billing.delete_receipttemplate"), **preview,
    }, status=status)


def _template_preview(template, *, upload=None, errors=None):
    sample = sample_receipt_context(template.company.name if template.company_id else "")
    return {"sheet": receipt_sheet(template, sample, copy_number=1, logo=logo_data_uri(template, upload)),
            "preview_errors": [message for messages_ in (errors or {}).values() for message in messages_]}


def _lenient_template(data, files, stored, company_id):
    """The template as typed so far, for the preview: whatever does not parse is left out, never raised."""
    template = ReceiptTemplate(company_id=company_id)
    template.title = data.get("title", "")[:60]
    template.footer = data.get("footer", "")[:200]
    template.paper = data.get("paper") if data.get("paper") in PaperSize.values else PaperSize.A5
    template.layout = data.get("layout") if data.get("layout") in ReceiptLayout.values else ReceiptLayout.STANDARD
    template.fields = [code for code in FIELDS_BY_CODE if code in data.getlist("show_fields")]
    positions = {}
    for code in FIELDS_BY_CODE:
        x, y = (data.get(_position_name(code, axis), "").strip() for axis in ("x", "y"))
        if x or y:
            positions[code] = [x, y]
    template.positions = positions
    upload = files.get("logo")
    if stored is not None and stored.logo and not data.get("clear_logo") and upload is None:
        template.logo = stored.logo
    return template, upload


def _preview_context(form, stored):
    """The preview of what the form holds now; places that are not numbers inside the paper are left out of the
    sheet and named in its errors."""
    template, upload = _lenient_template(form.data, form.files, stored if stored.pk else None, stored.company_id)
    errors = receipt_template_errors(template)
    if upload is not None:
        logo_errors = receipt_logo_errors(upload)
        if logo_errors:
            errors["logo"] = logo_errors
            upload = None
    return _template_preview(template, upload=upload, errors=errors)


@login_required
@require_POST
def receipt_template_preview(request):
    """htmx: the sample receipt as the template being edited would print it, with what is wrong with it."""
    _require(request.user, "billing.view_receipttemplate")
    stored = None
    template_id = request.POST.get("template_id", "")
    if template_id.isdigit():
        stored = get_object_or_404(ReceiptTemplate.objects.restrict(request.user, "view"), pk=template_id)
    form = ReceiptTemplateForm(request.POST, request.FILES)
    context = _preview_context(form, stored or ReceiptTemplate(company_id=request.user.company_id))
    return render(request, "billing/receipttemplate_preview.html", context)


def _setup_delete(request, model, pk, delete, done):
    """Delete one of the company's receipt-setup objects (a template, a printer) and go back to where they are kept;
    a refusal is shown there."""
    _require(request.user, f"billing.delete_{model._meta.model_name}")
    obj = get_object_or_404(model.objects.restrict(request.user, "delete"), pk=pk)
    try:
        delete(obj, request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, done % {"name": obj.name})
    return redirect("billing:receipttemplate_list")


@login_required
@require_POST
def receipt_template_delete_view(request, pk):
    return _setup_delete(request, ReceiptTemplate, pk,
                         lambda template, actor: receipt_template_delete(template=template, actor=actor),
                         _("已删除收据模板「%(name)s」"))



# Printers: each printer's offset, and the calibration page that measures it


OFFSET_INPUT = {"step": "0.1", "min": "-20", "max": "20", "inputmode": "decimal"}


class PrinterProfileForm(forms.ModelForm):
    class Meta:
        model = PrinterProfile
        fields = ("name", "offset_x", "offset_y", "note")
        widgets = {"offset_x": forms.NumberInput(attrs=OFFSET_INPUT), "offset_y": forms.NumberInput(attrs=OFFSET_INPUT)}
        error_messages = {"offset_x": OFFSET_ERRORS, "offset_y": OFFSET_ERRORS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


@login_required
def printer_profile_edit(request, pk=None):
    user = request.user
    if pk is None:
        _require(user, "billing.add_printerprofile")
        if not user.company_id:
            raise Http404
        printer = PrinterProfile(company_id=user.company_id)
    else:
        _require(user, "billing.change_printerprofile")
        printer = get_object_or_404(PrinterProfile.objects.restrict(user, "change"), pk=pk)
    form = PrinterProfileForm(request.POST or None, instance=printer)
    if request.method == "POST" and form.is_valid():
        try:
            printer_profile_save(printer=form.instance, actor=user)
        except ValidationError as error:
            _form_errors(form, error.message_dict)
        else:
            messages.success(request, _("打印机「%(name)s」已保存") % {"name": printer.name})
            return redirect("billing:receipttemplate_list")
    title = _("编辑打印机：%(name)s") % {"name": printer.name} if printer.pk else _("新增打印机")
    if printer.pk and form.is_bound:
        printer.refresh_from_db()  # the page's title, not the refused edit
        title = _("编辑打印机：%(name)s") % {"name": printer.name}
    return render(request, "billing/receipt_printer_form.html", {
        "title": title, "form": form, "object": printer,
        "can_delete": bool(printer.pk) and user.has_perm("billing.delete_printerprofile"),
    }, status=400 if form.is_bound else 200)


@login_required
@require_POST
def printer_profile_delete_view(request, pk):
    return _setup_delete(request, PrinterProfile, pk,
                         lambda printer, actor: printer_profile_delete(printer=printer, actor=actor),
                         _("已删除打印机「%(name)s」"))


MEASURE_ERRORS = {"required": gettext_lazy("请填写量得的毫米数"), "invalid": gettext_lazy("请输入毫米数，如 31.5"),
                  "max_decimal_places": gettext_lazy("量到 0.1 毫米即可"),
                  "max_digits": gettext_lazy("超出纸张范围"), "max_whole_digits": gettext_lazy("超出纸张范围")}


class CalibrationForm(forms.Form):
    """Where the first cross of the calibration page was measured on the paper, to correct the printer's offset."""

    measured_x = forms.DecimalField(label=gettext_lazy("实测距左边（毫米）"), max_digits=5, decimal_places=1,
                                    error_messages=MEASURE_ERRORS,
                                    widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))
    measured_y = forms.DecimalField(label=gettext_lazy("实测距上边（毫米）"), max_digits=5, decimal_places=1,
                                    error_messages=MEASURE_ERRORS,
                                    widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))

    def __init__(self, *args, paper, **kwargs):
        super().__init__(*args, **kwargs)
        self.paper_mm = PAPER_MM[paper]
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        for name, limit, edge in (("measured_x", self.paper_mm[0], _("宽")), ("measured_y", self.paper_mm[1], _("高"))):
            value = cleaned.get(name)
            if value is not None and not 0 <= value <= limit:
                self.add_error(name, _("应在 0 到 %(limit)s 毫米之间（纸张%(edge)s %(limit)s 毫米）")
                               % {"limit": limit, "edge": edge})
        return cleaned


def _calibration_choices(request):
    """(paper, printer, printers) of the calibration page: a sheet paper (241×93 unless another is chosen) and the
    company's printer chosen, if any."""
    data = request.POST if request.method == "POST" else request.GET
    paper = data.get("paper") if data.get("paper") in dict(SHEET_PAPERS) else PaperSize.THIRDS
    printers = list(PrinterProfile.objects.restrict(request.user, "view").order_by("name", "pk"))
    chosen = data.get("printer", "")
    printer = next((p for p in printers if str(p.pk) == chosen), None)
    if chosen and printer is None:
        raise Http404
    return paper, printer, printers


@login_required
def printer_calibration(request):
    """校准页: rulers and crosses at known places, printed through a printer's offset; the cross measured on the
    paper gives the printer its new offset."""
    _require(request.user, "billing.view_printerprofile")
    paper, printer, printers = _calibration_choices(request)
    offset = print_offset(printer, paper)
    sheet = calibration_sheet(paper, offset)
    form = CalibrationForm(request.POST or None, paper=paper)
    can_change = printer is not None and request.user.has_perm("billing.change_printerprofile")
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("没有权限"))
        new = form.is_valid() and calibrated_offset(offset, sheet["reference"], form.cleaned_data["measured_x"],
                                                    form.cleaned_data["measured_y"])
        for name, value in (("measured_x", new and new.x), ("measured_y", new and new.y)):
            if new and abs(value) > OFFSET_LIMIT_MM:
                form.add_error(name, _("按此测量偏移将为 %(offset)s 毫米，超出 ±%(limit)s 毫米；请把纸张放正后重新测量")
                               % {"offset": f"{value:+.1f}", "limit": OFFSET_LIMIT_MM})
        if new and form.is_valid():
            printer.offset_x, printer.offset_y = new.x, new.y
            printer_profile_save(printer=printer, actor=request.user)
            messages.success(request, _("已更新「%(name)s」的偏移：水平 %(x)s 毫米，垂直 %(y)s 毫米；"
                                        "请再打印一次校准页核对")
                             % {"name": printer.name, "x": f"{new.x:+.1f}", "y": f"{new.y:+.1f}"})
            return redirect(f"{reverse('billing:printer_calibration')}?printer={printer.pk}&paper={paper}")
    return render(request, "billing/receipt_calibration.html", {
        "title": _("打印机校准"), "sheet": sheet, "paper": paper, "papers": SHEET_PAPERS, "printer": printer,
        "printers": printers, "form": form, "can_change": can_change,
    }, status=400 if form.is_bound else 200)


@login_required
def printer_calibration_pdf(request):
    _require(request.user, "billing.view_printerprofile")
    paper, printer, _printers = _calibration_choices(request)
    response = HttpResponse(calibration_pdf(calibration_sheet(paper, print_offset(printer, paper))),
                            content_type="application/pdf")
    name = printer.name if printer is not None else _("无偏移")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("打印机校准页-%(name)s.pdf") % {"name": name})
    return response
