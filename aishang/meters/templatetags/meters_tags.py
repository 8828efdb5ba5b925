from django import template

from aishang.core.money import describe_number

register = template.Library()


@register.filter
def plain_number(value):
    """A weight or usage as people write it: 100.000000 → 100, 0.125000 → 0.125; None → --."""
    if value is None or value == "":
        return "--"
    return describe_number(value, max_places=6)[0]
