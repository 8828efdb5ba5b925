from django.db import models
from django.utils.translation import gettext_lazy as _


class Gateway(models.TextChoices):
    WECHAT = "wechat", _("微信支付")
    ALIPAY = "alipay", _("支付宝")


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("待支付")
    PAID = "paid", _("已支付")
    CLOSED = "closed", _("已关闭")


class OrderLineKind(models.TextChoices):
    BILL = "bill", _("账单")
    TOP_UP = "top_up", _("预存充值")


class SurplusPolicy(models.TextChoices):
    PREPAID = "prepaid", _("转入房屋预存")
    REFUND = "refund", _("原路退回")


class RefundKind(models.TextChoices):
    SURPLUS = "surplus", _("多付退回")
    PAYMENT = "payment", _("收款退款")
    CLOSED_ORDER = "closed_order", _("关闭后支付退回")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("待发起")
    PROCESSING = "processing", _("退款中")
    SUCCESS = "success", _("退款成功")
    FAILED = "failed", _("退款失败")


class NotificationKind(models.TextChoices):
    PAYMENT = "payment", _("支付通知")
    REFUND = "refund", _("退款通知")


class NotificationOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("已入账")
    DUPLICATE = "duplicate", _("重复通知")
    REFUNDED = "refunded", _("已原路退回")
    IGNORED = "ignored", _("无需处理")
    REFUSED = "refused", _("已拒绝")


class SandboxTradeStatus(models.TextChoices):
    NOTPAY = "NOTPAY", _("未支付")
    SUCCESS = "SUCCESS", _("支付成功")
    CLOSED = "CLOSED", _("已关闭")
