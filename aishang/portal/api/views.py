"""The owner API (``/api/v1/owner/``) a WeChat mini program calls: sign in, units, bills, payments, messages.

Only owner bearer tokens authenticate here; staff tokens and sessions do not, and owner tokens authenticate
nowhere else. Anything outside the account's units answers 404.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from aishang.billing.models import Bill, Payment
from aishang.core.api.pagination import StandardPagination
from aishang.customers.models import OwnerAccount
from aishang.customers.owners import (
    CODE_LIFETIME,
    SmsRateLimited,
    WechatNotLinked,
    owner_login_code_send,
    owner_sign_in_with_code,
    owner_sign_in_with_wechat,
    owner_token_issue,
    owner_token_revoke,
)
from aishang.estate.models import Unit
from aishang.notifications.models import Message

from .. import selectors, services
from ..bill_rows import owner_bill_page
from ..filters import BillFilterForm
from .authentication import IsOwner, OwnerRateThrottle, OwnerTokenAuthentication
from .serializers import (
    OwnerBillPayRequestSerializer,
    OwnerBillSelectionRequestSerializer,
    OwnerBillSelectionSerializer,
    OwnerBillSerializer,
    OwnerDetailSerializer,
    OwnerMarkedSerializer,
    OwnerMarkReadSerializer,
    OwnerMessageSerializer,
    OwnerOrderSerializer,
    OwnerPaymentSerializer,
    OwnerSerializer,
    OwnerTokenSerializer,
    OwnerTopUpPayRequestSerializer,
    OwnerUnitDetailSerializer,
    OwnerUnitSerializer,
    OwnerUnreadCountSerializer,
    SmsCodeRequestSerializer,
    SmsCodeResponseSerializer,
    SmsLoginSerializer,
    WechatLoginSerializer,
)

TAGS = ["owner"]
RESEND_AFTER = 60


class TooManyRequests(exceptions.Throttled):
    def __init__(self, message):
        super().__init__(detail=message)


def _validation_error(exc):
    from aishang.core.api.exceptions import api_errors

    return exceptions.ValidationError(api_errors(exc))


class OwnerView(GenericAPIView):
    """Signed in with an owner token; nothing else gets in."""

    authentication_classes = [OwnerTokenAuthentication]
    permission_classes = [IsOwner]
    throttle_classes = [OwnerRateThrottle]
    pagination_class = StandardPagination

    @property
    def account(self):
        return self.request.user


class OwnerAuthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]


def client_address(request):
    """The caller's address as DRF's throttles see it: behind a proxy, REST_FRAMEWORK["NUM_PROXIES"] says how many
    X-Forwarded-For entries to trust, else every owner would share nginx's 127.0.0.1 and its SMS limit."""
    return AnonRateThrottle().get_ident(request) or None


def _token_answer(account):
    key, token = owner_token_issue(account)
    return Response(OwnerTokenSerializer({"token": key, "expires_at": token.expires_at, "owner": account}).data)


class SmsCodeView(OwnerAuthView):
    """Send a sign-in code to a mobile number the property company recorded (1 a minute, limited a day)."""

    @extend_schema(request=SmsCodeRequestSerializer, responses={200: SmsCodeResponseSerializer}, tags=TAGS)
    def post(self, request):
        serializer = SmsCodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            owner_login_code_send(mobile=serializer.validated_data["mobile"], ip_address=client_address(request))
        except ValidationError as exc:
            raise _validation_error(exc) from None
        except SmsRateLimited as exc:
            raise TooManyRequests(exc.message) from None
        minutes = CODE_LIFETIME.seconds // 60
        detail = _("如该手机号已在物业登记，验证码已发送，%(minutes)s 分钟内有效") % {"minutes": minutes}
        return Response({"detail": detail, "resend_after": RESEND_AFTER})


class SmsLoginView(OwnerAuthView):
    """Sign in with the mobile number and its code; answers a bearer token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=SmsLoginSerializer, responses={200: OwnerTokenSerializer}, tags=TAGS)
    def post(self, request):
        serializer = SmsLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            account = owner_sign_in_with_code(**serializer.validated_data)
        except ValidationError as exc:
            raise _validation_error(exc) from None
        return _token_answer(account)


class WechatLoginView(OwnerAuthView):
    """Exchange the mini program's ``wx.login`` code for a token. An openid not linked yet is linked to the owner
    signed in by SMS code (send that token as ``Authorization: Bearer``); without one it answers 400 ``not_linked``.
    """

    authentication_classes = [OwnerTokenAuthentication]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=WechatLoginSerializer, responses={200: OwnerTokenSerializer, 400: OwnerDetailSerializer},
                   tags=TAGS)
    def post(self, request):
        serializer = WechatLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signed_in = request.user if isinstance(request.user, OwnerAccount) else None
        try:
            account = owner_sign_in_with_wechat(app_id=serializer.validated_data["app_id"],
                                                js_code=serializer.validated_data["code"], account=signed_in)
        except ValidationError as exc:
            raise _validation_error(exc) from None
        except WechatNotLinked:
            return Response({"detail": _("该微信尚未绑定业主，请先用手机号验证码登录"), "code": "not_linked"},
                            status=status.HTTP_400_BAD_REQUEST)
        return _token_answer(account)


class LogoutView(OwnerView):
    """Revoke the token of this request."""

    @extend_schema(request=None, responses={204: None}, tags=TAGS)
    def post(self, request):
        owner_token_revoke(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(OwnerView):
    @extend_schema(responses={200: OwnerSerializer}, tags=TAGS)
    def get(self, request):
        account = self.account
        account.unit_count = selectors.owner_units(account).count()
        account.unread_messages = selectors.owner_unread_count(account)
        return Response(OwnerSerializer(account).data)


class UnitListView(OwnerView):
    queryset = Unit.objects.none()  # for the schema; the owner's units come from the selector
    @extend_schema(responses={200: OwnerUnitSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        return Response(OwnerUnitSerializer(selectors.owner_units(self.account), many=True).data)


class UnitDetailView(OwnerView):
    @extend_schema(responses={200: OwnerUnitDetailSerializer}, tags=TAGS)
    def get(self, request, pk):
        unit = get_object_or_404(selectors.owner_units(self.account), pk=pk)
        facts = selectors.owner_unit_facts(self.account, unit)
        unit.roles, unit.members = facts.roles, facts.members
        unit.custom_fields = [{"label": label, "value": value} for label, value in facts.custom_fields]
        return Response(OwnerUnitDetailSerializer(unit).data)


class BillListView(OwnerView):
    queryset = Bill.objects.none()
    @extend_schema(parameters=[
        OpenApiParameter("unit", OpenApiTypes.INT, description="房屋"),
        OpenApiParameter("fee_item", OpenApiTypes.INT, description="收费项目"),
        OpenApiParameter("period", OpenApiTypes.STR, description="账期（月），如 2026-11"),
        OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "paid"], description="open 待缴，paid 已缴清"),
    ], responses={200: OwnerBillSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        form = BillFilterForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        filters = form.selector_kwargs()

        def read(offset, limit):
            count, bills = owner_bill_page(self.account, offset=offset, limit=limit, **filters)
            return count, OwnerBillSerializer(bills, many=True).data

        return self.paginator.counted_page(request, read)


def _checked_selection(account, data):
    serializer = OwnerBillSelectionRequestSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    try:
        return services.bill_selection_check(account, serializer.validated_data["bills"])
    except ValidationError as exc:
        raise _validation_error(exc) from None


class BillSelectionView(OwnerView):
    """The server's total of a choice of open bills; refuses one that skips an earlier open bill (不支持跨时间缴费)."""

    @extend_schema(request=OwnerBillSelectionRequestSerializer, responses={200: OwnerBillSelectionSerializer},
                   tags=TAGS)
    def post(self, request):
        selection = _checked_selection(self.account, request.data)
        return Response(OwnerBillSelectionSerializer(selection).data)


class PayView(OwnerView):
    """Pay the chosen bills online (checked as ``bills/selection/``): places the order and answers the client's pay
    parameters (``pay``: wx.requestPayment's for WeChat, ``pay_url`` for Alipay's phone page)."""

    @extend_schema(request=OwnerBillPayRequestSerializer, responses={200: OpenApiTypes.OBJECT}, tags=TAGS)
    def post(self, request):
        serializer = OwnerBillPayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        selection = _checked_selection(self.account, request.data)
        return _pay_answer(self.account, serializer.validated_data, selection=selection)


class TopUpView(OwnerView):
    """Top up a unit's prepaid balance online; answers as ``pay/``."""

    @extend_schema(request=OwnerTopUpPayRequestSerializer, responses={200: OpenApiTypes.OBJECT}, tags=TAGS)
    def post(self, request):
        serializer = OwnerTopUpPayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = get_object_or_404(selectors.owner_units(self.account), pk=serializer.validated_data["unit"])
        return _pay_answer(self.account, serializer.validated_data, topup=(unit, serializer.validated_data["amount"]))


def _pay_answer(account, data, **what):
    return_url = data.get("return_url", "")
    try:
        started = services.online_payment_start(account=account, gateway=data.get("gateway"),
                                                return_url_for=(lambda number: return_url) if return_url else None,
                                                **what)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    return Response({**started, "amount": str(started["amount"])})


class OrderView(OwnerView):
    """An online order of the owner's by trade number: its state, and the payments it produced once paid."""

    @extend_schema(responses={200: OwnerOrderSerializer}, tags=TAGS)
    def get(self, request, out_trade_no):
        order = selectors.owner_order(self.account, out_trade_no)
        if order is None:
            raise Http404
        payments = [payment.pk for payment in selectors.owner_order_payments(order)]
        return Response(OwnerOrderSerializer({"out_trade_no": order.out_trade_no, "gateway": order.gateway,
                                              "status": order.status, "amount": order.amount,
                                              "payments": payments}).data)


class PaymentListView(OwnerView):
    queryset = Payment.objects.none()
    @extend_schema(responses={200: OwnerPaymentSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        page = self.paginate_queryset(selectors.owner_payments(self.account))
        for payment in page:
            payment.status = selectors.owner_payment_status(payment)
            payment.receipt_pdf = reverse("portal-api:receipt-pdf", args=[payment.pk])
        return self.get_paginated_response(OwnerPaymentSerializer(page, many=True).data)


class ReceiptPdfView(OwnerView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY}, tags=TAGS)
    def get(self, request, pk):
        payment = get_object_or_404(selectors.owner_payments(self.account), pk=pk)
        response = HttpResponse(selectors.owner_receipt_pdf(payment), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=False, filename=_("收据-%(number)s.pdf") % {"number": payment.receipt_number})
        return response


class MessageListView(OwnerView):
    queryset = Message.objects.none()
    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="只看未读")],
                   responses={200: OwnerMessageSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        messages = selectors.owner_messages(self.account)
        if request.query_params.get("unread") in ("1", "true", "True"):
            messages = messages.filter(read_at__isnull=True)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(OwnerMessageSerializer(page, many=True).data)


class UnreadCountView(OwnerView):
    @extend_schema(responses={200: OwnerUnreadCountSerializer}, tags=TAGS)
    def get(self, request):
        return Response({"unread": selectors.owner_unread_count(self.account)})


class MarkReadView(OwnerView):
    @extend_schema(request=OwnerMarkReadSerializer, responses={200: OwnerMarkedSerializer}, tags=TAGS)
    def post(self, request):
        serializer = OwnerMarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.owner_messages_mark_read(self.account, serializer.validated_data.get("ids"))
        return Response({"marked": marked})

