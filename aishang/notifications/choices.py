from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("站内信")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信订阅消息")
    EMAIL = "email", _("邮件")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class SmsProviderKind(models.TextChoices):
    ALIYUN = "aliyun", _("阿里云短信")
    TENCENT = "tencent", _("腾讯云短信")
