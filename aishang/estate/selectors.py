from django.db.models import Count, Sum

from .models import Unit


def project_summary(project):
    """Counts and areas of one project's register, by status, for its detail page."""
    units = Unit.objects.filter(project=project)
    by_status = dict(units.values_list("status").annotate(n=Count("id")))
    totals = units.aggregate(count=Count("id"), area=Sum("building_area"))
    return {
        "units": totals["count"],
        "area": totals["area"],
        "by_status": by_status,
        "buildings": project.buildings.count(),
        "parking_spaces": project.parking_spaces.count(),
    }
