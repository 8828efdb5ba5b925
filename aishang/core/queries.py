from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def count_related(queryset, link):
    """A correlated count of ``queryset`` rows whose ``link`` points at the outer row.

    Counting several relations of one row with joins would multiply the rows (units × buildings ×
    parking spaces); one subquery per count keeps each count on its own table.
    """
    counted = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
