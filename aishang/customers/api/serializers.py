from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aishang.core.api.serializers import CustomFieldDataField, RegisterSerializer, ScopedPrimaryKeyRelatedField
from aishang.core.validators import validate_mobile
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.estate.models import ParkingSpace, Project, Unit

TIMESTAMPS = ("created_at", "updated_at")
PII_PERMISSION = Customer.pii_permission
PII_FIELDS = tuple(Customer.pii_fields)


class MaskedCharField(serializers.CharField):
    """Personal data, masked unless the serializer context says the caller may see it.

    Sending back the masked text unchanged keeps the stored value, so a client may PUT what it read.
    """

    def __init__(self, *, mask, **kwargs):
        self.mask = mask
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        value = super().to_representation(value)
        return value if self.context.get("can_view_pii") else self.mask(value)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        instance = getattr(self.parent, "instance", None)
        if isinstance(instance, Customer) and "*" in value:
            stored = getattr(instance, self.source, "")
            if stored and value == self.mask(stored):
                return stored
        return value

    def run_validators(self, value):
        instance = getattr(self.parent, "instance", None)
        if isinstance(instance, Customer) and value and value == getattr(instance, self.source, None):
            return
        super().run_validators(value)


class CustomerSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    mobile = MaskedCharField(mask=Customer.pii_fields["mobile"], max_length=11, validators=[validate_mobile],
                             label=_("手机号"))
    phone = MaskedCharField(mask=Customer.pii_fields["phone"], max_length=30, label=_("其他电话"))
    id_number = MaskedCharField(mask=Customer.pii_fields["id_number"], max_length=30, label=_("证件号码"))
    emergency_phone = MaskedCharField(mask=Customer.pii_fields["emergency_phone"], max_length=30,
                                      label=_("紧急联系电话"))
    tags = serializers.ListField(child=serializers.CharField(max_length=30), required=False, label=_("标签"))
    custom_field_data = CustomFieldDataField(required=False, label=_("自定义字段"), help_text=_("键为字段编码"))

    class Meta:
        model = Customer
        fields = ("id", "project", "kind", "name", "mobile", "phone", "id_type", "id_number", "gender",
                  "birth_date", "occupation", "employer", "move_in_date", "emergency_contact", "emergency_phone",
                  "email", "tags", "notes", "custom_field_data", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS


class CustomerPIISerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ("id", "name", "mobile", "phone", "id_type", "id_number", "emergency_contact", "emergency_phone")
        read_only_fields = fields


class OccupancySerializer(RegisterSerializer):
    unit = ScopedPrimaryKeyRelatedField(queryset=Unit.objects.all(), label=_("房屋"))
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all(), label=_("客户"))
    unit_code = serializers.CharField(source="unit.code", read_only=True, label=_("房屋编码"))
    customer_name = serializers.CharField(source="customer.name", read_only=True, label=_("客户姓名"))
    is_current = serializers.BooleanField(read_only=True, label=_("当前有效"))

    class Meta:
        model = Occupancy
        fields = ("id", "unit", "unit_code", "customer", "customer_name", "role", "relation", "start_date",
                  "end_date", "is_payer", "is_current", "notes", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS


class VehicleSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True,
                                            label=_("车主"))
    parking_space = ScopedPrimaryKeyRelatedField(queryset=ParkingSpace.objects.all(), required=False,
                                                 allow_null=True, label=_("车位"))

    class Meta:
        model = Vehicle
        fields = ("id", "project", "customer", "plate", "kind", "brand", "color", "parking_space", "notes",
                  *TIMESTAMPS)
        read_only_fields = TIMESTAMPS
