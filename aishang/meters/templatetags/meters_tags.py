from decimal import Decimal

from django import template

from aishang.core.money import describe_number

register = template.Library()


@register.filter
def plain_number(value):
    """A weight or usage as people write it: 100.000000 → 100, 0.125000 → 0.125; None → --."""
    if value is None or value == "":
        return "--"
    return describe_number(value, max_places=6)[0]


@register.filter
def share_of(part, whole):
    """A unit's part of a run's total as a percentage to two places: 12 of 1200 → 1.00%; no total → --."""
    if part is None or not whole:
        return "--"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'))}%"
