"""抄表导入 over the API: upload a file and get the result or the row errors in the answer; download a template
pre-filled with the meters and their last readings."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from aishang.core.api.exceptions import api_errors
from aishang.core.context import set_actor
from aishang.extras.api.imports import (
    NOT_FOUND,
    PROJECT_PARAMETER,
    TEMPLATE_RESPONSES,
    ImportFileSerializer,
    ProjectImportView,
)
from aishang.extras.api.jobs import JobDetailSerializer, JobErrorSerializer
from aishang.extras.choices import JobStatus
from aishang.extras.importing import xlsx_download
from aishang.extras.jobs import job_execute

from ..imports import READING_PERMISSION, reading_import_job, reading_import_start, reading_import_template
from ..views_import import template_choice

REFUSAL = "没有录入抄表读数的权限"


class ReadingImportRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="第一处错误的摘要；未导入任何数据")
    job = serializers.IntegerField(help_text="后台任务编号，错误明细（xlsx）见 /api/v1/jobs/{id}/errors/")
    errors = JobErrorSerializer(many=True)


ASYNC_PARAMETER = OpenApiParameter(
    "async", OpenApiTypes.BOOL, OpenApiParameter.QUERY,
    description="1：在后台导入，立即答 202 和任务（Location 为任务地址 /api/v1/jobs/{id}/），适合大文件；"
                "不填：在本次请求内导入完毕")
ASYNC_VALUES = {"1", "true", "yes"}


class ReadingImportView(ProjectImportView):
    import_permission, refusal = READING_PERMISSION, REFUSAL
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["meters"], summary="抄表导入", request={"multipart/form-data": ImportFileSerializer},
        parameters=[ASYNC_PARAMETER],
        responses={201: JobDetailSerializer, 202: JobDetailSerializer, 400: ReadingImportRefusedSerializer,
                   403: OpenApiResponse(description="没有录入读数的权限"), 404: NOT_FOUND},
        description="上传按抄表模板填写的 xlsx（表号、本期读数、本期抄表日期必填）。默认在本次请求内导入完毕："
                    "成功时答 201，result 中有读数条数（readings）和待复核条数（flagged）；有错误时答 400，errors "
                    "按行号和列列出，且未导入任何数据。导入同样记为后台任务（/api/v1/jobs/{id}/）。"
                    "大文件（如 10 万行，约 15 秒）请加 ?async=1：立即答 202 和任务，与房屋、账单导入相同，"
                    "Location 头为任务地址；任务完成后 status 为 succeeded 或 failed，错误见任务的 errors。",
    )
    def post(self, request):
        set_actor(request.user)
        project = self.import_project(request.data)
        serializer = ImportFileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        in_background = request.query_params.get("async", "").lower() in ASYNC_VALUES
        try:
            job = (reading_import_start if in_background else reading_import_job)(
                project=project, uploaded_file=serializer.validated_data["file"], actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        if in_background:
            job.refresh_from_db()
            return Response(JobDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                            headers={"Location": reverse("job-detail", kwargs={"pk": job.pk})})
        # Run here rather than queued: an integrator wants the rows it must fix in the answer, and a month of a
        # building or a project takes a second or two.
        job = job_execute(job.pk)
        if job.status == JobStatus.SUCCEEDED:
            return Response(JobDetailSerializer(job).data, status=status.HTTP_201_CREATED)
        return Response({"detail": job.message, "job": job.pk, "errors": job.errors},
                        status=status.HTTP_400_BAD_REQUEST)


class ReadingImportTemplateView(ProjectImportView):
    import_permission, refusal = READING_PERMISSION, REFUSAL

    @extend_schema(
        tags=["meters"], summary="下载抄表导入模板", request=None, responses=TEMPLATE_RESPONSES,
        parameters=[PROJECT_PARAMETER,
                    OpenApiParameter("building", OpenApiTypes.INT, OpenApiParameter.QUERY,
                                     description="楼栋编号；留空为全部楼栋"),
                    OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.QUERY,
                                     description="表类型 water、electricity、gas、heat；留空为全部")],
        description="本项目（或楼栋）在用的表，按抄表顺序，已填好上期读数和上期抄表日期。",
    )
    def get(self, request):
        project = self.import_project(request.query_params)
        building, kind = template_choice(project, request.query_params)
        return xlsx_download(reading_import_template(project, building=building, kind=kind),
                             f"抄表导入模板-{project.name}")


urlpatterns = [
    path("meter-readings/import/", ReadingImportView.as_view(), name="meter-reading-import"),
    path("meter-readings/import-template/", ReadingImportTemplateView.as_view(), name="meter-reading-import-template"),
]
