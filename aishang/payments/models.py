"""Online payment orders (线上支付订单), the gateway accounts they are paid through, the callbacks received and the
refunds sent; and the sandbox gateway's own records (a stand-in for WeChat Pay and Alipay in the demo and tests)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aishang.core.models import ScopedModel
from aishang.extras.features import ChangeLoggedModel

from .alipay import PRODUCTION_ENDPOINT as ALIPAY_ENDPOINT
from .alipay import AlipayAccount
from .choices import (
    Gateway,
    NotificationKind,
    NotificationOutcome,
    OrderLineKind,
    OrderStatus,
    RefundKind,
    RefundStatus,
    SandboxTradeStatus,
    SurplusPolicy,
)
from .wechatpay import PRODUCTION_ENDPOINT as WECHAT_ENDPOINT
from .wechatpay import WechatPayAccount

MONEY = {"max_digits": 14, "decimal_places": 2}
TRADE_NUMBER = re.compile(r"^[A-Za-z0-9_\-*]{6,32}$")
trade_number_validator = RegexValidator(TRADE_NUMBER, _("订单号须为 6–32 位字母、数字或 _-*"))


def masked(secret):
    secret = (secret or "").strip()
    if not secret:
        return ""
    return f"{secret[:4]}****{secret[-4:]}" if len(secret) > 16 else "****"


class GatewayConfig(ChangeLoggedModel, ScopedModel):
    """A company's merchant account at a gateway. Keys are write-only on every page and API: shown masked."""

    scope_company_path = "company"
    change_log_exclude = ("created_at", "updated_at", "private_key", "apiv3_key")
    secret_fields = ("private_key", "apiv3_key")

    company = models.ForeignKey(
        "estate.Company", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="gateway_configs"
    )
    gateway = models.CharField(_("支付渠道"), max_length=20, choices=Gateway.choices)
    app_id = models.CharField(_("AppID"), max_length=40, help_text=_("微信：小程序 AppID；支付宝：应用 APPID"))
    merchant_id = models.CharField(
        _("商户号"),
        max_length=40,
        blank=True,
        help_text=_("微信：商户号 mchid（必填）；支付宝：卖家 seller_id（选填）"),
    )
    merchant_serial_no = models.CharField(_("商户证书序列号"), max_length=64, blank=True, help_text=_("仅微信支付"))
    private_key = models.TextField(_("商户私钥"), help_text=_("微信：商户 API 私钥；支付宝：应用私钥（PEM）"))
    apiv3_key = models.CharField(_("APIv3 密钥"), max_length=32, blank=True, help_text=_("仅微信支付，32 位"))
    platform_public_key = models.TextField(
        _("平台公钥或证书"), help_text=_("微信：微信支付平台证书或公钥；支付宝：支付宝公钥（PEM）")
    )
    platform_serial = models.CharField(
        _("平台证书序列号或公钥 ID"), max_length=64, blank=True, help_text=_("仅微信支付")
    )
    # Set by operators for the sandbox or a private gateway; the production addresses otherwise.
    endpoint = models.URLField(_("接口地址"), blank=True)
    is_sandbox = models.BooleanField(_("沙箱"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("支付渠道配置")
        ordering = ["company", "gateway"]
        constraints = [models.UniqueConstraint(fields=["company", "gateway"], name="gateway_config_one_per_company")]

    def __str__(self):
        return f"{self.company} {self.get_gateway_display()}"

    def get_scope_ids(self):
        return self.company_id, None

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("payments:settings")

    def clean(self):
        errors = {}
        if self.gateway == Gateway.WECHAT:
            for name in ("merchant_id", "merchant_serial_no", "apiv3_key"):
                if not getattr(self, name):
                    errors[name] = _("微信支付须填写此项")
            if self.apiv3_key and len(self.apiv3_key) != 32:
                errors["apiv3_key"] = _("APIv3 密钥须为 32 位")
        from .crypto import GatewayError, load_private_key, load_public_key

        try:
            load_private_key(self.private_key)
        except GatewayError as exc:
            errors["private_key"] = str(exc)
        try:
            load_public_key(self.platform_public_key)
        except GatewayError as exc:
            errors["platform_public_key"] = str(exc)
        if errors:
            raise ValidationError(errors)

    @property
    def masked_private_key(self):
        return masked("".join(line for line in self.private_key.splitlines() if "-----" not in line))

    @property
    def masked_apiv3_key(self):
        return masked(self.apiv3_key)

    def wechat_account(self):
        return WechatPayAccount(
            appid=self.app_id,
            mchid=self.merchant_id,
            serial_no=self.merchant_serial_no,
            private_key=self.private_key,
            apiv3_key=self.apiv3_key,
            platform_public_key=self.platform_public_key,
            platform_serial=self.platform_serial,
            endpoint=self.endpoint or WECHAT_ENDPOINT,
        )

    def alipay_account(self):
        return AlipayAccount(
            app_id=self.app_id,
            private_key=self.private_key,
            alipay_public_key=self.platform_public_key,
            seller_id=self.merchant_id,
            endpoint=self.endpoint or ALIPAY_ENDPOINT,
        )


class PaymentSettings(ChangeLoggedModel, ScopedModel):
    """How a company handles online payments: where money paid for bills settled meanwhile goes, and timings."""

    scope_company_path = "company"

    company = models.OneToOneField(
        "estate.Company", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="payment_settings"
    )
    surplus_policy = models.CharField(
        _("账单已在柜台结清时，线上多付的款项"),
        max_length=20,
        choices=SurplusPolicy.choices,
        default=SurplusPolicy.PREPAID,
    )
    collect_late_fees = models.BooleanField(
        _("线上缴费同时收取滞纳金"),
        default=True,
        help_text=_("逾期账单在线缴费时，按下单当日计算的滞纳金与账单一并收取（与收银台「同时收取滞纳金」相同）"),
    )
    order_expire_minutes = models.PositiveIntegerField(_("订单有效期（分钟）"), default=30)
    query_after_minutes = models.PositiveIntegerField(_("未收到通知几分钟后主动查单"), default=5)

    class Meta:
        verbose_name = verbose_name_plural = _("线上支付设置")

    def __str__(self):
        return str(self.company)

    def get_scope_ids(self):
        return self.company_id, None


class PaymentOrder(ScopedModel):
    """线上支付订单: what an owner pays online, computed by the server from the bills' outstanding amounts.

    The status only moves forward: 待支付 → 已支付 (a verified callback or query books the payments) or 已关闭.
    """

    scope_project_path = "project"

    company = models.ForeignKey("estate.Company", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(
        "estate.Project", verbose_name=_("项目"), on_delete=models.PROTECT, related_name="payment_orders"
    )
    unit = models.ForeignKey(
        "estate.Unit",
        verbose_name=_("房屋"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_orders",
        help_text=_("订单涉及多个房屋时为空"),
    )
    payer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("缴费人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_orders",
    )
    out_trade_no = models.CharField(_("订单号"), max_length=32, unique=True, validators=[trade_number_validator])
    gateway = models.CharField(_("支付渠道"), max_length=20, choices=Gateway.choices)
    config = models.ForeignKey(
        GatewayConfig, verbose_name=_("支付渠道配置"), on_delete=models.PROTECT, related_name="orders"
    )
    amount = models.DecimalField(_("订单金额"), **MONEY)
    description = models.CharField(_("商品描述"), max_length=120)
    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    created_by_label = models.CharField(_("下单人"), max_length=60, help_text=_("线上订单没有收银员：记下单的业主"))
    openid = models.CharField(_("付款人 openid"), max_length=64, blank=True)
    prepay_id = models.CharField(_("预支付标识"), max_length=64, blank=True)
    transaction_id = models.CharField(_("渠道交易号"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("失效时间"))
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    close_reason = models.CharField(_("关闭原因"), max_length=100, blank=True)
    last_queried_at = models.DateTimeField(_("最后查单时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("线上支付订单")
        ordering = ["-created_at", "-id"]
        permissions = [("query_paymentorder", _("向支付渠道查询订单")), ("export_paymentorder", _("导出线上支付订单"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_order_amount_positive"),
            models.UniqueConstraint(
                fields=["gateway", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="payment_order_unique_transaction",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_order_status_created")]

    def __str__(self):
        return self.out_trade_no

    def get_scope_ids(self):
        return self.company_id, self.project_id

    @property
    def payment_method(self):
        return self.gateway  # billing.PaymentMethod has the same values for 微信 and 支付宝

    @property
    def is_expired(self):
        return timezone.now() >= self.expires_at


class PaymentOrderLine(models.Model):
    """One bill an order pays (its amount as computed when the order was made), or a prepaid top-up of a unit."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(_("类型"), max_length=20, choices=OrderLineKind.choices, default=OrderLineKind.BILL)
    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "estate.Unit", verbose_name=_("房屋"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bill = models.ForeignKey(
        "billing.Bill",
        verbose_name=_("账单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_order_lines",
    )
    amount = models.DecimalField(_("金额"), **MONEY)
    late_fee = models.DecimalField(_("滞纳金"), **MONEY, default=0, help_text=_("下单当日计算，随账单一并收取"))

    class Meta:
        verbose_name = verbose_name_plural = _("订单明细")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_order_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(late_fee__gte=0) & (Q(kind="bill") | Q(late_fee=0)),
                name="payment_order_line_late_fee_of_a_bill",
            ),
            models.CheckConstraint(
                condition=Q(kind="bill", bill__isnull=False) | Q(kind="top_up", bill__isnull=True, unit__isnull=False),
                name="payment_order_line_kind_matches",
            ),
        ]

    def __str__(self):
        return f"{self.order} {self.bill or self.get_kind_display()} {self.amount}"


class PaymentOrderSettlement(models.Model):
    """A desk-equivalent payment (收款, receipt and journal entry) that a paid order produced: one per unit."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="settlements")
    payment = models.OneToOneField("billing.Payment", on_delete=models.PROTECT, related_name="online_settlement")

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return f"{self.order} {self.payment}"


class GatewayNotification(models.Model):
    """A callback as received, whether it verified, and what it did: the record a dispute starts from."""

    company = models.ForeignKey("estate.Company", null=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    gateway = models.CharField(_("支付渠道"), max_length=20, choices=Gateway.choices)
    kind = models.CharField(
        _("类型"), max_length=20, choices=NotificationKind.choices, default=NotificationKind.PAYMENT
    )
    out_trade_no = models.CharField(_("订单号"), max_length=64, blank=True)
    headers = models.JSONField(_("签名头"), default=dict, blank=True)
    body = models.TextField(_("报文"))
    verified = models.BooleanField(_("验签通过"), default=False)
    outcome = models.CharField(_("处理结果"), max_length=20, choices=NotificationOutcome.choices)
    message = models.CharField(_("说明"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("收到时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("支付通知")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.get_gateway_display()} {self.out_trade_no} {self.get_outcome_display()}"


class GatewayRefund(ScopedModel):
    """Money sent back through the gateway: an approved refund of an online payment, money paid for bills that were
    settled meanwhile (when the company refunds it), or a payment that arrived after its order was closed."""

    scope_project_path = "order__project"

    order = models.ForeignKey(PaymentOrder, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        "billing.Payment",
        verbose_name=_("收款"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gateway_refunds",
    )
    reversal = models.ForeignKey(
        "billing.PaymentReversal",
        verbose_name=_("收款冲回"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gateway_refunds",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=RefundKind.choices)
    out_refund_no = models.CharField(_("退款单号"), max_length=64, unique=True, validators=[trade_number_validator])
    amount = models.DecimalField(_("退款金额"), **MONEY)
    reason = models.CharField(_("退款原因"), max_length=80)
    status = models.CharField(_("状态"), max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    refund_id = models.CharField(_("渠道退款单号"), max_length=64, blank=True)
    message = models.CharField(_("说明"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("发起次数"), default=0)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("渠道退款")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="gateway_refund_amount_positive")]

    def __str__(self):
        return f"{self.out_refund_no} {self.amount}"

    def get_scope_ids(self):
        return self.order.company_id, self.order.project_id


# The sandbox gateway: what WeChat Pay or Alipay would hold about a merchant and its trades.


class SandboxAccount(models.Model):
    """A merchant as the sandbox knows it: the merchant's public key to check requests, the platform's private key
    to sign answers and callbacks, and (WeChat) the APIv3 key callbacks are sealed with."""

    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    merchant_id = models.CharField(max_length=40, help_text="WeChat mchid, Alipay app_id")
    app_id = models.CharField(max_length=40)
    merchant_serial_no = models.CharField(max_length=64, blank=True)
    merchant_public_key = models.TextField()
    platform_private_key = models.TextField()
    platform_serial = models.CharField(max_length=64, blank=True)
    apiv3_key = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "merchant_id"], name="sandbox_account_unique")]

    def __str__(self):
        return f"{self.gateway} {self.merchant_id}"


class SandboxTrade(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="trades")
    out_trade_no = models.CharField(max_length=64)
    token = models.CharField(max_length=64, unique=True, help_text="prepay_id or the cashier page's key")
    transaction_id = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(**MONEY)
    description = models.CharField(max_length=256)
    notify_url = models.URLField(max_length=500)
    return_url = models.URLField(max_length=500, blank=True)
    payer = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=SandboxTradeStatus.choices, default=SandboxTradeStatus.NOTPAY)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "out_trade_no"], name="sandbox_trade_unique")]

    def __str__(self):
        return self.out_trade_no


class SandboxRefund(models.Model):
    trade = models.ForeignKey(SandboxTrade, on_delete=models.CASCADE, related_name="refunds")
    out_refund_no = models.CharField(max_length=64)
    refund_id = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(**MONEY)
    notify_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trade", "out_refund_no"], name="sandbox_refund_unique")]

    def __str__(self):
        return self.out_refund_no


class SandboxDelivery(models.Model):
    """A callback the sandbox owes a merchant: sent, retried while the answer is not success, kept with each try."""

    trade = models.ForeignKey(SandboxTrade, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    url = models.URLField(max_length=500)
    body = models.TextField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_answer = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.trade} {self.event}"
