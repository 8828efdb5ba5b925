"""Receipts over the API: the company's print templates and printers, and each payment's prints with the PDF of a
copy.

A print is recorded by POST (copy 1 is the original, each later copy a 补打), saying whether it is printed or
downloaded and with which printer; the PDF of a recorded copy is at ``receipt-prints/{id}/pdf/``, marked as that
copy and moved by the offset it was recorded with. Templates and printers are checked by the same services as the
pages; ``printer-profiles/{id}/calibration/`` is a printer's calibration page as a PDF.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aishang.core.api.exceptions import Conflict
from aishang.core.api.serializers import (
    CompanyOwnedSerializerMixin,
    CurrentCompanyDefault,
    ScopedPrimaryKeyRelatedField,
)
from aishang.core.api.views import ScopedModelViewSet, ScopedViewMixin
from aishang.estate.models import Company

from .. import selectors
from ..models import (
    OFFSET_ERRORS,
    OFFSET_LIMIT_MM,
    PaperSize,
    Payment,
    PrinterProfile,
    PrintOutput,
    ReceiptLayout,
    ReceiptPrint,
    ReceiptTemplate,
)
from ..receipts import (
    FIELD_CODES,
    SHEET_PAPERS,
    calibration_pdf,
    calibration_sheet,
    copy_mark,
    logo_data_uri,
    print_offset,
    printer_profile_delete,
    printer_profile_save,
    receipt_context,
    receipt_pdf,
    receipt_print_record,
    receipt_sheet,
    receipt_template_choose,
    receipt_template_delete,
    receipt_template_save,
    record_offset,
)
from .serializers import PermittedPrimaryKeyRelatedField, choice_field

TIMESTAMPS = ("created_at", "updated_at")


def _api_errors(error):
    """The service's errors as API fields; the places of single fields (``positions.<code>``) under positions."""
    errors = {}
    for key, messages in error.message_dict.items():
        key = "positions" if key.startswith("positions.") else key
        errors.setdefault("non_field_errors" if key == "__all__" else key, []).extend(messages)
    return errors


class ReceiptTemplateSerializer(CompanyOwnedSerializerMixin, serializers.ModelSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=gettext_lazy("企业"), help_text=gettext_lazy("留空为当前员工所在企业"))
    paper = choice_field(PaperSize.choices, "ReceiptPaperEnum", required=False)
    layout = choice_field(ReceiptLayout.choices, "ReceiptLayoutEnum", required=False)
    fields = serializers.ListField(child=serializers.CharField(max_length=40), max_length=len(FIELD_CODES) * 2,
                                   label=gettext_lazy("显示字段"),
                                   help_text=gettext_lazy("字段编码：%(codes)s") % {"codes": ", ".join(FIELD_CODES)})
    positions = serializers.JSONField(required=False, label=gettext_lazy("套打位置"),
                                      help_text=gettext_lazy("{字段编码: [距纸张左边毫米, 距上边毫米]}；"
                                                             "套打时每个显示字段都要有"))
    logo = serializers.FileField(required=False, allow_null=True, label=gettext_lazy("标志"),
                                 help_text=gettext_lazy("PNG 或 JPEG，不超过 200 KB（multipart 上传）；null 去掉标志"))

    class Meta:
        model = ReceiptTemplate
        fields = ("id", "company", "name", "is_default", "title", "logo", "paper", "layout", "fields", "positions",
                  "footer", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def create(self, validated_data):
        return self._save(ReceiptTemplate(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, template, data):
        for name, value in data.items():
            setattr(template, name, "" if name == "logo" and value is None else value)
        try:
            return receipt_template_save(template=template, actor=self.context["request"].user)
        except DjangoValidationError as error:
            raise serializers.ValidationError(_api_errors(error)) from None


class ReceiptTemplateViewSet(ScopedModelViewSet):
    """收据模板 of the company: title, logo, fields shown, paper, layout and the 套打 positions in millimetres.

    Unknown field codes, a template without 收据号 or 合计（大写）, positions that are not two numbers inside the
    paper, and 套打 fields without a position answer 400 with the reason. Saving one as default takes that
    place from the company's other default.
    """

    queryset = ReceiptTemplate.objects.all()
    serializer_class = ReceiptTemplateSerializer
    search_fields = ("name", "title")
    ordering_fields = ("id", "name", "updated_at")

    def perform_destroy(self, instance):
        try:
            receipt_template_delete(template=instance, actor=self.request.user)
        except DjangoValidationError as error:
            raise Conflict(" ".join(error.messages)) from None


class PdfRenderer(renderers.BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else renderers.JSONRenderer().render(data)


class PrinterProfileSerializer(CompanyOwnedSerializerMixin, serializers.ModelSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=gettext_lazy("企业"), help_text=gettext_lazy("留空为当前员工所在企业"))
    offset_x = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=-OFFSET_LIMIT_MM,
                                        max_value=OFFSET_LIMIT_MM, required=False, error_messages=OFFSET_ERRORS,
                                        label=gettext_lazy("水平偏移（毫米）"),
                                        help_text=gettext_lazy("正数向右移，负数向左移"))
    offset_y = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=-OFFSET_LIMIT_MM,
                                        max_value=OFFSET_LIMIT_MM, required=False, error_messages=OFFSET_ERRORS,
                                        label=gettext_lazy("垂直偏移（毫米）"),
                                        help_text=gettext_lazy("正数向下移，负数向上移"))

    class Meta:
        model = PrinterProfile
        fields = ("id", "company", "name", "offset_x", "offset_y", "note", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS
        validators = []  # the name is checked within the company by the service, with the message at name

    def create(self, validated_data):
        return self._save(PrinterProfile(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, printer, data):
        for name, value in data.items():
            setattr(printer, name, value)
        try:
            return printer_profile_save(printer=printer, actor=self.context["request"].user)
        except DjangoValidationError as error:
            raise serializers.ValidationError(_api_errors(error)) from None


@extend_schema_view(calibration=extend_schema(
    parameters=[OpenApiParameter("paper", OpenApiTypes.STR, enum=[value for value, _label in SHEET_PAPERS],
                                 description=gettext_lazy("纸张，默认 241x93"))],
    responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("校准页 PDF"))}))
class PrinterProfileViewSet(ScopedModelViewSet):
    """打印机: a printer's offset in millimetres (−20…20, right and down positive), applied to receipts printed on
    sheets with it (套打 and standard; never on thermal rolls). A name already used in the company, or an offset out
    of bounds, answers 400 with the reason."""

    queryset = PrinterProfile.objects.all()
    serializer_class = PrinterProfileSerializer
    search_fields = ("name",)
    ordering_fields = ("id", "name", "updated_at")

    def perform_destroy(self, instance):
        printer_profile_delete(printer=instance, actor=self.request.user)

    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PdfRenderer])
    def calibration(self, request, pk=None):
        """The calibration page (rulers, crosses at known places) printed through this printer's offset."""
        printer = self.get_object()
        paper = request.query_params.get("paper") or PaperSize.THIRDS
        if paper not in dict(SHEET_PAPERS):
            raise serializers.ValidationError({"paper": [_("请选择以下纸张之一：%(papers)s")
                                                         % {"papers": "、".join(dict(SHEET_PAPERS))}]})
        response = HttpResponse(calibration_pdf(calibration_sheet(paper, print_offset(printer, paper))),
                                content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"calibration-{printer.pk}-{paper}.pdf")
        return response


class ReceiptPrintSerializer(serializers.ModelSerializer):
    receipt_number = serializers.CharField(source="payment.receipt_number", read_only=True)
    template_name = serializers.CharField(source="template.name", read_only=True, default=None)
    printed_by_name = serializers.CharField(source="printed_by.__str__", read_only=True, default=None)
    is_reprint = serializers.BooleanField(read_only=True, label=gettext_lazy("补打"))
    mark = serializers.SerializerMethodField(label=gettext_lazy("补打标记"))
    output = serializers.CharField(read_only=True, label=gettext_lazy("方式"),
                                   help_text=gettext_lazy("print 打印，pdf 下载 PDF；早于记录方式的打印为空"))
    output_label = serializers.CharField(source="get_output_display", read_only=True, label=gettext_lazy("方式名称"))
    pdf = serializers.SerializerMethodField(label=gettext_lazy("PDF 地址"))

    class Meta:
        model = ReceiptPrint
        fields = ("id", "payment", "receipt_number", "copy_number", "is_reprint", "mark", "output", "output_label",
                  "template", "template_name", "printer_name", "offset_x", "offset_y", "printed_by",
                  "printed_by_name", "printed_at", "pdf")
        read_only_fields = fields

    def get_mark(self, record) -> str:
        return copy_mark(record.copy_number)

    def get_pdf(self, record) -> str:
        request = self.context.get("request")
        path = f"/api/v1/receipt-prints/{record.pk}/pdf/"
        return request.build_absolute_uri(path) if request else path


class ReceiptPrintCreateSerializer(serializers.Serializer):
    payment = PermittedPrimaryKeyRelatedField(queryset=Payment.objects.all(), label=gettext_lazy("收款"))
    template = PermittedPrimaryKeyRelatedField(queryset=ReceiptTemplate.objects.all(), required=False,
                                               allow_null=True, label=gettext_lazy("模板"),
                                               help_text=gettext_lazy("留空时沿用上次打印的模板，首次打印用企业的默认模板"))
    output = choice_field(PrintOutput.choices, "ReceiptPrintOutputEnum", required=False, default=PrintOutput.PRINT,
                          label=gettext_lazy("方式"), help_text=gettext_lazy("print 送打印机（默认），pdf 下载 PDF"))
    printer = PermittedPrimaryKeyRelatedField(queryset=PrinterProfile.objects.all(), required=False, allow_null=True,
                                              label=gettext_lazy("打印机"),
                                              help_text=gettext_lazy("按该打印机的偏移校正（热敏小票不校正）；留空不校正"))

    def validate(self, attrs):
        template, payment, printer = attrs.get("template"), attrs["payment"], attrs.get("printer")
        if template is not None and template.company_id != payment.company_id:
            raise serializers.ValidationError({"template": [_("请选择收款所在企业的模板")]})
        if printer is not None and printer.company_id != payment.company_id:
            raise serializers.ValidationError({"printer": [_("请选择收款所在企业的打印机")]})
        return attrs


class ReceiptPrintPermission(BasePermission):
    """Whoever may see a payment may print its receipt; every print is recorded."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("billing.view_payment"))


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("payment", OpenApiTypes.INT, description=gettext_lazy("只看这笔收款的打印记录"))]))
class ReceiptPrintViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """收据打印记录: each print or PDF of a payment's receipt. Copy 1 is the original; later copies are 补打.

    POST records a print (with the template named, else the one the last copy used, else the company's default)
    and answers with the copy's number and the address of its PDF.
    """

    queryset = ReceiptPrint.objects.all()
    serializer_class = ReceiptPrintSerializer
    permission_classes = [ReceiptPrintPermission]
    filter_backends = []

    def get_queryset(self):
        prints = (ReceiptPrint.objects.filter(payment__in=selectors.payment_queryset(self.request.user))
                  .select_related("payment", "template", "printed_by").order_by("-printed_at", "-id"))
        payment = self.request.query_params.get("payment", "")
        if payment:
            valid = payment.isascii() and payment.isdigit() and len(payment) < 18
            prints = prints.filter(payment_id=int(payment)) if valid else prints.none()
        return prints

    def get_serializer_class(self):
        return ReceiptPrintCreateSerializer if self.action == "create" else ReceiptPrintSerializer

    @extend_schema(request=ReceiptPrintCreateSerializer, responses={201: ReceiptPrintSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment, template = data["payment"], data.get("template")
        if template is None:
            last = payment.prints.order_by("-copy_number").first()
            template, _templates = receipt_template_choose(payment.company, last.template_id if last else None)
        record = receipt_print_record(payment=payment, template=template, actor=request.user,
                                      output=data.get("output", PrintOutput.PRINT), printer=data.get("printer"))
        record = self.get_queryset().get(pk=record.pk)
        return Response(ReceiptPrintSerializer(record, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                          description=gettext_lazy("收据 PDF"))})
    @action(detail=True, methods=["get"], url_path="pdf", renderer_classes=[renderers.JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The PDF of this copy, on its template's paper, marked 补打 when it is a reprint, moved by the printer
        offset it was recorded with."""
        record = self.get_object()
        template, _templates = receipt_template_choose(record.payment.company, record.template_id)
        sheet = receipt_sheet(template, receipt_context(record.payment), copy_number=record.copy_number,
                              logo=logo_data_uri(template), offset=record_offset(record))
        response = HttpResponse(receipt_pdf(sheet), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{record.payment.receipt_number}-{record.copy_number}.pdf")
        return response
