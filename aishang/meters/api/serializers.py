from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aishang.billing.api.serializers import choice_field
from aishang.billing.models import FeeItem
from aishang.core.api.serializers import RegisterSerializer, ScopedPrimaryKeyRelatedField
from aishang.estate.models import Building, Entrance, Project, Unit
from aishang.meters.allocation_runs import unreviewed_readings
from aishang.meters.choices import AllocationRunStatus, AllocationScope, MeterKind, ReadingKind
from aishang.meters.models import AllocationRule, AllocationRun, AllocationShare, Meter, MeterReading

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


# 公摊与损耗

SCOPE_MEMBERS = {"buildings": AllocationScope.BUILDINGS, "entrances": AllocationScope.ENTRANCES,
                 "units": AllocationScope.UNITS}


class AllocationRuleSerializer(RegisterSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
    meter = ScopedPrimaryKeyRelatedField(queryset=Meter.objects.all(), label=_("分摊的表"))
    fee_item = ScopedPrimaryKeyRelatedField(queryset=FeeItem.objects.all(), required=False, allow_null=True,
                                            label=_("收费项目"))
    buildings = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all(), many=True, required=False,
                                             label=_("楼栋"))
    entrances = ScopedPrimaryKeyRelatedField(queryset=Entrance.objects.all(), many=True, required=False,
                                             label=_("单元"))
    units = ScopedPrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False, label=_("房屋"))

    class Meta:
        model = AllocationRule
        fields = ("id", "project", "name", "meter", "purpose", "basis", "loss_method", "loss_coefficient", "formula",
                  "scope", "buildings", "entrances", "units", "include_all_units", "fee_item", "is_active", "notes",
                  *TIMESTAMPS)
        read_only_fields = TIMESTAMPS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance or AllocationRule()
        project = attrs.get("project", instance.project if instance.project_id else None)
        scope = attrs.get("scope", instance.scope)
        members = {name: attrs[name] if name in attrs else list(getattr(instance, name).all()) if instance.pk else []
                   for name in ("buildings", "entrances", "units")}
        # Members of another scope than the chosen one are dropped, so the rule says only what it uses.
        for name, value in SCOPE_MEMBERS.items():
            if scope != value:
                members[name] = []
                if name in attrs or instance.pk:
                    attrs[name] = []
        if project is not None:
            probe = AllocationRule(project=project, scope=scope)
            if errors := probe.scope_members_outside_project(**members):
                raise serializers.ValidationError(errors)
        return attrs



class UnreviewedReadingSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", label=_("读数编号"))
    meter = serializers.IntegerField(source="meter_id", label=_("仪表"))
    meter_number = serializers.CharField(label=_("表号"))
    place = serializers.CharField(label=_("位置"), help_text=_("户表为房屋编码，公区表、总表为名称"))
    read_on = serializers.DateField(label=_("本期抄表日期"))
    usage = serializers.DecimalField(max_digits=14, decimal_places=2, label=_("用量"))
    reason = serializers.CharField(label=_("复核原因"))


class AllocationRunListSerializer(serializers.ListSerializer):
    """Finds the 待复核 readings of all the drafts listed at once, not run by run."""

    def to_representation(self, data):
        runs = list(data.all() if hasattr(data, "all") else data)
        self.child.context["unreviewed"] = unreviewed_readings(
            [run for run in runs if run.status == AllocationRunStatus.DRAFT])
        return super().to_representation(runs)


class AllocationRunSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True, label=_("分摊规则名称"))
    usage_unit = serializers.CharField(read_only=True, label=_("计量单位"))
    kind = choice_field(MeterKind.choices, "AllocationMeterKindEnum", read_only=True, label=_("表类型"))
    unreviewed_readings = serializers.SerializerMethodField(
        label=_("待复核读数"),
        help_text=_("预览批次所用读数中仍待复核的读数；不为空时入账须确认（confirm_unreviewed）"))

    class Meta:
        model = AllocationRun
        fields = ("id", "rule", "rule_name", "project", "period_start", "period_end", "status", "purpose", "method",
                  "kind", "fee_item", "meter_usage", "sub_meter_usage", "loss", "total", "usage_unit", "unit_count",
                  "unreviewed_readings", "created_by", "created_at", "posted_by", "posted_at", "reversed_by",
                  "reversed_at", "reverse_reason")
        read_only_fields = fields
        list_serializer_class = AllocationRunListSerializer

    @extend_schema_field(UnreviewedReadingSerializer(many=True))
    def get_unreviewed_readings(self, run):
        if run.status != AllocationRunStatus.DRAFT:
            return []
        unreviewed = self.context.get("unreviewed")
        if unreviewed is None:
            unreviewed = unreviewed_readings([run])
        return UnreviewedReadingSerializer(unreviewed.get(run.pk, []), many=True).data


class AllocationRunCreateSerializer(serializers.Serializer):
    rule = ScopedPrimaryKeyRelatedField(queryset=AllocationRule.objects.all(), label=_("分摊规则"))
    period_start = serializers.DateField(label=_("期初"))
    period_end = serializers.DateField(label=_("期末"))


class AllocationPostSerializer(serializers.Serializer):
    confirm_unreviewed = serializers.BooleanField(
        default=False, label=_("确认使用待复核读数"),
        help_text=_("所用读数中有待复核的读数时须为 true 才能入账"))


class AllocationReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, label=_("冲销原因"))


class AllocationShareSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True, label=_("房屋编码"))

    class Meta:
        model = AllocationShare
        fields = ("id", "unit", "unit_code", "weight", "usage", "explanation")
        read_only_fields = fields
