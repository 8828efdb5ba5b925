"""导入历史账单 over the API: download the template, upload a file, then follow the job."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema

from aishang.extras.api.imports import (
    PROJECT_PARAMETER,
    TEMPLATE_RESPONSES,
    UPLOAD_RESPONSES,
    ImportFileSerializer,
    ImportTemplateView,
    ImportUploadView,
)

from ..imports import BILL_PERMISSION, bill_import_start, bill_import_template

REFUSAL = _("没有导入账单的权限")


class BillImportView(ImportUploadView):
    import_permission, refusal, start = BILL_PERMISSION, REFUSAL, bill_import_start

    @extend_schema(
        tags=["billing"], summary="导入历史账单", request={"multipart/form-data": ImportFileSerializer},
        responses=UPLOAD_RESPONSES,
        description="上传按模板填写的 xlsx（房屋编码、收费项目、开始时间、结束时间、应收金额，已收的再填实收金额、"
                    "收款日期、收款方式），建立后台任务并开始导入。整份文件要么全部导入，要么都不导入；导入实收金额"
                    "还需要收款权限。进度、结果和逐行错误见 /api/v1/jobs/{id}/（响应头 Location）。",
    )
    def post(self, request):
        return super().post(request)


class BillImportTemplateView(ImportTemplateView):
    import_permission, refusal, template, filename = BILL_PERMISSION, REFUSAL, bill_import_template, "历史账单导入模板"

    @extend_schema(tags=["billing"], summary="下载历史账单导入模板", request=None, parameters=[PROJECT_PARAMETER],
                   responses=TEMPLATE_RESPONSES)
    def get(self, request):
        return super().get(request)


urlpatterns = [
    path("imports/bills/", BillImportView.as_view(), name="bill-import"),
    path("imports/bills/template/", BillImportTemplateView.as_view(), name="bill-import-template"),
]
