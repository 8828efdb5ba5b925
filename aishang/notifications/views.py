from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.http import require_POST

from aishang.core.generic_views import Column, ObjectListView, ScopedObjectMixin, choice_display
from aishang.core.templatetags.aishang import datetime_cn

from . import selectors, services
from .choices import MessageStatus
from .filters import MessageFilter
from .forms import MessageTemplateForm, SmsProviderConfigForm
from .models import Message, MessageTemplate, SmsProviderConfig
from .rendering import TEMPLATE_KINDS, render_text

STATUS_TONES = {MessageStatus.PENDING: "secondary", MessageStatus.SENDING: "info", MessageStatus.SENT: "success",
                MessageStatus.FAILED: "danger", MessageStatus.CANCELLED: "light"}


def _status_badge(obj, view):
    return format_html('<span class="badge text-bg-{}">{}</span>', STATUS_TONES.get(obj.status, "secondary"),
                       obj.get_status_display())


def _title_link(obj, view):
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.title or obj.template_code)


class MessageListView(ObjectListView):
    model = Message
    title = _("消息记录")
    filterset_class = MessageFilter
    search_fields = ("recipient_name__icontains", "address__icontains", "title__icontains")
    search_placeholder = _("收件人、手机号或标题")
    select_related = ("project",)
    ordering = ("-created_at", "-id")
    columns = [
        Column("created_at", _("创建时间"), display=lambda obj, view: datetime_cn(obj.created_at),
               order_by="created_at"),
        Column("channel", _("渠道"), display=choice_display("channel"), order_by="channel"),
        Column("recipient_name", _("收件人"), order_by="recipient_name"),
        Column("address", _("发送地址"),
               display=lambda obj, view: selectors.message_address_display(obj, view.request.user)),
        Column("title", _("标题"), display=_title_link, export_value=lambda obj, view: obj.title),
        Column("project", _("项目")),
        Column("status", _("状态"), display=_status_badge, export_value=lambda obj, view: obj.get_status_display(),
               order_by="status"),
        Column("attempts", _("发送次数"), numeric=True),
        Column("sent_at", _("发送时间"), display=lambda obj, view: datetime_cn(obj.sent_at), order_by="sent_at"),
        Column("last_error", _("最近错误")),
    ]


class MessageDetailView(ScopedObjectMixin, View):
    model = Message
    select_related = ("project", "recipient_customer", "recipient_user", "created_by")

    def get(self, request, pk):
        message = self.get_object()
        return TemplateResponse(request, "notifications/message_detail.html", {
            "message": message, "title": message.title or message.template_code,
            "address": selectors.message_address_display(message, request.user),
            "tone": STATUS_TONES.get(message.status, "secondary"),
            "can_change": request.user.has_perm("notifications.change_message"),
        })

    def post(self, request, pk):
        message = self.get_object("change")
        action = {"resend": services.message_resend, "cancel": services.message_cancel}.get(request.POST.get("action"))
        if action is None:
            raise PermissionDenied
        try:
            action(message=message, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, gettext("已提交"))
        return redirect(message.get_absolute_url())


# -- inbox -----------------------------------------------------------------------------------------

@login_required
def inbox(request):
    page = Paginator(selectors.inbox_for(request.user), 20).get_page(request.GET.get("page"))
    return TemplateResponse(request, "notifications/inbox.html", {
        "title": gettext("站内信"), "page": page, "unread": selectors.unread_count(request.user)})


@login_required
def inbox_message(request, pk):
    message = get_object_or_404(selectors.inbox_for(request.user), pk=pk)
    if message.read_at is None:
        services.inbox_mark_read(user=request.user, message_ids=[message.pk])
        message.refresh_from_db()
    return TemplateResponse(request, "notifications/inbox_message.html", {"title": message.title, "message": message,
                                                                         "link": _message_link(message)})


def _message_link(message):
    """The page a message is about ("link" in its parameters), when it is a path on this site."""
    link = message.params.get("link") if isinstance(message.params, dict) else None
    if isinstance(link, str) and link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts=None):
        return link
    return None


@login_required
@require_POST
def inbox_mark_all_read(request):
    count = services.inbox_mark_read(user=request.user)
    messages.success(request, gettext("已将 %(count)s 条消息标为已读") % {"count": count})
    return redirect("notifications:inbox")


@login_required
def inbox_badge(request):
    """The unread count, for an htmx badge in the top bar."""
    return TemplateResponse(request, "notifications/_inbox_badge.html",
                            {"unread": selectors.unread_count(request.user)})


# -- templates -------------------------------------------------------------------------------------

def _require(user, permission):
    if not user.has_perm(permission):
        raise PermissionDenied(gettext("没有权限"))


@login_required
def template_list(request):
    _require(request.user, "notifications.view_messagetemplate")
    return TemplateResponse(request, "notifications/template_list.html", {
        "title": gettext("消息模板"), "rows": selectors.templates_overview(request.user),
        "can_edit": request.user.has_perm("notifications.change_messagetemplate")
        and request.user.has_perm("notifications.add_messagetemplate")})


class MessageTemplateEditView(ScopedObjectMixin, View):
    """Edit the company's wording of one kind of message; the first save copies the product's default."""

    model = MessageTemplate

    def get_instance(self):
        user = self.request.user
        if "pk" in self.kwargs:
            return self.get_object("change")
        code = self.kwargs["code"]
        kind = TEMPLATE_KINDS.get(code)
        if kind is None or not user.company_id or not user.has_perm("notifications.add_messagetemplate"):
            raise Http404
        existing = MessageTemplate.objects.restrict(user, "change").filter(company_id=user.company_id,
                                                                           code=code).first()
        return existing or MessageTemplate(company_id=user.company_id, code=code, name=str(kind.name),
                                           title=kind.title, body=kind.body)

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        return self.render(MessageTemplateForm(instance=instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = MessageTemplateForm(data=request.POST, instance=instance)
        if form.is_valid():
            try:
                services.message_template_save(template=form.save(commit=False), actor=request.user)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, gettext("消息模板「%(name)s」已保存") % {"name": instance.name})
                return redirect("notifications:messagetemplate_list")
        return self.render(form, instance, status=400)

    def render(self, form, instance, status=200):
        kind = TEMPLATE_KINDS.get(instance.code)
        return TemplateResponse(self.request, "notifications/template_form.html", {
            "form": form, "object": instance, "kind": kind,
            "title": gettext("编辑消息模板：%(name)s") % {"name": instance.name},
            "preview": preview(instance.title, instance.body, kind)}, status=status)


def preview(title, body, kind):
    sample = kind.sample if kind else {}
    return {"title": render_text(title, sample), "body": render_text(body, sample)}


@login_required
@require_POST
def template_preview(request, code):
    """htmx: the title and body as a customer would read them, with sample data."""
    _require(request.user, "notifications.view_messagetemplate")
    kind = TEMPLATE_KINDS.get(code)
    if kind is None:
        raise Http404
    return TemplateResponse(request, "notifications/_template_preview.html", {
        "preview": preview(request.POST.get("title", ""), request.POST.get("body", ""), kind)})


# -- SMS account -----------------------------------------------------------------------------------

@login_required
def sms_config_edit(request):
    user = request.user
    _require(user, "notifications.change_smsproviderconfig")
    if not user.company_id:
        raise Http404
    instance = (SmsProviderConfig.objects.restrict(user, "change").filter(company_id=user.company_id).first()
                or SmsProviderConfig(company_id=user.company_id))
    form = SmsProviderConfigForm(data=request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.sms_config_save(config=form.save(commit=False), actor=user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, gettext("短信服务配置已保存"))
            return redirect(reverse("notifications:smsproviderconfig_edit"))
    return TemplateResponse(request, "notifications/sms_config_form.html", {
        "form": form, "object": instance, "title": gettext("短信服务配置")},
        status=400 if request.method == "POST" else 200)
