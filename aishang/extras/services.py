"""The one way register objects are saved from forms, the API and imports."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from .customfields import clean_custom_data
from .models import CustomField


def custom_fields_for(obj):
    if getattr(obj, "custom_field_target", None) is None:
        return CustomField.objects.none()
    return CustomField.objects.for_object(obj)


def register_object_save(*, obj, custom_values=None, partial_custom=False, actor=None):
    """Validate the object (model rules and the company's custom fields) and save it.

    Raises ``ValidationError`` keyed by field name (custom fields as ``cf_<name>``) and saves
    nothing when anything is wrong. ``custom_values=None`` with ``partial_custom`` keeps the
    stored custom values as they are.
    """
    errors = {}
    try:
        obj.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if getattr(obj, "custom_field_target", None) is not None and not errors.get("property_type"):
        fields = list(custom_fields_for(obj))
        try:
            obj.custom_field_data = clean_custom_data(
                fields, custom_values or {}, partial=partial_custom, existing=obj.custom_field_data,
            )
        except ValidationError as exc:
            errors.update({f"cf_{name}": messages for name, messages in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        obj.save()
    return obj


def register_object_delete(*, obj, actor=None):
    """Delete a register object; objects still referenced are refused with a clear message."""
    from django.db.models import ProtectedError, RestrictedError

    try:
        with transaction.atomic():
            obj.delete()
    except (ProtectedError, RestrictedError) as exc:
        names = sorted({str(o._meta.verbose_name) for o in exc.protected_objects if hasattr(o, "_meta")})
        raise ValidationError(gettext("「%(object)s」仍有关联的%(related)s，不能删除")
                              % {"object": obj, "related": "、".join(names)}) from None
