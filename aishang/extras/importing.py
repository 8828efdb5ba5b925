"""What every spreadsheet import shares: reading the sheet and its cells, collecting row errors, reporting them."""

import calendar
import datetime
import io
import re
import zipfile
from abc import ABC, abstractmethod
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import column_index_from_string, get_column_letter
from python_calamine import CalamineWorkbook

from .exports import xlsx_bytes

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
PROGRESS_EVERY = 1000
MAX_REPORTED_ERRORS = 500
ERRORS_HEADERS = ("行号", "列", "错误原因")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportRejected(Exception):
    """The file has errors; nothing was saved. ``errors`` says where."""

    def __init__(self, errors):
        super().__init__(errors.summary())
        self.errors = errors


class RowErrors:
    """Errors as (row as Excel numbers it, column header, reason), counting past the ones it keeps."""

    def __init__(self, limit=MAX_REPORTED_ERRORS):
        self.limit = limit
        self.items = []
        self.count = 0

    def __bool__(self):
        return self.count > 0

    def __len__(self):
        return self.count

    def add(self, row, column, message):
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append({"row": row, "column": column or "", "message": str(message)})

    def as_list(self):
        items = list(self.items)
        if self.count > len(items):
            items.append({"row": None, "column": "",
                          "message": f"另有 {self.count - len(items)} 处错误未列出，请先修改以上错误后重新导入"})
        return items

    def summary(self):
        if not self.items:
            return ""
        first = self.items[0]
        where = f"第 {first['row']} 行" if first["row"] else "文件"
        where += f"「{first['column']}」" if first["column"] else ""
        more = f" 等 {self.count} 处错误" if self.count > 1 else ""
        return f"{where}：{first['message'][:300]}{more}，未导入任何数据"


UNREADABLE = "无法读取该文件，请上传 Excel（.xlsx）文件，建议使用下载的导入模板"


def open_workbook(file):
    """The uploaded file's workbook, or a ValidationError the clerk can act on.

    Sheets are read by calamine (Rust), about ten times faster than openpyxl's read-only mode (ADR 0029)."""
    name = (getattr(file, "name", "") or "").lower()
    size = getattr(file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(f"文件不能超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if name.endswith(".xls"):
        raise ValidationError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再上传")
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        return CalamineWorkbook.from_filelike(file)
    # A damaged or foreign file fails inside the reader in many ways; each means the same to the clerk.
    except Exception:
        raise ValidationError(UNREADABLE) from None
    finally:
        if hasattr(file, "seek"):
            file.seek(0)


MAX_COLUMNS = 100
ROWS_BEYOND_LIMIT = 1000  # blank rows and the header above the row limit still read
MAX_SHEET_XML_BYTES = 300 * 1024 * 1024
_SHEET_TARGET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_CELL_COLUMN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})\d+"')


def check_sheet_extent(file, *, max_rows):
    """Refuse, before the sheet is read, a first sheet whose cells reach far beyond what an import takes.

    The reader builds the sheet as a grid from A1 to its farthest cell: a stray space typed in row 1,000,000 would
    cost gigabytes. The sheet's XML is scanned for the cells' row and column references instead (a fraction of a
    second for 100,000 rows). Only xlsx is taken: the reader would read other formats (ods, xls) unchecked."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(UNREADABLE) from None
    try:
        with archive:
            info = _first_sheet_info(archive)
            if info is None:
                raise ValidationError(UNREADABLE)
            if info.file_size > MAX_SHEET_XML_BYTES:
                raise ValidationError("表格内容过大，请删除多余的行列，或分成多个文件导入")
            rows, columns = _sheet_extent(archive, info)
    finally:
        if hasattr(file, "seek"):
            file.seek(0)
    if rows > max_rows + ROWS_BEYOND_LIMIT:
        raise ValidationError(f"表格的内容到第 {rows} 行，超过单次导入上限 {max_rows} 行：请分成多个文件导入，"
                              "或删除表格下方多余的单元格（包括只有空格的）后重新上传")
    if columns > MAX_COLUMNS:
        raise ValidationError(f"表格的内容到第 {get_column_letter(columns)} 列，超过 {MAX_COLUMNS} 列："
                              "请删除表格右侧多余的单元格（包括只有空格的）后重新上传")


def _first_sheet_info(archive):
    """The zip entry of the workbook's first sheet (as the reader orders them), or None."""
    try:
        workbook = archive.read("xl/workbook.xml")
        relations = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    first = _SHEET_TARGET.search(workbook)
    if first is None:
        return None
    for relation in re.finditer(rb"<Relationship\b[^>]*>", relations):
        if re.search(rb'\bId="' + re.escape(first[1]) + rb'"', relation[0]):
            target = re.search(rb'\bTarget="([^"]+)"', relation[0])
            if target is None:
                return None
            path = target[1].decode()
            path = path.lstrip("/") if path.startswith("/") else f"xl/{path}"
            try:
                return archive.getinfo(path)
            except KeyError:
                return None
    return None


def _sheet_extent(archive, info):
    """(last row, last column) the sheet's cells name; rows without a number count one after another."""
    last_row = last_column = 0
    carry = b""
    with archive.open(info) as xml:
        while chunk := xml.read(4 * 1024 * 1024):
            text = carry + chunk
            cut = text.rfind(b"<")  # a tag cut by the chunk is read whole with the next one
            text, carry = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
            numbers = _ROW_NUMBER.findall(text)
            if numbers:
                last_row = max(last_row, max(map(int, numbers)))
            last_row += text.count(b"<row") - len(numbers) if b"<row" in text else 0
            for letters in set(_CELL_COLUMN.findall(text)):
                last_column = max(last_column, column_index_from_string(letters.decode()))
    return last_row, last_column


def first_sheet_rows(workbook):
    """The first sheet's rows from Excel's row 1 and column A, each a list of its cells' values ("" when empty)."""
    try:
        return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:
        raise ValidationError(UNREADABLE) from None


def normalize_header(value):
    text = cell_text(value)
    for mark in ("*", "＊", " ", "\u3000", "\n", "\r", "\t"):
        text = text.replace(mark, "")
    return text.replace("(", "（").replace(")", "）")


def cell_text(value):
    """A cell as the text the clerk sees: 301.0 reads ``301``, dates read ``2026-11-23``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def is_blank_row(values):
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def parse_date_text(text, *, month_end=False):
    """A date as clerks type it (2025-01-31, 2025/1/31, 2025年1月31日, 20250131), or None.

    A month alone (2025-01) is its first day, or its last with ``month_end``.
    """
    text = text.strip().replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    text = text.split(" ")[0].rstrip("-")
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            return None
        return datetime.date(year, month, calendar.monthrange(year, month)[1] if month_end else 1)
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    return None


class SheetReader(ABC):
    """Reads the first sheet of an uploaded workbook, collecting errors by row and column.

    It finds the header row (the first that is not blank; a column may go by one of ``header_aliases``),
    skips blank rows, stops at ``max_rows`` and reports progress every ``progress_every`` rows, counting
    reading as the first half of the work. A subclass says which headers it knows and needs and reads each
    row into its own objects through ``raw``, ``text``, ``decimal`` and ``date``, which add the error of a
    wrong cell and return None.
    """

    header_aliases = {}
    max_rows = MAX_ROWS
    progress_every = PROGRESS_EVERY
    no_rows_message = gettext_lazy("文件中没有数据（表头下方为空）")
    earliest_date = None

    def __init__(self, progress=None):
        self.progress = progress or (lambda done, total, message: None)
        self.errors = RowErrors()
        self.positions = {}
        self.row_count = 0

    @abstractmethod
    def known_headers(self):
        """Every header the sheet may have, after aliases."""

    @abstractmethod
    def required_headers(self):
        """The headers the sheet must have; called once ``positions`` holds the ones it has."""

    @abstractmethod
    def read_row(self, row, cells):
        """One row below the headers: ``row`` as Excel numbers it, ``cells`` its values."""

    def read_file(self, file):
        workbook = open_workbook(file)
        try:
            check_sheet_extent(file, max_rows=self.max_rows)
            rows = first_sheet_rows(workbook)
        finally:
            workbook.close()
        self.read_rows(rows)

    def read_rows(self, rows):
        estimate = max(len(rows) - 1, 0)
        header_row = None
        for row_number, cells in enumerate(rows, start=1):
            if is_blank_row(cells):
                continue
            values = [None if value == "" else value for value in cells]  # an empty cell reads None, as in openpyxl
            if header_row is None:
                header_row = row_number
                if not self.read_headers(row_number, values):
                    return
                self.progress(0, estimate * 2, _("正在校验"))
                continue
            self.row_count += 1
            if self.row_count > self.max_rows:
                self.errors.add(row_number, "", _("单次最多导入 %(max)s 行，请分成多个文件导入")
                                % {"max": self.max_rows})
                return
            self.read_row(row_number, values)
            if self.row_count % self.progress_every == 0:
                total = estimate if estimate > self.row_count else self.row_count + self.progress_every
                self.progress(self.row_count, total * 2, _("正在校验第 %(row)s 行") % {"row": row_number})
        if header_row is None:
            self.errors.add(None, "", _("文件是空的，请使用下载的导入模板填写后上传"))
        elif not self.row_count:
            self.errors.add(None, "", str(self.no_rows_message))

    def read_headers(self, row, values):
        known = self.known_headers()
        self.positions = {}
        for index, value in enumerate(values):
            header = normalize_header(value)
            if not header:
                continue
            header = self.header_aliases.get(header, header)
            if header not in known:
                self.errors.add(row, header, _("无法识别的列，请使用下载的导入模板中的列名"))
            elif header in self.positions:
                self.errors.add(row, header, _("列名重复"))
            else:
                self.positions[header] = index
        missing = [header for header in self.required_headers() if header not in self.positions]
        if missing:
            self.errors.add(row, "", _("缺少必填列：%(columns)s，请使用下载的导入模板")
                            % {"columns": "、".join(missing)})
        return not self.errors

    def raw(self, cells, header):
        """The cell's value as the sheet holds it (None when empty, or when the sheet has no such column)."""
        index = self.positions.get(header)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def text(self, cells, header, row=None, max_length=None, required=False):
        text = cell_text(self.raw(cells, header))
        if required and not text:
            self.errors.add(row, header, _("必填，不能为空"))
        elif max_length and len(text) > max_length:
            self.errors.add(row, header, _("不能超过 %(count)s 个字") % {"count": max_length})
            return ""
        return text

    def decimal(self, cells, header, row, *, invalid, clean=None, required=False):
        """The cell as an exact Decimal, its sign, places and size left to the caller.

        ``clean`` takes what the clerk may write around the number (thousands separators, units) off its text;
        ``invalid`` is the message, with ``%(text)s``, for text that is no number. A float cell is read by its
        shortest repr, so 89.5 is 89.5 and not the binary 89.4999...
        """
        raw = self.raw(cells, header)
        text = cell_text(raw)
        if clean is not None:
            text = clean(text)
        if not text:
            if required:
                self.errors.add(row, header, _("必填，不能为空"))
            return None
        try:
            if isinstance(raw, bool):
                raise InvalidOperation
            value = float_decimal(raw) if isinstance(raw, float) else Decimal(text)
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.errors.add(row, header, str(invalid) % {"text": text})
            return None
        return value

    def date(self, cells, header, row, *, required=False, month_end=False):
        """A date cell, or text ``parse_date_text`` reads; not before ``earliest_date`` when one is set."""
        raw = self.raw(cells, header)
        if isinstance(raw, datetime.datetime):
            return raw.date()
        if isinstance(raw, datetime.date):
            return raw
        text = cell_text(raw)
        if not text:
            if required:
                self.errors.add(row, header, _("必填，不能为空"))
            return None
        value = parse_date_text(text, month_end=month_end)
        if value is None:
            self.errors.add(row, header, _("应为日期，如 2025-01-31，实际为“%(text)s”") % {"text": text})
        elif self.earliest_date and value < self.earliest_date:
            self.errors.add(row, header, _("日期不能早于 %(day)s") % {"day": self.earliest_date.isoformat()})
            return None
        return value


def float_decimal(value):
    """A number cell as the clerk typed it: 149 (which the sheet holds as 149.0) is 149, 89.5 is 89.5 and not the
    binary 89.4999..."""
    return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))


def _error_rows(job):
    return ((e.get("row"), e.get("column") or "", e.get("message") or "") for e in job.errors or [])


def import_errors_xlsx(job):
    """The errors of a failed import job as a spreadsheet: 行号, 列, 错误原因."""
    return xlsx_bytes(ERRORS_HEADERS, _error_rows(job), sheet_title="错误明细")


def import_errors_response(job):
    return xlsx_download(import_errors_xlsx(job), f"导入错误明细-{job.pk}")


def xlsx_download(content, filename):
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename + '.xlsx')}"
    return response


def workbook_bytes(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
