import io
import json
import os
import resource
import time
import uuid

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import override_settings
from openpyxl import Workbook

from aishang.core.validators import id_check_char
from aishang.customers.imports import COLUMNS, UnitImport
from aishang.estate.models import Project, Unit
from aishang.estate.services import company_create

SHOP_FIELD_HEADER = "租赁状态（商铺）"


def bench_rows(count):
    """Units of 4-entrance towers, 25 floors, 10 flats a floor; ground-floor flats of every tenth tower are shops.

    Nine units in ten have an owner and every tenth owner has a second unit.
    """
    rows = []
    owner = 0
    index = 0
    while len(rows) < count:
        building, rest = divmod(index, 1000)
        entrance, rest = divmod(rest, 250)
        floor, flat = divmod(rest, 10)
        floor += 1
        index += 1
        shop = building % 10 == 9 and floor == 1
        row = [str(building + 1), str(entrance + 1), f"{floor}{flat + 1:02d}", floor,
               round(60 + (index % 90) * 1.37, 2), round(50 + (index % 90) * 1.1, 2), "三室两厅", "精装",
               "出租" if shop else "自住", "商铺" if shop else "住宅"]
        if index % 10 == 0:
            row += ["", "", "", ""]
        else:
            if index % 10 != 2:
                owner += 1
            birth = f"{1950 + owner % 50}{owner % 12 + 1:02d}{owner % 28 + 1:02d}"
            first17 = f"{110101 + owner // 21000}{birth}{owner % 1000:03d}"
            row += [f"业主{owner}", f"139{owner:08d}", "居民身份证", first17 + id_check_char(first17)]
        row.append("已出租" if shop else None)
        rows.append(row)
    return rows


def bench_file(rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("房屋及业主")
    sheet.append([c.header for c in COLUMNS] + [SHOP_FIELD_HEADER])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


RAW_COLUMNS = ["project_id", "building_id", "entrance_id", "number", "code", "floor", "property_type_id",
               "building_area", "inner_area", "layout", "decoration", "status", "delivered_on", "notes",
               "custom_field_data", "created_at", "updated_at"]


def raw_insert_seconds(project):
    """Time the database's own bulk path for the same unit rows into an empty table shaped like the unit table."""
    rows = [list(values) for values in Unit.objects.filter(project=project).order_by("pk").values_list(*RAW_COLUMNS)]
    json_index = RAW_COLUMNS.index("custom_field_data")
    for row in rows:
        row[json_index] = json.dumps(row[json_index], ensure_ascii=False)
    table = Unit._meta.db_table
    columns = ", ".join(RAW_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TEMP TABLE bench_unit (LIKE {table} INCLUDING ALL) ON COMMIT DROP")
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY bench_unit ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return time.perf_counter() - started, "COPY"
        cursor.execute("SELECT type, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
                       "ORDER BY type DESC", [table])
        for _kind, sql in cursor.fetchall():
            cursor.execute(sql.replace(f'"{table}', '"bench_unit'))
        placeholders = ", ".join(["%s"] * len(RAW_COLUMNS))
        started = time.perf_counter()
        cursor.executemany(f"INSERT INTO bench_unit ({columns}) VALUES ({placeholders})", rows)
        return time.perf_counter() - started, "executemany"


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "压测房屋及业主导入：在临时企业中导入 N 行（默认 20000），与数据库原始批量写入速度对比，最后全部回滚。"

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20_000)

    def handle(self, *args, rows, **options):
        data = bench_file(bench_rows(rows))
        rss_before = peak_rss_mb()
        # Everything the bench creates, including the throwaway company, is rolled back at the end. DEBUG
        # is off as in production: its query log would keep the SQL of every insert and distort the figures.
        with override_settings(DEBUG=False), transaction.atomic():
            company = company_create(name=f"压测物业-{uuid.uuid4().hex[:8]}")
            project = Project.objects.create(company=company, code="BENCH", name="导入压测项目")
            started, cpu_started = time.perf_counter(), time.process_time()
            importer = UnitImport(project).read(io.BytesIO(data))
            validated = time.perf_counter()
            result = importer.save()
            finished, cpu_finished = time.perf_counter(), time.process_time()
            raw_seconds, raw_method = raw_insert_seconds(project)
            transaction.set_rollback(True)
        rss_after = peak_rss_mb()

        import_seconds = finished - started
        import_rate = rows / import_seconds
        raw_rate = rows / raw_seconds
        out = self.stdout.write
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        out(f"database: {connection.vendor}, rows: {rows}, file: {len(data) / 1024 / 1024:.1f} MB, "
            f"load average: {load} on {os.cpu_count()} CPUs")
        out(f"import: {import_seconds:.2f} s = validate {validated - started:.2f} s + save {finished - validated:.2f} s"
            f" -> {import_rate:,.0f} rows/s (this process's CPU: {cpu_finished - cpu_started:.2f} s)")
        out(f"  created: {result['units']} units, {result['customers']} customers, {result['buildings']} buildings,"
            f" {result['entrances']} entrances, {result['occupancies']} occupancies, with change-log rows")
        out(f"raw {raw_method} of the same unit rows: {raw_seconds:.3f} s -> {raw_rate:,.0f} rows/s")
        out(f"peak memory (max RSS): {rss_after:.0f} MB (before the import: {rss_before:.0f} MB)")
        out(f"ratio: {import_rate / raw_rate:.2f}")
