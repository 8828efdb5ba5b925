from django.utils.module_loading import import_string

from ..choices import SmsProviderKind
from . import DeliveryError

PROVIDERS = {
    SmsProviderKind.ALIYUN: "aishang.notifications.backends.aliyun.AliyunSms",
    SmsProviderKind.TENCENT: "aishang.notifications.backends.tencent.TencentSms",
}


class SmsProviderBackend:
    """Production SMS: each company sends through its own provider account (短信服务配置)."""

    name = "sms"

    def send(self, message):
        from ..models import MessageTemplate, SmsProviderConfig

        config = SmsProviderConfig.objects.filter(company_id=message.company_id, is_active=True).first()
        if config is None:
            raise DeliveryError("企业未配置短信服务", retryable=False, code="not_configured")
        template = MessageTemplate.objects.filter(company_id=message.company_id, code=message.template_code).first()
        if template is None or not template.sms_template_code:
            raise DeliveryError(f"消息模板「{message.template_code}」未填写短信模板编号", retryable=False,
                                code="no_template")
        if not message.address:
            raise DeliveryError("收件人没有手机号", retryable=False, code="no_address")
        provider = import_string(PROVIDERS[config.kind])()
        return provider.send(message, config, template, template.sms_sign_name or config.sign_name)
