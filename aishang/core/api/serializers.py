"""Serializer building blocks shared by every app's API.

DRF checks types and shapes; business rules and custom fields are checked by
``register_object_save``, the same service the web forms and imports use.
"""

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aishang.extras.services import custom_fields_for, register_object_save

from .exceptions import api_errors


def request_user(serializer_field):
    request = serializer_field.context.get("request")
    return getattr(request, "user", None)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that can only point at objects inside the caller's scope.

    Objects outside it answer exactly like ids that do not exist, so nothing leaks.
    """

    default_error_messages = {
        "does_not_exist": _("对象不存在（编号 {pk_value}）"),
        "incorrect_type": _("应为对象编号（整数），收到的是 {data_type}"),
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        user = request_user(self)
        if user is None or not user.is_authenticated:
            return queryset.none()
        return queryset.within_scope(user)


class CurrentCompanyDefault:
    """The caller's company, for company-wide objects created without naming one."""

    requires_context = True

    def __call__(self, serializer_field):
        user = request_user(serializer_field)
        return getattr(user, "company", None)

    def __repr__(self):
        return "CurrentCompanyDefault()"


@extend_schema_field(OpenApiTypes.OBJECT)
class CustomFieldDataField(serializers.JSONField):
    """The company's own fields as a JSON object keyed by field code (字段编码)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("自定义字段应为对象（键为字段编码）"))
        return data


class RegisterSerializer(serializers.ModelSerializer):
    """Saves through ``register_object_save`` so the API follows the same rules as the forms."""

    def create(self, validated_data):
        return self.save_object(self.Meta.model(), validated_data)

    def update(self, instance, validated_data):
        return self.save_object(instance, validated_data)

    def before_save(self, obj):
        """Set values the model computes itself, so validation sees them."""

    def save_object(self, obj, validated_data):
        data = dict(validated_data)
        custom_values = data.pop("custom_field_data", None)
        many = {name: data.pop(name) for name in list(data) if _is_many_to_many(obj, name)}
        for name, value in data.items():
            setattr(obj, name, value)
        self.before_save(obj)
        if custom_values is not None:
            custom_values = normalize_custom_values(obj, custom_values)
        creating = obj._state.adding
        with transaction.atomic():
            try:
                register_object_save(obj=obj, custom_values=custom_values,
                                     partial_custom=not creating and (self.partial or custom_values is None),
                                     actor=request_user(self))
            except DjangoValidationError as exc:
                raise serializers.ValidationError(api_errors(exc)) from None
            for name, values in many.items():
                getattr(obj, name).set(values)
        return obj


def _is_many_to_many(obj, name):
    try:
        return obj._meta.get_field(name).many_to_many
    except FieldDoesNotExist:
        return False


def normalize_custom_values(obj, values):
    """Refuse values no custom field can hold (objects, nested lists) before the field cleans them."""
    from aishang.extras.choices import CustomFieldType

    fields = {field.name: field for field in custom_fields_for(obj)}
    errors, normalized = {}, {}
    for name, value in values.items():
        field = fields.get(name)
        is_multi = field is not None and field.field_type == CustomFieldType.MULTI_CHOICE
        if isinstance(value, dict) or (isinstance(value, list) and not is_multi) or "\x00" in str(value):
            errors[name] = [_("「{label}」的值格式不正确").format(label=field.label if field else name)]
            continue
        if is_multi and isinstance(value, list) and not all(isinstance(v, (str, int, float)) for v in value):
            errors[name] = [_("「{label}」应为选项列表").format(label=field.label)]
            continue
        if is_multi and value is not None and not isinstance(value, (str, list)):
            value = [value]
        normalized[name] = value
    if errors:
        raise serializers.ValidationError({"custom_field_data": errors})
    return normalized


class CompanyOwnedSerializerMixin:
    """Company-wide objects: the company defaults to the caller's and never moves afterwards."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        company = attrs.get("company")
        if self.instance is None:
            if company is None:
                raise serializers.ValidationError({"company": _("请选择企业")})
        elif "company" in attrs:
            if company is None or company.pk == self.instance.company_id:
                attrs.pop("company")
            else:
                raise serializers.ValidationError({"company": _("不能修改所属企业")})
        return attrs
