from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def dash(value):
    """Empty cells read as ``--``, as everywhere in the product."""
    if value is None or value == "" or value == [] or value == {}:
        return "--"
    return value


@register.filter
def money(value):
    if value is None or value == "":
        return "--"
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return value
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def area(value):
    if value is None or value == "":
        return "--"
    return f"{Decimal(value):,.2f}"


@register.filter
def datetime_cn(value):
    if not value:
        return "--"
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def date_cn(value):
    return value.strftime("%Y-%m-%d") if value else "--"


@register.simple_tag
def status_badge(label, tone="secondary"):
    return format_html('<span class="badge text-bg-{}">{}</span>', tone, label)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.inclusion_tag("includes/form_field.html")
def form_field(field, inline=False):
    if field.errors:
        attrs = field.field.widget.attrs
        classes = attrs.get("class", "").split()
        if "is-invalid" not in classes:
            attrs["class"] = " ".join([*classes, "is-invalid"])
        attrs["aria-invalid"] = "true"
    return {"field": field, "inline": inline}


@register.filter
def diff_for(change, viewer):
    """A change's rows as this viewer may see them (personal data masked without permission)."""
    return change.diff(viewer=viewer)
