"""The gateways' callback endpoints: public (the gateway has no session), CSRF-exempt, verified by signature."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .callbacks import alipay_notification_receive, wechat_notification_receive


@csrf_exempt
@require_POST
def wechat_notify(request, config_id):
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return JsonResponse({"code": "FAIL", "message": "body is not UTF-8"}, status=400)
    status, answer = wechat_notification_receive(config_id, request.headers, body)
    if answer is None:
        return HttpResponse(status=status)
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def alipay_notify(request, config_id):
    return HttpResponse(alipay_notification_receive(config_id, request.POST.dict()), content_type="text/plain")
