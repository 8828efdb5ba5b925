"""导入历史账单 over the API: download the template, upload a file, then follow the job."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from aishang.core.api.exceptions import api_errors
from aishang.core.context import set_actor
from aishang.estate.models import Project
from aishang.extras.api.jobs import JobDetailSerializer
from aishang.extras.importing import XLSX_CONTENT_TYPE, xlsx_download

from ..imports import BILL_PERMISSION, bill_import_start, bill_import_template

MAX_ID = 2**63 - 1
NOT_FOUND = OpenApiResponse(description="项目不存在或不在权限范围内")


class ProjectParamSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="项目编号")


class BillImportSerializer(ProjectParamSerializer):
    file = serializers.FileField(help_text="按导入模板填写的 Excel（.xlsx）文件")


def import_project(user, data):
    """The project to import into: the permission first, then a project in the user's scope, else 404."""
    if not user.has_perm(BILL_PERMISSION):
        raise exceptions.PermissionDenied(_("没有导入账单的权限"))
    serializer = ProjectParamSerializer(data={"project": data.get("project")})
    serializer.is_valid(raise_exception=True)
    project = (Project.objects.filter(pk__in=user.permitted_project_ids(), pk=serializer.validated_data["project"])
               .select_related("company").first())
    if project is None:
        raise Http404(_("项目不存在"))
    return project


class BillImportView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["billing"], summary="导入历史账单", request={"multipart/form-data": BillImportSerializer},
        responses={202: JobDetailSerializer, 400: OpenApiResponse(description="文件无法读取或参数有误"),
                   403: OpenApiResponse(description="没有导入权限"), 404: NOT_FOUND},
        description="上传按模板填写的 xlsx（房屋编码、收费项目、开始时间、结束时间、应收金额，已收的再填实收金额、"
                    "收款日期、收款方式），建立后台任务并开始导入。整份文件要么全部导入，要么都不导入；导入实收金额"
                    "还需要收款权限。进度、结果和逐行错误见 /api/v1/jobs/{id}/（响应头 Location）。",
    )
    def post(self, request):
        set_actor(request.user)
        project = import_project(request.user, request.data)
        serializer = BillImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            job = bill_import_start(project=project, uploaded_file=serializer.validated_data["file"],
                                    actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        job.refresh_from_db()
        return Response(JobDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("job-detail", kwargs={"pk": job.pk})})


class BillImportTemplateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["billing"], summary="下载历史账单导入模板", request=None,
        parameters=[OpenApiParameter("project", OpenApiTypes.INT, OpenApiParameter.QUERY, required=True,
                                     description="项目编号")],
        responses={(200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="导入模板（xlsx）"),
                   400: OpenApiResponse(description="参数有误"), 403: OpenApiResponse(description="没有导入权限"),
                   404: NOT_FOUND},
    )
    def get(self, request):
        project = import_project(request.user, request.query_params)
        return xlsx_download(bill_import_template(project), f"历史账单导入模板-{project.name}")


urlpatterns = [
    path("imports/bills/", BillImportView.as_view(), name="bill-import"),
    path("imports/bills/template/", BillImportTemplateView.as_view(), name="bill-import-template"),
]
