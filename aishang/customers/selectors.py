"""Reads for the customer pages: scoped querysets with what each page shows, in a bounded number of queries."""

import json
import re

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from aishang.core.masking import mask_id_number, mask_phone
from aishang.estate.models import Building

from .models import Customer, Occupancy, Vehicle

PII_PERMISSION = "customers.view_customer_pii"
PII_MASKS = {"mobile": mask_phone, "id_number": mask_id_number, "phone": mask_phone, "emergency_phone": mask_phone}
PII_FIELDS = tuple(PII_MASKS)
ID_NUMBER_RE = re.compile(r"^[0-9A-Za-z]{15,18}$")
PLATE_LIKE_RE = re.compile(r"^[\u4e00-\u9fff][A-Za-z][A-Za-z0-9]{0,6}$")


def can_view_pii(user):
    return user.has_perm(PII_PERMISSION)


def mask_pii(name, value):
    return PII_MASKS[name](value or "")


def several_projects(user):
    return len(user.permitted_project_ids()) > 1


def current_occupancies_prefetch(on=None):
    queryset = Occupancy.objects.current(on or timezone.localdate()).select_related("unit").order_by("unit__code",
                                                                                                      "role")
    return Prefetch("occupancies", queryset=queryset, to_attr="current_occupancies")


def customer_list_queryset(user):
    """Customers the user may see, with their current units, for the list and its export."""
    return (Customer.objects.restrict(user, "view")
            .select_related("project")
            .prefetch_related(current_occupancies_prefetch()))


def customer_search(queryset, term):
    """Name, mobile (whole or last 4 digits), ID number, unit code (current occupancy) or plate."""
    term = (term or "").strip()
    if not term:
        return queryset
    condition = Q(name__icontains=term)
    if term.isdigit() and len(term) >= 4:
        condition |= Q(mobile__endswith=term)
    if ID_NUMBER_RE.match(term):
        condition |= Q(id_number__iexact=term)
    occupancies = Occupancy.objects.current(timezone.localdate()).filter(customer=OuterRef("pk"))
    condition |= Q(Exists(occupancies.filter(unit__code__iexact=term)))
    if PLATE_LIKE_RE.match(term):
        condition |= Q(Exists(Vehicle.objects.filter(customer=OuterRef("pk"), plate__icontains=term.upper())))
    return queryset.filter(condition)


def customers_with_current_role(queryset, role):
    occupancies = Occupancy.objects.current(timezone.localdate()).filter(customer=OuterRef("pk"), role=role)
    return queryset.filter(Exists(occupancies))


def customers_in_building(queryset, building):
    occupancies = Occupancy.objects.current(timezone.localdate()).filter(customer=OuterRef("pk"),
                                                                         unit__building=building)
    return queryset.filter(Exists(occupancies))


def customers_with_tag(queryset, tag):
    """Customers whose tag list holds the tag, on every database we run on."""
    from django.db import connection

    tag = tag.strip()
    if not tag:
        return queryset
    if connection.features.supports_json_field_contains:
        return queryset.filter(tags__contains=[tag])
    # SQLite keeps the list as JSON text with escaped non-ASCII: narrow in SQL, then keep exact matches only.
    escaped = json.dumps(tag)[1:-1]
    candidates = queryset.filter(Q(tags__icontains=tag) | Q(tags__icontains=escaped)).values_list("pk", "tags")
    return queryset.filter(pk__in=[pk for pk, tags in candidates if tag in (tags or [])])


def building_choices(user):
    return Building.objects.restrict(user, "view").select_related("project").order_by("project__name", "weight",
                                                                                        "code")


def unit_url(unit):
    """The unit's page when the estate pages provide one."""
    try:
        return reverse("estate:unit_detail", kwargs={"pk": unit.pk})
    except NoReverseMatch:
        return None


def customer_occupancies(customer):
    """All of a customer's occupancies, current first, each marked with ``unit_url``."""
    occupancies = list(Occupancy.objects.filter(customer=customer).select_related("unit", "unit__project"))
    for occupancy in occupancies:
        occupancy.unit_url = unit_url(occupancy.unit)
    occupancies.sort(key=lambda o: (not o.is_current, o.unit.code, o.role, -(o.start_date.toordinal()
                                                                              if o.start_date else 0)))
    return occupancies


def customer_vehicles(customer):
    return list(Vehicle.objects.filter(customer=customer).select_related("parking_space").order_by("plate"))


def vehicle_list_queryset(user):
    return Vehicle.objects.restrict(user, "view").select_related("project", "customer", "parking_space")
