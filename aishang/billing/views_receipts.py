"""收据: a payment's receipt (choose a template, print, PDF, print history) and the company's receipt templates,
edited with a live preview of a sample receipt at the paper's real size.

Printing goes through the server: 打印 records the copy and reopens the page showing that copy, which opens the
print dialog; so every copy is logged, and every copy after the first is marked 补打 with its number.
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
from .models import PaperSize, ReceiptLayout, ReceiptTemplate
from .receipts import (
    FIELDS_BY_CODE,
    RECEIPT_FIELDS,
    _point,
    builtin_receipt_template,
    copy_mark,
    logo_data_uri,
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
    sample_receipt_context,
    suggested_positions,
)

# How long after 打印 the page may still show the copy just recorded (and open the print dialog for it).
PRINT_WINDOW = datetime.timedelta(minutes=10)


# A payment's receipt


def _payment(request, pk):
    return get_object_or_404(selectors.payment_queryset(request.user).select_related("company"), pk=pk)


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
    copy_number = printing.copy_number if printing else (last.copy_number if last else 0) + 1
    sheet = receipt_sheet(template, receipt_context(payment), copy_number=copy_number,
                          logo=logo_data_uri(template))
    return render(request, "billing/receipt_page.html", {
        "payment": payment, "sheet": sheet, "template": template, "templates": templates, "prints": prints,
        "printing": printing, "next_mark": copy_mark(copy_number), "printed_count": len(prints),
    })


def _print_template(request, payment):
    template, _templates = receipt_template_choose(payment.company, request.POST.get("template"))
    return template


@login_required
@permission_required("billing.view_payment", raise_exception=True)
@require_POST
def receipt_print(request, pk):
    payment = _payment(request, pk)
    template = _print_template(request, payment)
    record = receipt_print_record(payment=payment, template=template, actor=request.user)
    url = reverse("billing:payment_receipt", args=[payment.pk])
    query = f"print={record.pk}" + (f"&template={template.pk}" if template.pk else "")
    return redirect(f"{url}?{query}")


@login_required
@permission_required("billing.view_payment", raise_exception=True)
@require_POST
def receipt_pdf_download(request, pk):
    payment = _payment(request, pk)
    template = _print_template(request, payment)
    record = receipt_print_record(payment=payment, template=template, actor=request.user)
    sheet = receipt_sheet(template, receipt_context(payment), copy_number=record.copy_number,
                          logo=logo_data_uri(template))
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
    return render(request, "billing/receipttemplate_list.html", {
        "title": _("收据模板"), "templates": templates, "show_company": request.user.is_superuser,
        "can_add": request.user.has_perm("billing.add_receipttemplate") and request.user.company_id,
        "can_delete": request.user.has_perm("billing.delete_receipttemplate"),
        "builtin": builtin_receipt_template(None)})


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


@login_required
@require_POST
def receipt_template_delete_view(request, pk):
    _require(request.user, "billing.delete_receipttemplate")
    template = get_object_or_404(ReceiptTemplate.objects.restrict(request.user, "delete"), pk=pk)
    try:
        receipt_template_delete(template=template, actor=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, _("已删除收据模板「%(name)s」") % {"name": template.name})
    return redirect("billing:receipttemplate_list")

