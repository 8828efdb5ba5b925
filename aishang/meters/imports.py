"""抄表导入: meter readings from a spreadsheet, every row or none (ADR 0022).

Phase 1 reads every row, finds its meter by 表号, takes the readings of each meter in date order from the
system's last one (one query for the meters, one for their recent readings) and collects row-numbered errors.
Phase 2 runs only when there are none: one transaction that locks the file's meters, makes sure no reading
arrived in between, and writes every reading at once (COPY on PostgreSQL, batched inserts on SQLite).

On PostgreSQL the usual file, every row good and each meter's rows in date order, takes one pass instead: each row
is checked and measured as it is read and COPYed at once, so the database stores it while the next rows are parsed;
the meters are locked and re-checked at the end, in the same transaction (ADR 0025). Any error, or a meter's rows
out of date order, rolls that pass back, and the two phases finish the job from the rows read.
"""

import datetime
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from psycopg.copy import QueuedLibpqWriter

from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind
from aishang.extras.import_jobs import project_import_job, run_project_import
from aishang.extras.importing import (
    MAX_ROWS,
    ImportRejected,
    RowErrors,
    SheetReader,
    cell_text,
    float_decimal,
    parse_date_text,
    workbook_bytes,
)
from aishang.extras.jobs import job_enqueue, job_runner

from .choices import MeterKind, ReadingKind, ReadingSource
from .models import Meter, MeterReading
from .readings import HISTORY_FOR_AVERAGE, reading_usage, unusual_reason

JOB_KIND = "reading_import"
READING_PERMISSION = "meters.add_meterreading"
INSERT_BATCH_SIZE = 2000
COPY_SLICE = 5000
READING_LIMIT = Decimal("1000000000000")  # the reading's 14 digits with 2 places
CENT = Decimal("0.01")
NULL = "\\N"
NOTE_MAX_LENGTH = 200

BUILDING, ENTRANCE, NUMBER, KIND, METER = "楼栋", "单元", "房号", "表类型", "表号"
PREVIOUS_VALUE, PREVIOUS_ON, VALUE, READ_ON, NOTE, READING_KIND = (
    "上期读数", "上期抄表日期", "本期读数", "本期抄表日期", "备注", "读数类型")
HEADERS = (BUILDING, ENTRANCE, NUMBER, KIND, METER, PREVIOUS_VALUE, PREVIOUS_ON, VALUE, READ_ON, NOTE, READING_KIND)
REQUIRED = (METER, VALUE, READ_ON)

# Names other systems and clerks' own sheets give the same columns.
HEADER_ALIASES = {
    "楼号": BUILDING, "楼栋编号": BUILDING, "楼栋号": BUILDING, "楼宇": BUILDING, "单元号": ENTRANCE,
    "单元编号": ENTRANCE, "房间号": NUMBER, "房屋号": NUMBER, "门牌号": NUMBER, "室号": NUMBER,
    "仪表类型": KIND, "表具类型": KIND, "表计类型": KIND, "表编号": METER, "仪表编号": METER, "表具编号": METER,
    "表计编号": METER, "上次读数": PREVIOUS_VALUE, "上月读数": PREVIOUS_VALUE, "起度": PREVIOUS_VALUE,
    "上期读数（起度）": PREVIOUS_VALUE, "上次抄表日期": PREVIOUS_ON, "上月抄表日期": PREVIOUS_ON,
    "本次读数": VALUE, "本月读数": VALUE, "止度": VALUE, "读数": VALUE, "本期读数（止度）": VALUE,
    "本次抄表日期": READ_ON, "本月抄表日期": READ_ON, "抄表日期": READ_ON, "抄表时间": READ_ON,
    "本期抄表时间": READ_ON, "说明": NOTE, "类型": READING_KIND, "抄表类型": READING_KIND,
}

KIND_BY_LABEL = {}
for _kind, _labels in ((MeterKind.WATER, ("水表", "水", "冷水表", "自来水")),
                       (MeterKind.ELECTRICITY, ("电表", "电")),
                       (MeterKind.GAS, ("燃气表", "燃气", "气表", "气", "天然气")),
                       (MeterKind.HEAT, ("热表", "热", "热量表", "暖气"))):
    KIND_BY_LABEL.update({label: _kind.value for label in _labels})
KIND_BY_LABEL.update({kind.value: kind.value for kind in MeterKind})
ROLLOVER_LABELS = {"翻表", "回零", "归零", "翻转"}
NORMAL_LABELS = {"正常", "正常抄表", "抄表"}
ROLLOVER_NOTE = "翻表"

INVALID_READING = gettext_lazy("应为读数，如 1234.5，实际为“%(text)s”")


@dataclass(frozen=True, slots=True)
class MeterFacts:
    """What the import needs of a meter, read once for the whole project."""

    pk: int
    number: str
    kind: str
    multiplier: Decimal
    digits: int
    removed_on: datetime.date | None
    install_date: datetime.date
    initial_reading: Decimal
    building: str
    entrance: str
    unit_number: str


@dataclass(slots=True)
class ReadingRow:
    row: int
    meter: MeterFacts
    value: Decimal
    read_on: datetime.date
    rollover: bool
    note: str
    given_value: Decimal | None
    given_on: datetime.date | None
    previous_value: Decimal = None
    previous_on: datetime.date = None
    usage: Decimal = None
    flag_reason: str = ""


def project_meters(project):
    """The project's meters by 表号, in one query, with their place (楼栋, 单元, 房号)."""
    meters = Meter.objects.filter(project=project)
    rows = meters.order_by().values_list(
        "pk", "number", "kind", "multiplier", "digits", "removed_on", "install_date", "initial_reading",
        "unit__building__code", "unit__entrance__code", "unit__number", "building__code")
    facts = {}
    for (pk, number, meter_kind, multiplier, digits, removed_on, install_date, initial, unit_building, entrance,
         unit_number, building_code) in rows.iterator(chunk_size=5000):
        facts[number] = MeterFacts(pk, number, meter_kind, multiplier, digits, removed_on, install_date, initial,
                                   unit_building or building_code or "", entrance or "", unit_number or "")
    return facts


# The last readings of many meters in one query: on PostgreSQL one index scan per meter (its unique
# (meter, read_on) index, read backwards), elsewhere a window over the project's readings.
RECENT_READINGS_SQL = f"""
SELECT m.id, r.value, r.read_on, r.usage
  FROM unnest(%s::bigint[]) AS m(id)
  CROSS JOIN LATERAL (
      SELECT value, read_on, usage FROM {MeterReading._meta.db_table}
       WHERE meter_id = m.id ORDER BY read_on DESC LIMIT {HISTORY_FOR_AVERAGE}) AS r
 ORDER BY m.id, r.read_on DESC
"""


LOCK_METERS_SQL = f"""
SELECT m.id, m.multiplier, m.digits, m.removed_on, r.value, r.read_on, r.usage
  FROM {Meter._meta.db_table} m
  LEFT JOIN LATERAL (
      SELECT value, read_on, usage FROM {MeterReading._meta.db_table}
       WHERE meter_id = m.id ORDER BY read_on DESC LIMIT 1) AS r ON true
 WHERE m.id = ANY(%s)
 ORDER BY m.id
   FOR UPDATE OF m
"""

# After the file's readings are written: each meter locked, then (a statement of its own, so it sees what was
# committed while it waited) its newest reading before the file's first and how many it has from that day on.
LOCK_WRITTEN_METERS_SQL = f"""
SELECT id, multiplier, digits, removed_on FROM {Meter._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE
"""
WRITTEN_READINGS_SQL = f"""
SELECT f.id, r.value, r.read_on, r.usage,
       (SELECT count(*) FROM {MeterReading._meta.db_table} n WHERE n.meter_id = f.id AND n.read_on >= f.first_on)
  FROM unnest(%s::bigint[], %s::date[]) AS f(id, first_on)
  LEFT JOIN LATERAL (
      SELECT value, read_on, usage FROM {MeterReading._meta.db_table}
       WHERE meter_id = f.id AND read_on < f.first_on ORDER BY read_on DESC LIMIT 1) AS r ON true
"""
READING_COPY = (f"COPY {MeterReading._meta.db_table} (project_id, meter_id, read_on, value, previous_on,"
                " previous_value, usage, kind, flagged, flag_reason, note, source, recorded_by_id, created_at,"
                " updated_at, review_note) FROM STDIN")
DEADLOCK_DETECTED = "40P01"


def recent_readings(project, meter_ids):
    """{meter id: [(value, read_on, usage), ...]}, newest first, at most six per meter."""
    recent = defaultdict(list)
    if not meter_ids:
        return recent
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(RECENT_READINGS_SQL, [sorted(meter_ids)])
            rows = cursor.fetchall()
    else:
        rows = (MeterReading.objects.filter(project=project)
                .annotate(newest=Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("read_on").desc()))
                .filter(newest__lte=HISTORY_FOR_AVERAGE).order_by("meter_id", "-read_on")
                .values_list("meter_id", "value", "read_on", "usage"))
    for meter_id, value, read_on, usage in rows:
        if meter_id in meter_ids:
            recent[meter_id].append((value, read_on, usage))
    return recent


def _copy_text(text):
    if not text:
        return ""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _blank(value):
    return value is None or (type(value) is str and not value.strip())


def _reading_text(text):
    return text.replace(",", "").replace("，", "").replace(" ", "")


class NotStreamed(Exception):
    """The one pass stops: a row is wrong or a meter's rows are out of date order."""


class MeterSequence:
    """Where one meter's readings of the file have got to: the reading the next one is measured from (the system's
    last, the meter's initial reading, or the file's row before) and the recent usages it is compared with."""

    __slots__ = ("before", "origin", "previous_on", "previous_value", "usages")

    def __init__(self, meter, recent):
        if recent:
            (self.previous_value, self.previous_on, _usage), self.origin = recent[0], None
        else:
            self.previous_value, self.previous_on, self.origin = meter.initial_reading, meter.install_date, "initial"
        self.usages = [usage for _value, _on, usage in recent]
        self.before = None


class ReadingStream:
    """The one pass: takes each good row as it is read, measures it after the meter's rows before it and COPYs it
    in slices; breaks at the first row that is wrong or out of its meter's date order."""

    def __init__(self, importer, write):
        self.importer, self.write = importer, write
        self.sequences = {}
        self.pending = []
        self.broken = False

    def take(self, reading):
        if self.broken:
            return
        meter = reading.meter
        sequence = self.sequences.get(meter.pk)
        if sequence is None:
            sequence = self.sequences[meter.pk] = MeterSequence(meter, self.importer.history.get(meter.pk, []))
        elif reading.read_on < sequence.before.read_on:
            self.broken = True
            return
        if self.importer.take(sequence, reading):
            self.broken = True
            return
        self.pending.append(reading)
        if len(self.pending) >= COPY_SLICE:
            self.flush()

    def flush(self):
        if self.pending:
            self.write(self.pending)
            self.pending = []


class ReadingImport(SheetReader):
    """Reads a sheet of readings into checked rows of one project, then writes them all in one transaction."""

    header_aliases = HEADER_ALIASES
    no_rows_message = gettext_lazy("文件中没有读数（表头下方为空）")

    def __init__(self, project, *, actor=None, file_name="", today=None, progress=None):
        super().__init__(progress)
        self.project = project
        self.actor = actor
        self.file_name = file_name
        self.today = today or timezone.localdate()
        self.meters = project_meters(project)
        self.rows = []
        self.history = {}
        self.skipped = 0
        self.stream = None

    # Phase 1 -----------------------------------------------------------------------------

    def known_headers(self):
        return HEADERS

    def required_headers(self):
        return REQUIRED

    def read(self, file):
        self.read_file(file)
        return self.check()

    def check(self):
        """Measure the rows read, each meter's in date order; raise ImportRejected with every error found."""
        if not self.errors and not self.rows:
            self.errors.add(None, VALUE, _("没有填写任何本期读数和本期抄表日期"))
        if not self.errors:
            self.measure()
        if self.errors:
            raise ImportRejected(self.errors)
        return self

    def read_headers(self, row, values):
        known = super().read_headers(row, values)
        self.columns = tuple(self.positions.get(header) for header in HEADERS)
        return known

    def read_row(self, row, cells):
        # Every cell of a 100,000-row file passes here: the usual cell types are read inline, anything else
        # through SheetReader's helpers, which also report what is wrong with it.
        size = len(cells)
        (building_at, entrance_at, number_at, kind_at, meter_at, previous_value_at, previous_on_at, value_at,
         read_on_at, note_at, reading_kind_at) = self.columns
        if _blank(cells[value_at] if value_at < size else None) and _blank(cells[read_on_at] if read_on_at < size
                                                                            else None):
            self.skipped += 1  # a meter of the template that was not read this time
            return
        errors_before = self.errors.count

        raw = cells[meter_at] if meter_at < size else None
        number = raw if type(raw) is str else cell_text(raw)
        number = number.strip()
        meter = self.meters.get(number)
        if not number:
            self.errors.add(row, METER, _("必填，不能为空"))
        elif meter is None:
            self.errors.add(row, METER, _("本项目没有表号为 %(number)s 的仪表") % {"number": number})
        elif meter.removed_on is not None:
            self.errors.add(row, METER, _("表号 %(number)s 已于 %(day)s 拆除（换表），请填写新表的表号")
                            % {"number": number, "day": meter.removed_on})
            meter = None

        value = self._reading(cells, value_at, size, row, VALUE, required=True)
        read_on = self._date(cells, read_on_at, size, row, READ_ON, required=True)
        if read_on is not None and read_on > self.today:
            self.errors.add(row, READ_ON, _("抄表日期不能晚于今天（%(today)s）") % {"today": self.today})
        given_value = self._reading(cells, previous_value_at, size, row, PREVIOUS_VALUE)
        given_on = self._date(cells, previous_on_at, size, row, PREVIOUS_ON)
        note = self.text(cells, NOTE, row, max_length=NOTE_MAX_LENGTH) if note_at is not None else ""
        rollover = note == ROLLOVER_NOTE
        if reading_kind_at is not None:
            rollover = self._rollover(cells, row) or rollover
        if meter is not None:
            self._check_place(cells, row, meter, (building_at, entrance_at, number_at, kind_at), size)
        if self.errors.count > errors_before:
            return
        reading = ReadingRow(row, meter, value, read_on, rollover, note, given_value, given_on)
        self.rows.append(reading)
        if self.stream is not None and not self.errors:
            self.stream.take(reading)

    def _reading(self, cells, at, size, row, header, required=False):
        raw = cells[at] if at is not None and at < size else None
        kind = type(raw)
        if kind is int:
            value = Decimal(raw)
        elif kind is float:
            value = float_decimal(raw)
            cents = value.quantize(CENT)
            # A value worked out by Excel may carry binary noise (0.30000000000000004).
            if cents != value and abs(cents - value) < Decimal("0.000001"):
                value = cents
        else:
            value = self.decimal(cells, header, row, required=required, clean=_reading_text,
                                 invalid=INVALID_READING)
            if value is None:
                return None
        if value < 0:
            self.errors.add(row, header, _("不能为负数"))
            return None
        if value.as_tuple().exponent < -2:
            self.errors.add(row, header, _("读数最多两位小数，实际为“%(text)s”") % {"text": cell_text(raw)})
            return None
        if value >= READING_LIMIT:
            self.errors.add(row, header, _("读数过大"))
            return None
        return value

    def _date(self, cells, at, size, row, header, required=False):
        raw = cells[at] if at is not None and at < size else None
        kind = type(raw)
        if kind is datetime.datetime:
            return raw.date()
        if kind is datetime.date:
            return raw
        if kind is str and (day := parse_date_text(raw)) is not None:
            return day
        return self.date(cells, header, row, required=required)

    def _rollover(self, cells, row):
        text = self.text(cells, READING_KIND, row)
        if not text or text in NORMAL_LABELS:
            return False
        if text in ROLLOVER_LABELS:
            return True
        if "换表" in text:
            self.errors.add(row, READING_KIND,
                            _("换表请在仪表页面办理（记录旧表拆表读数并登记新表），不能通过导入完成"))
        else:
            self.errors.add(row, READING_KIND, _("“%(text)s”不是可选的值，可选：正常、翻表") % {"text": text})
        return False

    def _check_place(self, cells, row, meter, positions, size):
        """楼栋, 单元, 房号 and 表类型, when the row gives them, must be the meter's."""
        building_at, entrance_at, number_at, kind_at = positions
        for header, at, expected in ((BUILDING, building_at, meter.building), (ENTRANCE, entrance_at, meter.entrance),
                                     (NUMBER, number_at, meter.unit_number)):
            if at is None or at >= size or cells[at] is None:
                continue
            text = cell_text(cells[at])
            if text and text != expected:
                self.errors.add(row, header, _("表号 %(number)s 的%(what)s是“%(expected)s”，不是“%(text)s”") % {
                    "number": meter.number, "what": header, "expected": expected or _("（空）"), "text": text})
        if kind_at is not None and kind_at < size and cells[kind_at] is not None:
            text = cell_text(cells[kind_at])
            kind = KIND_BY_LABEL.get(text)
            if text and kind is None:
                self.errors.add(row, KIND, _("“%(text)s”不是可选的值，可选：水表、电表、燃气表、热表") % {"text": text})
            elif kind and kind != meter.kind:
                self.errors.add(row, KIND, _("表号 %(number)s 是%(kind)s，不是“%(text)s”") % {
                    "number": meter.number, "kind": MeterKind(meter.kind).label, "text": text})

    def measure(self):
        """Each meter's readings in date order, each from the one before it, the first from the system's last."""
        by_meter = defaultdict(list)
        for reading in self.rows:
            by_meter[reading.meter.pk].append(reading)
        self.history = recent_readings(self.project, set(by_meter))
        problems = []
        for meter_id, readings in by_meter.items():
            readings.sort(key=lambda r: (r.read_on, r.row))
            sequence = MeterSequence(readings[0].meter, self.history.get(meter_id, []))
            for reading in readings:
                problem = self.take(sequence, reading)
                if problem:
                    problems.append((reading.row, *problem))
        for row, column, message in sorted(problems, key=lambda problem: problem[0]):
            self.errors.add(row, column, message)

    def take(self, sequence, reading):
        """Measure the reading after those the meter's sequence took before: (column, message) of what is wrong
        with it, or None."""
        problem = self._measure_one(reading, sequence.previous_value, sequence.previous_on, sequence.origin,
                                    sequence.before, sequence.usages)
        if problem is None or problem[0] == VALUE:
            # A wrong value is still the value the next reading of the file is read against.
            sequence.previous_value, sequence.previous_on = reading.value, reading.read_on
            sequence.origin, sequence.before = "file", reading
        return problem

    def _measure_one(self, reading, previous_value, previous_on, origin, before, usages):
        """(column, message) of what is wrong with the reading, or None; sets its usage and flag."""
        if before is not None and reading.read_on == before.read_on:
            return READ_ON, _("与第 %(row)s 行是同一块表同一天（%(day)s）的读数，每块表每天只能有一个读数") % {
                "row": before.row, "day": reading.read_on}
        if reading.read_on <= previous_on:
            if origin is None and reading.read_on == previous_on:
                return READ_ON, _("系统中已有表号 %(number)s 在 %(day)s 的读数 %(value)s，每块表每天只能有一个读数") % {
                    "number": reading.meter.number, "day": previous_on, "value": previous_value}
            if origin == "initial":
                return READ_ON, _("本期抄表日期须晚于该表的安装日期 %(day)s") % {"day": previous_on}
            return READ_ON, _("本期抄表日期须晚于上期抄表日期 %(day)s") % {"day": previous_on}
        if reading.given_value is not None and reading.given_value != previous_value:
            return PREVIOUS_VALUE, self._given_mismatch(_("上期读数"), reading.given_value, previous_value, origin,
                                                        before)
        if reading.given_on is not None and reading.given_on != previous_on:
            return PREVIOUS_ON, self._given_mismatch(_("上期抄表日期"), reading.given_on, previous_on, origin, before)
        meter = reading.meter
        try:
            usage = reading_usage(previous_value, reading.value, digits=meter.digits, multiplier=meter.multiplier,
                                  rollover=reading.rollover)
        except ValidationError as error:
            return VALUE, error.messages[0]
        reading.previous_value, reading.previous_on, reading.usage = previous_value, previous_on, usage
        reading.flag_reason = unusual_reason(usage, usages)
        usages.insert(0, usage)
        return None

    @staticmethod
    def _given_mismatch(what, given, expected, origin, before):
        if origin == "file":
            return _("文件中填写的%(what)s %(given)s 与第 %(row)s 行的本期 %(expected)s 不一致（同一块表的读数按日期"
                     "先后相接）") % {"what": what, "given": given, "row": before.row, "expected": expected}
        where = _("该表的起始读数和安装日期") if origin == "initial" else _("系统中该表的上期读数")
        return _("文件中填写的%(what)s %(given)s 与%(where)s不一致，系统中为 %(expected)s") % {
            "what": what, "given": given, "where": where, "expected": expected}

    # Phase 2 -----------------------------------------------------------------------------

    def save(self):
        total = self.row_count + len(self.rows)
        self.progress(self.row_count, total, _("校验通过，正在写入 %(count)s 条读数") % {"count": len(self.rows)})
        meter_ids = {reading.meter.pk for reading in self.rows}
        with transaction.atomic():
            self._refuse_if_changed(*self._lock_meters(meter_ids))
            now = timezone.now()
            if connection.vendor == "postgresql":
                with self._reading_copy(now) as write:
                    for start in range(0, len(self.rows), COPY_SLICE):
                        write(self.rows[start:start + COPY_SLICE])
            else:
                self._insert_readings(now)
            result = self._record(now, meter_ids)
        self.progress(total, total, _("已写入 %(count)s 条读数") % {"count": len(self.rows)})
        return result

    def read_and_save(self, file):
        """PostgreSQL, in one pass: read, check and COPY each row as it comes, then lock the meters and re-check
        them; returns the result. Returns None, having written nothing, if any row is wrong or a meter's rows are
        out of date order: then ``check()`` and ``save()`` finish from the rows read, with the usual errors."""
        self.history = recent_readings(self.project, {meter.pk for meter in self.meters.values()
                                                      if meter.removed_on is None})
        now = timezone.now()
        progress, pending = self.progress, []
        if not getattr(progress, "can_write_aside", False):
            # Progress written through this connection would interrupt the COPY: the last is reported after it.
            def report_later(*report):
                pending[:] = [report]

            self.progress = report_later
        try:
            with transaction.atomic():
                with self._reading_copy(now) as write:
                    self.stream = ReadingStream(self, write)
                    self.read_file(file)
                    if self.stream.broken or self.errors or not self.rows:
                        raise NotStreamed
                    self.stream.flush()
                self.progress = progress
                for report in pending:
                    progress(*report)
                meter_ids = {reading.meter.pk for reading in self.rows}
                self._refuse_if_changed(*self._lock_written_meters(meter_ids))
                result = self._record(now, meter_ids)
        except NotStreamed:
            return None
        finally:
            self.progress, self.stream = progress, None
        total = self.row_count + len(self.rows)
        self.progress(total, total, _("已写入 %(count)s 条读数") % {"count": len(self.rows)})
        return result

    def _record(self, now, meter_ids):
        result = self.summary(meter_ids)
        audit_record(kind=AuditKind.IMPORT, user=self.actor, model=MeterReading, company_id=self.project.company_id,
                     detail={"project_id": self.project.pk, "file_name": self.file_name,
                             "created_at": now.isoformat(), **result})
        return result

    def _lock_meters(self, meter_ids):
        """Wait for readings being recorded on these meters (``reading_record`` locks the meter too): {meter id:
        (multiplier, digits, removed_on)} and {meter id: [its newest reading]} once they are locked."""
        if connection.vendor != "postgresql":
            now = {pk: (multiplier, digits, removed_on) for pk, multiplier, digits, removed_on in
                   Meter.objects.filter(project=self.project).values_list("pk", "multiplier", "digits", "removed_on")}
            return now, recent_readings(self.project, meter_ids)
        # Ordered by id, as every locker of meters does, so two imports cannot deadlock.
        now, latest = {}, {}
        with connection.cursor() as cursor:
            cursor.execute(LOCK_METERS_SQL, [sorted(meter_ids)])
            for pk, multiplier, digits, removed_on, value, read_on, usage in cursor:
                now[pk] = (multiplier, digits, removed_on)
                if read_on is not None:
                    latest[pk] = [(value, read_on, usage)]
        return now, latest

    def _lock_written_meters(self, meter_ids):
        """As ``_lock_meters``, once the file's readings are written: the newest reading before the meter's first
        of the file, which phase 1 measured from; and a meter with readings from that day on other than the file's
        answers one that matches nothing."""
        first_on, rows = {}, defaultdict(int)
        for reading in self.rows:
            pk = reading.meter.pk
            rows[pk] += 1
            if pk not in first_on or reading.read_on < first_on[pk]:
                first_on[pk] = reading.read_on
        ids = sorted(meter_ids)
        now, latest = {}, {}
        with connection.cursor() as cursor:
            cursor.execute(LOCK_WRITTEN_METERS_SQL, [ids])
            now = {pk: (multiplier, digits, removed_on) for pk, multiplier, digits, removed_on in cursor}
            cursor.execute(WRITTEN_READINGS_SQL, [ids, [first_on[pk] for pk in ids]])
            for pk, value, read_on, usage, count in cursor:
                if count != rows[pk]:
                    latest[pk] = [None]  # matches no reading phase 1 measured from
                elif read_on is not None:
                    latest[pk] = [(value, read_on, usage)]
        return now, latest

    def _refuse_if_changed(self, now, latest):
        """Refuse if a reading arrived, or a meter changed, after the file was checked."""
        errors, seen = RowErrors(), set()
        for reading in sorted(self.rows, key=lambda r: r.row):
            meter = reading.meter
            if meter.pk in seen:
                continue
            checked = self.history.get(meter.pk, [])
            if now.get(meter.pk) != (meter.multiplier, meter.digits, meter.removed_on):
                errors.add(reading.row, METER, _("表号 %(number)s 在校验后被修改或拆除，请重新导入")
                           % {"number": meter.number})
                seen.add(meter.pk)
            elif latest.get(meter.pk, [])[:1] != checked[:1]:
                errors.add(reading.row, READ_ON, _("表号 %(number)s 在校验后有人录入了新的读数，请重新导入")
                           % {"number": meter.number})
                seen.add(meter.pk)
        if errors:
            raise ImportRejected(errors)

    def _reading_fields(self, reading, now):
        return {
            "project_id": self.project.pk, "meter_id": reading.meter.pk,
            "kind": ReadingKind.ROLLOVER.value if reading.rollover else ReadingKind.NORMAL.value,
            "read_on": reading.read_on, "value": reading.value, "previous_on": reading.previous_on,
            "previous_value": reading.previous_value, "usage": reading.usage,
            "flagged": bool(reading.flag_reason), "flag_reason": reading.flag_reason,
            "source": ReadingSource.IMPORT.value, "note": reading.note,
            "recorded_by_id": getattr(self.actor, "pk", None), "created_at": now, "updated_at": now,
        }

    @contextmanager
    def _reading_copy(self, now):
        """A function that COPYs lists of checked rows, sent by a thread of psycopg's while the caller goes on."""
        actor_id = getattr(self.actor, "pk", None)
        # What every row shares is formatted once; COPY's text format needs \, tab and newlines escaped.
        head = f"{self.project.pk}\t"
        tail = (f"\t{ReadingSource.IMPORT.value}\t{NULL if actor_id is None else actor_id}"
                f"\t{now.isoformat()}\t{now.isoformat()}\t\n")
        kinds = {False: ReadingKind.NORMAL.value, True: ReadingKind.ROLLOVER.value}
        with (connection.cursor() as cursor, connection.wrap_database_errors,
              cursor.cursor.copy(READING_COPY, writer=QueuedLibpqWriter(cursor.cursor)) as copy):
            def write(rows):
                copy.write("".join([
                    f"{head}{r.meter.pk}\t{r.read_on}\t{r.value}\t{r.previous_on}\t{r.previous_value}\t{r.usage}"
                    f"\t{kinds[r.rollover]}\t{'t' if r.flag_reason else 'f'}\t{_copy_text(r.flag_reason)}"
                    f"\t{_copy_text(r.note)}{tail}" for r in rows]))
            yield write

    def _insert_readings(self, now):
        readings = [MeterReading(**self._reading_fields(reading, now)) for reading in self.rows]
        MeterReading.objects.bulk_create(readings, batch_size=INSERT_BATCH_SIZE)

    def summary(self, meter_ids):
        days = [reading.read_on for reading in self.rows]
        return {"readings": len(self.rows), "meters": len(meter_ids), "skipped": self.skipped,
                "flagged": sum(1 for reading in self.rows if reading.flag_reason),
                "rollovers": sum(1 for reading in self.rows if reading.rollover),
                "first_day": min(days).isoformat(), "last_day": max(days).isoformat()}


def reading_import(*, project, file, actor=None, file_name="", progress=None, today=None):
    """Check the whole file, then save all of it; raises ``ImportRejected`` and saves nothing if any row is bad."""
    importer = ReadingImport(project, actor=actor, file_name=file_name, progress=progress, today=today)
    try:
        if connection.vendor != "postgresql":
            importer.read_file(file)
        elif (result := importer.read_and_save(file)) is not None:
            return result
        return importer.check().save()
    except (IntegrityError, OperationalError) as error:
        # A reading recorded on a meter of the file, for one of its days, while the one pass wrote it: each waits
        # for the other and PostgreSQL gives up on one.
        if isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
            raise
        errors = RowErrors()
        errors.add(None, "", _("保存时数据库拒绝了这些读数（如他人刚录入了同一块表同一天的读数），未导入任何数据，"
                               "请重新导入"))
        raise ImportRejected(errors) from None


@job_runner(JOB_KIND)
def run_reading_import(job):
    result = run_project_import(job, lambda project, file, progress: reading_import(
        project=project, file=file, actor=job.created_by, file_name=job.params.get("file_name", ""),
        progress=progress))
    first_day, last_day = result.pop("first_day"), result.pop("last_day")  # said in the message, not as figures
    job.message = _("导入完成：读数 %(readings)s 条（%(meters)s 块表，%(first)s ～ %(last)s），"
                    "其中待复核 %(flagged)s 条") % {
        "readings": result["readings"], "meters": result["meters"], "first": first_day, "last": last_day,
        "flagged": result["flagged"]}
    return result


def reading_import_job(*, project, uploaded_file, actor):
    """Check the upload is a readable xlsx and record it as a job (not started yet)."""
    return project_import_job(kind=JOB_KIND, title=_("抄表导入：%(project)s") % {"project": project.name},
                              project=project, uploaded_file=uploaded_file, actor=actor)


def reading_import_start(*, project, uploaded_file, actor):
    """Record the upload as a job and start it in the background."""
    return job_enqueue(reading_import_job(project=project, uploaded_file=uploaded_file, actor=actor))


# Template -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    header: str
    note: str
    width: int
    number_format: str = "@"
    required: bool = False


COLUMNS = (
    Column(BUILDING, "楼栋编号，可留空；填写时须与表号所在的楼栋一致", 8),
    Column(ENTRANCE, "单元编号，可留空；填写时须与表号所在的单元一致", 8),
    Column(NUMBER, "房号，可留空；填写时须与表号所在的房屋一致（公区表、总表留空）", 10),
    Column(KIND, "水表、电表、燃气表或热表（也可填 水、电、气、热），可留空；填写时须与该表一致", 10),
    Column(METER, "必填，本项目仪表的表号", 16, required=True),
    Column(PREVIOUS_VALUE, "可留空；填写时须与系统中该表的上期读数一致（模板中已填好）", 12, "0.00"),
    Column(PREVIOUS_ON, "可留空；填写时须与系统中该表的上期抄表日期一致（模板中已填好）", 14, "yyyy-mm-dd"),
    Column(VALUE, "必填，不低于上期读数（翻表时除外），最多两位小数", 12, "0.00", True),
    Column(READ_ON, "必填，如 2026-11-25，须晚于上期抄表日期，不能晚于今天；同一块表每天只能有一个读数", 14,
           "yyyy-mm-dd", True),
    Column(NOTE, "不超过 200 个字；填“翻表”表示表盘走满归零", 20),
    Column(READING_KIND, "正常 或 翻表，留空为正常；换表请在仪表页面办理", 10),
)
EXAMPLE = ("1", "2", "301", "水表", "W-000123", 1234.5, datetime.date(2026, 10, 25), 1250, datetime.date(2026, 11, 25),
           "", "正常")


def template_meters(project, *, building=None, kind=None):
    """(楼栋, 单元, 房号, 表类型, 表号, 上期读数, 上期抄表日期) of the active meters of the project (or one building),
    of one kind or all: unit meters in walking order, then each building's public and master meters."""
    meters = Meter.objects.filter(project=project, removed_on__isnull=True)
    if kind:
        meters = meters.filter(kind=kind)
    if building is not None:
        meters = meters.filter(unit__building=building) | meters.filter(unit__isnull=True, building=building)
    rows = list(meters.order_by(
        F("unit__building__weight").asc(nulls_last=True), "unit__building__code", "unit__entrance__code",
        "unit__floor", "unit__number", "building__weight", "building__code", "role", "kind", "number",
    ).values_list("pk", "unit_id", "unit__building__code", "unit__entrance__code", "unit__number", "building__code",
                  "kind", "number", "initial_reading", "install_date"))
    recent = recent_readings(project, {row[0] for row in rows})
    labels = {kind.value: str(kind.label) for kind in MeterKind}
    for (pk, unit_id, unit_building, entrance, unit_number, building_code, meter_kind, number, initial,
         install_date) in rows:
        last = recent.get(pk)
        previous = last[0][:2] if last else (initial, install_date)
        place = (unit_building, entrance or "", unit_number) if unit_id else (building_code or "", "", "")
        yield (*place, labels[meter_kind], number, *previous)


def reading_import_template(project, *, building=None, kind=None):
    """The xlsx a clerk fills in: every active meter of the choice with its last reading, so only 本期读数 and
    本期抄表日期 are left to type; a 填写说明 sheet with an example row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("抄表读数")
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"

    def cell(value, column, fill=None, bold=False):
        item = WriteOnlyCell(sheet, value=value)
        item.number_format = column.number_format
        if fill is not None:
            item.fill = fill
        if bold:
            item.font = Font(bold=True)
            item.alignment = Alignment(horizontal="center")
        return item

    sheet.append([cell(c.header, c, required_fill if c.required else header_fill, bold=True) for c in COLUMNS])
    count = 0
    for meter in template_meters(project, building=building, kind=kind):
        sheet.append(meter)
        count += 1
    # Validations are written after the rows, so they can cover as many as there are, and room for more.
    last_row = count + 501
    kinds = DataValidation(type="list", formula1='"正常,翻表"', allow_blank=True, showErrorMessage=True,
                           errorTitle="输入有误", error="「读数类型」请填 正常 或 翻表")
    kinds.add(f"K2:K{last_row}")
    days = DataValidation(type="date", operator="greaterThan", formula1="32874", allow_blank=True,
                          showErrorMessage=True, errorTitle="输入有误",
                          error="「本期抄表日期」请填写日期，如 2026-11-25")
    days.add(f"I2:I{last_row}")
    sheet.data_validations.append(kinds)
    sheet.data_validations.append(days)

    guide = workbook.create_sheet("填写说明")
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 90
    guide.append([cell(text, COLUMNS[0], header_fill, bold=True) for text in ("列名", "是否必填", "填写说明")])
    for column in COLUMNS:
        guide.append([column.header, "必填" if column.required else "选填", column.note])
    guide.append([])
    scope = building.name or building.code if building is not None else _("全部楼栋")
    for line in (
        f"项目：{project.name}（{project.code}）；范围：{scope}；"
        f"表类型：{MeterKind(kind).label if kind else '全部'}；共 {count} 块在用的表。",
        "模板已按抄表顺序列出各表及其上期读数，只需填写「本期读数」和「本期抄表日期」；没有抄到的表可整行删除或留空本期读数。",
        "同一块表可以填多行（如补录几个月），按抄表日期先后相接：每一行的上期是前一行的本期。",
        "整份文件要么全部导入，要么都不导入：有任何一处错误时不会保存任何数据，请按错误明细修改后重新上传。",
        "用量超过该表近 6 期平均用量 3 倍的读数照常导入，标为「待复核」。",
        f"单次最多导入 {MAX_ROWS} 行。",
    ):
        guide.append([line])
    guide.append([])
    guide.append(["示例（填在「抄表读数」工作表中，本行仅作说明）："])
    guide.append([column.header for column in COLUMNS])
    guide.append(list(EXAMPLE))
    return workbook_bytes(workbook)
