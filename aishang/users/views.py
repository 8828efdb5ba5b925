from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from aishang.core.forms import style_widgets

from .forms import LoginForm

LOCKED_MESSAGE = "登录失败次数过多，账号已临时锁定，请 30 分钟后再试"


def lockout_response(request, credentials, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_MESSAGE}, status=403)
    return render(request, "users/login.html", {"form": LoginForm(request), "locked_message": LOCKED_MESSAGE},
                  status=403)


class LoginView(auth_views.LoginView):
    template_name = "users/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "users/password_change.html"
    success_url = reverse_lazy("core:home")

    def get_form(self, form_class=None):
        form = super().get_form(form_class or PasswordChangeForm)
        style_widgets(form)
        return form

    def form_valid(self, form):
        from django.contrib import messages

        messages.success(self.request, "密码已修改")
        return super().form_valid(form)
