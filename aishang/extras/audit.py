from django.contrib.contenttypes.models import ContentType

from aishang.core.context import current_context

from .models import AuditEvent


def audit_record(*, kind, user, model=None, object_ids=(), company_id=None, detail=None):
    context = current_context()
    return AuditEvent.objects.create(
        kind=kind,
        user=user if getattr(user, "pk", None) else None,
        user_name=user.get_username() if getattr(user, "pk", None) else "系统",
        request_id=context.request_id,
        remote_addr=context.remote_addr,
        company_id=company_id if company_id is not None else getattr(user, "company_id", None),
        object_type=ContentType.objects.get_for_model(model) if model is not None else None,
        object_ids=list(object_ids),
        detail=detail or {},
    )
