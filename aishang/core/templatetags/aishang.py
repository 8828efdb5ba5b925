from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from aishang.core.navigation import sidebar_html

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


@register.simple_tag
def form_field(field):
    """A field as Bootstrap lays it out: label (with * when required), input, errors and help text.

    Written here rather than as an included template: a form of a dozen fields rendered a dozen small templates,
    about a tenth of the 收银台's time.
    """
    if field.is_hidden:
        return str(field)
    if field.errors:
        attrs = field.field.widget.attrs
        classes = attrs.get("class", "").split()
        if "is-invalid" not in classes:
            attrs["class"] = " ".join([*classes, "is-invalid"])
        attrs["aria-invalid"] = "true"
    required = field.field.required
    if field.widget_type == "checkbox":
        control = format_html(
            '<div class="form-check"><input type="checkbox" name="{}" id="{}" class="form-check-input{}"{}>'
            '<label class="form-check-label" for="{}">{}</label></div>',
            field.html_name, field.id_for_label, " is-invalid" if field.errors else "",
            mark_safe(" checked") if field.value() else "", field.id_for_label, field.label)
    else:
        control = format_html('<label class="form-label" for="{}">{}{}</label>{}', field.id_for_label, field.label,
                              mark_safe('<span class="text-danger ms-1" aria-hidden="true">*</span>') if required
                              else "", str(field))
    errors = format_html_join("", '<div class="invalid-feedback d-block" role="alert">{}</div>',
                              ((error,) for error in field.errors))
    help_text = format_html('<div class="form-text">{}</div>', field.help_text) if field.help_text else ""
    return format_html('<div class="mb-3{}">{}{}{}</div>', " required" if required else "", control, errors,
                       help_text)


@register.filter
def diff_for(change, viewer):
    """A change's rows as this viewer may see them (personal data masked without permission)."""
    return change.diff(viewer=viewer)


@register.simple_tag(takes_context=True)
def sidebar(context):
    request = context["request"]
    return sidebar_html(request.user, request.path)
