"""Spreadsheet imports over the API, the same for every kind: download a project's template, upload a filled-in
file (a background job is started and answered with 202), then follow the job at /api/v1/jobs/{id}/."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
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

MAX_ID = 2**63 - 1
NOT_FOUND = OpenApiResponse(description="项目不存在或不在权限范围内")
PROJECT_PARAMETER = OpenApiParameter("project", OpenApiTypes.INT, OpenApiParameter.QUERY, required=True,
                                     description="项目编号")
UPLOAD_RESPONSES = {202: JobDetailSerializer, 400: OpenApiResponse(description="文件无法读取或参数有误"),
                    403: OpenApiResponse(description="没有导入权限"), 404: NOT_FOUND}
TEMPLATE_RESPONSES = {(200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="导入模板（xlsx）"),
                      400: OpenApiResponse(description="参数有误"), 403: OpenApiResponse(description="没有导入权限"),
                      404: NOT_FOUND}


class ProjectParamSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="项目编号")


class ImportFileSerializer(ProjectParamSerializer):
    file = serializers.FileField(help_text="按导入模板填写的 Excel（.xlsx）文件")


class ProjectImportView(APIView):
    """What an import's views share: the permission, then a project in the user's scope (else 404)."""

    permission_classes = [IsAuthenticated]
    import_permission = ""
    refusal = ""  # why a user without the permission is refused, in Chinese

    def import_project(self, data):
        if not self.request.user.has_perm(self.import_permission):
            raise exceptions.PermissionDenied(self.refusal)
        serializer = ProjectParamSerializer(data={"project": data.get("project")})
        serializer.is_valid(raise_exception=True)
        project = (Project.objects.filter(pk__in=self.request.user.permitted_project_ids(),
                                          pk=serializer.validated_data["project"])
                   .select_related("company").first())
        if project is None:
            raise Http404(_("项目不存在"))
        return project


class ImportUploadView(ProjectImportView):
    """POST a filled-in template: ``start(project=, uploaded_file=, actor=)`` makes the job; 202 with it."""

    parser_classes = [MultiPartParser, FormParser]
    start = None

    def post(self, request):
        set_actor(request.user)
        project = self.import_project(request.data)
        serializer = ImportFileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            job = type(self).start(project=project, uploaded_file=serializer.validated_data["file"],
                                   actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        job.refresh_from_db()
        return Response(JobDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("job-detail", kwargs={"pk": job.pk})})


class ImportTemplateView(ProjectImportView):
    """GET a project's blank template: ``template(project)`` builds the workbook, named ``filename-<project>``."""

    template = None
    filename = ""

    def get(self, request):
        project = self.import_project(request.query_params)
        return xlsx_download(type(self).template(project), f"{self.filename}-{project.name}")
