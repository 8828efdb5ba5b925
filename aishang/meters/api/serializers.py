from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aishang.core.api.serializers import RegisterSerializer, ScopedPrimaryKeyRelatedField
from aishang.estate.models import Building, Project, Unit
from aishang.meters.choices import ReadingKind
from aishang.meters.models import Meter, MeterReading

TIMESTAMPS = ("created_at", "updated_at")


class MeterSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    unit = ScopedPrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True,
                                        label=_("房屋"))
    building = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all(), required=False, allow_null=True,
                                            label=_("楼栋"))
    parent = ScopedPrimaryKeyRelatedField(queryset=Meter.objects.all(), required=False, allow_null=True,
                                          label=_("上级总表"))

    class Meta:
        model = Meter
        fields = ("id", "project", "kind", "role", "number", "name", "unit", "building", "parent", "multiplier",
                  "digits", "install_date", "initial_reading", "replaces", "removed_on", "notes", *TIMESTAMPS)
        read_only_fields = ("replaces", "removed_on", *TIMESTAMPS)


class MeterReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterReading
        fields = ("id", "meter", "kind", "read_on", "value", "previous_on", "previous_value", "usage", "flagged",
                  "flag_reason", "source", "note", "recorded_by", "reviewed_by", "reviewed_at", "review_note",
                  "created_at")
        read_only_fields = fields


class MeterReadingCreateSerializer(serializers.Serializer):
    meter = ScopedPrimaryKeyRelatedField(queryset=Meter.objects.all(), label=_("仪表"))
    read_on = serializers.DateField(label=_("本期抄表日期"))
    value = serializers.DecimalField(max_digits=14, decimal_places=2, label=_("本期读数"))
    kind = serializers.ChoiceField(choices=[ReadingKind.NORMAL, ReadingKind.ROLLOVER], default=ReadingKind.NORMAL,
                                   label=_("类型"),
                                   help_text=_("normal 正常抄表，rollover 翻表；换表用 POST /meters/{id}/replace/"))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", label=_("备注"))


class MeterReplaceSerializer(serializers.Serializer):
    final_value = serializers.DecimalField(max_digits=14, decimal_places=2, label=_("旧表拆表读数"))
    on = serializers.DateField(label=_("换表日期"))
    number = serializers.CharField(max_length=40, label=_("新表表号"))
    initial_reading = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                               label=_("新表起始读数"))
