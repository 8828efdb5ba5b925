"""Factories for tests: a company with projects, units and people, and staff of each role.

Kept in the application (not only under tests/) because every app's tests share it.
"""

import datetime
import itertools
from decimal import Decimal

from aishang.core.validators import id_check_char

_counter = itertools.count(1)


def unique(prefix):
    return f"{prefix}{next(_counter)}"


def make_resident_id(birth="19800101", serial="123"):
    first17 = f"110101{birth}{serial}"
    return first17 + id_check_char(first17)


def make_company(name=None):
    from aishang.estate.services import company_create

    return company_create(name=name or unique("测试物业"))


def make_project(company, name=None, code=None):
    from aishang.estate.models import Project

    return Project.objects.create(company=company, name=name or unique("项目"), code=code or unique("P"))


def property_type(company, name="住宅"):
    return company.property_types.get(name=name)


def make_building(project, code=None, **fields):
    from aishang.estate.models import Building

    return Building.objects.create(project=project, code=code or unique("B"), **fields)


def make_unit(project, *, building=None, number=None, floor=3, area="120.50", type_name="住宅", **fields):
    from aishang.estate.models import Entrance, Unit

    building = building or make_building(project)
    entrance, _ = Entrance.objects.get_or_create(project=project, building=building, code="1")
    return Unit.objects.create(project=project, building=building, entrance=entrance, number=number or unique(""),
                               floor=floor, building_area=Decimal(area),
                               property_type=property_type(project.company, type_name), **fields)


def make_customer(project, name=None, mobile="13800138000", **fields):
    from aishang.customers.models import Customer

    return Customer.objects.create(project=project, name=name or unique("客户"), mobile=mobile, **fields)


def make_owner(unit, customer=None, start_date=datetime.date(2020, 1, 1)):
    from aishang.customers.choices import OccupancyRole
    from aishang.customers.models import Occupancy

    customer = customer or make_customer(unit.project)
    Occupancy.objects.create(unit=unit, customer=customer, role=OccupancyRole.OWNER, start_date=start_date,
                             is_payer=True)
    return customer


def make_staff(company, role_code="admin", projects=(), scope_all_projects=None, username=None,
               password="Passw0rd!2026"):
    from aishang.users.services import staff_create

    role = company.roles.get(code=role_code)
    if scope_all_projects is None:
        scope_all_projects = not projects
    return staff_create(company=company, username=username or unique("staff"), password=password,
                        display_name=unique("员工"), roles=[role], projects=projects,
                        scope_all_projects=scope_all_projects)
