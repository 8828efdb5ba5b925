"""Writes to the property register. Each is one transaction; the change log follows from signals."""

from django.db import transaction

from aishang.extras.choices import CustomFieldTarget, CustomFieldType
from aishang.extras.models import CustomField

from .choices import PropertyKind
from .models import Company, PropertyType
from .signals import company_created

DEFAULT_PROPERTY_TYPES = [
    (PropertyKind.RESIDENTIAL, "住宅", []),
    (PropertyKind.SHOP, "商铺", [
        ("lease_status", "租赁状态", CustomFieldType.CHOICE, ["自营", "已出租", "招租中"]),
        ("business_scope", "经营范围", CustomFieldType.TEXT, []),
    ]),
    (PropertyKind.OFFICE, "写字楼", [("tenant_companies", "入驻企业", CustomFieldType.TEXT, [])]),
    (PropertyKind.PARK, "园区", [("facility_layout", "设施布局", CustomFieldType.TEXT, [])]),
    (PropertyKind.PARKING, "车位", []),
    (PropertyKind.WAREHOUSE, "仓储", []),
]


@transaction.atomic
def company_create(*, name, short_name="", actor=None, **fields):
    """A new company with the standard property types and their fields; other apps add their defaults."""
    company = Company.objects.create(name=name, short_name=short_name, **fields)
    for weight, (kind, type_name, type_fields) in enumerate(DEFAULT_PROPERTY_TYPES):
        property_type = PropertyType.objects.create(company=company, name=type_name, kind=kind, weight=weight)
        for order, (field_name, label, field_type, choices) in enumerate(type_fields):
            CustomField.objects.create(company=company, target=CustomFieldTarget.UNIT, property_type=property_type,
                                       name=field_name, label=label, field_type=field_type, choices=choices,
                                       weight=order)
    company_created.send(sender=Company, company=company, actor=actor)
    return company
