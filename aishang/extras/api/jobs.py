"""后台任务: the caller's own jobs (imports, exports, bill runs), read-only, with their progress and errors."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from aishang.extras.importing import XLSX_CONTENT_TYPE, import_errors_response
from aishang.extras.models import Job


class JobErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Excel 中的行号；整份文件的问题为空")
    column = serializers.CharField(allow_blank=True, help_text="列名")
    message = serializers.CharField(help_text="错误原因")


class JobSerializer(serializers.ModelSerializer):
    # Plain text in the schema: an enum named "status" would collide with the register's status enums.
    status = serializers.CharField(read_only=True,
                                   help_text="pending 排队中、running 进行中、succeeded 已完成、failed 失败")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True, default=None)
    percent = serializers.IntegerField(read_only=True)
    is_finished = serializers.BooleanField(read_only=True)
    result = serializers.DictField(read_only=True)
    error_count = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "title", "status", "status_display", "project", "project_name", "created_at",
                  "started_at", "finished_at", "total", "done", "percent", "is_finished", "message", "result",
                  "error_count"]
        read_only_fields = fields

    def get_error_count(self, job) -> int:
        return len(job.errors or [])


class JobDetailSerializer(JobSerializer):
    errors = JobErrorSerializer(many=True, read_only=True)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "errors"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(tags=["extras"], summary="我的后台任务"),
    retrieve=extend_schema(tags=["extras"], summary="后台任务的进度与结果"),
)
class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Jobs the caller started; anyone else's answer 404."""

    permission_classes = [IsAuthenticated]
    queryset = Job.objects.none()
    serializer_class = JobSerializer
    filterset_fields = ("kind", "status", "project")
    search_fields = ("title", "message")
    ordering_fields = ("id", "created_at", "finished_at")

    def get_queryset(self):
        return Job.objects.restrict(self.request.user, action=None).select_related("project")

    def get_serializer_class(self):
        return JobDetailSerializer if self.action == "retrieve" else JobSerializer

    @extend_schema(tags=["extras"], summary="下载导入错误明细（xlsx）", request=None,
                   responses={(200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY,
                                                                        description="行号、列、错误原因")})
    @action(detail=True, methods=["get"], url_path="errors", filter_backends=[], pagination_class=None)
    def errors(self, request, pk=None):
        return import_errors_response(self.get_object())


router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
urlpatterns = router.urls
