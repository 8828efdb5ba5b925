from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """Model and service validation errors answer 400 with field messages, never 500."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        names = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects if hasattr(obj, "_meta")}
                       if hasattr(exc, "protected_objects") else [])
        return Response({"detail": f"该记录仍被其他数据引用（{'、'.join(names)}），不能删除"},
                        status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
