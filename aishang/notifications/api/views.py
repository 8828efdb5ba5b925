from aishang.core.api.views import ReadOnlyScopedModelViewSet

from ..models import Message
from . import serializers


class MessageViewSet(ReadOnlyScopedModelViewSet):
    """消息记录: the notifications outbox of the caller's company and projects, read-only."""

    queryset = Message.objects.all()
    serializer_class = serializers.MessageSerializer
    filterset_fields = ("channel", "status", "project", "template_code", "recipient_customer", "recipient_user")
    search_fields = ("recipient_name", "title", "dedupe_key")
    ordering_fields = ("id", "created_at", "sent_at", "next_attempt_at")
