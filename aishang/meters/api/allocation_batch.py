"""一键分摊 over the API: preview all active rules of a project for a period at once, and post a set of drafts."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from aishang.core.api.exceptions import api_errors
from aishang.core.context import set_actor
from aishang.estate.models import Project
from aishang.extras.api.imports import MAX_ID

from ..allocation_runs import allocation_post_many, allocation_preview_many, batch_rules
from ..models import AllocationRun
from .serializers import AllocationPostSerializer, AllocationRunSerializer
from .views import refusal_error

MAX_RUNS = 2000


class AllocationBatchSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=MAX_ID, label="项目")
    period_start = serializers.DateField(label="期初")
    period_end = serializers.DateField(label="期末")


class AllocationPostBatchSerializer(AllocationPostSerializer):
    runs = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False,
                                 max_length=MAX_RUNS, label="分摊批次编号")


class AllocationBatchView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["meters"], summary="一键分摊（预览）", request=AllocationBatchSerializer,
        responses={201: AllocationRunSerializer(many=True),
                   400: OpenApiResponse(description="有规则无法计算：逐条说明原因，不保存任何数据"),
                   403: OpenApiResponse(description="没有新建分摊批次的权限"),
                   404: OpenApiResponse(description="项目不存在或不在权限范围内")},
        description="按期间内的抄表读数计算项目所有启用的分摊规则（该期间已入账的规则跳过），各存为预览批次并返回。"
                    "任一规则无法计算（缺少读数、面积等）时答 400，逐条列出规则和原因，不保存任何数据。",
    )
    def post(self, request):
        if not request.user.has_perm("meters.add_allocationrun"):
            raise exceptions.PermissionDenied(_("没有新建分摊批次的权限"))
        set_actor(request.user)
        serializer = AllocationBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = Project.objects.filter(pk__in=request.user.permitted_project_ids(), pk=data["project"]).first()
        if project is None:
            raise Http404(_("项目不存在"))
        if data["period_end"] < data["period_start"]:
            raise exceptions.ValidationError({"period_end": [_("期末不能早于期初")]})
        rules, _posted = batch_rules(project=project, period_start=data["period_start"], period_end=data["period_end"])
        if not rules:
            raise exceptions.ValidationError({"detail": [_("该项目在本期间没有待分摊的启用规则")]})
        try:
            runs = allocation_preview_many(rules=rules, period_start=data["period_start"],
                                           period_end=data["period_end"], actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(api_errors(exc)) from None
        return Response(AllocationRunSerializer(runs, many=True).data, status=status.HTTP_201_CREATED)


class AllocationPostBatchView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["meters"], summary="一键入账", request=AllocationPostBatchSerializer,
        responses={200: AllocationRunSerializer(many=True),
                   403: OpenApiResponse(description="没有修改分摊批次的权限"),
                   404: OpenApiResponse(description="有批次不存在或不在权限范围内"),
                   400: OpenApiResponse(description="有批次所用读数待复核，且未确认（confirm_unreviewed）：逐条说明，"
                                                    "全部不入账"),
                   409: OpenApiResponse(description="批次不是预览、规则期间重叠或明细不符：逐条说明，全部不入账")},
        description="把多个预览批次一次入账（同一事务）：任一批次不能入账时答 409 并逐条说明，全部不入账。"
                    "有批次所用读数待复核（见预览的 unreviewed_readings）时须传 confirm_unreviewed=true，否则答 400。",
    )
    def post(self, request):
        if not request.user.has_perm("meters.change_allocationrun"):
            raise exceptions.PermissionDenied(_("没有修改分摊批次的权限"))
        set_actor(request.user)
        serializer = AllocationPostBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(serializer.validated_data["runs"]))
        runs = AllocationRun.objects.restrict(request.user, "change").in_bulk(ids)
        if len(runs) != len(ids):
            raise Http404(_("分摊批次不存在"))
        try:
            posted = allocation_post_many(runs=[runs[pk] for pk in ids], actor=request.user,
                                          confirm_unreviewed=serializer.validated_data["confirm_unreviewed"])
        except DjangoValidationError as refusal:
            raise refusal_error(refusal) from None
        return Response(AllocationRunSerializer(posted, many=True).data)


# Before the router's: its allocation-runs/{id}/ would take "batch" for an id.
urlpatterns = [
    path("allocation-runs/batch/", AllocationBatchView.as_view(), name="allocation-run-batch"),
    path("allocation-runs/post-batch/", AllocationPostBatchView.as_view(), name="allocation-run-post-batch"),
]
