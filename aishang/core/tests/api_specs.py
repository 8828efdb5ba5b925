"""What the API tests need to know about each register endpoint, declared once per model.

The generic CRUD tests and the access sweep walk the routers and look each model up here;
an endpoint without a spec fails ``test_every_registered_endpoint_is_covered_by_the_sweep``.
"""

import datetime
import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from aishang.billing.api.urls import router as billing_router
from aishang.billing.approvals import approval_request_create
from aishang.billing.closes import shift_close
from aishang.billing.deposits import deposit_collect
from aishang.billing.models import (
    ApprovalFlow,
    ApprovalRequest,
    Bill,
    BillDiscount,
    BillRun,
    BillRunSchedule,
    BillVoid,
    ChargeRule,
    Deposit,
    DiscountScheme,
    FeeItem,
    JournalEntry,
    Payment,
    PrepaidAccount,
    PrinterProfile,
    ReceiptPrint,
    ReceiptTemplate,
    RuleBinding,
    RulePrice,
    ShiftClose,
    Waiver,
)
from aishang.billing.payments import Tender, payment_collect, prepaid_account
from aishang.billing.receipts import receipt_print_record
from aishang.billing.services import bill_run_create
from aishang.core.testing import (
    all_register_permissions,
    make_bill,
    make_bill_void,
    make_building,
    make_charge_rule,
    make_company,
    make_custom_field,
    make_customer,
    make_entrance,
    make_fee_item,
    make_message,
    make_owner,
    make_parking_space,
    make_plate,
    make_project,
    make_role,
    make_staff,
    make_unit,
    make_vehicle,
    make_waiver,
    property_type,
    unique,
)
from aishang.customers.api.urls import router as customers_router
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.estate.api.urls import router as estate_router
from aishang.estate.models import Building, Company, Entrance, ParkingSpace, Project, PropertyType, Unit
from aishang.extras.api.urls import router as extras_router
from aishang.extras.models import CustomField, ObjectChange
from aishang.meters.allocation_runs import allocation_preview
from aishang.meters.api.urls import router as meters_router
from aishang.meters.models import AllocationRule, AllocationRun, Meter, MeterReading
from aishang.meters.readings import reading_record
from aishang.notifications.api.urls import router as notifications_router
from aishang.notifications.models import Message
from aishang.payments.api.urls import router as payments_router
from aishang.payments.models import GatewayConfig, PaymentOrder
from aishang.payments.sandbox.services import sandbox_config_create
from aishang.payments.services import order_create
from aishang.users.api.urls import router as users_router
from aishang.users.models import Role, User

ROUTERS = {"estate": estate_router, "customers": customers_router, "users": users_router, "extras": extras_router,
           "notifications": notifications_router, "billing": billing_router, "meters": meters_router,
           "payments": payments_router}
_price_days = itertools.count(1)
_reading_days = itertools.count(1)


def registered_routes(app=None):
    """(prefix, viewset) of every registered endpoint, optionally of one app."""
    return [(prefix, viewset) for name, router in ROUTERS.items() if app in (None, name)
            for prefix, viewset, _basename in router.registry]


def route_id(route):
    return route[0]


def route_model(route):
    return route[1].queryset.model


def is_read_only(route):
    return not hasattr(route[1], "update")


class World:
    """One company with projects A and B, and another company, each with a little register."""

    def __init__(self):
        self.company = make_company()
        self.project_a = make_project(self.company)
        self.project_b = make_project(self.company)
        self.other_company = make_company()
        self.other_project = make_project(self.other_company)
        self._made = {}

    def _once(self, kind, project, factory):
        key = (kind, project.pk)
        if key not in self._made:
            self._made[key] = factory(project)
        return self._made[key]

    def building(self, project):
        return self._once("building", project, make_building)

    def meter(self, project):
        return self._once("meter", project, lambda p: Meter.objects.create(
            project=p, kind="water", role="unit", unit=self.unit(p), number=unique("W-"),
            install_date=datetime.date(2020, 1, 1)))

    def public_meter(self, project):
        """A public meter with one reading in October 2026, over a delivered unit."""
        def make(p):
            make_unit(p, building=self.building(p), delivered_on=datetime.date(2026, 1, 1))
            meter = Meter.objects.create(project=p, kind="electricity", role="public", number=unique("E-P"),
                                         name="公区照明", install_date=datetime.date(2026, 9, 1))
            reading_record(meter=meter, value=Decimal("120"), read_on=datetime.date(2026, 10, 31), actor=None)
            return meter
        return self._once("public_meter", project, make)

    def allocation_rule(self, project):
        return self._once("allocation_rule", project, lambda p: AllocationRule.objects.create(
            project=p, name=unique("公摊"), meter=self.public_meter(p)))

    def unit(self, project):
        return self._once("unit", project, lambda p: make_unit(p, building=self.building(p)))

    def customer(self, project):
        return self._once("customer", project, make_customer)

    def parking_space(self, project):
        return self._once("parking_space", project, make_parking_space)

    def residential(self, company):
        return property_type(company, "住宅")

    def role(self, company, code="service"):
        return company.roles.get(code=code)

    def fee_item(self, company):
        return self._once("fee_item", company, make_fee_item)

    def rule(self, project):
        return self._once("rule", project, lambda p: make_charge_rule(p, fee_item=self.fee_item(p.company)))

    def bill(self, project):
        return self._once("bill", project, make_bill)


@dataclass
class Spec:
    """How to make one object of the model in a project (or company), and a create payload.

    ``payload(world, home, refs)`` is a create body whose own project (or company) is ``home`` and
    whose references point into ``refs``; ``None`` where the endpoint creates nothing.
    """

    make: Any
    payload: Any = None
    patch: dict = field(default_factory=dict)
    company_level: bool = False
    has_references: bool = True


def _reading(world, project):
    day = next(_reading_days)
    return reading_record(meter=world.meter(project), value=Decimal(day * 10), actor=None,
                          read_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=day))


def _reading_payload(world, home):
    day = next(_reading_days)
    return {"meter": world.meter(home).pk, "value": str(day * 10),
            "read_on": (datetime.date(2020, 1, 1) + datetime.timedelta(days=day)).isoformat()}


def _object_change(world, project):
    building = make_building(project)
    return ObjectChange.objects.filter(object_id=building.pk, object_type__model="building").get()


def _journal_entry(world, project):
    make_bill(project)
    return JournalEntry.objects.filter(project=project).latest("id")


def _bill_discount(world, project):
    bill = make_bill(project)
    scheme = DiscountScheme.objects.create(company=project.company, name=unique("优惠"), rate="0.90",
                                           valid_from=datetime.date(2026, 1, 1), is_active=False)
    return BillDiscount.objects.create(project=project, bill=bill, scheme=scheme, amount="1.00")


def _schedule(world, project):
    schedule = BillRunSchedule.objects.create(project=project, name=unique("定时"), day_of_month=1)
    schedule.rules.set([world.rule(project)])
    return schedule


def _approval_request(world, project):
    return approval_request_create(action="waiver", bill=make_bill(project), amount="10.00", reason="困难减免",
                                   actor=make_staff(project.company, "cashier"))


def _deposit(project):
    return deposit_collect(project=project, unit=make_unit(project), kind="装修押金",
                           tenders=[Tender("cash", Decimal("500.00"))], actor=make_staff(project.company, "cashier"))


def _prepaid_account(project):
    unit = make_unit(project)
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[Tender("cash", Decimal("80.00"))],
                    actor=make_staff(project.company, "cashier"))
    return prepaid_account(unit)


def _payment(world, project):
    bill = make_bill(project)
    return payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", bill.amount)],
                           actor=make_staff(project.company, "cashier"))


def _cashier_with_an_open_shift(company):
    cashier = make_staff(company, "cashier")
    project = make_project(company)
    bill = make_bill(project, "100.00")
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", bill.amount)], actor=cashier)
    return cashier


def _shift_close(world, company):
    cashier = _cashier_with_an_open_shift(company)
    return shift_close(cashier=cashier, cash_handed_over="100.00", actor=cashier)


def _receipt_print(world, project):
    return receipt_print_record(payment=_payment(world, project), template=None,
                                actor=make_staff(project.company, "cashier"))


def _payment_order(world, project):
    if not GatewayConfig.objects.filter(company=project.company, gateway="alipay").exists():
        sandbox_config_create(project.company, "alipay")
    return order_create(gateway="alipay", bills=[make_bill(project)], actor_label="业主")


def _price_day():
    """A fresh effective date for each price change (one per rule and day)."""
    return (datetime.date(2027, 1, 1) + datetime.timedelta(days=next(_price_days))).isoformat()


SPECS = {
    PaymentOrder: Spec(make=_payment_order),
    Message: Spec(make=lambda w, project: make_message(project.company, channel="sms",
                                                       recipient=make_customer(project))),
    Company: Spec(
        make=lambda w, company: company,
        patch={"short_name": "新简称"},
        company_level=True,
    ),
    PropertyType: Spec(
        make=lambda w, company: PropertyType.objects.create(company=company, name=unique("业态")),
        payload=lambda w, home, refs: {"company": home.pk, "name": unique("业态"), "kind": "shop"},
        patch={"description": "沿街商铺"},
        company_level=True,
        has_references=False,
    ),
    CustomField: Spec(
        make=lambda w, company: make_custom_field(company),
        payload=lambda w, home, refs: {"company": home.pk, "target": "unit", "name": unique("f_"), "label": "朝向",
                                       "property_type": w.residential(refs).pk},
        patch={"label": "房屋朝向"},
        company_level=True,
    ),
    Role: Spec(
        make=lambda w, company: make_role(company, ["estate.view_unit"]),
        payload=lambda w, home, refs: {"company": home.pk, "code": unique("role-"), "name": unique("角色"),
                                       "permissions": ["estate.view_unit"]},
        patch={"description": "只看房屋"},
        company_level=True,
        has_references=False,
    ),
    Project: Spec(
        make=lambda w, project: project,
        payload=lambda w, home, refs: {"code": unique("P"), "name": unique("项目"), "company": home.company_id},
        patch={"manager_name": "王经理"},
        has_references=False,
    ),
    Building: Spec(
        make=lambda w, project: make_building(project),
        payload=lambda w, home, refs: {"project": home.pk, "code": unique("B"),
                                       "property_type": w.residential(refs.company).pk},
        patch={"name": "一号楼"},
        has_references=False,
    ),
    Entrance: Spec(
        make=lambda w, project: make_entrance(w.building(project)),
        payload=lambda w, home, refs: {"project": home.pk, "building": w.building(refs).pk, "code": unique("E")},
        patch={"has_elevator": False},
    ),
    Unit: Spec(
        make=lambda w, project: make_unit(project, building=w.building(project)),
        payload=lambda w, home, refs: {"project": home.pk, "building": w.building(refs).pk, "number": unique("R"),
                                       "floor": 3, "property_type": w.residential(refs.company).pk,
                                       "building_area": "98.50"},
        patch={"layout": "三室两厅"},
    ),
    ParkingSpace: Spec(
        make=lambda w, project: make_parking_space(project),
        payload=lambda w, home, refs: {"project": home.pk, "number": unique("P-"), "zone": "地下一层"},
        patch={"zone": "地下二层"},
        has_references=False,
    ),
    Customer: Spec(
        make=lambda w, project: make_customer(project),
        payload=lambda w, home, refs: {"project": home.pk, "name": unique("客户"), "mobile": "13912345678"},
        patch={"occupation": "教师"},
        has_references=False,
    ),
    Occupancy: Spec(
        make=lambda w, project: make_owner(w.unit(project)).occupancies.get(),
        payload=lambda w, home, refs: {"unit": w.unit(home).pk, "customer": w.customer(refs).pk, "role": "tenant"},
        patch={"notes": "长租"},
    ),
    Vehicle: Spec(
        make=lambda w, project: make_vehicle(project),
        payload=lambda w, home, refs: {"project": home.pk, "customer": w.customer(refs).pk, "plate": make_plate(),
                                       "parking_space": w.parking_space(refs).pk},
        patch={"color": "白色"},
    ),
    User: Spec(
        make=lambda w, project: make_staff(project.company, "service", projects=[project]),
        payload=lambda w, home, refs: {"username": unique("api"), "password": "Qiyu2026pass",
                                       "display_name": "新员工", "roles": [w.role(home.company).pk],
                                       "projects": [refs.pk]},
        patch={"display_name": "改名"},
    ),
    ObjectChange: Spec(make=_object_change),
    FeeItem: Spec(
        make=lambda w, company: make_fee_item(company),
        payload=lambda w, home, refs: {"company": home.pk, "code": unique("F"), "name": unique("收费项目")},
        patch={"name": "物业服务费"},
        company_level=True,
        has_references=False,
    ),
    ChargeRule: Spec(
        make=lambda w, project: make_charge_rule(project, fee_item=w.fee_item(project.company)),
        payload=lambda w, home, refs: {"project": home.pk, "fee_item": w.fee_item(refs.company).pk,
                                       "name": unique("收费标准"), "method": "fixed", "unit_price": "100.0000",
                                       "effective_from": "2026-01-01"},
        patch={"unit_price": "120.0000"},
        # The fee item is the company's, shared by every project: nothing here can point into another project.
        has_references=False,
    ),
    RuleBinding: Spec(
        make=lambda w, project: w.rule(project).bindings.get(),
        payload=lambda w, home, refs: {"rule": w.rule(home).pk, "target": "building", "building": w.building(refs).pk},
        patch={"target": "project"},
    ),
    RulePrice: Spec(
        make=lambda w, project: RulePrice.objects.create(rule=w.rule(project), effective_from=_price_day(),
                                                         unit_price="2.0000"),
        payload=lambda w, home, refs: {"rule": w.rule(home).pk, "effective_from": _price_day(),
                                       "unit_price": "2.2000"},
        has_references=False,
    ),
    BillRun: Spec(
        make=lambda w, project: bill_run_create(project=project, rules=[w.rule(project)],
                                                period_month=datetime.date(2026, 11, 1)),
        payload=lambda w, home, refs: {"project": home.pk, "period_month": "2026-11", "rules": [w.rule(refs).pk]},
    ),
    Bill: Spec(make=lambda w, project: make_bill(project)),
    Waiver: Spec(make=lambda w, project: make_waiver(make_bill(project))),
    BillVoid: Spec(make=lambda w, project: make_bill_void(make_bill(project))),
    JournalEntry: Spec(make=_journal_entry),
    ApprovalFlow: Spec(
        make=lambda w, company: ApprovalFlow.objects.get(company=company, action="waiver"),
        company_level=True,
    ),
    DiscountScheme: Spec(
        make=lambda w, company: DiscountScheme.objects.create(company=company, name=unique("优惠"), rate="0.90",
                                                              valid_from=datetime.date(2026, 1, 1)),
        payload=lambda w, home, refs: {"company": home.pk, "name": unique("优惠"), "kind": "percent", "rate": "0.90",
                                       "valid_from": "2026-01-01"},
        patch={"rate": "0.9500"},
        company_level=True,
        has_references=False,
    ),
    BillDiscount: Spec(make=_bill_discount),
    BillRunSchedule: Spec(
        make=lambda w, project: _schedule(w, project),
        payload=lambda w, home, refs: {"project": home.pk, "name": unique("定时"), "rules": [w.rule(refs).pk],
                                       "day_of_month": 1},
        patch={"day_of_month": 5},
    ),
    Payment: Spec(
        make=_payment,
        payload=lambda w, home, refs: {"unit": w.unit(home).pk, "tenders": [{"method": "cash", "amount": "50.00"}]},
        has_references=False,
    ),
    ShiftClose: Spec(
        make=_shift_close,
        payload=lambda w, home, refs: {"cashier": _cashier_with_an_open_shift(refs).pk, "cash_handed_over": "100.00"},
        company_level=True,
    ),
    ReceiptTemplate: Spec(
        make=lambda w, company: ReceiptTemplate.objects.create(company=company, name=unique("收据模板"),
                                                               fields=["receipt_number", "total_capitals"]),
        payload=lambda w, home, refs: {"company": home.pk, "name": unique("收据模板"), "title": "收款收据",
                                       "paper": "a5", "layout": "standard",
                                       "fields": ["receipt_number", "items", "total_capitals"]},
        patch={"title": "物业费收据"},
        company_level=True,
        has_references=False,
    ),
    PrinterProfile: Spec(
        make=lambda w, company: PrinterProfile.objects.create(company=company, name=unique("打印机"), offset_x="1.5"),
        payload=lambda w, home, refs: {"company": home.pk, "name": unique("打印机"), "offset_x": "-2.0",
                                       "offset_y": "1.5"},
        patch={"offset_y": "3.0"},
        company_level=True,
        has_references=False,
    ),
    ReceiptPrint: Spec(
        make=_receipt_print,
        payload=lambda w, home, refs: {"payment": _payment(w, home).pk},
        has_references=False,
    ),
    Deposit: Spec(
        make=lambda w, project: _deposit(project),
        payload=lambda w, home, refs: {"unit": w.unit(home).pk, "kind": "装修押金",
                                       "tenders": [{"method": "cash", "amount": "500.00"}]},
        has_references=False,
    ),
    PrepaidAccount: Spec(make=lambda w, project: _prepaid_account(project)),
    Meter: Spec(
        make=lambda w, project: w.meter(project),
        payload=lambda w, home, refs: {"project": home.pk, "kind": "water", "role": "unit", "number": unique("W-"),
                                       "unit": w.unit(refs).pk, "install_date": "2026-01-01", "multiplier": "1"},
        patch={"notes": "厨房"},
    ),
    MeterReading: Spec(
        make=_reading,
        payload=lambda w, home, refs: _reading_payload(w, home),
        has_references=False,
    ),
    AllocationRule: Spec(
        make=lambda w, project: w.allocation_rule(project),
        payload=lambda w, home, refs: {"project": home.pk, "name": unique("公摊"), "meter": w.public_meter(refs).pk,
                                       "purpose": "shared", "basis": "area", "scope": "buildings",
                                       "buildings": [w.building(refs).pk]},
        patch={"notes": "按面积公摊"},
    ),
    AllocationRun: Spec(
        make=lambda w, project: allocation_preview(rule=w.allocation_rule(project),
                                                   period_start=datetime.date(2026, 10, 1),
                                                   period_end=datetime.date(2026, 10, 31), actor=None),
        payload=lambda w, home, refs: {"rule": w.allocation_rule(refs).pk, "period_start": "2026-10-01",
                                       "period_end": "2026-10-31"},
    ),
    ApprovalRequest: Spec(
        make=_approval_request,
        payload=lambda w, home, refs: {"bill": w.bill(home).pk, "action": "waiver", "amount": "10.00",
                                       "reason": "困难减免"},
        has_references=False,
    ),
}


def _readings_file(world, project):
    """An xlsx of one reading of the project's meter, as 抄表导入 takes it."""
    workbook = Workbook()
    workbook.active.append(["表号", "本期读数", "本期抄表日期"])
    workbook.active.append([world.meter(project).number, 10 * next(_reading_days), datetime.date(2026, 1, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("读数.xlsx", buffer.getvalue())


@dataclass
class ProjectEndpoint:
    """An API view outside the routers that acts on one project named in its request, and the model it writes."""

    method: str
    path: str
    body: Any  # (world, project) -> the request's data
    writes: Any = None
    format: str = "multipart"


# The access sweep sends each a request for a project outside the caller's scope (404, nothing written), and for
# one inside it (answered).
PROJECT_ENDPOINTS = {
    "aishang.meters.api.imports.ReadingImportView": ProjectEndpoint(
        "post", "/api/v1/meter-readings/import/",
        lambda w, project: {"project": project.pk, "file": _readings_file(w, project)}, writes=MeterReading),
    "aishang.meters.api.imports.ReadingImportTemplateView": ProjectEndpoint(
        "get", "/api/v1/meter-readings/import-template/", lambda w, project: {"project": project.pk}, format=None),
    "aishang.meters.api.allocation_batch.AllocationBatchView": ProjectEndpoint(
        "post", "/api/v1/allocation-runs/batch/", lambda w, project: _allocation_batch(w, project),
        writes=AllocationRun, format="json"),
    "aishang.meters.api.allocation_batch.AllocationPostBatchView": ProjectEndpoint(
        "post", "/api/v1/allocation-runs/post-batch/", lambda w, project: {"runs": [_allocation_draft(w, project).pk]},
        format="json"),
}


def _allocation_batch(world, project):
    """一键分摊 of October: the project's rule, over a unit delivered before, on the public meter's reading."""
    world.allocation_rule(project)
    make_unit(project, building=world.building(project), delivered_on=datetime.date(2026, 1, 1))
    return {"project": project.pk, "period_start": "2026-10-01", "period_end": "2026-10-31"}


def _allocation_draft(world, project):
    return SPECS[AllocationRun].make(world, project)


def spec_for(route):
    return SPECS[route_model(route)]


def full_admin_role(company):
    return make_role(company, all_register_permissions(), name="全权限")


def staff_with_role(company, role, projects=()):
    user = make_staff(company, "guard", projects=projects)
    user.roles.set([role])
    return user


def list_url(route):
    return f"/api/v1/{route[0]}/"


def detail_url(route, obj):
    return f"/api/v1/{route[0]}/{obj.pk}/"


def listed_ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def company_admin(world):
    """A staff member of ``world.company`` with every register permission and all projects."""
    return staff_with_role(world.company, full_admin_role(world.company))


def crud_routes(app):
    return [route for route in registered_routes(app) if SPECS[route_model(route)].payload is not None]


def assert_crud_round_trip(client, route, world):
    """Create, read, patch, put and delete one object through the endpoint."""
    spec = spec_for(route)
    home = world.company if spec.company_level else world.project_a
    body = spec.payload(world, home, home)

    created = client.post(list_url(route), body, format="json")
    assert created.status_code == 201, created.content
    url = f"{list_url(route)}{created.json()['id']}/"
    assert client.get(url).json() == created.json()

    patched = client.patch(url, spec.patch, format="json")
    assert patched.status_code == 200, patched.content
    assert {key: patched.json()[key] for key in spec.patch} == spec.patch

    replaced = client.put(url, body, format="json")
    assert replaced.status_code == 200, replaced.content

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    return created.json()["id"]
