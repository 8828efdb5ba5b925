from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aishang.core.api.serializers import (
    CompanyOwnedSerializerMixin,
    CurrentCompanyDefault,
    CustomFieldDataField,
    RegisterSerializer,
    ScopedPrimaryKeyRelatedField,
)
from aishang.estate.models import Building, Company, Entrance, ParkingSpace, Project, PropertyType, Unit
from aishang.estate.services import company_create

TIMESTAMPS = ("created_at", "updated_at")


class CompanySerializer(RegisterSerializer):
    class Meta:
        model = Company
        fields = ("id", "name", "short_name", "credit_code", "contact_phone", "address", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def create(self, validated_data):
        return company_create(actor=self.context["request"].user, **validated_data)


class PropertyTypeSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))

    class Meta:
        model = PropertyType
        fields = ("id", "company", "name", "kind", "description", "weight", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS


class ProjectSerializer(CompanyOwnedSerializerMixin, RegisterSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all(), default=CurrentCompanyDefault(),
                                           label=_("企业"), help_text=_("留空为当前员工所在企业"))
    property_types = ScopedPrimaryKeyRelatedField(queryset=PropertyType.objects.all(), many=True, required=False,
                                                  label=_("业态"))

    class Meta:
        model = Project
        fields = ("id", "company", "code", "name", "status", "property_types", "province", "city", "district",
                  "address", "total_area", "manager_name", "service_phone", "delivered_on", "notes", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        company = attrs.get("company") or getattr(self.instance, "company", None)
        types = attrs.get("property_types") or []
        if company is not None and any(t.company_id != company.pk for t in types):
            raise serializers.ValidationError({"property_types": _("业态不属于该企业")})
        return attrs


class BuildingSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    property_type = ScopedPrimaryKeyRelatedField(queryset=PropertyType.objects.all(), required=False,
                                                 allow_null=True, label=_("业态"))

    class Meta:
        model = Building
        fields = ("id", "project", "code", "name", "property_type", "floors_above", "floors_below", "phase",
                  "height_class", "completed_on", "weight", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        project = attrs.get("project") or getattr(self.instance, "project", None)
        property_type = attrs.get("property_type")
        if property_type is not None and project is not None and property_type.company_id != project.company_id:
            raise serializers.ValidationError({"property_type": _("业态不属于该企业")})
        return attrs


class EntranceSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    building = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all(), label=_("楼栋"))

    class Meta:
        model = Entrance
        fields = ("id", "project", "building", "code", "name", "has_elevator", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS


class UnitSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    building = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all(), label=_("楼栋"))
    entrance = ScopedPrimaryKeyRelatedField(queryset=Entrance.objects.all(), required=False, allow_null=True,
                                            label=_("单元"))
    property_type = ScopedPrimaryKeyRelatedField(queryset=PropertyType.objects.all(), label=_("业态"))
    code = serializers.CharField(read_only=True, label=_("房屋编码"), help_text=_("楼栋-单元-房号，自动生成"))
    custom_field_data = CustomFieldDataField(required=False, label=_("自定义字段"),
                                             help_text=_("键为字段编码，例如 {\"lease_status\": \"已出租\"}"))

    class Meta:
        model = Unit
        fields = ("id", "project", "building", "entrance", "number", "code", "floor", "property_type",
                  "building_area", "inner_area", "layout", "decoration", "status", "delivered_on", "notes",
                  "custom_field_data", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def before_save(self, obj):
        if obj.building_id and obj.number:
            obj.code = obj.compose_code()
            taken = Unit.objects.filter(project_id=obj.project_id, code=obj.code).exclude(pk=obj.pk)
            if taken.exists():
                message = _("房屋编码“{code}”在该项目中已存在").format(code=obj.code)
                raise serializers.ValidationError({"number": [message]})


class ParkingSpaceSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))

    class Meta:
        model = ParkingSpace
        fields = ("id", "project", "number", "zone", "area", "kind", "status", "notes", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS
