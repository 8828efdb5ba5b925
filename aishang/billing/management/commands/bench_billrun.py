"""Time a bill run against a raw COPY (executemany on SQLite) of the same rows into a table of the bill's shape.

Everything runs in one transaction that is rolled back at the end, so nothing stays behind.
"""

import datetime
import re
import resource
import tempfile
import time
import tracemalloc
import uuid
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from aishang.billing import services
from aishang.billing.choices import BillingCycle, ChargeMethod
from aishang.billing.models import Bill, BindingTarget, ChargeRule, FeeItem, RuleBinding
from aishang.estate.models import Building, Project
from aishang.estate.services import company_create

PERIOD_MONTH = datetime.date(2026, 11, 1)
UNITS_PER_BUILDING = 1000
DISTINCT_AREAS = 2000
BILL_COLUMNS = ("unit_id", "payer_id", "amount", "computation", "project_id", "fee_item_id", "rule_id", "run_id",
                "kind", "period_start", "period_end", "due_date", "created_at")
UNIT_COLUMNS = ("created_at", "updated_at", "custom_field_data", "number", "code", "floor", "building_area",
                "inner_area", "layout", "decoration", "status", "delivered_on", "notes", "building_id", "project_id",
                "property_type_id")
CUSTOMER_COLUMNS = ("created_at", "updated_at", "custom_field_data", "kind", "name", "mobile", "phone", "id_type",
                    "id_number", "gender", "occupation", "employer", "emergency_contact", "emergency_phone", "email",
                    "tags", "notes", "project_id")
CHUNK = 50_000


class Rollback(Exception):
    pass


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "出账性能测试：生成 N 套房屋并出账，与同结构表的原始 COPY 速度对比（结束后全部回滚）"

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=None,
                            help="房屋数（PostgreSQL 默认 1,000,000，SQLite 默认 20,000）")
        parser.add_argument("--no-owners", action="store_true", help="不生成业主（账单无缴费人）")
        parser.add_argument("--unchecked-foreign-keys", action="store_true",
                            help="外键检查保持延迟（回滚时不执行），只用于与不含外键的草稿表比较")
        parser.add_argument("--tracemalloc", action="store_true",
                            help="出账时用 tracemalloc 记录 Python 内存峰值（会拖慢出账）")

    def handle(self, *args, units=None, no_owners=False, tracemalloc=False, unchecked_foreign_keys=False,
               **options):
        self.postgresql = connection.vendor == "postgresql"
        count = units or (1_000_000 if self.postgresql else 20_000)
        try:
            with transaction.atomic():
                if self.postgresql and not unchecked_foreign_keys:
                    # Each batch of a real run commits and checks its deferred foreign keys; here nothing
                    # commits, so check them per statement to pay the same cost.
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self.bench(count, owners=not no_owners, trace=tracemalloc, unchecked=unchecked_foreign_keys)
                raise Rollback
        except Rollback:
            pass

    def out(self, line):
        self.stdout.write(line)
        self.stdout.flush()

    def bench(self, count, *, owners, trace, unchecked):
        started = time.perf_counter()
        project = self.make_project(count, owners=owners)
        self.out(f"setup: {count:,} units{' with owners' if owners else ''} in {time.perf_counter() - started:.1f} s"
                 f" ({connection.vendor})")

        fee_item = FeeItem.objects.create(company=project.company, code="WY", name="物业费")
        rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="住宅物业费",
                                         unit_price=Decimal("1.80"), method=ChargeMethod.BUILDING_AREA,
                                         cycle=BillingCycle.MONTHLY,
                                         effective_from=datetime.date(2020, 1, 1))
        RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)

        tracemalloc.start()
        started = time.perf_counter()
        payers = services.payers_on(project, PERIOD_MONTH, tenant_first=False)
        elapsed = time.perf_counter() - started
        payer_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        self.out(f"payers_on: {len(payers):,} payers in {elapsed:.2f} s, {payer_bytes / 2**20:.1f} MiB")
        del payers

        run = services.bill_run_create(project=project, rules=[rule], period_month=PERIOD_MONTH)
        before = peak_mib()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        run = services.bill_run_post(run)
        run_seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        after = peak_mib()
        bills = run.bill_count
        run_rate = bills / run_seconds
        self.out(f"bill run: {bills:,} bills, {run.total_amount} 元, in {run_seconds:.2f} s = {run_rate:,.0f} bills/s"
                 f" (batches of {services.BATCH_SIZE:,})")

        raw_rows, raw_seconds = self.raw_copy(run) if self.postgresql else self.raw_executemany(run)
        raw_rate = raw_rows / raw_seconds
        method = "COPY" if self.postgresql else "executemany"
        self.out(f"raw {method} of the same rows into a scratch billing_bill: {raw_rows:,} rows in {raw_seconds:.2f} s"
                 f" = {raw_rate:,.0f} rows/s")
        self.out(f"peak memory (maxrss): {after:.1f} MiB after the run, {before:.1f} MiB before it"
                 + (f"; tracemalloc peak during the run {traced / 2**20:.1f} MiB" if traced is not None else ""))
        if self.postgresql:
            self.out("foreign keys of the bills: " + ("not checked (deferred, rolled back)" if unchecked
                                                      else "checked per statement, as each batch's commit does"))
        self.out(f"ratio: {run_rate / raw_rate:.2f}")

    def make_project(self, count, *, owners):
        tag = uuid.uuid4().hex[:8]
        company = company_create(name=f"出账压测 {tag}")
        project = Project.objects.create(company=company, name=f"出账压测 {tag}", code=f"BENCH{tag}")
        property_type_id = company.property_types.values_list("pk", flat=True).first()
        Building.objects.bulk_create([
            Building(project=project, code=str(number + 1), name=f"{number + 1}栋")
            for number in range(-(-count // UNITS_PER_BUILDING))
        ])
        buildings = list(Building.objects.filter(project=project).order_by("pk").values_list("pk", "code"))
        now = datetime.datetime.now(datetime.UTC).isoformat()

        def unit_rows():
            for index in range(count):
                building_id, building_code = buildings[index // UNITS_PER_BUILDING]
                area = Decimal(6000 + index * 7919 % DISTINCT_AREAS) / 100
                # One unit in 97 is handed over inside the billed month and pays by days.
                delivered = PERIOD_MONTH.replace(day=1 + index % 29).isoformat() if index % 97 == 0 else None
                yield (now, now, "{}", str(index), f"{building_code}-{index}", index % 30 + 1, str(area),
                       str(area * 4 // 5), "", "", "occupied", delivered, "", building_id, project.pk,
                       property_type_id)

        self.load("estate_unit", UNIT_COLUMNS, unit_rows())
        if owners:
            customers = ((now, now, "{}", "person", f"{buildings[index // UNITS_PER_BUILDING][1]}-{index}",
                          "13800138000", "", "", "", "unknown", "", "", "", "", "", "[]", "", project.pk)
                         for index in range(count))
            self.load("customers_customer", CUSTOMER_COLUMNS, customers)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO customers_occupancy (created_at, updated_at, role, relation, start_date, is_payer,"
                    " notes, customer_id, unit_id)"
                    " SELECT %s, %s, 'owner', 'self', %s, %s, '', c.id, u.id FROM estate_unit u"
                    " JOIN customers_customer c ON c.project_id = u.project_id AND c.name = u.code"
                    " WHERE u.project_id = %s",
                    [now, now, "2020-01-01", True, project.pk])
        return project

    def load(self, table, columns, rows):
        """COPY on PostgreSQL, executemany in chunks on SQLite."""
        names = ", ".join(columns)
        with connection.cursor() as cursor:
            if self.postgresql:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
            chunk = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    cursor.executemany(sql, chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)

    def raw_copy(self, run):
        """COPY the run's rows out to a file, then time only the COPY of that file into a scratch table."""
        names = ", ".join(BILL_COLUMNS)
        with connection.cursor() as cursor, tempfile.TemporaryFile() as dump:
            cursor.execute("CREATE TEMP TABLE bench_bill (LIKE billing_bill INCLUDING ALL)")
            with cursor.copy(f"COPY (SELECT {names} FROM billing_bill WHERE run_id = {int(run.pk)} ORDER BY id)"
                             " TO STDOUT") as copy:
                for block in copy:
                    dump.write(block)
            dump.seek(0)
            started = time.perf_counter()
            with cursor.copy(f"COPY bench_bill ({names}) FROM STDIN") as copy:
                while block := dump.read(1 << 20):
                    copy.write(block)
            elapsed = time.perf_counter() - started
            cursor.execute("SELECT count(*) FROM bench_bill")
            rows = cursor.fetchone()[0]
            cursor.execute("DROP TABLE bench_bill")
        return rows, elapsed

    def raw_executemany(self, run):
        with connection.cursor() as cursor:
            for (sql,) in cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'billing_bill'"
                                         " AND sql IS NOT NULL ORDER BY type DESC").fetchall():
                sql = re.sub(r' REFERENCES "\w+" \("\w+"\)( DEFERRABLE INITIALLY DEFERRED)?', "", sql)
                sql = re.sub(r'^CREATE (UNIQUE )?(TABLE|INDEX) "(\w+)"', r'CREATE \1TEMP \2 "bench_\3"', sql)
                sql = sql.replace('ON "billing_bill"', 'ON "bench_billing_bill"')
                cursor.execute(sql.replace("TEMP INDEX", "INDEX"))
            names = ", ".join(BILL_COLUMNS)
            rows = list(Bill.objects.filter(run=run).order_by("pk").values_list(*BILL_COLUMNS))
            sql = f"INSERT INTO bench_billing_bill ({names}) VALUES ({', '.join(['%s'] * len(BILL_COLUMNS))})"
            started = time.perf_counter()
            for start in range(0, len(rows), services.INSERT_BATCH_SIZE):
                cursor.executemany(sql, rows[start:start + services.INSERT_BATCH_SIZE])
            elapsed = time.perf_counter() - started
            cursor.execute('DROP TABLE "bench_billing_bill"')
        return len(rows), elapsed
