from .choices import Channel
from .models import Message, MessageTemplate
from .rendering import TEMPLATE_KINDS


def inbox_for(user):
    return Message.objects.inbox(user).select_related("project").order_by("-created_at", "-id")


def unread_count(user):
    if not user.is_authenticated:
        return 0
    return Message.objects.inbox(user).filter(read_at__isnull=True).count()


def templates_overview(user):
    """[(kind, company template or None)] for every kind of message, in the company of the user."""
    own = {t.code: t for t in MessageTemplate.objects.restrict(user, "view").filter(company_id=user.company_id)}
    return [(kind, own.get(code)) for code, kind in TEMPLATE_KINDS.items()]


def message_address_display(message, viewer):
    from aishang.core.masking import mask_phone

    if message.channel == Channel.SMS and not viewer.has_perm("customers.view_customer_pii"):
        return mask_phone(message.address)
    return message.address
