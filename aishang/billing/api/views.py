from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aishang.core.api.exceptions import Conflict, api_errors
from aishang.core.api.permissions import ScopedModelPermissions
from aishang.core.api.views import ReadOnlyScopedModelViewSet, ScopedModelViewSet, ScopedViewMixin
from aishang.estate.models import Building
from aishang.extras.api.jobs import JobDetailSerializer

from .. import selectors
from ..approvals import approval_decide, approval_refusal, approval_request_create, approval_request_withdraw
from ..deposits import deposit_collect
from ..jobs import bill_run_start
from ..models import (
    ApprovalDecision,
    ApprovalFlow,
    ApprovalLevel,
    ApprovalRequest,
    Bill,
    BillDiscount,
    BillRun,
    BillRunSchedule,
    BillVoid,
    ChargeRule,
    Deposit,
    DiscountScheme,
    FeeItem,
    JournalEntry,
    Payment,
    PrepaidAccount,
    RuleBinding,
    RulePrice,
    Waiver,
)
from ..payments import Tender, payment_collect
from ..services import bill_run_preview
from . import filters, serializers

PREVIEW_SAMPLES = 5


def _validation_errors(exc):
    return exceptions.ValidationError(api_errors(exc))


# Fee items and charge rules


class FeeItemViewSet(ScopedModelViewSet):
    """收费项目 of the company: what is charged and how its amounts are rounded."""

    queryset = FeeItem.objects.all()
    serializer_class = serializers.FeeItemSerializer
    filterset_class = filters.FeeItemFilterSet
    search_fields = ("code", "name")
    ordering_fields = ("id", "code", "name", "category")


class ChargeRuleViewSet(ScopedModelViewSet):
    """收费标准, with its bindings and price changes (edited at rule-bindings and rule-prices).

    A formula is checked when it is saved: an unknown variable or a syntax error answers 400 at ``formula``.
    """

    queryset = ChargeRule.objects.all()
    serializer_class = serializers.ChargeRuleSerializer
    filterset_class = filters.ChargeRuleFilterSet
    search_fields = ("name", "notes")
    ordering_fields = ("id", "name", "unit_price", "effective_from", "created_at")
    select_related = ("fee_item",)
    prefetch_related = ("bindings__unit", "prices")


class RuleSetupPermissions(ScopedModelPermissions):
    """Bindings and price changes are part of editing a rule, as on the rule's page: writes also need
    the permission to change rules. Removing a binding changes what the rule charges, so the permission to
    change bindings is enough for it."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view) and not (
                request.method == "DELETE" and request.user.has_perm("billing.change_rulebinding")):
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or request.user.has_perm("billing.change_chargerule")


class RuleBindingViewSet(ScopedModelViewSet):
    """收费标准绑定: the whole project, a building, a property type, a unit or a parking space a rule charges."""

    queryset = RuleBinding.objects.all()
    serializer_class = serializers.RuleBindingSerializer
    filterset_class = filters.RuleBindingFilterSet
    permission_classes = [RuleSetupPermissions]
    ordering_fields = ("id", "target")
    select_related = ("rule", "unit")


class RulePriceViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """调价记录: a rule's unit price from a date on; a period that spans it is split by days.

    Price changes are added, never edited (as on the rule's page).
    """

    queryset = RulePrice.objects.all()
    serializer_class = serializers.RulePriceSerializer
    filterset_class = filters.RulePriceFilterSet
    permission_classes = [RuleSetupPermissions]
    ordering_fields = ("id", "effective_from")
    select_related = ("rule",)


# Bill runs


class BillRunViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """出账批次: create with a project, its rules and a month; preview; then post in the background."""

    queryset = BillRun.objects.all()
    serializer_class = serializers.BillRunSerializer
    filterset_class = filters.BillRunFilterSet
    ordering_fields = ("id", "period_month", "created_at", "posted_at")
    select_related = ("project", "created_by")
    prefetch_related = ("rules", "buildings")

    @extend_schema(
        summary=_("出账预览"), request=None, responses={200: serializers.BillRunPreviewSerializer},
        description=_("按当前的收费标准、绑定和房屋计算这一批次将出的账单：张数、合计、按收费项目和楼栋的小计、"
                      "几张样例及提示。不写入任何数据。"),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def preview(self, request, pk=None):
        run = self.get_object()
        preview = bill_run_preview(run, samples=PREVIEW_SAMPLES)
        buildings = {building.pk: building
                     for building in Building.objects.filter(pk__in=list(preview.by_building))}
        data = {
            "count": preview.count,
            "total": preview.total,
            "by_fee_item": [{"fee_item": name, "total": total} for name, total in preview.by_fee_item.items()],
            "by_building": [{"building": building_id, "total": total,
                             "building_code": getattr(buildings.get(building_id), "code", None),
                             "building_name": getattr(buildings.get(building_id), "name", None)}
                            for building_id, total in preview.by_building.items()],
            "samples": [{"rule": charge.rule.pk, "rule_name": charge.rule.name, "unit": charge.unit_id,
                         "building": charge.building_id, "payer": charge.payer_id,
                         "period_start": charge.period.start, "period_end": charge.period.end,
                         "amount": charge.amount, "computation": charge.computation}
                        for charge in preview.samples],
            "warnings": [str(warning) for warning in preview.warnings],
        }
        return Response(serializers.BillRunPreviewSerializer(data).data)

    @extend_schema(
        summary=_("出账"), request=None,
        responses={202: JobDetailSerializer, 404: OpenApiResponse(description=_("出账批次不存在或不在权限范围内")),
                   409: OpenApiResponse(description=_("该批次已出账或正在出账"))},
        description=_("在后台出账，立即返回后台任务；进度和结果见 /api/v1/jobs/{id}/（响应头 Location）。"
                      "中断后可再次出账，只补出缺少的账单。"),
    )
    @action(detail=True, methods=["post"], url_path="post", url_name="post", filter_backends=[],
            pagination_class=None)
    def post_run(self, request, pk=None):
        run = self.get_object()
        try:
            job = bill_run_start(run, actor=request.user)
        except DjangoValidationError as refusal:
            raise Conflict(refusal.messages[0]) from None
        job.refresh_from_db()
        return Response(JobDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("job-detail", kwargs={"pk": job.pk})})


# Bills and corrections


class BillViewSet(ReadOnlyScopedModelViewSet):
    """应收账单, read-only, each with what was waived, voided and what is still outstanding."""

    queryset = Bill.objects.all()
    serializer_class = serializers.BillSerializer
    filterset_class = filters.BillFilterSet
    search_fields = ("unit__code", "payer__name")
    ordering_fields = ("id", "period_start", "due_date", "amount", "outstanding", "created_at")
    select_related = ("project", "unit", "payer", "fee_item")

    def get_queryset(self):
        return selectors.bills_with_outstanding(super().get_queryset())


class WaiverViewSet(ReadOnlyScopedModelViewSet):
    """减免: approved reductions of bills (written by approving a waiver request)."""

    queryset = Waiver.objects.all()
    serializer_class = serializers.WaiverSerializer
    filterset_class = filters.WaiverFilterSet
    ordering_fields = ("id", "created_at", "amount")


class BillVoidViewSet(ReadOnlyScopedModelViewSet):
    """作废: approved cancellations of bills (written by approving a void request)."""

    queryset = BillVoid.objects.all()
    serializer_class = serializers.BillVoidSerializer
    filterset_class = filters.BillVoidFilterSet
    ordering_fields = ("id", "created_at", "amount")


class JournalEntryViewSet(ReadOnlyScopedModelViewSet):
    """记账凭证 with their postings (debits positive, credits negative), read-only."""

    queryset = JournalEntry.objects.all()
    serializer_class = serializers.JournalEntrySerializer
    filterset_class = filters.JournalEntryFilterSet
    search_fields = ("memo",)
    ordering_fields = ("id", "created_at")

    def get_queryset(self):
        # The journal has no restricted manager of its own; this is ``restrict(user, "view")`` by its project.
        user = self.request.user
        entries = JournalEntry.objects.all()
        if not user.is_superuser:
            if not user.has_perm("billing.view_journalentry"):
                return entries.none()
            entries = entries.filter(company_id=user.company_id, project_id__in=user.permitted_project_ids())
        return entries.prefetch_related("postings__fee_item")


# Approvals


class ApprovalFlowViewSet(ReadOnlyScopedModelViewSet):
    """审批流程 of the company with their levels, read-only (edit them on the web pages)."""

    queryset = ApprovalFlow.objects.all()
    serializer_class = serializers.ApprovalFlowSerializer
    filterset_class = filters.ApprovalFlowFilterSet
    ordering_fields = ("id", "action")
    prefetch_related = ("levels__role",)


class ApprovalRequestPermissions(ScopedModelPermissions):
    """As on the approval pages: submitting needs the permission to request; deciding and withdrawing are
    checked by the approval rules themselves. Reading needs to be a requester or an approver."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if view.action == "create":
            return user.has_perm("billing.add_approvalrequest")
        if view.action in ("decide", "withdraw"):
            return True
        return (user.has_perm("billing.view_approvalrequest") or user.has_perm("billing.add_approvalrequest")
                or ApprovalLevel.objects.filter(flow__company_id=user.company_id,
                                                role__in=user.roles.all()).exists())


class ApprovalRequestViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """审批申请 of corrections (减免, 作废账单, 作废收款, 收款退款, 预存退款, 押金退还): submit, decide level by
    level, or withdraw.

    Listed are the requests the caller may open: all of their projects' with the view permission, otherwise
    their own, those waiting on a role they hold and those they decided. ``awaiting_me=true`` is the inbox.
    """

    queryset = ApprovalRequest.objects.all()
    serializer_class = serializers.ApprovalRequestSerializer
    filterset_class = filters.ApprovalRequestFilterSet
    permission_classes = [ApprovalRequestPermissions]
    search_fields = ("reason", "bill__unit__code", "payment__receipt_number", "payment__unit__code",
                     "prepaid_account__unit__code", "deposit__unit__code")
    ordering_fields = ("id", "created_at", "amount", "decided_at")

    def get_queryset(self):
        return selectors.approval_request_queryset(self.request.user).prefetch_related("steps__decided_by",
                                                                                       "steps__role")

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.ApprovalRequestCreateSerializer
        if self.action == "list":
            return serializers.ApprovalRequestSerializer
        return serializers.ApprovalRequestDetailSerializer

    def _detail(self, approval, status_code=status.HTTP_200_OK):
        approval = self.get_queryset().filter(pk=approval.pk).first() or approval
        context = self.get_serializer_context()
        return Response(serializers.ApprovalRequestDetailSerializer(approval, context=context).data,
                        status=status_code)

    @extend_schema(request=serializers.ApprovalRequestCreateSerializer,
                   responses={201: serializers.ApprovalRequestDetailSerializer},
                   description=_("提交审批申请：账单的减免（填金额）或作废，收款的作废或退款（填金额和退款方式），"
                                 "预存退款或押金退还（填金额和退款方式），按企业的审批流程逐级审批。"
                                 "金额超过可退或未结金额、已有待审批的申请等会答 400 并说明原因。"))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            approval = approval_request_create(
                action=data["action"], bill=data.get("bill"), payment=data.get("payment"),
                prepaid_account=data.get("prepaid_account"), deposit=data.get("deposit"), amount=data["amount"],
                refund_method=data["refund_method"], reason=data["reason"], actor=request.user)
        except DjangoValidationError as exc:
            raise _validation_errors(exc) from None
        return self._detail(approval, status.HTTP_201_CREATED)

    @extend_schema(summary=_("审批"), request=serializers.ApprovalDecisionSerializer,
                   responses={200: serializers.ApprovalRequestDetailSerializer,
                              403: OpenApiResponse(description=_("不能审批这一级（如审批自己提交的申请）")),
                              409: OpenApiResponse(description=_("申请已办结"))},
                   description=_("同意或驳回当前一级；驳回须填写意见。最后一级同意后写入减免或作废记录和记账凭证。"))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request, pk=None):
        approval = self.get_object()
        serializer = serializers.ApprovalDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refusal = approval_refusal(approval, request.user)
        if refusal:
            raise (exceptions.PermissionDenied if approval.is_pending else Conflict)(refusal)
        try:
            approval = approval_decide(request=approval, actor=request.user,
                                       approve=serializer.validated_data["decision"] == ApprovalDecision.APPROVE,
                                       comment=serializer.validated_data["comment"])
        except DjangoValidationError as exc:
            raise _validation_errors(exc) from None
        return self._detail(approval)

    @extend_schema(summary=_("撤回申请"), request=None,
                   responses={200: serializers.ApprovalRequestDetailSerializer},
                   description=_("申请人撤回尚在审批中的申请。"))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        approval = self.get_object()
        try:
            approval = approval_request_withdraw(request=approval, actor=request.user)
        except DjangoValidationError as exc:
            raise _validation_errors(exc) from None
        return self._detail(approval)


class DiscountSchemeViewSet(ScopedModelViewSet):
    """优惠方案: who qualifies and what comes off; billing-time schemes are granted when bills are made."""

    queryset = DiscountScheme.objects.all()
    serializer_class = serializers.DiscountSchemeSerializer
    filterset_class = filters.DiscountSchemeFilterSet
    search_fields = ("name", "customer_tag")
    ordering_fields = ("id", "name", "valid_from")
    prefetch_related = ("fee_items", "units")


class BillDiscountViewSet(ReadOnlyScopedModelViewSet):
    """账单优惠: the amounts discount schemes took off bills."""

    queryset = BillDiscount.objects.all()
    serializer_class = serializers.BillDiscountSerializer
    filterset_class = filters.BillDiscountFilterSet
    ordering_fields = ("id", "created_at", "amount")
    select_related = ("scheme",)


class BillRunScheduleViewSet(ScopedModelViewSet):
    """定时出账: a project's rules billed every month on a day."""

    queryset = BillRunSchedule.objects.all()
    serializer_class = serializers.BillRunScheduleSerializer
    filterset_class = filters.BillRunScheduleFilterSet
    search_fields = ("name",)
    ordering_fields = ("id", "name", "day_of_month")
    prefetch_related = ("rules",)


class PaymentViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """收款 at the cashier's desk: list, read, and collect one payment for a unit's bills.

    A payment may use several methods (现金 with change, 刷卡/POS, 微信, 支付宝, 银行转账, 预存冲抵). Bills are
    settled oldest period first; what is paid beyond them goes to the unit's general prepaid. Send an
    ``Idempotency-Key`` header so that a retried request does not collect twice.
    """

    queryset = Payment.objects.all()
    serializer_class = serializers.PaymentSerializer
    permission_classes = [ScopedModelPermissions]
    search_fields = ("receipt_number", "unit__code", "payer__name")
    ordering_fields = ("id", "received_at", "amount")

    def get_queryset(self):
        return selectors.payment_queryset(self.request.user).prefetch_related("prepaid_movements")

    def get_serializer_class(self):
        return serializers.PaymentCreateSerializer if self.action == "create" else serializers.PaymentSerializer

    @extend_schema(request=serializers.PaymentCreateSerializer, responses={201: serializers.PaymentSerializer},
                   description=_("收款：选择房屋的账单和收款方式。"
                                 "账单已结清、跳过较早账单、预存余额不足等会答 400 并说明原因。"))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unit = data["unit"]
        try:
            payment = payment_collect(
                project=unit.project, unit=unit, bill_ids=data["bills"], actor=request.user,
                tenders=[Tender(t["method"], t["amount"], t.get("tendered"), t["reference"], t.get("deposit"))
                         for t in data["tenders"]],
                override_reason=data["override_reason"], note=data["note"])
        except DjangoValidationError as exc:
            raise _validation_errors(exc) from None
        payment = self.get_queryset().get(pk=payment.pk)
        return Response(serializers.PaymentSerializer(payment, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


class DepositViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """押金: collect (one payment with its receipt, by methods that bring money in), list and read with movements.

    Offsets against bills go through ``POST /payments/`` with a ``deposit`` tender; refunds through
    ``POST /approval-requests/`` with ``action=deposit_refund``. Send an ``Idempotency-Key`` header so that
    a retried request does not collect twice.
    """

    queryset = Deposit.objects.all()
    serializer_class = serializers.DepositSerializer
    filterset_class = filters.DepositFilterSet
    permission_classes = [ScopedModelPermissions]
    search_fields = ("kind", "unit__code", "customer__name", "payment__receipt_number")
    ordering_fields = ("id", "created_at", "amount")

    def get_queryset(self):
        return selectors.deposit_queryset(self.request.user).prefetch_related("movements")

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.DepositCreateSerializer
        return serializers.DepositDetailSerializer if self.action == "retrieve" else serializers.DepositSerializer

    @extend_schema(request=serializers.DepositCreateSerializer, responses={201: serializers.DepositDetailSerializer},
                   description=_("收押金：房屋、押金类型和收款方式；只能以现金、刷卡、微信、支付宝或银行转账收取。"))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unit = data["unit"]
        try:
            deposit = deposit_collect(
                project=unit.project, unit=unit, customer=data.get("customer"), kind=data["kind"],
                tenders=[Tender(t["method"], t["amount"], t.get("tendered"), t["reference"]) for t in data["tenders"]],
                note=data["note"], actor=request.user)
        except DjangoValidationError as exc:
            raise _validation_errors(exc) from None
        deposit = self.get_queryset().get(pk=deposit.pk)
        return Response(serializers.DepositDetailSerializer(deposit, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


class PrepaidAccountViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    """预存账户 of units with their balances; one account read with every movement is its statement.

    Top-ups go through ``POST /payments/`` with no bills; refunds through ``POST /approval-requests/`` with
    ``action=prepaid_refund``.
    """

    queryset = PrepaidAccount.objects.all()
    serializer_class = serializers.PrepaidAccountSerializer
    filterset_class = filters.PrepaidAccountFilterSet
    permission_classes = [ScopedModelPermissions]
    search_fields = ("unit__code",)
    ordering_fields = ("id",)

    def get_queryset(self):
        return selectors.prepaid_accounts_with_balance(self.request.user).prefetch_related("movements")

    def get_serializer_class(self):
        return (serializers.PrepaidAccountDetailSerializer if self.action == "retrieve"
                else serializers.PrepaidAccountSerializer)
