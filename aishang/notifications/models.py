from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aishang.core.models import TimeStampedModel
from aishang.core.querysets import RestrictedQuerySet
from aishang.extras.features import ChangeLoggedModel

from .choices import Channel, MessageStatus, SmsProviderKind
from .rendering import placeholders, unknown_placeholders


class MessageQuerySet(RestrictedQuerySet):
    def within_scope(self, user):
        if user.is_superuser:
            return self
        if not user.company_id:
            return self.none()
        company = self.filter(company_id=user.company_id)
        if user.scope_all_projects:
            return company
        # Company-wide messages (no project) belong to whoever runs the whole company.
        return company.filter(project_id__in=user.permitted_project_ids())

    def inbox(self, user):
        """The in-app messages addressed to a staff user, whatever their roles."""
        return self.filter(channel=Channel.IN_APP, recipient_user=user).exclude(status=MessageStatus.CANCELLED)

    def due(self, now):
        return self.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)


class Message(models.Model):
    """One message to one recipient through one channel: the outbox row and its delivery record.

    ``dedupe_key`` names the business event ("bill-posted:<bill id>:sms"), so however often a
    caller or a retried task asks, the message exists once and is sent at most once.
    """

    company = models.ForeignKey("estate.Company", verbose_name=_("企业"), on_delete=models.PROTECT,
                                related_name="messages")
    project = models.ForeignKey("estate.Project", verbose_name=_("项目"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    recipient_customer = models.ForeignKey("customers.Customer", verbose_name=_("客户"), null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="messages")
    recipient_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("员工"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="messages")
    recipient_name = models.CharField(_("收件人"), max_length=100, blank=True)
    address = models.CharField(_("发送地址"), max_length=254, blank=True,
                               help_text=_("手机号、微信 openid 或邮箱；站内信为空"))
    template_code = models.CharField(_("模板编码"), max_length=50)
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"), blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)
    status = models.CharField(_("状态"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider = models.CharField(_("发送通道"), max_length=40, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=100, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = pgettext_lazy("plural", "消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_due"),
            models.Index(fields=["recipient_user", "channel", "read_at"], name="message_inbox"),
            models.Index(fields=["company", "-created_at"], name="message_company_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(recipient_customer__isnull=True) | Q(recipient_user__isnull=True),
                                   name="message_one_recipient"),
        ]

    def __str__(self):
        return self.title or self.template_code

    def get_absolute_url(self):
        return reverse("notifications:message_detail", kwargs={"pk": self.pk})

    def get_scope_ids(self):
        return self.company_id, self.project_id

    @property
    def recipient(self):
        return self.recipient_customer or self.recipient_user

    @property
    def is_read(self):
        return self.read_at is not None


class MessageTemplate(ChangeLoggedModel, TimeStampedModel):
    """What a company says for an event (bill_posted, bill_due ...), in its own words.

    Placeholders are ``{name}`` looked up in the message's parameters, never evaluated, so a
    template written by a company can show data but cannot run anything.
    """

    scope_company_path = "company"

    company = models.ForeignKey("estate.Company", verbose_name=_("企业"), on_delete=models.CASCADE,
                                related_name="message_templates")
    code = models.SlugField(_("模板编码"), max_length=50)
    name = models.CharField(_("模板名称"), max_length=50)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), help_text=_("用 {变量名} 插入数据，如 {customer}、{amount}"))
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用后不再发送该类消息"))
    sms_template_code = models.CharField(_("短信模板编号"), max_length=50, blank=True,
                                         help_text=_("在短信服务商处审核通过的模板编号，如 SMS_123456789"))
    sms_sign_name = models.CharField(_("短信签名"), max_length=30, blank=True,
                                     help_text=_("留空则使用短信服务配置中的签名"))
    wechat_template_id = models.CharField(_("微信订阅消息模板 ID"), max_length=100, blank=True)
    wechat_fields = models.JSONField(_("微信模板字段"), default=dict, blank=True,
                                     help_text=_("微信模板字段与变量的对应，如 {\"thing1\": \"{project}\"}"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = pgettext_lazy("plural", "消息模板")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="message_template_unique_code")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("notifications:messagetemplate_edit", kwargs={"pk": self.pk})

    def get_scope_ids(self):
        return self.company_id, None

    def clean(self):
        errors = {}
        for name in ("title", "body"):
            unknown = unknown_placeholders(self.code, getattr(self, name) or "")
            if unknown:
                errors[name] = gettext("未知的变量：%(names)s") % {"names": "、".join(f"{{{n}}}" for n in unknown)}
        fields = self.wechat_fields
        if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in fields.items()):
            errors["wechat_fields"] = gettext("应为“字段名: 文字”的对应表")
        else:
            unknown = sorted({n for v in fields.values() for n in unknown_placeholders(self.code, v)})
            if unknown:
                errors["wechat_fields"] = gettext("未知的变量：%(names)s") % {
                    "names": "、".join(f"{{{n}}}" for n in unknown)}
        if errors:
            raise ValidationError(errors)

    def used_placeholders(self):
        return placeholders(f"{self.title}\n{self.body}")


class SmsProviderConfig(ChangeLoggedModel, TimeStampedModel):
    """A company's account at its SMS provider. The secret is write-only in every page and API."""

    scope_company_path = "company"
    change_log_exclude = ("created_at", "updated_at", "access_key_secret")

    company = models.OneToOneField("estate.Company", verbose_name=_("企业"), on_delete=models.CASCADE,
                                   related_name="sms_provider_config")
    kind = models.CharField(_("服务商"), max_length=20, choices=SmsProviderKind.choices,
                            default=SmsProviderKind.ALIYUN)
    access_key_id = models.CharField(_("AccessKey ID"), max_length=100)
    access_key_secret = models.CharField(_("AccessKey Secret"), max_length=200)
    sign_name = models.CharField(_("短信签名"), max_length=30, help_text=_("服务商审核通过的签名，如 爱尚物业"))
    region = models.CharField(_("地域"), max_length=40, blank=True,
                              help_text=_("留空为默认地域：阿里云 cn-hangzhou，腾讯云 ap-guangzhou"))
    app_id = models.CharField(_("应用 ID"), max_length=40, blank=True, help_text=_("腾讯云短信 SdkAppId"))
    # Set by operators for a private gateway or a test stand-in; not editable in the back office.
    endpoint = models.URLField(_("接口地址"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = _("短信服务配置")

    def __str__(self):
        return f"{self.company} {self.get_kind_display()}"

    def get_scope_ids(self):
        return self.company_id, None

    @property
    def masked_secret(self):
        secret = self.access_key_secret or ""
        return f"{secret[:3]}****{secret[-2:]}" if len(secret) > 8 else "****"


class WechatAppConfig(ChangeLoggedModel, TimeStampedModel):
    """The company's WeChat mini program that owners subscribe to messages through."""

    scope_company_path = "company"
    change_log_exclude = ("created_at", "updated_at", "app_secret")

    company = models.OneToOneField("estate.Company", verbose_name=_("企业"), on_delete=models.CASCADE,
                                   related_name="wechat_app_config")
    app_id = models.CharField(_("小程序 AppID"), max_length=40)
    app_secret = models.CharField(_("小程序 AppSecret"), max_length=100)
    page = models.CharField(_("点击消息打开的页面"), max_length=200, blank=True)
    endpoint = models.URLField(_("接口地址"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = _("微信小程序配置")

    def __str__(self):
        return f"{self.company} {self.app_id}"

    def get_scope_ids(self):
        return self.company_id, None
