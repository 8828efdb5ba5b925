"""How a custom field validates, shows and edits its value."""

import datetime
import decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from .choices import CustomFieldType

TRUE_WORDS = {"1", "true", "yes", "y", "是", "有", "√", "对"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "无", "×", "不"}


def _is_empty(raw):
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def clean_custom_value(field, raw):
    label = field.label
    if _is_empty(raw):
        if field.required:
            raise ValidationError(gettext("「%(label)s」为必填项") % {"label": label})
        return None
    kind = field.field_type
    if kind == CustomFieldType.TEXT:
        value = str(raw).strip()
        if len(value) > 500:
            raise ValidationError(gettext("「%(label)s」不能超过 500 个字") % {"label": label})
        return value
    if kind == CustomFieldType.INTEGER:
        try:
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            return int(str(raw).strip().removesuffix(".0")) if not isinstance(raw, bool) else _fail()
        except (ValueError, TypeError):
            raise ValidationError(gettext("「%(label)s」应为整数") % {"label": label}) from None
    if kind == CustomFieldType.DECIMAL:
        try:
            value = decimal.Decimal(str(raw).strip())
        except decimal.InvalidOperation:
            raise ValidationError(gettext("「%(label)s」应为数字") % {"label": label}) from None
        if not value.is_finite():
            raise ValidationError(gettext("「%(label)s」应为数字") % {"label": label})
        return str(value)
    if kind == CustomFieldType.DATE:
        if isinstance(raw, datetime.datetime):
            return raw.date().isoformat()
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        text = str(raw).strip().replace("/", "-").replace(".", "-")
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(gettext("「%(label)s」应为日期，格式如 2026-11-23") % {"label": label}) from None
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValidationError(gettext("「%(label)s」应为“是”或“否”") % {"label": label})
    if kind == CustomFieldType.CHOICE:
        value = str(raw).strip()
        if value not in field.choices:
            raise ValidationError(gettext("「%(label)s」的值“%(value)s”不在可选项中（%(choices)s）")
                                  % {"label": label, "value": value, "choices": "、".join(field.choices)})
        return value
    if kind == CustomFieldType.MULTI_CHOICE:
        if isinstance(raw, str):
            values = [v.strip() for v in raw.replace("，", ",").replace("、", ",").split(",") if v.strip()]
        else:
            values = [str(v).strip() for v in raw]
        unknown = [v for v in values if v not in field.choices]
        if unknown:
            raise ValidationError(gettext("「%(label)s」的值“%(value)s”不在可选项中（%(choices)s）")
                                  % {"label": label, "value": "、".join(unknown), "choices": "、".join(field.choices)})
        return [c for c in field.choices if c in values]
    raise ValidationError(gettext("「%(label)s」的类型未知") % {"label": label})


def _fail():
    raise ValueError


def display_custom_value(field, value):
    if _is_empty(value):
        return "--"
    if field.field_type == CustomFieldType.BOOLEAN:
        return gettext("是") if value else gettext("否")
    if field.field_type == CustomFieldType.MULTI_CHOICE:
        return "、".join(value)
    return str(value)


def form_field_for(field, initial=None):
    common = {"label": field.label, "required": field.required, "help_text": field.help_text, "initial": initial}
    kind = field.field_type
    if kind == CustomFieldType.INTEGER:
        return forms.IntegerField(**common)
    if kind == CustomFieldType.DECIMAL:
        return forms.DecimalField(**common)
    if kind == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomFieldType.BOOLEAN:
        choices = [("", "--"), ("true", gettext("是")), ("false", gettext("否"))]
        return forms.NullBooleanField(widget=forms.Select(choices=choices), **common)
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "--"), *[(c, c) for c in field.choices]], **common)
    if kind == CustomFieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=[(c, c) for c in field.choices],
                                         widget=forms.CheckboxSelectMultiple, **common)
    return forms.CharField(max_length=500, **common)


def clean_custom_data(fields, raw_values, *, partial=False, existing=None):
    """Validate a dict of raw values against the fields; unknown keys are refused.

    Returns the data to store, or raises ValidationError keyed by field name.
    """
    by_name = {f.name: f for f in fields}
    errors = {}
    raw_values = raw_values or {}
    if not isinstance(raw_values, dict):
        raise ValidationError({"custom_field_data": gettext("自定义字段应为对象（键为字段编码）")})
    for name in raw_values:
        if name not in by_name:
            errors[name] = gettext("没有编码为“%(name)s”的自定义字段") % {"name": name}
    data = dict(existing or {}) if partial else {}
    for name, field in by_name.items():
        if partial and name not in raw_values:
            continue
        try:
            value = field.clean_value(raw_values.get(name))
        except ValidationError as exc:
            errors[name] = exc.messages[0]
            continue
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    if errors:
        raise ValidationError(errors)
    return data


def filter_by_custom_fields(queryset, fields, params):
    """Apply ``cf_<name>=value`` filters from a query string to a queryset."""
    for field in fields:
        if not field.filterable:
            continue
        raw = params.get(f"cf_{field.name}")
        if raw in (None, ""):
            continue
        key = f"custom_field_data__{field.name}"
        try:
            value = field.clean_value(raw)
        except ValidationError:
            return queryset.none()
        if field.field_type == CustomFieldType.TEXT:
            queryset = queryset.filter(**{f"{key}__icontains": value})
        elif field.field_type == CustomFieldType.MULTI_CHOICE:
            for item in value:
                queryset = queryset.filter(**{f"{key}__icontains": item})
        else:
            queryset = queryset.filter(**{key: value})
    return queryset
