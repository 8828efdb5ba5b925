"""Reads for the register pages: scoped querysets and what each page shows, in a bounded number of queries."""

import re

from django.apps import apps
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext

from aishang.core.masking import mask_phone
from aishang.core.queries import count_related
from aishang.extras.models import CustomField

from .choices import ParkingKind, ParkingStatus, UnitStatus
from .models import Building, Entrance, ParkingSpace, PropertyType, Unit

OWNER_ROLE = "owner"


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


def _model(app_label, name):
    """A model of an app that may not be installed (customers, built alongside)."""
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _url(name, pk):
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:
        return None


def customer_url(customer):
    return _url("customers:customer_detail", customer.pk)


def current_occupancies(on=None):
    """Occupancies in force on a day (today by default), or None without the customers app."""
    occupancy = _model("customers", "Occupancy")
    if occupancy is None:
        return None
    on = on or timezone.localdate()
    return occupancy.objects.filter(Q(start_date__isnull=True) | Q(start_date__lte=on),
                                    Q(end_date__isnull=True) | Q(end_date__gte=on))


def natural_key(text):
    """'2-1-902' before '2-1-1001': numbers in a code compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text or "") if part]


# Property types


def property_type_list_queryset(user):
    units = Unit.objects.filter(project_id__in=user.permitted_project_ids())
    return (PropertyType.objects.restrict(user, "view")
            .annotate(unit_count=count_related(units, "property_type"),
                      custom_field_count=count_related(CustomField.objects.all(), "property_type")))


def property_type_custom_fields(property_type):
    """(fields of this type only, unit fields of every type) of the type's company."""
    fields = CustomField.objects.filter(company_id=property_type.company_id, target="unit").select_related(
        "property_type")
    return list(fields.filter(property_type=property_type)), list(fields.filter(property_type__isnull=True))


# Buildings and entrances


def building_list_queryset(user):
    return (Building.objects.restrict(user, "view")
            .select_related("project", "property_type")
            .annotate(unit_count=count_related(Unit.objects.all(), "building"),
                      entrance_count=count_related(Entrance.objects.all(), "building")))


def building_phases(user):
    return list(Building.objects.restrict(user, "view").exclude(phase="").order_by("phase")
                .values_list("phase", flat=True).distinct())


def building_summary(building):
    units = Unit.objects.filter(building=building)
    totals = units.aggregate(count=Count("id"), area=Sum("building_area"))
    return {"units": totals["count"], "area": totals["area"], "entrances": building.entrances.count()}


def building_entrances(building):
    return list(Entrance.objects.filter(building=building).select_related("building")
                .annotate(unit_count=Count("units")).order_by("code"))


def building_units(building):
    units = Unit.objects.filter(building=building).select_related("entrance", "property_type")
    if has_customers():
        units = units.prefetch_related(current_owners_prefetch())
    units = list(units)
    units.sort(key=lambda u: natural_key(u.code))
    return units


def building_tile_grid(building):
    """The building view: floors top first as rows, entrances as column groups, units as tiles.

    Returns {"columns": [label], "rows": [{"floor": n, "cells": [[unit]]}], "legend": [(status, label, count)],
    "total": n}. Every unit of the building appears in exactly one cell.
    """
    units = list(Unit.objects.filter(building=building)
                 .only("id", "code", "number", "floor", "status", "entrance_id", "building_area"))
    entrances = list(Entrance.objects.filter(building=building).order_by("code"))
    entrances.sort(key=lambda e: natural_key(e.code))
    columns = [(e.pk, e.name or gettext("%(code)s单元") % {"code": e.code}) for e in entrances]
    if any(u.entrance_id is None for u in units) or not columns:
        columns.append((None, gettext("未分单元") if columns else gettext("房屋")))
    position = {key: index for index, (key, _) in enumerate(columns)}
    cells = {}
    for unit in sorted(units, key=lambda u: natural_key(u.number)):
        cells.setdefault((unit.floor, position[unit.entrance_id]), []).append(unit)
    floors = sorted({u.floor for u in units}, reverse=True)
    rows = [{"floor": floor, "cells": [cells.get((floor, index), []) for index in range(len(columns))]}
            for floor in floors]
    counts = {}
    for unit in units:
        counts[unit.status] = counts.get(unit.status, 0) + 1
    legend = [(value, label, counts.get(value, 0)) for value, label in UnitStatus.choices]
    return {"columns": [label for _, label in columns], "rows": rows, "legend": legend, "total": len(units)}


# Units


def current_owners_prefetch(to_attr="current_owners"):
    """Only with the customers app installed (see has_customers)."""
    return Prefetch("occupancies", queryset=current_occupancies().filter(role=OWNER_ROLE).select_related("customer")
                    .order_by("-is_payer", "start_date", "id"), to_attr=to_attr)


def has_customers():
    return _model("customers", "Occupancy") is not None


def unit_list_queryset(user):
    queryset = (Unit.objects.restrict(user, "view")
                .select_related("project", "building", "entrance", "property_type"))
    if has_customers():
        queryset = queryset.prefetch_related(current_owners_prefetch())
    return queryset


def owner_names(unit):
    return "、".join(o.customer.name for o in getattr(unit, "current_owners", []))


def units_with_owner(queryset, has_owner):
    occupancies = current_occupancies()
    if occupancies is None:
        return queryset if not has_owner else queryset.none()
    owned = Exists(occupancies.filter(unit=OuterRef("pk"), role=OWNER_ROLE))
    return queryset.filter(owned if has_owner else ~owned)


def unit_search(queryset, term):
    """Unit code, room number, or the name of a current owner or tenant."""
    term = (term or "").strip()
    if not term:
        return queryset
    condition = Q(code__icontains=term) | Q(number__iexact=term)
    occupancies = current_occupancies()
    if occupancies is not None:
        condition |= Q(Exists(occupancies.filter(unit=OuterRef("pk"), customer__name__icontains=term)))
    return queryset.filter(condition)


def unit_owners(unit):
    """The unit's current owners for its summary: name, masked mobile, link."""
    occupancies = current_occupancies()
    if occupancies is None:
        return []
    owners = []
    for occupancy in (occupancies.filter(unit=unit, role=OWNER_ROLE).select_related("customer")
                      .order_by("-is_payer", "start_date", "id")):
        customer = occupancy.customer
        owners.append({"name": customer.name, "mobile": mask_phone(customer.mobile), "url": customer_url(customer),
                       "is_payer": occupancy.is_payer})
    return owners


def unit_occupants(unit):
    """Every occupancy of the unit, current ones first, each with is_current, masked mobile and customer link."""
    occupancy = _model("customers", "Occupancy")
    if occupancy is None:
        return []
    today = timezone.localdate()
    rows = list(occupancy.objects.filter(unit=unit).select_related("customer"))
    for row in rows:
        row.current = ((row.start_date is None or row.start_date <= today)
                       and (row.end_date is None or row.end_date >= today))
        row.masked_mobile = mask_phone(row.customer.mobile)
        row.customer_url = customer_url(row.customer)
    role_order = {OWNER_ROLE: 0, "tenant": 1, "resident": 2, "family": 3}
    rows.sort(key=lambda r: (not r.current, role_order.get(r.role, 9),
                             -(r.start_date.toordinal() if r.start_date else 0), r.pk))
    return rows


# Parking


def parking_list_queryset(user):
    queryset = ParkingSpace.objects.restrict(user, "view").select_related("project")
    if _model("customers", "Vehicle") is not None:
        queryset = queryset.prefetch_related("vehicles")
    return queryset


def parking_zones(user):
    return list(ParkingSpace.objects.restrict(user, "view").exclude(zone="").order_by("zone")
                .values_list("zone", flat=True).distinct())


def parking_vehicles(space):
    if _model("customers", "Vehicle") is None:
        return []
    vehicles = list(space.vehicles.select_related("customer").order_by("plate"))
    for vehicle in vehicles:
        vehicle.url = _url("customers:vehicle_detail", vehicle.pk)
        vehicle.customer_url = customer_url(vehicle.customer) if vehicle.customer_id else None
    return vehicles


# Project tabs


def project_buildings(project):
    area = (Unit.objects.filter(building=OuterRef("pk")).order_by().values("building")
            .annotate(total=Sum("building_area")).values("total"))
    return list(Building.objects.filter(project=project).select_related("property_type")
                .annotate(unit_count=count_related(Unit.objects.all(), "building"),
                          entrance_count=count_related(Entrance.objects.all(), "building"), area=Subquery(area)))


def project_parking_summary(project):
    spaces = ParkingSpace.objects.filter(project=project)
    by_status = dict(spaces.values_list("status").annotate(n=Count("id")).order_by())
    by_kind = dict(spaces.values_list("kind").annotate(n=Count("id")).order_by())
    zones = list(spaces.values("zone").annotate(n=Count("id")).order_by("zone"))
    return {
        "total": sum(by_status.values()),
        "by_status": [(value, label, by_status.get(value, 0)) for value, label in ParkingStatus.choices],
        "by_kind": [(value, label, by_kind.get(value, 0)) for value, label in ParkingKind.choices],
        "zones": zones,
    }
