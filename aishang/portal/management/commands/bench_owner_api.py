"""Load-test the owner bills endpoint over HTTP on loopback, beside a bare Django view running the same SQL.

The data set (default 20,000 units in four projects, an owner each, five years of monthly bills of three fee items,
all but the last months settled by yearly payments) is loaded once with COPY and kept like ``bench_cashier``'s:
a later run reuses it, ``--rebuild`` loads it afresh, and it is kept only in a database whose name contains
``bench`` unless ``--any-database`` is given.

One owner signs in (a real bearer token). The statements ``GET /api/v1/owner/bills/`` sends are captured once in
this process; then gunicorn serves ``config.settings.bench`` (production settings, plain HTTP, and a URL conf that
adds the bare view) on 127.0.0.1, and a load generator (wrk, else a threaded Python client) drives the endpoint
and the bare view in turn for the same time and concurrency. The last line is
``ratio: R`` = endpoint requests/s ÷ bare view requests/s.
"""

import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from decimal import Decimal
from http.client import HTTPConnection
from statistics import median

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from aishang.billing.choices import BillingCycle, ChargeMethod
from aishang.billing.management.commands import bench_cashier
from aishang.billing.management.commands.bench_cashier import Rows, add_months, month_end, percentile, yuan
from aishang.billing.models import (
    BillRun,
    BillRunStatus,
    BindingTarget,
    ChargeRule,
    FeeItem,
    ReceiptSequence,
    RuleBinding,
)
from aishang.customers.models import Customer, OwnerAccount
from aishang.customers.owners import owner_bindings_refresh, owner_token_issue
from aishang.estate.models import Building, Project, Unit
from aishang.estate.services import company_create

DATASET_COMPANY = "业主端压测"
DEFAULT_UNITS = 20_000
DEFAULT_MONTHS = 60
UNITS_PER_PROJECT = 5_000
UNITS_PER_BUILDING = 200
# code, name, whether it charges a late fee
FEE_ITEMS = (("WY", "物业费", True), ("DT", "电梯费", False), ("LJ", "垃圾清运费", False))
TARGET_OPEN_MONTHS = 2
BARE_PATH = "/bench/owner-bills-bare/"
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %(key)s"
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%.0f %%.0f\\n", summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, latency:percentile(50), latency:percentile(95)))
end
"""


def mobile_of(index):
    return f"137{index:08d}"


class Command(bench_cashier.Command):
    """Shares ``bench_cashier``'s COPY loading (``load``) and its output helpers."""

    help = "业主端账单接口压测：本机 HTTP 负载下，接口与执行同样 SQL 的裸视图的每秒请求数之比"

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help="房屋数（默认 20,000）")
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="每套房屋的月账单数（默认 60）")
        parser.add_argument("--duration", type=float, default=10, help="每轮每个目标的加压秒数（默认 10）")
        parser.add_argument("--rounds", type=int, default=3, help="接口与裸视图轮流加压的轮数（默认 3）")
        parser.add_argument("--concurrency", type=int, default=8, help="并发连接数（默认 8）")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn 进程数（默认 4）")
        parser.add_argument(
            "--client",
            choices=("auto", "wrk", "python"),
            default="auto",
            help="负载工具：wrk，或 Python 多线程客户端；auto 有 wrk 时用 wrk",
        )
        parser.add_argument("--query", default="", help="接口的查询参数，默认为该业主房屋的全部账单（?unit=…）")
        parser.add_argument(
            "--rebuild", action="store_true", help="清空压测数据库后重新生成数据集（只用于名称含 bench 的数据库）"
        )
        parser.add_argument(
            "--any-database", action="store_true", help="允许在名称不含 bench 的数据库上生成并保留数据集"
        )

    def handle(
        self,
        *args,
        units,
        months,
        duration,
        rounds,
        concurrency,
        workers,
        client,
        query,
        rebuild,
        any_database,
        **options,
    ):
        if connection.vendor != "postgresql":
            raise CommandError("bench_owner_api 需要 PostgreSQL（请设置 DATABASE_URL）")
        name = connection.settings_dict["NAME"]
        if not ("bench" in name or any_database):
            raise CommandError(
                f"数据库 {name} 的名称不含 bench：数据集会留在库中。请用压测数据库"
                f"（如 DATABASE_URL=postgres://…/aishang_bench，先 migrate），或加 --any-database"
            )
        if rebuild and "bench" not in name:
            raise CommandError("--rebuild 会清空整个数据库，只用于名称含 bench 的数据库")
        if units < 1 or months < TARGET_OPEN_MONTHS + 1:
            raise CommandError(f"--units 至少为 1，--months 至少为 {TARGET_OPEN_MONTHS + 1}")
        if client == "auto":
            client = "wrk" if shutil.which("wrk") else "python"
        elif client == "wrk" and not shutil.which("wrk"):
            raise CommandError("找不到 wrk（Debian: apt-get install wrk），或用 --client python")
        self.out(
            f"database: {name} (PostgreSQL {connection.pg_version // 10000}), load average "
            f"{', '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        if rebuild:
            from django.core.management import call_command

            self.out("rebuild: emptying the benchmark database")
            call_command("flush", interactive=False, verbosity=0)
        account, unit = self.owner_dataset(units, months)
        self.measure_http(
            account,
            unit,
            query=query or f"unit={unit.pk}",
            duration=duration,
            rounds=rounds,
            concurrency=concurrency,
            workers=workers,
            client=client,
        )

    # The data set.

    def owner_dataset(self, units, months):
        projects = Project.objects.filter(company__name=DATASET_COMPANY).order_by("pk")
        first = projects.first()
        if first is not None:
            built_for = tuple(int(part) for part in first.code.split("-")[1:3])
            if built_for != (units, months):
                raise CommandError(
                    f"库中已有 {built_for[0]:,} 套房屋、每套 {built_for[1]} 个月账单的数据集；重建请加 --rebuild"
                )
            self.out(f"data set: reused ({self.describe(projects)})")
        else:
            started = time.perf_counter()
            with transaction.atomic():
                loaded = self.build_owner_dataset(units, months)
            if not connection.in_atomic_block:
                with connection.cursor() as cursor:  # as autovacuum would soon after such a load
                    cursor.execute(f"VACUUM ANALYZE {', '.join(bench_cashier.TABLES)}")
            self.out(
                f"data set: built in {time.perf_counter() - started:.0f} s, {loaded:,} rows loaded by COPY;"
                f" {self.describe(projects)}"
            )
        target = units // 2
        customer = Customer.objects.get(project__company__name=DATASET_COMPANY, mobile=mobile_of(target))
        account, _created = OwnerAccount.objects.get_or_create(mobile=customer.mobile)
        owner_bindings_refresh(account)
        unit = Unit.objects.get(occupancies__customer=customer)
        return account, unit

    def build_owner_dataset(self, units, months):
        last_month = datetime.date.today().replace(day=1)
        first_month = add_months(last_month, 1 - months)
        company = company_create(name=DATASET_COMPANY)
        projects = [
            Project.objects.create(
                company=company, code=f"OB-{units}-{months}-{number + 1}", name=f"业主端压测 {number + 1} 期"
            )
            for number in range(-(-units // UNITS_PER_PROJECT))
        ]
        fee_items = [
            FeeItem.objects.create(company=company, code=code, name=name, late_fee_enabled=late_fee)
            for code, name, late_fee in FEE_ITEMS
        ]
        rules, runs, buildings = {}, {}, {}
        for project in projects:
            for fee_item in fee_items:
                rule = ChargeRule.objects.create(
                    project=project,
                    fee_item=fee_item,
                    name=f"{fee_item.name}标准",
                    method=ChargeMethod.FIXED,
                    cycle=BillingCycle.MONTHLY,
                    unit_price=Decimal("1"),
                    effective_from=first_month,
                )
                RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
                rules[project.pk, fee_item.pk] = rule.pk
            for run in BillRun.objects.bulk_create(
                BillRun(
                    project=project,
                    period_month=add_months(first_month, month),
                    status=BillRunStatus.POSTED,
                    posted_at=datetime.datetime.now(datetime.UTC),
                )
                for month in range(months)
            ):
                runs[project.pk, run.period_month] = run.pk
            buildings[project.pk] = [
                building.pk
                for building in Building.objects.bulk_create(
                    Building(project=project, code=str(number + 1), name=f"{number + 1}栋")
                    for number in range(-(-UNITS_PER_PROJECT // UNITS_PER_BUILDING))
                )
            ]
        property_type = company.property_types.get(name="住宅")
        tables = ("estate_unit", "customers_customer", "billing_bill", "billing_payment")
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            first_ids = {table: self.next_id(cursor, table) for table in tables}
        writer = OwnerRows(
            company=company,
            projects=projects,
            fee_items=fee_items,
            rules=rules,
            runs=runs,
            buildings=buildings,
            property_type=property_type,
            first_ids=first_ids,
        )
        with Rows() as rows:
            started = time.perf_counter()
            writer.write(rows, units=units, months=months, first_month=first_month)
            self.out(f"generated {sum(rows.counts.values()):,} rows in {time.perf_counter() - started:.0f} s")
            with connection.cursor() as cursor:
                for table, next_id in writer.next_ids.items():
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table, max(next_id, first_ids[table]) - 1],
                    )
            self.load(rows)
        for year, last_number in writer.receipt_numbers.items():
            ReceiptSequence.objects.create(company=company, year=year, last_number=last_number)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(bench_cashier.TABLES)}")
        return sum(rows.counts.values())

    # The measurement.

    def measure_http(self, account, unit, *, query, duration, rounds, concurrency, workers, client):
        key, _token = owner_token_issue(account)
        path = f"/api/v1/owner/bills/?{query}"
        statements, expected = self.capture(path, key)
        self.out(
            f"owner {account.mobile[:3]}****{account.mobile[-4:]}, unit {unit.code}: GET {path} answers"
            f" {expected} bills on its first page with {len(statements)} queries"
        )
        with tempfile.TemporaryDirectory(prefix="bench_owner_api") as scratch:
            sql_file = os.path.join(scratch, "statements.json")
            with open(sql_file, "w", encoding="utf-8") as file:
                json.dump(statements, file)
            port = free_port()
            server = self.start_server(port, workers, sql_file)
            try:
                self.check_answers(port, path, key, expected)
                load = WrkLoad(scratch, key) if client == "wrk" else PythonLoad(key)
                self.out(
                    f"load: {load.name} on 127.0.0.1:{port}, {concurrency} connections, {rounds} rounds of"
                    f" {duration:g} s per target, endpoint and bare view in turn; gunicorn {workers} sync workers"
                )
                for target in (path, BARE_PATH):  # warm every worker's connection and code
                    load.run(port, target, concurrency, min(2.0, duration))
                results = {path: [], BARE_PATH: []}
                for number in range(rounds):
                    order = (path, BARE_PATH) if number % 2 == 0 else (BARE_PATH, path)
                    for target in order:
                        results[target].append(load.run(port, target, concurrency, duration))
            finally:
                stop(server)
        endpoint, bare = summarise(results[path]), summarise(results[BARE_PATH])
        for label, figures in (
            ("endpoint (DRF, owner token, compiled ORM query, serializer)", endpoint),
            ("bare view (same SQL through a cursor, json.dumps)", bare),
        ):
            self.out(
                f"{label}: {figures['rps']:.1f} requests/s, p50 {figures['p50']:.1f} ms,"
                f" p95 {figures['p95']:.1f} ms; {figures['requests']:,} requests, {figures['errors']} errors"
            )
        self.out(
            f"goal R ≥ 0.5: {'met' if endpoint['rps'] >= 0.5 * bare['rps'] else 'NOT met'}; load average now"
            f" {', '.join(f'{value:.1f}' for value in os.getloadavg())}"
        )
        self.out(f"ratio: {endpoint['rps'] / bare['rps']:.2f}")

    def capture(self, path, key):
        """The statements one request of the endpoint sends (server-side cursors as their SELECT)."""
        client = Client()
        with (
            bench_cashier.quiet(),
            override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]),
            CaptureQueriesContext(connection) as captured,
        ):
            response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}")
        if response.status_code != 200:
            raise CommandError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
        return (
            [bench_cashier.raw_statement(query["sql"]) for query in captured.captured_queries],
            len(response.json()["results"]),
        )

    def start_server(self, port, workers, sql_file):
        database = connection.settings_dict
        url = "postgres://{user}:{password}@{host}:{port}/{name}".format(
            user=urllib.parse.quote(database["USER"] or ""),
            password=urllib.parse.quote(database["PASSWORD"] or ""),
            host=database["HOST"] or "127.0.0.1",
            port=database["PORT"] or 5432,
            name=database["NAME"],
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "BENCH_OWNER_SQL_FILE": sql_file,
            "PYTHONWARNINGS": "ignore:No directory at",
        }  # whitenoise: static files are not collected here
        if "redis" in settings.CACHES["default"]["BACKEND"].lower():
            env["REDIS_URL"] = settings.CACHES["default"]["LOCATION"]
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--chdir",
            str(settings.BASE_DIR),
        ]
        self.out(f"server: gunicorn, config.settings.bench, cache {'Redis' if 'REDIS_URL' in env else 'in-process'}")
        return subprocess.Popen(command, env=env, start_new_session=True)

    def check_answers(self, port, path, key, expected):
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = http_get(port, path, key)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise CommandError("gunicorn 60 秒内未就绪") from None
                time.sleep(0.3)
        bare_status, bare_body = http_get(port, BARE_PATH, key)
        if status != 200 or bare_status != 200:
            raise CommandError(f"the server answered {status} and {bare_status}: {body[:300]!r} {bare_body[:300]!r}")
        if len(json.loads(body)["results"]) != expected:
            raise CommandError("the server's endpoint answered other bills than in this process")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(server):
    """End the gunicorn this command started (its own process group), and wait for it."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def http_get(port, path, key):
    connection_ = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection_.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        response = connection_.getresponse()
        return response.status, response.read()
    finally:
        connection_.close()


def summarise(rounds):
    """requests/s over all rounds; p50/p95 as the median of the rounds' own (wrk reports percentiles per run)."""
    seconds = sum(result["seconds"] for result in rounds)
    requests = sum(result["requests"] for result in rounds)
    return {
        "requests": requests,
        "rps": requests / seconds,
        "errors": sum(result["errors"] for result in rounds),
        "p50": median(result["p50"] for result in rounds),
        "p95": median(result["p95"] for result in rounds),
    }


class WrkLoad:
    name = "wrk"

    def __init__(self, scratch, key):
        self.script = os.path.join(scratch, "owner.lua")
        with open(self.script, "w", encoding="utf-8") as file:
            file.write(WRK_SCRIPT % {"key": key})

    def run(self, port, path, concurrency, duration):
        command = [
            "wrk",
            "-t",
            str(min(2, concurrency)),
            "-c",
            str(concurrency),
            "-d",
            f"{duration:g}s",
            "--timeout",
            "30s",
            "-s",
            self.script,
            f"http://127.0.0.1:{port}{path}",
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        requests, micros, bad_status, socket_errors, p50, p95 = (float(value) for value in line.split()[1:])
        return {
            "requests": int(requests),
            "seconds": micros / 1e6,
            "errors": int(bad_status + socket_errors),
            "p50": p50 / 1000,
            "p95": p95 / 1000,
        }


class PythonLoad:
    """A threaded client: ``concurrency`` threads each sending one request after another until the time is up."""

    name = "Python threaded client (http.client)"

    def __init__(self, key):
        self.key = key

    def run(self, port, path, concurrency, duration):
        latencies, errors, lock = [], [0], threading.Lock()
        started = time.perf_counter()
        deadline = started + duration

        def worker():
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    status, _body = http_get(port, path, self.key)
                except OSError:
                    status = 0
                elapsed = (time.perf_counter() - sent) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors[0] += status != 200

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "requests": len(latencies),
            "seconds": time.perf_counter() - started,
            "errors": errors[0],
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
        }


class OwnerRows(bench_cashier.Generator):
    """Writes the data set's rows as COPY text: units with an owner each, their monthly bills month by month (as
    bill runs post them, so a unit's bills lie apart in the table) and a payment a year settling all but the last
    months (zero to three; two for the owner whose bills are fetched). Takes ids as ``bench_cashier``'s does."""

    def __init__(self, *, company, projects, fee_items, rules, runs, buildings, property_type, first_ids):
        self.company, self.projects, self.fee_items, self.rules, self.runs = company, projects, fee_items, rules, runs
        self.buildings, self.property_type = buildings, property_type
        self.next_ids = dict(first_ids)
        self.receipt_numbers = {}
        self.now = datetime.datetime.now(datetime.UTC).isoformat()
        self.today = datetime.date.today()

    def write(self, rows, *, units, months, first_month):
        owners = [self.owner(rows, index, units) for index in range(units)]
        for number in range(months):
            month = add_months(first_month, number)
            period = f"{month.isoformat()}\t{month_end(month).isoformat()}\t{month.replace(day=15).isoformat()}"
            created = f"{month.isoformat()} 08:00:00+08"
            last_paid = months - 1
            for owner in owners:
                self.month_bills(rows, owner, month, period, created)
                if number <= months - 1 - owner["open"] and (month.month == 12 or number == last_paid - owner["open"]):
                    self.payment(rows, owner, min(add_months(month, 1) + datetime.timedelta(days=4), self.today))

    def owner(self, rows, index, units):
        project = self.projects[index // UNITS_PER_PROJECT].pk
        local = index % UNITS_PER_PROJECT
        building = self.buildings[project][local // UNITS_PER_BUILDING]
        floor, flat = divmod(local % UNITS_PER_BUILDING, 10)
        number = f"{floor + 1}{flat + 1:02d}"
        area = 6000 + index * 7919 % 9000  # hundredths of a ㎡: 60.00 to 149.99
        unit, customer = self.take_id("estate_unit"), self.take_id("customers_customer")
        rows.add(
            "estate_unit",
            f"{unit}\t{self.now}\t{self.now}\t{{}}\t{number}\t{local // UNITS_PER_BUILDING + 1}-"
            f"{number}\t{floor + 1}\t{yuan(area)}\t\\N\t三室两厅\t精装\toccupied\t\t{building}\t"
            f"{project}\t{self.property_type.pk}\n",
        )
        rows.add(
            "customers_customer",
            f"{customer}\t{self.now}\t{self.now}\t{{}}\tperson\t业主{index}\t"
            f"{mobile_of(index)}\t\t\t\tunknown\t\t\t\t\t\t[]\t\t{project}\n",
        )
        rows.add("customers_occupancy", f"{self.now}\t{self.now}\towner\tself\t2015-01-01\tt\t\t{customer}\t{unit}\n")
        return {
            "index": index,
            "project": project,
            "unit": unit,
            "payer": customer,
            "settled": [],
            "open": TARGET_OPEN_MONTHS if index == units // 2 else index % 4,
            "fen": ((area * 220 + 50) // 100, (area * 35 + 50) // 100, 1500),
            "area": yuan(area),
        }

    def month_bills(self, rows, owner, month, period, created):
        project = owner["project"]
        computations = (f"{owner['area']}㎡ × 2.20 元/㎡", f"{owner['area']}㎡ × 0.35 元/㎡", "定额")
        for fee_item, fen, computation in zip(self.fee_items, owner["fen"], computations, strict=True):
            bill = self.take_id("billing_bill")
            rows.add(
                "billing_bill",
                f"{bill}\t{project}\t{owner['unit']}\t{owner['payer']}\t{fee_item.pk}\t"
                f"{self.rules[project, fee_item.pk]}\t{self.runs[project, month]}\tregular\t"
                f"{period}\t{yuan(fen)}\t{computation}\t{created}\n",
            )
            owner["settled"].append((bill, fen))

    def payment(self, rows, owner, received):
        payment = self.take_id("billing_payment")
        total = sum(fen for _bill, fen in owner["settled"])
        self.receipt_numbers[received.year] = number = self.receipt_numbers.get(received.year, 0) + 1
        at = f"{received.isoformat()} 10:30:00+08"
        rows.add(
            "billing_payment",
            f"{payment}\t{at}\t{yuan(total)}\tOB{received.year}-{number:07d}\t{at}\t\t\t"
            f"{self.company.pk}\t{owner['payer']}\t{owner['project']}\t{owner['unit']}\tdesk\n",
        )
        rows.add("billing_paymenttender", f"{payment}\twechat\t{yuan(total)}\t0\t\n")
        for bill, fen in owner["settled"]:
            rows.add("billing_allocation", f"{yuan(fen)}\t{at}\t{bill}\t{owner['project']}\t{payment}\n")
        owner["settled"] = []
