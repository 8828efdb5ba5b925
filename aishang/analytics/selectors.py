from aishang.core.queries import count_related
from aishang.estate.choices import UnitStatus
from aishang.estate.models import Building, ParkingSpace, Project, Unit


def project_overview(user):
    """The projects a user may see, with their register counts, for the home page."""
    return (
        Project.objects.restrict(user, "view")
        .select_related("company")
        .annotate(
            unit_count=count_related(Unit.objects.all(), "project"),
            vacant_count=count_related(Unit.objects.filter(status=UnitStatus.VACANT), "project"),
            building_count=count_related(Building.objects.all(), "project"),
            parking_count=count_related(ParkingSpace.objects.all(), "project"),
        )
        .order_by("code")
    )
