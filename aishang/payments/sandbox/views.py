"""The sandbox gateway's HTTP face: WeChat Pay v3 under /sandbox/wechatpay/, Alipay at /sandbox/alipay/gateway.do,
and the cashier page where the payer confirms. Requests are checked as the real gateways check them."""

import json
import secrets
import time
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .. import alipay, wechatpay
from ..choices import Gateway, SandboxTradeStatus
from ..crypto import rsa_sign, rsa_verify
from ..gateways import from_fen
from ..models import TRADE_NUMBER, SandboxAccount, SandboxRefund, SandboxTrade
from .services import (
    alipay_trade_fields,
    cashier_url,
    delivery_start,
    new_id,
    payment_delivery_create,
    refund_delivery_create,
    wechat_signed_headers,
    wechat_transaction,
)


def _wechat_answer(account, status, payload=None):
    body = json.dumps(payload, ensure_ascii=False) if payload is not None else ""
    response = HttpResponse(body, status=status, content_type="application/json")
    if account is not None:
        for name, value in wechat_signed_headers(account, body).items():
            response[name] = value
    return response


def _wechat_error(status, code, message, account=None):
    return _wechat_answer(account, status, {"code": code, "message": message})


def _wechat_checked(request):
    """(account, body, None) for a request signed by a known merchant; (None, None, error answer) otherwise."""
    fields = wechatpay.parse_authorization(request.headers.get("Authorization", ""))
    if not fields:
        return None, None, _wechat_error(401, "SIGN_ERROR", "Authorization 缺失或格式错误")
    account = SandboxAccount.objects.filter(gateway=Gateway.WECHAT, merchant_id=fields.get("mchid", "")).first()
    if account is None:
        return None, None, _wechat_error(401, "SIGN_ERROR", "商户号不存在")
    if fields.get("serial_no") != account.merchant_serial_no:
        return None, None, _wechat_error(401, "SIGN_ERROR", "商户证书序列号不符")
    try:
        skew = abs(time.time() - int(fields.get("timestamp", "")))
    except ValueError:
        return None, None, _wechat_error(401, "SIGN_ERROR", "时间戳格式错误")
    if skew > wechatpay.MAX_CLOCK_SKEW:
        return None, None, _wechat_error(401, "SIGN_ERROR", "请求时间与服务器时间相差过大")
    body = request.body.decode("utf-8", errors="replace")
    message = wechatpay.request_message(
        request.method, request.get_full_path(), fields["timestamp"], fields.get("nonce_str", ""), body
    )
    if not rsa_verify(account.merchant_public_key, message, fields.get("signature", "")):
        return None, None, _wechat_error(401, "SIGN_ERROR", "签名错误")
    return account, body, None


def _trade_open(account, *, out_trade_no, amount, description, notify_url, payer, return_url=""):
    """(trade, error message): a new trade, or the same one again when asked twice with the same amount."""
    if not TRADE_NUMBER.match(out_trade_no or ""):
        return None, "out_trade_no 须为 6-32 位字母、数字或 _-*"
    if amount is None or amount <= 0:
        return None, "金额须大于 0"
    if not notify_url:
        return None, "notify_url 不能为空"
    existing = SandboxTrade.objects.filter(account=account, out_trade_no=out_trade_no).first()
    if existing is not None:
        if existing.amount != amount:
            return None, "订单号重复，金额与已有订单不一致"
        return existing, None
    prefix = "wx" if account.gateway == Gateway.WECHAT else ""
    token = prefix + timezone.localtime().strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)
    transaction_id = (
        new_id("42000")
        if account.gateway == Gateway.WECHAT
        else new_id(timezone.localtime().strftime("%Y%m%d") + "22", 28)
    )
    return SandboxTrade.objects.create(
        account=account,
        out_trade_no=out_trade_no,
        token=token,
        transaction_id=transaction_id,
        amount=amount,
        description=description[:256],
        notify_url=notify_url,
        payer=payer[:64],
        return_url=return_url[:500],
    ), None


@csrf_exempt
def wechat_jsapi(request):
    if request.method != "POST":
        raise Http404
    account, body, error = _wechat_checked(request)
    if error:
        return error
    try:
        data = json.loads(body)
        total = int(data["amount"]["total"])
        openid = data["payer"]["openid"]
    except (ValueError, KeyError, TypeError):
        return _wechat_error(400, "PARAM_ERROR", "请求参数格式错误", account)
    if data.get("mchid") != account.merchant_id or data.get("appid") != account.app_id:
        return _wechat_error(400, "APPID_MCHID_NOT_MATCH", "appid 和 mchid 不匹配", account)
    trade, message = _trade_open(
        account,
        out_trade_no=data.get("out_trade_no", ""),
        amount=from_fen(total),
        description=data.get("description", ""),
        notify_url=data.get("notify_url", ""),
        payer=openid,
    )
    if trade is None:
        return _wechat_error(400, "PARAM_ERROR", message, account)
    return _wechat_answer(account, 200, {"prepay_id": trade.token})


@csrf_exempt
def wechat_trade(request, out_trade_no, action=""):
    account, _, error = _wechat_checked(request)
    if error:
        return error
    trade = SandboxTrade.objects.filter(account=account, out_trade_no=out_trade_no).first()
    if trade is None:
        return _wechat_error(404, "ORDER_NOT_EXIST", "订单不存在", account)
    if action == "close" and request.method == "POST":
        if trade.status == SandboxTradeStatus.SUCCESS:
            return _wechat_error(400, "ORDERPAID", "订单已支付", account)
        SandboxTrade.objects.filter(pk=trade.pk).update(status=SandboxTradeStatus.CLOSED)
        return _wechat_answer(account, 204)
    if action or request.method != "GET":
        raise Http404
    return _wechat_answer(account, 200, wechat_transaction(trade))


def _wechat_refund_view(account, refund):
    trade = refund.trade
    return {
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": trade.transaction_id,
        "out_trade_no": trade.out_trade_no,
        "channel": "ORIGINAL",
        "status": "SUCCESS"
        if refund.trade.deliveries.filter(event="refund", delivered_at__isnull=False).exists()
        else "PROCESSING",
        "create_time": timezone.localtime(refund.created_at).isoformat(timespec="seconds"),
        "amount": {"refund": int(refund.amount * 100), "total": int(trade.amount * 100), "currency": "CNY"},
    }


@csrf_exempt
def wechat_refunds(request, out_refund_no=""):
    account, body, error = _wechat_checked(request)
    if error:
        return error
    if request.method == "GET" and out_refund_no:
        refund = SandboxRefund.objects.filter(trade__account=account, out_refund_no=out_refund_no).first()
        if refund is None:
            return _wechat_error(404, "RESOURCE_NOT_EXISTS", "退款单不存在", account)
        return _wechat_answer(account, 200, _wechat_refund_view(account, refund))
    if request.method != "POST" or out_refund_no:
        raise Http404
    try:
        data = json.loads(body)
        amount = from_fen(data["amount"]["refund"])
    except (ValueError, KeyError, TypeError):
        return _wechat_error(400, "PARAM_ERROR", "请求参数格式错误", account)
    refund, message = _refund_open(
        account,
        out_trade_no=data.get("out_trade_no", ""),
        out_refund_no=data.get("out_refund_no", ""),
        amount=amount,
        notify_url=data.get("notify_url", ""),
    )
    if refund is None:
        return _wechat_error(400, "INVALID_REQUEST", message, account)
    return _wechat_answer(account, 200, _wechat_refund_view(account, refund))


def _refund_open(account, *, out_trade_no, out_refund_no, amount, notify_url):
    if not TRADE_NUMBER.match(out_refund_no or ""):
        return None, "out_refund_no 格式错误"
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().filter(account=account, out_trade_no=out_trade_no).first()
        if trade is None or trade.status != SandboxTradeStatus.SUCCESS:
            return None, "订单不存在或未支付"
        existing = trade.refunds.filter(out_refund_no=out_refund_no).first()
        if existing is not None:
            return existing, None
        refunded = sum((r.amount for r in trade.refunds.all()), Decimal(0))
        if amount is None or amount <= 0 or refunded + amount > trade.amount:
            return None, "退款金额超过可退金额"
        refund = SandboxRefund.objects.create(
            trade=trade, out_refund_no=out_refund_no, amount=amount, refund_id=new_id("50300"), notify_url=notify_url
        )
        delivery_start(refund_delivery_create(refund))
    return refund, None


def _alipay_answer(account, method, payload):
    node = method.replace(".", "_") + "_response"
    inner = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    signature = rsa_sign(account.platform_private_key, inner) if account is not None else ""
    return HttpResponse(f'{{"{node}":{inner},"sign":"{signature}"}}', content_type="application/json;charset=utf-8")


def _alipay_failure(account, method, sub_code, sub_msg):
    return _alipay_answer(
        account, method, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}
    )


@csrf_exempt
def alipay_gateway(request):
    params = (request.GET if request.method == "GET" else request.POST).dict()
    method = params.get("method", "")
    account = SandboxAccount.objects.filter(gateway=Gateway.ALIPAY, merchant_id=params.get("app_id", "")).first()
    if account is None:
        return _alipay_answer(
            None,
            method,
            {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-app-id",
                "sub_msg": "无效的AppID参数",
            },
        )
    if params.get("sign_type") != "RSA2" or not alipay.verify_request(account.merchant_public_key, params):
        return _alipay_answer(
            account,
            method,
            {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"},
        )
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        return _alipay_failure(account, method, "ACQ.INVALID_PARAMETER", "biz_content 格式错误")
    if method in ("alipay.trade.wap.pay", "alipay.trade.create"):
        try:
            amount = Decimal(biz.get("total_amount", ""))
        except InvalidOperation:
            amount = None
        trade, message = _trade_open(
            account,
            out_trade_no=biz.get("out_trade_no", ""),
            amount=amount,
            description=biz.get("subject", ""),
            notify_url=params.get("notify_url", ""),
            payer=biz.get("buyer_id", ""),
            return_url=params.get("return_url", ""),
        )
        if trade is None:
            return _alipay_failure(account, method, "ACQ.INVALID_PARAMETER", message)
        if method == "alipay.trade.wap.pay":
            return HttpResponseRedirect(cashier_url(trade))
        return _alipay_answer(
            account,
            method,
            {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no, "trade_no": trade.token},
        )
    trade = SandboxTrade.objects.filter(account=account, out_trade_no=biz.get("out_trade_no", "")).first()
    if trade is None:
        return _alipay_failure(account, method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
    if method == "alipay.trade.query":
        fields = alipay_trade_fields(trade)
        answer = {
            "code": "10000",
            "msg": "Success",
            "trade_no": fields["trade_no"],
            "out_trade_no": trade.out_trade_no,
            "trade_status": fields["trade_status"],
            "total_amount": fields["total_amount"],
            "buyer_user_id": fields["buyer_id"],
        }
        if trade.paid_at:
            answer["send_pay_date"] = fields["gmt_payment"]
        return _alipay_answer(account, method, answer)
    if method == "alipay.trade.close":
        if trade.status == SandboxTradeStatus.SUCCESS:
            return _alipay_failure(account, method, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        SandboxTrade.objects.filter(pk=trade.pk).update(status=SandboxTradeStatus.CLOSED)
        return _alipay_answer(account, method, {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no})
    if method == "alipay.trade.refund":
        try:
            amount = Decimal(biz.get("refund_amount", ""))
        except InvalidOperation:
            amount = None
        refund, message = _refund_open(
            account,
            out_trade_no=trade.out_trade_no,
            out_refund_no=biz.get("out_request_no", ""),
            amount=amount,
            notify_url=trade.notify_url,
        )
        if refund is None:
            return _alipay_failure(account, method, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", message)
        return _alipay_answer(
            account,
            method,
            {
                "code": "10000",
                "msg": "Success",
                "trade_no": trade.transaction_id,
                "out_trade_no": trade.out_trade_no,
                "fund_change": "Y",
                "refund_fee": str(refund.amount),
            },
        )
    return _alipay_failure(account, method, "isv.invalid-method", "不存在的方法名")


def cashier(request, token):
    """The payer's confirmation: 确认支付 marks the trade paid and starts delivering the callback."""
    trade = get_object_or_404(SandboxTrade.objects.select_related("account"), token=token)
    outcome = ""
    if request.method == "POST":
        if request.POST.get("action") == "pay":
            with transaction.atomic():
                locked = SandboxTrade.objects.select_for_update().get(pk=trade.pk)
                if locked.status == SandboxTradeStatus.NOTPAY:
                    locked.status, locked.paid_at = SandboxTradeStatus.SUCCESS, timezone.now()
                    locked.save(update_fields=["status", "paid_at"])
                    delivery_start(payment_delivery_create(locked))
            trade.refresh_from_db()
            if trade.status == SandboxTradeStatus.SUCCESS and trade.return_url:
                return HttpResponseRedirect(trade.return_url)
            outcome = trade.get_status_display()
        else:
            outcome = "已取消支付"
    return TemplateResponse(request, "payments/sandbox_cashier.html", {"trade": trade, "outcome": outcome})
