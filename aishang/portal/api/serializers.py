from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aishang.core.masking import mask_phone
from aishang.payments.choices import Gateway


class SmsCodeRequestSerializer(serializers.Serializer):
    mobile = serializers.CharField(label=_("手机号"), max_length=20)


class SmsCodeResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    resend_after = serializers.IntegerField(help_text=_("多少秒后可再次获取"))


class SmsLoginSerializer(serializers.Serializer):
    mobile = serializers.CharField(label=_("手机号"), max_length=20)
    code = serializers.CharField(label=_("验证码"), max_length=10)


class WechatLoginSerializer(serializers.Serializer):
    app_id = serializers.CharField(label=_("小程序 AppID"), max_length=40)
    code = serializers.CharField(label=_("wx.login 返回的 code"), max_length=128)


class OwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    mobile = serializers.SerializerMethodField()
    unit_count = serializers.IntegerField(required=False)
    unread_messages = serializers.IntegerField(required=False)

    def get_mobile(self, account) -> str:
        return mask_phone(account.mobile)


class OwnerTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    owner = OwnerSerializer()


class OwnerUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    company = serializers.CharField(source="project.company.name")
    project = serializers.CharField(source="project.name")
    building = serializers.CharField(source="building.code")
    floor = serializers.IntegerField()
    property_type = serializers.CharField(source="property_type.name")
    building_area = serializers.DecimalField(max_digits=10, decimal_places=2)
    inner_area = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    layout = serializers.CharField()
    status = serializers.CharField(source="get_status_display")


class OwnerMemberSerializer(serializers.Serializer):
    name = serializers.CharField(source="customer.name")
    role = serializers.CharField(source="get_role_display")
    relation = serializers.CharField(source="get_relation_display")
    mobile = serializers.SerializerMethodField()
    since = serializers.DateField(source="start_date", allow_null=True)

    def get_mobile(self, occupancy) -> str:
        return mask_phone(occupancy.customer.mobile)


class OwnerCustomFieldValueSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class OwnerUnitDetailSerializer(OwnerUnitSerializer):
    roles = serializers.ListField(child=serializers.CharField())
    members = OwnerMemberSerializer(many=True)
    custom_fields = OwnerCustomFieldValueSerializer(many=True)


MONEY = {"max_digits": 14, "decimal_places": 2}


class OwnerBillSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    unit_id = serializers.IntegerField(allow_null=True)
    project = serializers.CharField(source="project.name")
    fee_item = serializers.CharField(source="fee_item.name")
    fee_item_id = serializers.IntegerField()
    kind = serializers.CharField(source="get_kind_display")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    discounted = serializers.DecimalField(**MONEY, help_text=_("优惠"))
    waived = serializers.DecimalField(**MONEY, help_text=_("减免"))
    voided = serializers.DecimalField(**MONEY, help_text=_("作废"))
    paid = serializers.DecimalField(**MONEY, help_text=_("已缴"))
    outstanding = serializers.DecimalField(**MONEY, help_text=_("待缴"))
    late_fee = serializers.DecimalField(**MONEY, help_text=_("截至今日的滞纳金"))
    overdue = serializers.BooleanField()
    status = serializers.CharField()

    def to_representation(self, bill):
        # The fields above describe the schema; a page of bills is written here directly, as they would write it
        # (money as "1234.50", dates ISO), at a fifth of the fields' cost (bench_owner_api, ADR 0027).
        return {
            "id": bill.pk, "unit": bill.unit.code if bill.unit_id else None, "unit_id": bill.unit_id,
            "project": bill.project.name, "fee_item": bill.fee_item.name, "fee_item_id": bill.fee_item_id,
            "kind": bill.get_kind_display(), "period_start": bill.period_start.isoformat(),
            "period_end": bill.period_end.isoformat(), "due_date": bill.due_date.isoformat(),
            **{name: _money(getattr(bill, name)) for name in MONEY_FIELDS},
            "overdue": bill.overdue, "status": str(bill.status),
        }


MONEY_FIELDS = ("amount", "discounted", "waived", "voided", "paid", "outstanding", "late_fee")


def _money(value):
    return f"{Decimal(value):.2f}"


class OwnerBillSelectionRequestSerializer(serializers.Serializer):
    bills = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                  label=_("账单编号"), allow_empty=False, max_length=500)


class OwnerBillSelectionSerializer(serializers.Serializer):
    total = serializers.DecimalField(**MONEY, help_text=_("应付合计：待缴减去缴费优惠，加上滞纳金"))
    late_fees = serializers.DecimalField(**MONEY, help_text=_("其中滞纳金（物业设置为线上同时收取时）"))
    discount = serializers.DecimalField(**MONEY, help_text=_("缴费优惠"))
    bills = OwnerBillSerializer(many=True)


class OwnerTopUpRequestSerializer(serializers.Serializer):
    unit = serializers.IntegerField(label=_("房屋"), min_value=1, max_value=2**63 - 1)
    amount = serializers.DecimalField(label=_("金额"), max_digits=10, decimal_places=2, min_value=1)


class OwnerPayRequestSerializer(serializers.Serializer):
    gateway = serializers.ChoiceField(label=_("支付方式"), choices=Gateway.choices, required=False)
    return_url = serializers.URLField(label=_("支付后返回的页面"), required=False, max_length=500)


class OwnerBillPayRequestSerializer(OwnerBillSelectionRequestSerializer, OwnerPayRequestSerializer):
    pass


class OwnerTopUpPayRequestSerializer(OwnerTopUpRequestSerializer, OwnerPayRequestSerializer):
    pass


class OwnerOrderSerializer(serializers.Serializer):
    out_trade_no = serializers.CharField()
    gateway = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    payments = serializers.ListField(child=serializers.IntegerField(), help_text=_("支付成功后生成的收款"))


class OwnerPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    received_at = serializers.DateTimeField()
    project = serializers.CharField(source="project.name")
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    amount = serializers.DecimalField(**MONEY)
    source = serializers.CharField(source="get_source_display")
    status = serializers.CharField()
    receipt_pdf = serializers.CharField(help_text=_("电子收据 PDF 地址"))


class OwnerMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class OwnerUnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class OwnerMarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
                                help_text=_("留空则全部标为已读"))


class OwnerMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class OwnerDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
