"""Time opening the 收银台 for one unit among millions of bills, against the same SQL run raw.

The data set (default 5,000,000 bills over many units of a few projects, most old bills paid, some discounted,
with the target unit's ten years of five fee items) is loaded once with COPY and kept: a later run reuses it,
``--rebuild`` loads it afresh. It is kept only in a database whose name says it is for benchmarks (such as
``aishang_bench``), unless ``--any-database`` is given.

The view is timed through Django's test client as a logged-in cashier, middleware and template included. The
statements it sends are captured once, then the same statements are timed through a raw cursor, turn about with
the view so that both see the same load on the machine. The last line is ``ratio: R`` = view p95 / raw p95.
"""

import datetime
import logging
import math
import os
import re
import tempfile
import time
import warnings
from contextlib import ExitStack, contextmanager
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from aishang.billing.choices import BillingCycle, ChargeMethod
from aishang.billing.desk import unit_desk
from aishang.billing.models import (
    Bill,
    BillRun,
    BillRunStatus,
    BindingTarget,
    ChargeRule,
    DiscountScheme,
    FeeItem,
    ReceiptSequence,
    RuleBinding,
)
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import make_bill_void, make_staff, make_waiver
from aishang.customers.models import Customer, Occupancy
from aishang.estate.models import Building, Entrance, Project, Unit
from aishang.estate.services import company_create

DECLARED_CURSOR = re.compile(r'DECLARE "\w+" NO SCROLL CURSOR (?:WITH(?:OUT)? HOLD )?FOR (.*)', re.DOTALL)
DATASET_COMPANY = "收银台压测"
TARGET = ("8", "2", "1808")  # building, entrance, number
CASHIER_USERNAME = "bench_cashier"
DEFAULT_BILLS = 5_000_000
HISTORY_MONTHS = 60  # of an ordinary unit; the target unit has ten years
TARGET_MONTHS = 120
TARGET_OPEN_MONTHS = 4
UNITS_PER_PROJECT = 5_000
UNITS_PER_BUILDING = 200
OTHER_UNITS_STEP = 97  # opened once each after the timing: pages the repeated opens did not warm
# code, name, whether it charges a late fee
FEE_ITEMS = (
    ("WY", "物业费", True),
    ("DT", "电梯费", False),
    ("GT", "公摊水电费", False),
    ("LJ", "垃圾清运费", False),
    ("CW", "车位管理费", False),
)
METHODS = ("wechat", "cash", "alipay", "card", "transfer")
UNIT_COLUMNS = ("id", "created_at", "updated_at", "custom_field_data", "number", "code", "floor", "building_area",
                "inner_area", "layout", "decoration", "status", "notes", "building_id", "project_id",
                "property_type_id")
CUSTOMER_COLUMNS = ("id", "created_at", "updated_at", "custom_field_data", "kind", "name", "mobile", "phone",
                    "id_type", "id_number", "gender", "occupation", "employer", "emergency_contact",
                    "emergency_phone", "email", "tags", "notes", "project_id")
OCCUPANCY_COLUMNS = ("created_at", "updated_at", "role", "relation", "start_date", "is_payer", "notes", "customer_id",
                     "unit_id")
BILL_COLUMNS = ("id", "project_id", "unit_id", "payer_id", "fee_item_id", "rule_id", "run_id", "kind", "period_start",
                "period_end", "due_date", "amount", "computation", "created_at")
PAYMENT_COLUMNS = ("id", "created_at", "amount", "receipt_number", "received_at", "order_override_reason", "note",
                   "company_id", "payer_id", "project_id", "unit_id", "source")
TENDER_COLUMNS = ("payment_id", "method", "amount", "change", "reference")
ALLOCATION_COLUMNS = ("amount", "created_at", "bill_id", "project_id", "payment_id")
DISCOUNT_COLUMNS = ("amount", "computation", "created_at", "bill_id", "project_id", "scheme_id")
TABLES = {
    "estate_unit": UNIT_COLUMNS,
    "customers_customer": CUSTOMER_COLUMNS,
    "customers_occupancy": OCCUPANCY_COLUMNS,
    "billing_bill": BILL_COLUMNS,
    "billing_billdiscount": DISCOUNT_COLUMNS,
    "billing_payment": PAYMENT_COLUMNS,
    "billing_paymenttender": TENDER_COLUMNS,
    "billing_allocation": ALLOCATION_COLUMNS,
}
# Each loaded row's references, checked in one query per reference after a load that skipped the per-row checks.
REFERENCES = (
    ("estate_unit", "building_id", "estate_building"), ("estate_unit", "project_id", "estate_project"),
    ("customers_occupancy", "unit_id", "estate_unit"), ("customers_occupancy", "customer_id", "customers_customer"),
    ("billing_bill", "unit_id", "estate_unit"), ("billing_bill", "payer_id", "customers_customer"),
    ("billing_bill", "fee_item_id", "billing_feeitem"), ("billing_bill", "rule_id", "billing_chargerule"),
    ("billing_bill", "run_id", "billing_billrun"), ("billing_bill", "project_id", "estate_project"),
    ("billing_billdiscount", "bill_id", "billing_bill"),
    ("billing_billdiscount", "scheme_id", "billing_discountscheme"),
    ("billing_payment", "unit_id", "estate_unit"), ("billing_paymenttender", "payment_id", "billing_payment"),
    ("billing_allocation", "bill_id", "billing_bill"), ("billing_allocation", "payment_id", "billing_payment"),
)


def raw_statement(sql):
    """The statement as a raw cursor runs it: a server-side cursor's DECLARE (QuerySet.iterator()) as its SELECT."""
    declared = DECLARED_CURSOR.match(sql)
    return declared.group(1) if declared else sql


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(month):
    return add_months(month, 1) - datetime.timedelta(days=1)


def percentile(values, share):
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def fee_amounts(area, index, months):
    """A unit's monthly amounts in fen for each fee item: by area, fixed, or (公摊) varying by month."""
    return (
        [(area * 220 + 50) // 100] * months,
        [(area * 35 + 50) // 100] * months,
        [1500 + (index * 31 + month * 17) % 4000 for month in range(months)],
        [1500] * months,
        [8000] * months,
    )


class Rows(ExitStack):
    """One scratch file per table, written as COPY text and loaded afterwards."""

    def __enter__(self):
        super().__enter__()
        self.files = {}
        for table in TABLES:
            self.files[table] = self.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
        self.counts = dict.fromkeys(TABLES, 0)
        return self

    def add(self, table, line):
        self.files[table].write(line)
        self.counts[table] += 1


class Command(BaseCommand):
    help = "收银台性能测试：在大量账单中打开一套十年账单的房屋，服务器 p95 时间与同样 SQL 直接执行的时间对比"

    def add_arguments(self, parser):
        parser.add_argument("--bills", type=int, default=DEFAULT_BILLS,
                            help="数据集的账单数（目标房屋的 600 张之外），默认 5,000,000")
        parser.add_argument("--repeat", type=int, default=200, help="计时次数（默认 200）")
        parser.add_argument("--warmup", type=int, default=20, help="计时前预热次数（默认 20）")
        parser.add_argument("--rebuild", action="store_true",
                            help="清空压测数据库后重新生成数据集（只用于名称含 bench 的数据库）")
        parser.add_argument("--any-database", action="store_true",
                            help="允许在名称不含 bench 的数据库上生成并保留数据集")

    def handle(self, *args, bills, repeat, warmup, rebuild, any_database, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_cashier 需要 PostgreSQL（请设置 DATABASE_URL）")
        name = connection.settings_dict["NAME"]
        bench_database = "bench" in name
        if not (bench_database or any_database):
            raise CommandError(f"数据库 {name} 的名称不含 bench：数据集会留在库中。请用压测数据库"
                               f"（如 DATABASE_URL=postgres://…/aishang_bench，先 migrate），或加 --any-database")
        if rebuild and not bench_database:
            raise CommandError("--rebuild 会清空整个数据库，只用于名称含 bench 的数据库")
        if bills < 5 * HISTORY_MONTHS:
            raise CommandError(f"--bills 至少为 {5 * HISTORY_MONTHS}")
        self.out(f"database: {name} (PostgreSQL {connection.pg_version // 10000}), load average "
                 f"{', '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
        if rebuild:
            self.out("rebuild: emptying the benchmark database")
            call_command("flush", interactive=False, verbosity=0)
        unit, cashier = self.dataset(bills)
        self.measure(unit, cashier, repeat=repeat, warmup=warmup)

    def out(self, line):
        self.stdout.write(line)
        self.stdout.flush()

    # The data set.

    def dataset(self, bills):
        projects = Project.objects.filter(company__name=DATASET_COMPANY).order_by("pk")
        first = projects.first()
        if first is not None:
            built_for = int(first.code.split("-")[1])
            if built_for != bills:
                raise CommandError(f"库中已有 {built_for:,} 张账单的数据集；重建请加 --rebuild")
            unit = Unit.objects.select_related("project").get(project=first, building__code=TARGET[0],
                                                              entrance__code=TARGET[1], number=TARGET[2])
            self.out(f"data set: reused ({self.describe(projects)})")
            return unit, first.company.staff.get(username=CASHIER_USERNAME)
        started = time.perf_counter()
        with transaction.atomic():
            unit, cashier, rows = self.build(bills)
        seconds = time.perf_counter() - started
        loaded = sum(rows.values())
        if not connection.in_atomic_block:
            # As autovacuum would soon after such a load: statistics, and the visibility map for index-only scans.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
        self.out(f"data set: built in {time.perf_counter() - started:.0f} s, {loaded:,} rows loaded by COPY"
                 f" ({loaded / seconds:,.0f} rows/s); {self.describe(projects)}")
        return unit, cashier

    def describe(self, projects):
        ids = list(projects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            counts = []
            for table in ("billing_bill", "billing_allocation", "billing_payment", "billing_billdiscount"):
                cursor.execute(f"SELECT count(*) FROM {table} WHERE project_id = ANY(%s)", [ids])
                counts.append(cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM estate_unit WHERE project_id = ANY(%s)", [ids])
            units = cursor.fetchone()[0]
        return (f"{counts[0]:,} bills of {units:,} units in {len(ids)} projects, {counts[1]:,} allocations of "
                f"{counts[2]:,} payments, {counts[3]:,} discounts")

    def build(self, bills):
        today = datetime.date.today()
        last_month = today.replace(day=1)
        units = -(-bills // (5 * HISTORY_MONTHS))
        company = company_create(name=DATASET_COMPANY)
        projects = [Project.objects.create(company=company, code=f"CB-{bills}-{number + 1}",
                                           name=f"收银台压测 {number + 1} 期")
                    for number in range(-(-units // UNITS_PER_PROJECT))]
        fee_items = [FeeItem.objects.create(company=company, code=code, name=name, late_fee_enabled=late_fee)
                     for code, name, late_fee in FEE_ITEMS]
        first_month = add_months(last_month, 1 - TARGET_MONTHS)
        rules, runs = {}, {}
        for project in projects:
            for fee_item in fee_items:
                rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name=f"{fee_item.name}标准",
                                                 method=ChargeMethod.FIXED, cycle=BillingCycle.MONTHLY,
                                                 unit_price=Decimal("1"), effective_from=first_month)
                RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
                rules[project.pk, fee_item.pk] = rule.pk
            for run in BillRun.objects.bulk_create(
                    BillRun(project=project, period_month=add_months(first_month, month),
                            status=BillRunStatus.POSTED, posted_at=datetime.datetime.now(datetime.UTC))
                    for month in range(TARGET_MONTHS)):
                runs[project.pk, run.period_month] = run.pk
        scheme = DiscountScheme.objects.create(company=company, name="年缴九五折", rate=Decimal("0.95"),
                                               valid_from=first_month)
        scheme.fee_items.set([fee_items[0]])
        property_type = company.property_types.get(name="住宅")
        buildings = {}
        for project in projects:
            made = Building.objects.bulk_create(
                Building(project=project, code=str(number + 1), name=f"{number + 1}栋")
                for number in range(-(-UNITS_PER_PROJECT // UNITS_PER_BUILDING) + 8))
            buildings[project.pk] = [building.pk for building in made]
        target_building = Building.objects.get(project=projects[0], code=TARGET[0])
        target = Unit.objects.create(project=projects[0], building=target_building,
                                     entrance=Entrance.objects.create(project=projects[0], building=target_building,
                                                                      code=TARGET[1]),
                                     number=TARGET[2], floor=18, building_area=Decimal("126.35"),
                                     property_type=property_type, status="occupied")
        owner = Customer.objects.create(project=projects[0], name="陈晓梅", mobile="13912345678")
        Occupancy.objects.create(unit=target, customer=owner, role="owner", start_date=first_month, is_payer=True)

        with connection.cursor() as cursor:
            for table in ("estate_unit", "customers_customer", "billing_bill", "billing_payment"):
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            first_ids = {table: self.next_id(cursor, table)
                         for table in ("estate_unit", "customers_customer", "billing_bill", "billing_payment")}
        generator = Generator(company=company, projects=projects, fee_items=fee_items, rules=rules, runs=runs,
                              scheme=scheme, property_type=property_type, buildings=buildings, first_ids=first_ids,
                              last_month=last_month)
        with Rows() as rows:
            started = time.perf_counter()
            generator.write(rows, units=units, bills=bills, target=target, owner=owner)
            self.out(f"generated {sum(rows.counts.values()):,} rows in {time.perf_counter() - started:.0f} s")
            with connection.cursor() as cursor:
                for table, next_id in generator.next_ids.items():
                    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                                   [table, max(next_id, first_ids[table]) - 1])
            self.load(rows)
        for year, last_number in generator.receipt_numbers.items():
            ReceiptSequence.objects.create(company=company, year=year, last_number=last_number)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE billing_billrun r SET bill_count = b.count, total_amount = b.total FROM"
                           " (SELECT run_id, count(*) AS count, sum(amount) AS total FROM billing_bill"
                           "  WHERE project_id = ANY(%s) GROUP BY run_id) b WHERE r.id = b.run_id",
                           [[project.pk for project in projects]])
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        cashier = self.corrections(company, projects, target, fee_items)
        return target, cashier, rows.counts

    def next_id(self, cursor, table):
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
        return cursor.fetchone()[0]

    def load(self, rows):
        """COPY each file in. Per-row reference checks are skipped where the role may (then checked per table)."""
        started = time.perf_counter()
        with connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    cursor.execute("SET LOCAL session_replication_role = replica")
                checked_after = True
            except DatabaseError:
                checked_after = False
            for table, columns in TABLES.items():
                file = rows.files[table]
                file.seek(0)
                table_started = time.perf_counter()
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    while block := file.read(1 << 20):
                        copy.write(block)
                seconds = time.perf_counter() - table_started
                self.out(f"  COPY {table}: {rows.counts[table]:,} rows in {seconds:.1f} s"
                         f" ({rows.counts[table] / max(seconds, 1e-9):,.0f} rows/s)")
            if checked_after:
                cursor.execute("SET LOCAL session_replication_role = origin")
                for table, column, target in REFERENCES:
                    cursor.execute(f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS"
                                   f" (SELECT 1 FROM {target} r WHERE r.id = t.{column})")
                    if missing := cursor.fetchone()[0]:
                        raise CommandError(f"{table}.{column}: {missing} rows refer to nothing")
        self.out(f"loaded in {time.perf_counter() - started:.0f} s; references "
                 + ("checked per table after the load" if checked_after else "checked row by row"))

    def corrections(self, company, projects, target, fee_items):
        """What the services write: the target's waiver and void (through approval), prepaid top-ups, a cashier."""
        cashier = make_staff(company, "cashier", projects=[projects[0]], username=CASHIER_USERNAME)
        open_bills = list(Bill.objects.filter(unit=target, period_start__gte=add_months(
            target.bills.order_by("-period_start").values_list("period_start", flat=True).first(),
            1 - TARGET_OPEN_MONTHS)).order_by("period_start", "fee_item__code"))
        garbage = next(bill for bill in open_bills if bill.fee_item.code == "LJ")
        shared = next(bill for bill in open_bills if bill.fee_item.code == "GT")
        make_waiver(shared, amount="5.00", requester=cashier)
        make_bill_void(garbage, requester=cashier)
        payment_collect(project=projects[0], unit=target, bill_ids=[], actor=cashier,
                        tenders=[Tender("cash", Decimal("300.00"))])
        payment_collect(project=projects[0], unit=target, bill_ids=[], actor=cashier,
                        tenders=[Tender("wechat", Decimal("1000.00"))], prepaid_to=fee_items[0])
        for unit in Unit.objects.filter(project=projects[0]).exclude(pk=target.pk).order_by("pk")[:20:3]:
            payment_collect(project=projects[0], unit=unit, bill_ids=[], actor=cashier,
                            tenders=[Tender("alipay", Decimal("200.00"))])
        return cashier

    # The measurement.

    def measure(self, unit, cashier, *, repeat, warmup):
        today = datetime.date.today()
        groups = unit_desk(cashier, unit.pk, today).groups
        bill_count = Bill.objects.filter(unit=unit).count()
        open_count = sum(len(bills) for _fee_item, bills in groups)
        self.out(f"desk of unit {unit.code}: {bill_count} bills, {open_count} open in {len(groups)} fee items")
        url = reverse("billing:desk_unit", args=[unit.pk])
        client = Client()
        with quiet():
            client.force_login(cashier)
        with quiet(), override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]), self.raw_cursor() as cursor:
            for _ in range(warmup):
                self.get(client, url)
            with CaptureQueriesContext(connection) as captured:
                self.get(client, url)
            statements = [raw_statement(query["sql"]) for query in captured.captured_queries]
            for _ in range(max(1, warmup // 2)):
                self.replay(cursor, statements)
            view_times, cpu_times, raw_times = [], [], []
            per_statement = [0.0] * len(statements)
            for _ in range(repeat):
                cpu_started = time.process_time()
                view_times.append(self.get(client, url))
                cpu_times.append((time.process_time() - cpu_started) * 1000)
                raw_times.append(self.replay(cursor, statements, per_statement))
            others = [self.get(client, reverse("billing:desk_unit", args=[pk])) for pk in
                      Unit.objects.filter(project=unit.project_id).exclude(pk=unit.pk).order_by("pk")
                      .values_list("pk", flat=True)[::OTHER_UNITS_STEP]]
        view_p95, raw_p95 = percentile(view_times, 0.95), percentile(raw_times, 0.95)
        self.out(f"view (test client as a logged-in cashier, {repeat} times after {warmup} to warm up):"
                 f" p50 {percentile(view_times, 0.5):.1f} ms, p95 {view_p95:.1f} ms, max {max(view_times):.1f} ms;"
                 f" {len(statements)} queries")
        self.out(f"  of which this process's CPU (Python: middleware, ORM, template): p50"
                 f" {percentile(cpu_times, 0.5):.1f} ms; the rest waits on the database or for a CPU")
        self.out(f"raw SQL (the same {len(statements)} statements through a cursor): p50"
                 f" {percentile(raw_times, 0.5):.1f} ms, p95 {raw_p95:.1f} ms, max {max(raw_times):.1f} ms")
        self.out(f"{len(others)} other units of the project (five years of bills each), each opened once:"
                 f" p50 {percentile(others, 0.5):.1f} ms, p95 {percentile(others, 0.95):.1f} ms")
        slowest = sorted(range(len(statements)), key=per_statement.__getitem__, reverse=True)[:3]
        for index in slowest:
            self.out(f"  {per_statement[index] / repeat:.2f} ms mean: {statements[index][:150]}")
        self.out(f"goal p95 ≤ 50 ms: {'met' if view_p95 <= 50 else 'NOT met'}; load average now"
                 f" {', '.join(f'{value:.1f}' for value in os.getloadavg())}")
        self.out(f"ratio: {view_p95 / raw_p95:.2f}")

    def get(self, client, url):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}")
        return elapsed

    @contextmanager
    def raw_cursor(self):
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            yield cursor

    def replay(self, cursor, statements, per_statement=None):
        started = time.perf_counter()
        for index, sql in enumerate(statements):
            statement_started = time.perf_counter()
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
            if per_statement is not None:
                per_statement[index] += (time.perf_counter() - statement_started) * 1000
        return (time.perf_counter() - started) * 1000


@contextmanager
def quiet():
    """Without the log lines of the login and the warning about collected static files, which are not timed."""
    axes = logging.getLogger("axes")
    level = axes.level
    axes.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at")
            yield
    finally:
        axes.setLevel(level)


class Account:
    """A unit's side of the data set: its owner, how many months it has been billed, how many it owes."""

    def __init__(self, *, project, unit, payer, area, index, months, open_months, discounted, part_paid):
        self.project, self.unit, self.payer, self.index = project, unit, payer, index
        self.months, self.open_months, self.discounted, self.part_paid = months, open_months, discounted, part_paid
        self.amounts = fee_amounts(area, index, months)
        self.computations = (f"{yuan(area)}㎡ × 2.20 元/㎡", f"{yuan(area)}㎡ × 0.35 元/㎡", "按月分摊", "定额", "定额")
        self.settled = []


class Generator:
    """Writes the data set's rows: units with an owner each, their monthly bills of five fee items, and the
    payments that settled all but the last months (a quarter at a time), in COPY text."""

    def __init__(self, *, company, projects, fee_items, rules, runs, scheme, property_type, buildings, first_ids,
                 last_month):
        self.company, self.projects, self.fee_items = company, projects, fee_items
        self.rules, self.runs, self.scheme, self.property_type = rules, runs, scheme, property_type
        self.buildings, self.last_month = buildings, last_month
        self.next_ids = dict(first_ids)
        self.receipt_numbers = {}
        self.now = datetime.datetime.now(datetime.UTC).isoformat()
        self.today = datetime.date.today()

    def take_id(self, table):
        value = self.next_ids[table]
        self.next_ids[table] += 1
        return value

    def write(self, rows, *, units, bills, target, owner):
        accounts, remaining = [], bills
        for index in range(units):
            months = min(HISTORY_MONTHS, remaining // 5)
            remaining -= months * 5
            project = self.projects[index // UNITS_PER_PROJECT]
            local = index % UNITS_PER_PROJECT
            building = self.buildings[project.pk][local // UNITS_PER_BUILDING]
            floor, flat = divmod(local % UNITS_PER_BUILDING, 10)
            number = f"{floor + 1}{flat + 1:02d}"
            code = f"{local // UNITS_PER_BUILDING + 1}-{number}"
            area = 6000 + index * 7919 % 9000  # hundredths of a ㎡: 60.00 to 149.99
            unit_id, customer_id = self.take_id("estate_unit"), self.take_id("customers_customer")
            rows.add("estate_unit", f"{unit_id}\t{self.now}\t{self.now}\t{{}}\t{number}\t{code}\t{floor + 1}\t"
                                    f"{yuan(area)}\t\\N\t三室两厅\t精装\toccupied\t\t{building}\t{project.pk}\t"
                                    f"{self.property_type.pk}\n")
            rows.add("customers_customer", f"{customer_id}\t{self.now}\t{self.now}\t{{}}\tperson\t业主{index}\t"
                                           f"139{index:08d}\t\t\t\tunknown\t\t\t\t\t\t[]\t\t{project.pk}\n")
            rows.add("customers_occupancy", f"{self.now}\t{self.now}\towner\tself\t2015-01-01\tt\t\t{customer_id}\t"
                                            f"{unit_id}\n")
            if index % 50 == 7:
                open_months = 6 + index % 19  # in arrears for months
            elif index % 10 == 3:
                open_months = 3
            else:
                open_months = index % 2
            accounts.append(Account(project=project.pk, unit=unit_id, payer=customer_id, area=area, index=index,
                                    months=months, open_months=open_months, discounted=index % 10 == 1,
                                    part_paid=bool(open_months) and index % 7 == 0))
        accounts.append(Account(project=target.project_id, unit=target.pk, payer=owner.pk,
                                area=int(target.building_area * 100), index=units, months=TARGET_MONTHS,
                                open_months=TARGET_OPEN_MONTHS, discounted=True, part_paid=True))
        # Month by month, as bill runs post them and payments come in: a unit's bills lie apart in the table.
        first_month = add_months(self.last_month, 1 - TARGET_MONTHS)
        for number in range(TARGET_MONTHS):
            month = add_months(first_month, number)
            start, end, due = month.isoformat(), month_end(month).isoformat(), month.replace(day=15).isoformat()
            created = f"{start} 08:00:00+08"
            for account in accounts:
                own = number - (TARGET_MONTHS - account.months)
                if own >= 0:
                    self.month_bills(rows, account, own, month, f"{start}\t{end}\t{due}", created)

    def month_bills(self, rows, account, number, month, period, created):
        project, unit, run = account.project, account.unit, self.runs[account.project, month]
        paid_months = account.months - account.open_months
        for item, fee_item in enumerate(self.fee_items):
            bill_id = self.take_id("billing_bill")
            fen = account.amounts[item][number]
            rows.add("billing_bill", f"{bill_id}\t{project}\t{unit}\t{account.payer}\t{fee_item.pk}\t"
                                     f"{self.rules[project, fee_item.pk]}\t{run}\tregular\t{period}\t{yuan(fen)}\t"
                                     f"{account.computations[item]}\t{created}\n")
            if account.discounted and item == 0:
                discount = (fen * 5 + 50) // 100
                fen -= discount
                rows.add("billing_billdiscount", f"{yuan(discount)}\t年缴九五折 5%\t{created}\t{bill_id}\t"
                                                 f"{project}\t{self.scheme.pk}\n")
            if number < paid_months:
                account.settled.append((bill_id, fen))
            elif account.part_paid and number == paid_months and item == 0:
                self.payment(rows, account, [(bill_id, fen // 2)], self.paid_on(month))
        if number < paid_months and (month.month % 3 == 0 or number == paid_months - 1):
            self.payment(rows, account, account.settled, self.paid_on(month))
            account.settled = []

    def paid_on(self, month):
        """When a month's bills were paid: a few days into the next month, or today for this month's."""
        return min(add_months(month, 1) + datetime.timedelta(days=4), self.today)

    def payment(self, rows, account, settled, received):
        project, method = account.project, METHODS[account.index % len(METHODS)]
        payment_id = self.take_id("billing_payment")
        total = sum(fen for _bill, fen in settled)
        year = received.year
        self.receipt_numbers[year] = number = self.receipt_numbers.get(year, 0) + 1
        at = f"{received.isoformat()} 10:30:00+08"
        rows.add("billing_payment", f"{payment_id}\t{at}\t{yuan(total)}\tSJ{year}-{number:06d}\t{at}\t\t\t"
                                    f"{self.company.pk}\t{account.payer}\t{project}\t{account.unit}\tdesk\n")
        rows.add("billing_paymenttender", f"{payment_id}\t{method}\t{yuan(total)}\t0\t\n")
        for bill_id, fen in settled:
            rows.add("billing_allocation", f"{yuan(fen)}\t{at}\t{bill_id}\t{project}\t{payment_id}\n")
