from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("请求与数据的当前状态冲突")
    default_code = "conflict"


def api_errors(exc):
    """A Django ValidationError as API field errors: custom fields nested under ``custom_field_data``."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    errors = {}
    for key, messages in exc.message_dict.items():
        if key == NON_FIELD_ERRORS:
            errors.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).extend(messages)
        elif key.startswith("cf_"):
            errors.setdefault("custom_field_data", {})[key[3:]] = messages
        else:
            errors[key] = messages
    return errors


def exception_handler(exc, context):
    """Model and service validation errors answer 400 with field messages, never 500."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(api_errors(exc))
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        names = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects if hasattr(obj, "_meta")}
                       if hasattr(exc, "protected_objects") else [])
        return Response({"detail": _("该记录仍被其他数据引用（{names}），不能删除").format(names="、".join(names))},
                        status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IntegrityError):
        # A concurrent write won the race past validation (two clerks adding the same code at once).
        return Response({"detail": _("数据与已有记录冲突，请刷新后重试")}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
