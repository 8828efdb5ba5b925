import datetime
import io
import itertools
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from aishang.core.demo import (
    DEMO_COMPANY_NAME,
    DEMO_PASSWORD,
    DEMO_STAFF,
    USCC_CHARS,
    USCC_WEIGHTS,
    demo_counts,
    demo_delete,
    demo_install,
)
from aishang.core.validators import validate_mobile, validate_resident_id
from aishang.customers.choices import CustomerKind, Gender, OccupancyRole, Relation
from aishang.customers.models import PLATE_RE, Customer, Occupancy, Vehicle
from aishang.estate.choices import ParkingKind, UnitStatus
from aishang.estate.models import Company, ParkingSpace, Project, Unit
from aishang.extras.models import CustomField, ObjectChange
from aishang.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One demo company, with its months at the desk, for the whole module: building it is the slow part."""
    day = timezone.localdate()
    with django_db_blocker.unblock():
        company = demo_install(activity=True, today=day).company
    company.built_on = day  # the tests' "today": the clock may pass midnight while they run
    yield company
    with django_db_blocker.unblock():
        demo_delete(company)
        assert not ObjectChange.objects.filter(company_id=company.pk).exists()


def projects(company):
    return {p.name: p for p in Project.objects.filter(company=company)}


def test_three_projects_of_the_expected_size(demo):
    by_name = projects(demo)
    assert set(by_name) == {"爱尚花园", "爱尚商业街", "爱尚科技园"}
    units = Counter(Unit.objects.filter(project__company=demo).values_list("project__name", flat=True))
    assert 1400 <= units["爱尚花园"] <= 1600
    assert 70 <= units["爱尚商业街"] <= 90
    assert 180 <= units["爱尚科技园"] <= 220
    assert 550 <= ParkingSpace.objects.filter(project=by_name["爱尚花园"]).count() <= 650
    kinds = set(ParkingSpace.objects.filter(project=by_name["爱尚花园"]).values_list("kind", flat=True))
    assert kinds == set(ParkingKind.values)


def test_units_are_coded_and_shaped_like_the_register(demo):
    units = list(Unit.objects.filter(project__company=demo).select_related("building", "entrance", "project",
                                                                           "property_type"))
    assert all(u.code == u.compose_code() for u in units)
    assert len({(u.project_id, u.code) for u in units}) == len(units)
    type_of = {"爱尚花园": "住宅", "爱尚商业街": "商铺", "爱尚科技园": "写字楼"}
    assert all(u.property_type.name == type_of[u.project.name] for u in units)
    homes = [u for u in units if u.project.name == "爱尚花园"]
    assert all(60 <= u.building_area <= 180 for u in homes)
    assert all(Decimal("0.775") <= u.inner_area / u.building_area <= Decimal("0.855") for u in homes)
    assert {u.building.height_class for u in homes} == {"高层", "多层"}
    assert {u.building.phase for u in homes} == {"一期", "二期"}
    statuses = Counter(u.status for u in homes)
    assert statuses.most_common(1)[0][0] == UnitStatus.OWNER_OCCUPIED
    assert set(statuses) == set(UnitStatus.values)
    shops = [u for u in units if u.project.name == "爱尚商业街"]
    assert all(u.custom_field_data["lease_status"] in {"自营", "已出租", "招租中"} for u in shops)
    assert any(u.custom_field_data.get("business_scope") for u in shops)
    suites = [u for u in units if u.project.name == "爱尚科技园"]
    assert sum(bool(u.custom_field_data.get("tenant_companies")) for u in suites) > len(suites) / 2


def test_every_person_has_a_valid_id_number_matching_gender_and_birth_date(demo):
    people = Customer.objects.filter(project__company=demo, kind=CustomerKind.PERSON)
    numbers = list(people.values_list("id_number", "gender", "birth_date"))
    assert len(numbers) > 2000
    assert len({n for n, _, _ in numbers}) == len(numbers)
    for number, gender, birth in numbers:
        validate_resident_id(number)
        assert (int(number[16]) % 2 == 1) == (gender == Gender.MALE)
        assert number[6:14] == birth.strftime("%Y%m%d")


def test_every_organisation_has_a_valid_credit_code(demo):
    codes = list(Customer.objects.filter(project__company=demo, kind=CustomerKind.ORGANIZATION)
                 .values_list("name", "id_number"))
    assert any(name.startswith("深圳市") and name.endswith("科技有限公司") for name, _ in codes)
    for _, code in codes:
        total = sum(USCC_CHARS.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
        assert code[17] == USCC_CHARS[(31 - total % 31) % 31]


def test_every_mobile_is_valid_and_only_children_have_none(demo):
    today = demo.built_on
    rows = list(Customer.objects.filter(project__company=demo).values_list("mobile", "birth_date"))
    for mobile, birth in rows:
        if mobile:
            validate_mobile(mobile)
        else:
            assert (today - birth).days < 16 * 366
    staff_mobiles = User.objects.filter(company=demo).values_list("mobile", flat=True)
    for mobile in staff_mobiles:
        validate_mobile(mobile)


def test_a_sample_of_customers_passes_model_validation(demo):
    for customer in list(Customer.objects.filter(project__company=demo).order_by("pk"))[::70]:
        try:
            customer.full_clean()
        except ValidationError as exc:
            pytest.fail(f"{customer} {exc.message_dict}")


def test_owners_tenants_family_and_history(demo):
    huayuan = projects(demo)["爱尚花园"]
    today = demo.built_on
    current = Occupancy.objects.filter(unit__project=huayuan).current(today)
    delivered = Unit.objects.filter(project=huayuan).exclude(status=UnitStatus.UNDELIVERED)
    owner_counts = Counter(current.filter(role=OccupancyRole.OWNER).values_list("unit_id", flat=True))
    assert set(owner_counts) == set(delivered.values_list("pk", flat=True))
    assert set(owner_counts.values()) == {1}
    rented = set(delivered.filter(status=UnitStatus.RENTED).values_list("pk", flat=True))
    assert rented == set(current.filter(role=OccupancyRole.TENANT).values_list("unit_id", flat=True))
    relations = set(current.filter(role=OccupancyRole.FAMILY).values_list("relation", flat=True))
    assert relations == {Relation.SPOUSE, Relation.CHILD, Relation.PARENT}
    history = Occupancy.objects.filter(unit__project=huayuan, role=OccupancyRole.OWNER, end_date__lt=today)
    assert history.count() > 50
    assert CustomField.objects.filter(company=demo, target="customer").count() == 2
    assert Customer.objects.filter(project=huayuan, custom_field_data__has_key="hobbies").exists()
    assert Customer.objects.filter(project=huayuan).exclude(tags=[]).exists()


def test_vehicles_have_valid_plates_and_estate_spaces(demo):
    vehicles = list(Vehicle.objects.filter(project__company=demo).select_related("parking_space", "customer"))
    assert len(vehicles) > 300
    assert all(PLATE_RE.match(v.plate) and v.plate.startswith("粤B") for v in vehicles)
    assert all(v.customer.project_id == v.project_id for v in vehicles)
    spaces = [v.parking_space for v in vehicles if v.parking_space]
    assert len(spaces) == len(set(spaces)) > 300
    assert all(s.project_id == v.project_id for v in vehicles if (s := v.parking_space))


def test_one_login_per_role_and_a_steward_for_the_garden_only(demo):
    huayuan = projects(demo)["爱尚花园"]
    users = {u.username: u for u in User.objects.filter(company=demo).prefetch_related("roles", "projects")}
    assert set(users) == {row[0] for row in DEMO_STAFF}
    assert {role.code for u in users.values() for role in u.roles.all()} == {
        "admin", "finance", "cashier", "service", "steward", "technician", "guard"}
    for username, role_code, _, project_name in DEMO_STAFF:
        user = users[username]
        assert user.check_password(DEMO_PASSWORD)
        assert [r.code for r in user.roles.all()] == [role_code]
        assert user.scope_all_projects is (project_name is None)
    steward = users["guanjia_huayuan"]
    assert list(steward.projects.all()) == [huayuan]
    visible = set(Unit.objects.restrict(steward).values_list("project_id", flat=True))
    assert visible == {huayuan.pk}
    assert Unit.objects.restrict(users["admin"]).count() == Unit.objects.filter(project__company=demo).count()


def test_a_second_run_changes_nothing_and_prints_the_logins(demo):
    before = demo_counts(demo)
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    assert Company.objects.filter(name=DEMO_COMPANY_NAME).count() == 1
    assert demo_counts(demo) == before
    text = out.getvalue()
    assert "已存在" in text
    for username, *_ in DEMO_STAFF:
        assert username in text
    assert DEMO_PASSWORD in text and "爱尚花园" in text


def test_reset_rebuilds_the_same_company(demo):
    before = demo_counts(demo)
    ids = sorted(Customer.objects.filter(project__company=demo).values_list("id_number", flat=True))
    out = io.StringIO()
    call_command("demo_data", "--reset", stdout=out)
    assert "已创建" in out.getvalue()
    company = Company.objects.get(name=DEMO_COMPANY_NAME)
    assert company.pk != demo.pk
    assert demo_counts(company) == before
    assert sorted(Customer.objects.filter(project__company=company).values_list("id_number", flat=True)) == ids
    assert not Unit.objects.filter(project__company_id=demo.pk).exists()


def test_leases_run_over_the_day_it_is_built(demo):
    leases = Occupancy.objects.filter(unit__project__company=demo, role=OccupancyRole.TENANT)
    assert leases.exists()
    assert all(lease.start_date <= demo.built_on <= lease.end_date for lease in leases)
    assert all(lease.start_date >= datetime.date(2016, 1, 1) for lease in leases)


def test_a_taken_username_stops_the_demo_before_it_writes_anything(demo):
    from aishang.core.testing import make_company, make_staff

    demo_delete(Company.objects.get(pk=demo.pk))
    make_staff(make_company(), "admin", username="kefu")
    with pytest.raises(CommandError, match="kefu"):
        call_command("demo_data", stdout=io.StringIO())
    assert not Company.objects.filter(name=DEMO_COMPANY_NAME).exists()


def test_a_demo_company_with_payments_refunds_deposits_closes_and_a_schedule_is_deleted_whole(demo):
    from aishang.billing.approvals import approval_request_create
    from aishang.billing.deposits import deposit_collect
    from aishang.billing.models import (
        Bill,
        BillRunSchedule,
        ChargeRule,
        Deposit,
        JournalEntry,
        Payment,
        PaymentReversal,
        PrepaidMovement,
        ShiftClose,
    )
    from aishang.billing.payments import Tender
    from aishang.core.testing import approve_at_every_level

    street = projects(demo)["爱尚商业街"]
    schedule = BillRunSchedule.objects.create(project=street, name="每月出账", day_of_month=1)
    schedule.rules.set(ChargeRule.objects.filter(project=street))
    cashier = User.objects.get(username="cashier_shangye")
    deposit_collect(project=street, unit=Unit.objects.filter(project=street).first(), kind="装修押金",
                    tenders=[Tender("cash", Decimal("2000.00"))], actor=cashier)
    payment = Payment.objects.filter(project=street, tenders__method="wechat").first()
    approve_at_every_level(approval_request_create(action="refund", payment=payment, amount=Decimal("10.00"),
                                                   refund_method="wechat", reason="多缴", actor=cashier))
    assert PaymentReversal.objects.filter(payment=payment).exists()
    assert ShiftClose.objects.filter(company=demo).exists() and PrepaidMovement.objects.filter(
        project__company=demo).exists()

    demo_delete(Company.objects.get(pk=demo.pk))  # a copy: the module's own company is deleted at its end

    for model in (Payment, Bill, Deposit, PaymentReversal, PrepaidMovement):
        assert not model.objects.filter(project__company_id=demo.pk).exists()
    assert not JournalEntry.objects.filter(company_id=demo.pk).exists()
    assert not ShiftClose.objects.filter(company_id=demo.pk).exists()
    assert not Company.objects.filter(pk=demo.pk).exists()


# The months at the desk: bills, payments, arrears, prepaid and closed shifts.


def test_three_months_of_bills_are_posted_and_most_are_paid_by_every_method_and_several_cashiers(demo):
    from aishang.billing.balances import bills_with_outstanding
    from aishang.billing.models import Bill, BillRun, Payment, PaymentTender

    today = demo.built_on
    months = set(BillRun.objects.filter(project__company=demo).values_list("period_month", flat=True))
    assert max(months) == today.replace(day=1) and len(months) == 3
    bills = bills_with_outstanding(Bill.objects.filter(project__company=demo))
    assert bills.filter(outstanding=0).count() > bills.count() * 0.55
    tenders = PaymentTender.objects.filter(payment__project__company=demo)
    assert set(tenders.values_list("method", flat=True)) >= {"cash", "card", "wechat", "alipay", "transfer"}
    assert tenders.filter(method="cash", change__gt=0).exists()
    payments = Payment.objects.filter(project__company=demo)
    assert set(payments.values_list("cashier__username", flat=True)) >= {"cashier", "finance", "cashier_shangye"}
    days = {timezone.localtime(moment).date() for moment in payments.values_list("received_at", flat=True)}
    assert min(days) >= min(months) and max(days) == today and len(days) > 60
    assert max(payments.values_list("received_at", flat=True)) < timezone.now()


def test_some_units_owe_one_two_or_three_months_and_some_keep_prepaid_money(demo):
    from aishang.billing.balances import bills_with_outstanding
    from aishang.billing.models import Bill, PrepaidMovement
    from aishang.core.money import money_totals

    open_bills = bills_with_outstanding(Bill.objects.filter(project__company=demo)).filter(outstanding__gt=0)
    # A month's run bills 物业费 and, in 爱尚花园, last month's water and electricity: count the months.
    unit_months = set(open_bills.values_list("unit_id", "run__period_month"))
    months_owed = Counter(Counter(unit for unit, _month in unit_months).values())
    assert set(months_owed) == {1, 2, 3}
    units = Unit.objects.filter(project__company=demo).count()
    assert months_owed[3] < units * 0.25 and sum(months_owed.values()) < units * 0.8
    balances = money_totals(PrepaidMovement.objects.filter(project__company=demo), ["account__unit",
                                                                                    "account__fee_item"])
    held = [key for key, balance in balances.items() if balance > 0]
    assert len(held) >= 5
    assert any(fee_item is None for _unit, fee_item in held) and any(fee_item for _unit, fee_item in held)


def test_the_cashiers_shift_was_closed_yesterday_and_todays_is_open(demo):
    from aishang.billing.closes import shift_summary
    from aishang.billing.models import ShiftClose

    cashier = User.objects.get(username="cashier", company=demo)
    closes = list(ShiftClose.objects.filter(cashier=cashier).order_by("period_end"))
    yesterday = demo.built_on - datetime.timedelta(days=1)
    assert timezone.localtime(closes[-1].period_end).date() == yesterday and len(closes) > 30
    assert all(later.period_start == earlier.period_end for earlier, later in itertools.pairwise(closes))
    assert all(close.cash_handed_over == close.cash_expected or close.note for close in closes)
    shift = shift_summary(cashier)
    assert shift.period_start == closes[-1].period_end and shift.payment_count > 0


def test_the_demo_company_reconciles(demo):
    out = io.StringIO()
    call_command("reconcile", "--company", DEMO_COMPANY_NAME, stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "对账结果：一致"


def test_huayuan_is_metered_and_its_runs_bill_last_months_readings(demo):
    from aishang.billing.models import Bill
    from aishang.meters.models import Meter, MeterReading

    huayuan = projects(demo)["爱尚花园"]
    flats = Unit.objects.filter(project=huayuan).exclude(status=UnitStatus.UNDELIVERED).count()
    assert Meter.objects.filter(project=huayuan, role="unit").count() == flats * 2
    readings = MeterReading.objects.filter(project=huayuan)
    assert readings.values("read_on").distinct().count() == 3
    assert readings.filter(kind="rollover").count() == 1 and readings.filter(flagged=True).count() == 1
    water = Bill.objects.filter(project=huayuan, fee_item__code="SF").order_by("-period_start").first()
    assert water.period_end == MeterReading.objects.filter(meter__unit=water.unit, meter__kind="water").latest(
        "read_on").read_on
    assert f"水表 W-{water.unit.code}" in water.computation
    electricity = Bill.objects.filter(project=huayuan, fee_item__code="DF", unit=water.unit,
                                      period_start=water.period_start).get()
    assert "公区照明公摊" in electricity.computation and "线损分摊" in electricity.computation


def test_the_demo_owners_printed_can_sign_in_with_a_code_and_see_bills_to_pay(demo):
    from django.core.cache import cache

    from aishang.core.demo import demo_owner_logins
    from aishang.customers.owners import owner_login_code_send, owner_sign_in_with_code
    from aishang.notifications.models import Message
    from aishang.portal.selectors import BillStatus, owner_bills

    rows = demo_owner_logins(demo)
    cache.clear()
    mobile = rows[0][0]
    owner_login_code_send(mobile=mobile)
    code = Message.objects.filter(template_code="owner_login_code", address=mobile).latest("pk").params["code"]
    account = owner_sign_in_with_code(mobile=mobile, code=code)

    assert len(rows) == 3 and len({row[0] for row in rows}) == 3
    assert owner_bills(account, status=BillStatus.OPEN).exists()
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    assert mobile in out.getvalue() and "消息记录" in out.getvalue()
