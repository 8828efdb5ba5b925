from django.db.models import Count, Q

from aishang.estate.choices import UnitStatus
from aishang.estate.models import Project


def project_overview(user):
    """The projects a user may see, with their register counts, for the home page."""
    return (
        Project.objects.restrict(user, "view")
        .select_related("company")
        .annotate(
            unit_count=Count("units", distinct=True),
            vacant_count=Count("units", filter=Q(units__status=UnitStatus.VACANT), distinct=True),
            building_count=Count("buildings", distinct=True),
            parking_count=Count("parking_spaces", distinct=True),
        )
        .order_by("code")
    )
