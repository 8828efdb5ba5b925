from django.shortcuts import render


def lockout_response(request, credentials, *args, **kwargs):
    from django.http import JsonResponse

    message = "登录失败次数过多，账号已临时锁定，请 30 分钟后再试"
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    return render(request, "users/login.html", {"locked_message": message}, status=403)
