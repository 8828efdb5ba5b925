"""Time a bill run against a raw COPY (executemany on SQLite) of the same rows into a table of the bill's shape.

Everything runs in one transaction that is rolled back at the end, so nothing stays behind. The bills'
reference checks (triggers at the end of each statement, migration 0005) and the other tables'
foreign keys are paid inside it as a real run pays them.
"""

import datetime
import re
import resource
import tempfile
import time
import tracemalloc
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection, transaction

from aishang.billing import services
from aishang.billing.choices import BillingCycle, ChargeMethod
from aishang.billing.models import Bill, BindingTarget, ChargeRule, FeeItem, RuleBinding
from aishang.estate.models import Building, Project
from aishang.estate.services import company_create

PERIOD_MONTH = datetime.date(2026, 11, 1)
UNITS_PER_BUILDING = 1000
DISTINCT_AREAS = 2000
BILL_COLUMNS = ("unit_id", "parking_space_id", "payer_id", "amount", "computation", "project_id", "fee_item_id",
                "rule_id", "run_id", "kind", "period_start", "period_end", "due_date", "created_at")
UNIT_COLUMNS = ("created_at", "updated_at", "custom_field_data", "number", "code", "floor", "building_area",
                "inner_area", "layout", "decoration", "status", "delivered_on", "notes", "building_id", "project_id",
                "property_type_id")
CUSTOMER_COLUMNS = ("created_at", "updated_at", "custom_field_data", "kind", "name", "mobile", "phone", "id_type",
                    "id_number", "gender", "occupation", "employer", "emergency_contact", "emergency_phone", "email",
                    "tags", "notes", "project_id")
CHUNK = 50_000
PROC = Path("/proc/self")
# What the run and the raw COPY leave behind (dead rows of the rolled-back transaction), vacuumed afterwards.
TOUCHED_TABLES = ("billing_bill", "billing_journalentry", "billing_posting", "customers_occupancy",
                  "customers_customer", "estate_unit", "estate_building")


class Rollback(Exception):
    pass


def peak_mib():
    """The peak resident set: since the last reset_peak() on Linux, else since the process began."""
    try:
        status = (PROC / "status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


def reset_peak():
    """Start the peak count afresh (Linux 4.0+), so that setup's peak does not hide the run's."""
    try:
        (PROC / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def memory_watch(count):
    """Peak memory once a tenth of the bills are posted, and at the end: flat means the run streams."""
    post_batch, marks = services._post_batch, {"posted": 0}

    def watched(run, source, rows, actor):
        post_batch(run, source, rows, actor)
        marks["posted"] += len(rows)
        if "tenth" not in marks and marks["posted"] >= count / 10:
            marks["tenth"] = peak_mib()

    services._post_batch = watched
    try:
        yield marks
    finally:
        services._post_batch = post_batch
        marks["end"] = peak_mib()


class Command(BaseCommand):
    help = "出账性能测试：生成 N 套房屋并出账，与同结构表的原始 COPY 速度对比（结束后全部回滚）"

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=None,
                            help="房屋数（PostgreSQL 默认 1,000,000，SQLite 默认 20,000）")
        parser.add_argument("--no-owners", action="store_true", help="不生成业主（账单无缴费人）")
        parser.add_argument("--unchecked-foreign-keys", action="store_true",
                            help="不检查账单引用（以 session_replication_role=replica 关闭触发器和外键），"
                                 "只用于衡量检查本身的开销")
        parser.add_argument("--tracemalloc", action="store_true",
                            help="出账时用 tracemalloc 记录 Python 内存峰值（会拖慢出账）")

    def handle(self, *args, units=None, no_owners=False, tracemalloc=False, unchecked_foreign_keys=False,
               **options):
        self.postgresql = connection.vendor == "postgresql"
        count = units or (1_000_000 if self.postgresql else 20_000)
        try:
            with transaction.atomic():
                if self.postgresql:
                    with connection.cursor() as cursor:
                        if unchecked_foreign_keys:
                            cursor.execute("SET LOCAL session_replication_role = replica")
                        else:
                            # The bills' references are checked at the end of each COPY, as in a real run;
                            # the journal's foreign keys are deferred to each batch's commit, and nothing
                            # commits here, so check them per statement to pay the same cost.
                            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self.bench(count, owners=not no_owners, trace=tracemalloc, unchecked=unchecked_foreign_keys)
                raise Rollback
        except Rollback:
            pass
        if self.postgresql and not connection.in_atomic_block:
            # Leave the tables as they were found: without their million dead rows the next run is timed alike.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM {', '.join(TOUCHED_TABLES)}")

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

        if self.postgresql:
            # A real database with a million units has statistics (autovacuum); the rows loaded above have none.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE estate_unit, customers_customer, customers_occupancy")

        run = services.bill_run_create(project=project, rules=[rule], period_month=PERIOD_MONTH)
        self.checkpoint()
        reset = reset_peak()
        before = peak_mib()
        if trace:
            tracemalloc.start()
        with memory_watch(count) as memory:
            started = time.perf_counter()
            run = services.bill_run_post(run)
            run_seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        bills = run.bill_count
        run_rate = bills / run_seconds
        self.out(f"bill run: {bills:,} bills, {run.total_amount} 元, in {run_seconds:.2f} s = {run_rate:,.0f} bills/s"
                 f" (batches of {services.BATCH_SIZE:,})")
        tenth = memory.get("tenth", memory["end"])
        self.out(f"peak memory (RSS{'' if reset else ', since the process began'}): {before:.1f} MiB before the run,"
                 f" {tenth:.1f} MiB once a tenth of the bills were posted, {memory['end']:.1f} MiB at the end"
                 f" (growth {memory['end'] - tenth:+.1f} MiB)"
                 + (f"; tracemalloc peak {traced / 2**20:.1f} MiB" if traced is not None else ""))

        if self.postgresql:
            # The bill table is logged (WAL) like any table that keeps money, and so is this scratch table;
            # a TEMP table skips the WAL and flatters the raw side: shown too, the ratio is against the former.
            raw_rows, raw_seconds = self.raw_copy(run, temporary=False)
            raw_rate = raw_rows / raw_seconds
            self.out(f"raw COPY of the same rows into a scratch billing_bill: {raw_rows:,} rows in {raw_seconds:.2f} s"
                     f" = {raw_rate:,.0f} rows/s")
            temp_rows, temp_seconds = self.raw_copy(run, temporary=True)
            self.out(f"raw COPY of the same rows into a TEMP (unlogged) scratch billing_bill: {temp_rows:,} rows"
                     f" in {temp_seconds:.2f} s = {temp_rows / temp_seconds:,.0f} rows/s"
                     f" (ratio {run_rate / (temp_rows / temp_seconds):.2f})")
            self.out("references of the bills: " + ("not checked (session_replication_role = replica)" if unchecked
                                                    else "checked at the end of each COPY, as in a real run"))
        else:
            raw_rows, raw_seconds = self.raw_executemany(run)
            raw_rate = raw_rows / raw_seconds
            self.out(f"raw executemany of the same rows into a scratch billing_bill: {raw_rows:,} rows"
                     f" in {raw_seconds:.2f} s = {raw_rate:,.0f} rows/s")
        self.out(f"ratio: {run_rate / raw_rate:.2f}")

    def checkpoint(self):
        """On PostgreSQL, start each timed part with the WAL checkpointed, so that neither pays for the other's.

        A million bills write about a gigabyte of WAL: the checkpoint it calls for would otherwise land in
        whichever part comes next. Needs the right to CHECKPOINT; without it, the parts are timed as they come.
        """
        if not self.postgresql:
            return
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass

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
                if self.postgresql:
                    # Without statistics for the rows just loaded the join below may be planned as a nested loop.
                    cursor.execute("ANALYZE estate_unit, customers_customer")
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

    def raw_copy(self, run, *, temporary):
        """COPY the run's rows out to a file, then time only the COPY of that file into a scratch table.

        The scratch table has the bill table's columns, defaults, checks, indexes and unique constraints
        (LIKE ... INCLUDING ALL), but neither its triggers nor its foreign keys.
        """
        names, table = ", ".join(BILL_COLUMNS), f"bench_bill_{uuid.uuid4().hex[:8]}"
        with connection.cursor() as cursor, tempfile.TemporaryFile() as dump:
            cursor.execute(f"CREATE {'TEMP ' if temporary else ''}TABLE {table} (LIKE billing_bill INCLUDING ALL)")
            with cursor.copy(f"COPY (SELECT {names} FROM billing_bill WHERE run_id = {int(run.pk)} ORDER BY id)"
                             " TO STDOUT") as copy:
                for block in copy:
                    dump.write(block)
            dump.seek(0)
            self.checkpoint()
            started = time.perf_counter()
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                while block := dump.read(1 << 20):
                    copy.write(block)
            elapsed = time.perf_counter() - started
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {table}")
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
