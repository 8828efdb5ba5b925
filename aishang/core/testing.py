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


def make_entrance(building, code=None, **fields):
    from aishang.estate.models import Entrance

    return Entrance.objects.create(project=building.project, building=building, code=code or unique("E"), **fields)


def make_parking_space(project, number=None, **fields):
    from aishang.estate.models import ParkingSpace

    return ParkingSpace.objects.create(project=project, number=number or unique("P-"), **fields)


def make_plate():
    return f"粤B{next(_counter) % 100000:05d}"


def make_vehicle(project, customer=None, plate=None, **fields):
    from aishang.customers.models import Vehicle

    return Vehicle.objects.create(project=project, customer=customer, plate=plate or make_plate(), **fields)


def make_custom_field(company, name=None, *, target="unit", field_type="text", label=None, **fields):
    from aishang.extras.models import CustomField

    name = name or unique("field_")
    return CustomField.objects.create(company=company, target=target, name=name, label=label or name,
                                      field_type=field_type, **fields)


def make_role(company, permissions=(), code=None, name=None):
    """A role with permissions named ``"app.codename"``."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    from aishang.users.models import Role

    role = Role.objects.create(company=company, code=code or unique("role-"), name=name or unique("角色"))
    query = Q(pk__in=[])
    for permission in permissions:
        app_label, codename = permission.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    role.permissions.set(Permission.objects.filter(query))
    return role


def all_register_permissions():
    """Every permission of the register apps, as "app.codename": what a full administrator holds."""
    from django.contrib.auth.models import Permission

    return [f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
            .filter(content_type__app_label__in=["estate", "customers", "users", "extras", "notifications",
                                                          "billing", "meters", "payments"])]


def api_client(user=None):
    """A DRF test client that authenticates with the user's API token, as an integrator would."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def make_occupancy(unit, customer, role="owner", start_date=datetime.date(2020, 1, 1), **fields):
    from aishang.customers.models import Occupancy

    return Occupancy.objects.create(unit=unit, customer=customer, role=role, start_date=start_date, **fields)


def make_message(company, *, channel="in_app", recipient=None, status="sent", **fields):
    """An outbox row written directly (no delivery), for list, inbox and API tests."""
    from aishang.notifications.models import Message

    fields.setdefault("dedupe_key", unique("test-message:"))
    fields.setdefault("template_code", "bill_posted")
    fields.setdefault("title", unique("消息"))
    fields.setdefault("body", "测试内容")
    if recipient is not None and hasattr(recipient, "project_id"):
        fields.setdefault("recipient_customer", recipient)
        fields.setdefault("project_id", recipient.project_id)
    elif recipient is not None:
        fields.setdefault("recipient_user", recipient)
    if recipient is not None:
        fields.setdefault("recipient_name", str(recipient))
    return Message.objects.create(company=company, channel=channel, status=status, **fields)


def make_sms_config(company, **fields):
    from aishang.notifications.models import SmsProviderConfig

    fields.setdefault("access_key_id", "testId")
    fields.setdefault("access_key_secret", "testSecret")
    fields.setdefault("sign_name", "爱尚物业")
    return SmsProviderConfig.objects.create(company=company, **fields)


def make_message_template(company, code="bill_posted", **fields):
    from aishang.notifications.models import MessageTemplate
    from aishang.notifications.rendering import TEMPLATE_KINDS

    kind = TEMPLATE_KINDS.get(code)
    fields.setdefault("name", str(kind.name) if kind else code)
    fields.setdefault("title", kind.title if kind else code)
    fields.setdefault("body", kind.body if kind else code)
    return MessageTemplate.objects.create(company=company, code=code, **fields)


def make_fee_item(company, code=None, name=None, **fields):
    from aishang.billing.models import FeeItem

    return FeeItem.objects.create(company=company, code=code or unique("F"), name=name or unique("收费项目"), **fields)


def make_charge_rule(project, *, fee_item=None, price="1.80", method="building_area", units=None,
                     effective_from=datetime.date(2020, 1, 1), name=None, **fields):
    """A rule bound to the whole project, or to ``units`` when given."""
    from aishang.billing.models import BindingTarget, ChargeRule, RuleBinding

    rule = ChargeRule.objects.create(project=project, fee_item=fee_item or make_fee_item(project.company),
                                     name=name or unique("收费标准"), method=method, unit_price=Decimal(price),
                                     effective_from=effective_from, **fields)
    if units is None:
        RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    for unit in units or ():
        RuleBinding.objects.create(rule=rule, target=BindingTarget.UNIT, unit=unit)
    return rule


def make_bill(project, amount="1200.00", *, unit=None, fee_item=None, period_month=datetime.date(2026, 11, 1)):
    """One bill of a fixed ``amount``, posted by a bill run as in production (with its journal entry)."""
    from aishang.billing.services import bill_run_create, bill_run_post

    unit = unit or make_unit(project)
    rule = make_charge_rule(project, fee_item=fee_item, price=amount, method="fixed", units=[unit])
    run = bill_run_post(bill_run_create(project=project, rules=[rule], period_month=period_month))
    return run.bills.get()


def approve_at_every_level(request):
    """Approve a pending request level by level, each level by a new staff member holding its role."""
    from aishang.billing.approvals import approval_decide
    from aishang.users.models import Role

    while request.is_pending:
        role = Role.objects.get(pk=request.current_role_id)
        approver = make_staff(request.project.company, role.code)
        request = approval_decide(request=request, actor=approver, approve=True)
    return request


def make_waiver(bill, amount="100.00", requester=None):
    from aishang.billing.approvals import approval_request_create

    requester = requester or make_staff(bill.project.company, "cashier")
    request = approval_request_create(action="waiver", bill=bill, amount=Decimal(amount), reason="困难减免",
                                      actor=requester)
    return approve_at_every_level(request).waiver


def make_bill_void(bill, requester=None):
    from aishang.billing.approvals import approval_request_create

    requester = requester or make_staff(bill.project.company, "cashier")
    request = approval_request_create(action="void", bill=bill, reason="重复出账", actor=requester)
    return approve_at_every_level(request).bill_void


def htmx_idle(page):
    """In a browser test, wait until htmx has swapped and settled, so the next action meets the new elements."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def missing_id(table):
    """An id no row of the table has, for a reference that points at nothing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1000 FROM {table}")
        return cursor.fetchone()[0]


def foreign_key_violation(error):
    """Whether a pytest.raises(IntegrityError) caught PostgreSQL's foreign_key_violation (23503)."""
    return getattr(error.value.__cause__, "sqlstate", None) == "23503"


def at_once(*calls):
    """Run the calls in threads that start together, each on its own database connection (a test that commits for
    real); returns (what they returned, what they raised), each in the order they ended."""
    import threading

    from django.db import connections

    start, returned, raised = threading.Barrier(len(calls)), [], []

    def run(call):
        try:
            start.wait()
            returned.append(call())
        except Exception as exc:  # handed to the test: a thread's exception would only be printed
            raised.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return returned, raised
