"""Time 抄表导入 of 100,000 readings against openpyxl's read-only parse of the same file.

Wants PostgreSQL (the production database; the import writes with COPY there), e.g.
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/aishang_benchreadings python manage.py bench_readings``.

The data set is built once and kept: a project of 50 buildings, each with a master meter (总表), a public meter
(公区表) and unit water meters under the master, 25,000 meters in all, each with six months of readings. A run
removes the readings a previous run imported, writes an xlsx of the next four months of every meter (the file a
clerk uploads when an old system's readings are taken over, or a quarter is caught up: several readings of one
meter, measured each from the one before), times the parse alone, then the import (read, check, write) and the
allocation of loss and shared costs for the imported months, and prints ``ratio: R`` = (import + allocation) /
parse as its last line.
"""

import cProfile
import datetime
import gc
import io
import os
import pstats
import random
import tempfile
import time
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from openpyxl import Workbook, load_workbook

from aishang.core.testing import make_staff
from aishang.estate.models import Building, Company, Entrance, Project, PropertyType, Unit, unit_code
from aishang.estate.services import company_create
from aishang.extras.importing import first_sheet_rows, open_workbook
from aishang.meters.allocation_runs import allocation_post_many, allocation_preview_many
from aishang.meters.choices import (
    AllocationBasis,
    AllocationPurpose,
    AllocationScope,
    LossMethod,
    MeterKind,
    MeterRole,
    ReadingKind,
    ReadingSource,
)
from aishang.meters.imports import HEADERS, reading_import
from aishang.meters.models import AllocationRule, AllocationRun, AllocationShare, Meter, MeterReading

COMPANY_NAME = "抄表压测物业"
PROJECT_CODE = "BENCH-READINGS"
CLERK_USERNAME = "bench_readings_clerk"
BUILDINGS = 50
HISTORY_MONTHS = 6
FIRST_HISTORY_MONTH = datetime.date(2025, 1, 1)
READ_DAY = 25
DIGITS = 5
DIAL = 10**DIGITS
SEED = 20261124


def month_ends(first_day, last_day):
    """The last day of every month from first_day's to last_day's."""
    day = first_day.replace(day=1)
    while day <= last_day:
        following = (day + datetime.timedelta(days=32)).replace(day=1)
        yield following - datetime.timedelta(days=1)
        day = following


def month_day(index):
    """The reading day of the index-th month after FIRST_HISTORY_MONTH."""
    year, month = divmod(FIRST_HISTORY_MONTH.month - 1 + index, 12)
    return datetime.date(FIRST_HISTORY_MONTH.year + year, month + 1, READ_DAY)


class Command(BaseCommand):
    help = ("Time importing 100,000 meter readings (4 months × 25,000 meters) against openpyxl's read-only parse of "
            "the same xlsx; last line 'ratio: R' = (import + allocation) / parse. Wants PostgreSQL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/aishang_benchreadings. Builds its project once and "
            "keeps it; each run replaces the readings the previous run imported.")

    def add_arguments(self, parser):
        parser.add_argument("--meters", type=int, default=25_000, help="meters in the project (default 25,000)")
        parser.add_argument("--months", type=int, default=4, help="months of readings in the file (default 4)")
        parser.add_argument("--profile", action="store_true",
                            help="profile the import and the allocation (cProfile, top functions)")
        parser.add_argument("--keep-file", help="also save the generated xlsx to this path")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write(self.style.WARNING("bench_readings wants PostgreSQL (DATABASE_URL=postgres://...); "
                                                 "the figures below are SQLite's"))
        started = time.perf_counter()
        project, clerk = self.dataset(options["meters"])
        meters = list(Meter.objects.filter(project=project).select_related("unit__building", "unit__entrance",
                                                                            "building").order_by("pk"))
        self.stdout.write(f"data set: {len(meters):,} meters, "
                          f"{MeterReading.objects.filter(project=project).count():,} readings "
                          f"({time.perf_counter() - started:.1f} s)")
        months = options["months"]
        first_import = month_day(HISTORY_MONTHS)
        raw_delete(AllocationShare.objects.filter(run__project=project))
        raw_delete(AllocationRun.objects.filter(project=project))
        removed = raw_delete(MeterReading.objects.filter(project=project, read_on__gte=first_import))
        if removed:
            self.stdout.write(f"removed {removed:,} readings and the allocation runs of a previous run")
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # As a database in use would be: the removed rows' index entries, the newest of every meter, cleared.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {MeterReading._meta.db_table}")

        started = time.perf_counter()
        content = self.readings_file(project, meters, months)
        rows = len(meters) * months
        # The import runs in a worker that holds nothing else: the data set's objects would only slow its
        # garbage collection down.
        del meters
        gc.collect()
        self.stdout.write(f"file: {rows:,} readings, {len(content) / 1e6:.1f} MB "
                          f"(written in {time.perf_counter() - started:.1f} s)")
        if options["keep_file"]:
            with open(options["keep_file"], "wb") as kept:
                kept.write(content)

        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as file:
            file.write(content)
        try:
            parse = self.time_parse(file.name)
            self.report("parse (openpyxl read-only, every value)", parse, rows)
            reader = self.time_reader(file.name)
            self.report("  for comparison, the sheet reader the import uses (calamine) alone", reader, rows)
            profiler = cProfile.Profile() if options["profile"] else None
            imported, result = self.time_import(project, clerk, file.name, profiler)
        finally:
            os.unlink(file.name)
        self.report("import (read, check, write)", imported, rows)
        self.stdout.write(f"  readings {result['readings']:,}, meters {result['meters']:,}, "
                          f"待复核 {result['flagged']:,}, 翻表 {result['rollovers']:,}")
        allocation_profiler = cProfile.Profile() if options["profile"] else None
        if allocation_profiler is not None:
            allocation_profiler.enable()
        allocation = self.time_allocation(project, result)
        if allocation_profiler is not None:
            allocation_profiler.disable()
        self.report("allocation (loss and shared costs)", allocation, rows)
        for label, stats in (("import", profiler), ("allocation", allocation_profiler)):
            if stats is not None:
                stream = io.StringIO()
                pstats.Stats(stats, stream=stream).sort_stats("cumulative").print_stats(30)
                self.stdout.write(f"profile of the {label}:\n{stream.getvalue()}")
        self.stdout.write(f"ratio: {(imported + allocation) / parse:.2f}")

    def report(self, label, seconds, rows):
        rate = f"{rows / seconds:,.0f} rows/s" if seconds >= 0.001 else "--"
        self.stdout.write(f"{label}: {seconds:.2f} s, {rate}")

    # Timed phases -------------------------------------------------------------------------

    def time_parse(self, path):
        started = time.perf_counter()
        workbook = load_workbook(path, read_only=True, data_only=True)
        count = 0
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            for _value in row:
                count += 1
        workbook.close()
        return time.perf_counter() - started

    def time_reader(self, path):
        started = time.perf_counter()
        with open(path, "rb") as file:
            workbook = open_workbook(file)
            first_sheet_rows(workbook)
            workbook.close()
        return time.perf_counter() - started

    def time_import(self, project, clerk, path, profiler):
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        with open(path, "rb") as file:
            result = reading_import(project=project, file=file, actor=clerk, file_name="bench.xlsx")
        if profiler is not None:
            profiler.disable()
        return time.perf_counter() - started, result

    def time_allocation(self, project, result):
        started = time.perf_counter()
        self.allocate_imported_period(project, datetime.date.fromisoformat(result["first_day"]),
                                      datetime.date.fromisoformat(result["last_day"]))
        return time.perf_counter() - started

    def allocate_imported_period(self, project, first_day, last_day):
        """Allocate each imported month as a finance clerk would (一键分摊): every building's loss (总表 − Σ 分表, by
        usage) and its public meter's usage (公区, by area), all previewed at once, then posted at once."""
        runs = shares = 0
        rules = list(self.allocation_rules(project))
        for month_end in month_ends(first_day, last_day):
            drafts = allocation_preview_many(rules=rules, period_start=month_end.replace(day=1), period_end=month_end,
                                             actor=None)
            # The clerk confirms the file's few 待复核 readings (one in 2,000) when posting, as the page asks.
            allocation_post_many(runs=drafts, actor=None, confirm_unreviewed=True)
            runs, shares = runs + len(drafts), shares + sum(run.unit_count for run in drafts)
        self.stdout.write(f"  allocation runs {runs:,}, shares {shares:,}")

    def allocation_rules(self, project):
        """Two rules per building with units (made once): its loss by usage and its public meter by area."""
        rules = AllocationRule.objects.filter(project=project).order_by("pk")
        if rules.exists():
            return rules
        for meter in Meter.objects.filter(project=project, role__in=[MeterRole.MASTER, MeterRole.PUBLIC],
                                          building__units__isnull=False).distinct():
            is_loss = meter.role == MeterRole.MASTER
            rule = AllocationRule.objects.create(
                project=project, meter=meter, name=f"{meter.name}{'损耗' if is_loss else '公摊'}",
                purpose=AllocationPurpose.LOSS if is_loss else AllocationPurpose.SHARED,
                basis=AllocationBasis.USAGE if is_loss else AllocationBasis.AREA,
                loss_method=LossMethod.USAGE, scope=AllocationScope.BUILDINGS)
            rule.buildings.set([meter.building_id])
        return rules

    # Data set -----------------------------------------------------------------------------

    def dataset(self, meter_count):
        project = Project.objects.filter(code=PROJECT_CODE, company__name=COMPANY_NAME).first()
        if project is not None and Meter.objects.filter(project=project).count() == meter_count:
            from aishang.users.models import User

            return project, User.objects.get(username=CLERK_USERNAME)
        if project is not None:
            self.stdout.write("rebuilding the data set for another number of meters")
            self.remove(project)
        return self.build(meter_count)

    def remove(self, project):
        with transaction.atomic():
            raw_delete(AllocationShare.objects.filter(run__project=project))
            raw_delete(AllocationRun.objects.filter(project=project))
            AllocationRule.objects.filter(project=project).delete()
            for model in (MeterReading, Meter, Unit, Entrance, Building):
                if model is Meter:
                    Meter.objects.filter(project=project).update(parent=None)
                raw_delete(model.objects.filter(project=project))

    def build(self, meter_count):
        self.stdout.write(f"building the data set: {meter_count:,} meters with {HISTORY_MONTHS} months of readings "
                          "(once)")
        with transaction.atomic():
            company = Company.objects.filter(name=COMPANY_NAME).first() or company_create(name=COMPANY_NAME)
            project = Project.objects.filter(company=company, code=PROJECT_CODE).first() or Project.objects.create(
                company=company, code=PROJECT_CODE, name="抄表压测花园")
            from aishang.users.models import User

            clerk = (User.objects.filter(username=CLERK_USERNAME).first()
                     or make_staff(company, "finance", username=CLERK_USERNAME, projects=[project]))
            residential = PropertyType.objects.get(company=company, name="住宅")
            install = FIRST_HISTORY_MONTH - datetime.timedelta(days=30)
            unit_meters = meter_count - 2 * BUILDINGS
            per_building = -(-unit_meters // BUILDINGS)
            buildings = Building.objects.bulk_create(
                [Building(project=project, code=str(b), name=f"{b}号楼", weight=b) for b in range(1, BUILDINGS + 1)])
            entrances = Entrance.objects.bulk_create(
                [Entrance(project=project, building=building, code="1") for building in buildings])
            units = []
            for building, entrance in zip(buildings, entrances, strict=True):
                for index in range(min(per_building, unit_meters - len(units))):
                    floor, door = divmod(index, 4)
                    number = f"{floor + 1}{door + 1:02d}"
                    units.append(Unit(project=project, building=building, entrance=entrance, number=number,
                                      code=unit_code(building.code, entrance.code, number), floor=floor + 1,
                                      building_area=Decimal("89.50"), property_type=residential,
                                      delivered_on=install))
            Unit.objects.bulk_create(units, batch_size=2000)
            common = {"project": project, "kind": MeterKind.WATER, "digits": DIGITS, "install_date": install}
            masters = Meter.objects.bulk_create(
                [Meter(**common, role=MeterRole.MASTER, number=f"Z{b.code:0>3}", name=f"{b.name}总表", building=b,
                       initial_reading=Decimal("1000")) for b in buildings])
            master_of = {master.building_id: master for master in masters}
            random.seed(SEED)
            meters = [Meter(**common, role=MeterRole.PUBLIC, number=f"G{b.code:0>3}", name=f"{b.name}公区",
                            building=b, parent=master_of[b.pk], initial_reading=Decimal("500")) for b in buildings]
            meters += [Meter(**common, role=MeterRole.UNIT, number=f"W{index:06d}", unit=unit,
                             building=unit.building, parent=master_of[unit.building_id],
                             initial_reading=Decimal(random.choice((0, 120, 3456, 99_940))))
                       for index, unit in enumerate(units, start=1)]
            Meter.objects.bulk_create(meters, batch_size=2000)
            self.write_history(project, [*masters, *meters])
        return project, clerk

    def write_history(self, project, meters):
        readings = []
        now = datetime.datetime.now(datetime.UTC)
        for meter in meters:
            value, previous_on = meter.initial_reading, meter.install_date
            for month in range(HISTORY_MONTHS):
                usage = monthly_usage(meter)
                current, rollover = advance(value, usage)
                read_on = month_day(month)
                readings.append(MeterReading(
                    project=project, meter=meter, read_on=read_on, value=current, previous_on=previous_on,
                    previous_value=value, usage=usage, source=ReadingSource.IMPORT, created_at=now, updated_at=now,
                    kind=ReadingKind.ROLLOVER if rollover else ReadingKind.NORMAL))
                value, previous_on = current, read_on
        MeterReading.objects.bulk_create(readings, batch_size=5000)

    # The file ------------------------------------------------------------------------------

    def readings_file(self, project, meters, months):
        """The next months of every meter, a month's readings after another, as a clerk's xlsx with 上期 filled in."""
        last = {}
        for meter_id, value, read_on in (MeterReading.objects.filter(project=project)
                                         .order_by("meter_id", "read_on").values_list("meter_id", "value", "read_on")):
            last[meter_id] = (value, read_on)
        # A normal (not write-only) workbook is saved as Excel and WPS save theirs: strings shared, and the sheet's
        # size at its top, which a read-only parse relies on (without it openpyxl reads the whole sheet twice).
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "抄表读数"
        sheet.append(list(HEADERS))
        random.seed(SEED + 1)
        kind_label = str(MeterKind.WATER.label)
        places = {meter.pk: place(meter) for meter in meters}
        for month in range(HISTORY_MONTHS, HISTORY_MONTHS + months):
            read_on = month_day(month)
            for meter in meters:
                value, previous_on = last[meter.pk]
                usage = monthly_usage(meter)
                # One reading in 2,000 is a misread or a leak: flagged for review, not refused.
                if random.random() < 0.0005:
                    usage *= 6
                current, rollover = advance(value, usage)
                sheet.append([*places[meter.pk], kind_label, meter.number, value, previous_on, current, read_on,
                              None, "翻表" if rollover else "正常"])
                last[meter.pk] = (current, read_on)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def raw_delete(queryset):
    """Delete without loading each row to log it: the bench's own readings, not anyone's records."""
    with connection.cursor() as cursor:
        sql, params = queryset.values("pk").query.sql_with_params()
        cursor.execute(f"DELETE FROM {queryset.model._meta.db_table} WHERE id IN ({sql})", params)
        return cursor.rowcount


def place(meter):
    if meter.unit_id:
        return meter.unit.building.code, meter.unit.entrance.code, meter.unit.number
    return meter.building.code, None, None


def monthly_usage(meter):
    """A month's usage in m³: a flat's 4–25, a public area's 40–80, a master meter's its building's and 6% loss."""
    if meter.role == MeterRole.MASTER:
        return Decimal(random.randint(6_000, 9_000))
    if meter.role == MeterRole.PUBLIC:
        return Decimal(random.randint(4_000, 8_000)) / 100
    return Decimal(random.randint(400, 2_500)) / 100


def advance(value, usage):
    """The dial after a month's usage, and whether it went past 99999 back to zero (翻表)."""
    current = value + usage
    if current >= DIAL:
        return current - DIAL, True
    return current, False
