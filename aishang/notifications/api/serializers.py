from rest_framework import serializers

from ..models import Message
from ..selectors import message_address_display


class MessageSerializer(serializers.ModelSerializer):
    # Plain text in the schema: an enum named "status" would collide with other apps' status enums.
    channel = serializers.CharField(read_only=True,
                                    help_text="in_app 站内信、sms 短信、wechat 微信订阅消息、email 邮件")
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="pending 待发送、sending 发送中、sent 已发送、failed 失败、cancelled 已取消")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    address = serializers.SerializerMethodField(help_text="手机号（无明文权限时脱敏）、openid 或邮箱")

    class Meta:
        model = Message
        fields = ["id", "company", "project", "channel", "channel_display", "recipient_customer", "recipient_user",
                  "recipient_name", "address", "template_code", "title", "body", "dedupe_key", "status",
                  "status_display", "attempts", "next_attempt_at", "sent_at", "provider", "provider_message_id",
                  "last_error", "read_at", "created_at"]
        read_only_fields = fields

    def get_address(self, message) -> str:
        return message_address_display(message, self.context["request"].user)
