from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aishang.core.api.serializers import (
    CompanyOwnedSerializerMixin,
    CurrentCompanyDefault,
    RegisterSerializer,
    ScopedPrimaryKeyRelatedField,
)
from aishang.estate.models import Company, PropertyType
from aishang.extras.models import CustomField, ObjectChange


class CustomFieldSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))
    property_type = ScopedPrimaryKeyRelatedField(queryset=PropertyType.objects.all(), required=False,
                                                 allow_null=True, label=_("业态"),
                                                 help_text=_("留空表示适用于所有业态（仅对房屋有效）"))
    choices = serializers.ListField(child=serializers.CharField(max_length=100), required=False, label=_("选项"),
                                    help_text=_("单选、多选的可选值"))

    class Meta:
        model = CustomField
        fields = ("id", "company", "target", "property_type", "name", "label", "field_type", "required", "choices",
                  "help_text", "filterable", "owner_visible", "weight")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        errors = {}
        if self.instance is not None:
            for name in ("name", "target"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    errors[name] = _("字段编码和适用对象创建后不能修改")
        company = attrs.get("company") or getattr(self.instance, "company", None)
        property_type = attrs.get("property_type")
        if property_type is not None and company is not None and property_type.company_id != company.pk:
            errors["property_type"] = _("业态不属于该企业")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ObjectChangeSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField(label=_("对象类型"), help_text=_("app.model，如 estate.unit"))
    prechange_data = serializers.SerializerMethodField(label=_("修改前"))
    postchange_data = serializers.SerializerMethodField(label=_("修改后"))

    class Meta:
        model = ObjectChange
        fields = ("id", "time", "user", "user_name", "request_id", "source", "remote_addr", "action", "company",
                  "project", "object_type", "object_id", "object_repr", "prechange_data", "postchange_data")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_object_type(self, change):
        return f"{change.object_type.app_label}.{change.object_type.model}"

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_prechange_data(self, change):
        return self._masked(change, change.prechange_data)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_postchange_data(self, change):
        return self._masked(change, change.postchange_data)

    def _masked(self, change, data):
        # The log keeps what was saved; callers without the PII permission must not read it here either.
        model = change.object_type.model_class()
        masks = getattr(model, "pii_fields", None)
        if not data or not masks or self.context["request"].user.has_perm(model.pii_permission):
            return data
        return {key: masks[key](value) if key in masks and isinstance(value, str) else value
                for key, value in data.items()}
