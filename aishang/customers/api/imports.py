"""导入房屋及业主 over the API: download the template, upload a file, then follow the job."""

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

from ..imports import unit_import_start, unit_import_template

IMPORT_PERMISSION = "estate.import_unit"
REFUSAL = _("没有导入房屋及业主的权限")


class UnitImportView(ImportUploadView):
    import_permission, refusal, start = IMPORT_PERMISSION, REFUSAL, unit_import_start

    @extend_schema(
        tags=["estate"], summary="导入房屋及业主", request={"multipart/form-data": ImportFileSerializer},
        responses=UPLOAD_RESPONSES,
        description="上传按模板填写的 xlsx，建立后台任务并开始导入。整份文件要么全部导入，要么都不导入；"
                    "进度、结果和逐行错误见 /api/v1/jobs/{id}/（响应头 Location）。",
    )
    def post(self, request):
        return super().post(request)


class UnitImportTemplateView(ImportTemplateView):
    import_permission, refusal, template, filename = (IMPORT_PERMISSION, REFUSAL, unit_import_template,
                                                      "房屋及业主导入模板")

    @extend_schema(tags=["estate"], summary="下载房屋及业主导入模板", request=None, parameters=[PROJECT_PARAMETER],
                   responses=TEMPLATE_RESPONSES)
    def get(self, request):
        return super().get(request)


urlpatterns = [
    path("imports/units/", UnitImportView.as_view(), name="unit-import"),
    path("imports/units/template/", UnitImportTemplateView.as_view(), name="unit-import-template"),
]
