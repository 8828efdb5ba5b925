"""The sheet reader every spreadsheet import shares: headers, blank rows, the row limit, cells, progress."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook

from aishang.extras.importing import SheetReader, _first_sheet_info, _sheet_extent, parse_date_text


class MeterSheet(SheetReader):
    """A small import of its own: 表号 and 读数 required, 抄表日期 optional; each row's cells are kept."""

    header_aliases = {"水表号": "表号", "本期读数": "读数"}
    no_rows_message = "文件中没有读数（表头下方为空）"
    earliest_date = datetime.date(2000, 1, 1)

    def __init__(self, progress=None, **limits):
        super().__init__(progress)
        for name, value in limits.items():
            setattr(self, name, value)
        self.read = []

    def known_headers(self):
        return {"表号", "读数", "抄表日期"}

    def required_headers(self):
        return ["表号", "读数"]

    def read_row(self, row, cells):
        reading = self.decimal(cells, "读数", row, required=True, clean=lambda text: text.replace(",", ""),
                               invalid="应为读数，如 1024.5，实际为“%(text)s”")
        self.read.append((row, self.text(cells, "表号", row, max_length=6, required=True), reading,
                          self.date(cells, "抄表日期", row, month_end=True)))


def workbook(*rows):
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "读数.xlsx"
    return buffer


def read(*rows, **options):
    reader = MeterSheet(**options)
    reader.read_file(workbook(*rows))
    return reader


def errors(reader):
    return [(e["row"], e["column"], e["message"]) for e in reader.errors.as_list()]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def test_it_finds_columns_by_their_names_in_any_order_and_by_the_aliases_clerks_use():
    reader = read(["抄表日期", " 本期读数 *", "水表号"], ["2026-03-05", 12.5, "A01"])

    assert reader.positions == {"抄表日期": 0, "读数": 1, "表号": 2}
    assert reader.read == [(2, "A01", Decimal("12.5"), datetime.date(2026, 3, 5))]
    assert not reader.errors


def test_unknown_repeated_and_missing_columns_are_reported_at_the_header_row_and_no_row_is_read():
    reader = read(["表号", "车位", "水表号"], ["A01"])

    assert errors(reader) == [(1, "车位", "无法识别的列，请使用下载的导入模板中的列名"),
                              (1, "表号", "列名重复"),
                              (1, "", "缺少必填列：读数，请使用下载的导入模板")]
    assert reader.read == []


def test_blank_rows_are_skipped_and_rows_keep_the_numbers_excel_shows():
    reader = read([None, None], ["表号", "读数"], ["A01", 1], [None, "  "], ["A02", 2])

    assert [(row, meter) for row, meter, _reading, _day in reader.read] == [(3, "A01"), (5, "A02")]
    assert reader.row_count == 2


def test_a_sheet_that_starts_below_and_right_of_a1_keeps_the_rows_and_columns_excel_shows():
    book = Workbook()
    sheet = book.active
    sheet["C3"], sheet["D3"], sheet["E3"] = "表号", "读数", "抄表日期"
    sheet["C5"], sheet["D5"], sheet["E5"] = "A01", 12.0, datetime.datetime(2026, 5, 20)
    sheet["C6"], sheet["D6"] = 301, 0.1
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.name = "读数.xlsx"

    reader = MeterSheet()
    reader.read_file(buffer)

    assert not reader.errors
    assert reader.read == [(5, "A01", Decimal("12"), datetime.date(2026, 5, 20)), (6, "301", Decimal("0.1"), None)]
    assert str(reader.read[0][2]) == "12"  # as typed, not 12.0


def opendocument_spreadsheet():
    """A zip that is no xlsx (an .ods renamed): the reader would read it, unchecked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.mark.parametrize("content", [b"not a spreadsheet", b"PK\x03\x04broken zip", opendocument_spreadsheet()],
                         ids=["text", "broken zip", "ods"])
def test_a_file_that_is_no_workbook_is_refused_with_a_message_the_clerk_can_act_on(content):
    upload = io.BytesIO(content)
    upload.name = "读数.xlsx"

    with pytest.raises(ValidationError, match="无法读取该文件，请上传 Excel"):
        MeterSheet().read_file(upload)


@pytest.mark.parametrize(("cell", "message"), [
    ("A1000000", "表格的内容到第 1000000 行，超过单次导入上限 100000 行：请分成多个文件导入，或删除表格下方"),
    ("KN3", "表格的内容到第 KN 列，超过 100 列：请删除表格右侧多余的单元格"),
])
def test_a_stray_cell_far_away_is_refused_before_the_sheet_is_read(cell, message):
    book = Workbook()
    sheet = book.active
    sheet.append(["表号", "读数"])
    sheet.append(["A01", 1])
    sheet[cell] = " "  # a space typed far below or to the right: the reader would build the grid up to it
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.name = "读数.xlsx"

    with pytest.raises(ValidationError, match=message):
        MeterSheet().read_file(buffer)


def test_the_sheets_extent_counts_rows_and_columns_of_a_full_template():
    rows = [["表号", "读数"], *[[f"A{n:03d}", n] for n in range(300)]]
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)

    with zipfile.ZipFile(buffer) as archive:
        assert _sheet_extent(archive, _first_sheet_info(archive)) == (301, 2)


def test_an_empty_file_and_a_file_with_only_headers_say_so():
    assert errors(read()) == [(None, "", "文件是空的，请使用下载的导入模板填写后上传")]
    assert errors(read(["表号", "读数"], [None, None])) == [(None, "", "文件中没有读数（表头下方为空）")]


def test_reading_stops_at_the_row_limit_with_the_first_row_past_it():
    reader = read(["表号", "读数"], ["A01", 1], ["A02", 2], ["A03", 3], ["A04", 4], max_rows=2)

    assert errors(reader) == [(4, "", "单次最多导入 2 行，请分成多个文件导入")]
    assert [row for row, *_rest in reader.read] == [2, 3]


def test_progress_counts_reading_as_half_the_work_every_so_many_rows():
    reports = []
    read(["表号", "读数"], *[[f"A{n}", n] for n in range(5)], progress_every=2,
         progress=lambda done, total, message: reports.append((done, total, message)))

    assert reports == [(0, 10, "正在校验"), (2, 10, "正在校验第 3 行"), (4, 10, "正在校验第 5 行")]


@pytest.mark.parametrize(("cell", "expected"), [
    (89.5, Decimal("89.5")),
    (1024.05, Decimal("1024.05")),  # not the binary 1024.04999...
    (1200, Decimal("1200")),
    ("1,024.50", Decimal("1024.50")),
    (" 7 ", Decimal("7")),
])
def test_a_number_is_read_exactly_from_a_number_cell_or_from_text(cell, expected):
    reader = read(["表号", "读数"], ["A01", cell])

    assert reader.read[0][2] == expected
    assert not reader.errors


@pytest.mark.parametrize(("cell", "message"), [
    ("一百", "应为读数，如 1024.5，实际为“一百”"),
    (True, "应为读数，如 1024.5，实际为“是”"),
    ("NaN", "应为读数，如 1024.5，实际为“NaN”"),
    ("1,0x", "应为读数，如 1024.5，实际为“10x”"),  # the text as cleaned, so the clerk sees what was read
    (None, "必填，不能为空"),
])
def test_a_cell_that_is_no_number_is_refused_at_its_row_and_column(cell, message):
    reader = read(["表号", "读数"], ["A01", 1], ["A02", cell])

    assert errors(reader) == [(3, "读数", message)]
    assert reader.read[1][2] is None


@pytest.mark.parametrize(("cell", "expected"), [
    (datetime.datetime(2026, 3, 5, 8, 30), datetime.date(2026, 3, 5)),
    (datetime.date(1999, 1, 1), datetime.date(1999, 1, 1)),  # a real date cell is taken as it is
    ("2026/3/5", datetime.date(2026, 3, 5)),
    ("2026年3月5日", datetime.date(2026, 3, 5)),
    ("2026.03.05", datetime.date(2026, 3, 5)),
    ("20260305", datetime.date(2026, 3, 5)),
    ("2026-03-05 08:30", datetime.date(2026, 3, 5)),
    ("2026-02", datetime.date(2026, 2, 28)),  # month_end: a month alone is its last day
    (None, None),
])
def test_a_date_is_read_from_a_date_cell_or_from_text_as_clerks_type_it(cell, expected):
    reader = read(["表号", "读数", "抄表日期"], ["A01", 1, cell])

    assert reader.read[0][3] == expected
    assert not reader.errors


@pytest.mark.parametrize(("cell", "message"), [
    ("下个月", "应为日期，如 2025-01-31，实际为“下个月”"),
    ("2026-02-30", "应为日期，如 2025-01-31，实际为“2026-02-30”"),
    ("2026-13", "应为日期，如 2025-01-31，实际为“2026-13”"),
    ("1999-12-31", "日期不能早于 2000-01-01"),
])
def test_a_wrong_date_is_refused_at_its_row_and_column(cell, message):
    reader = read(["表号", "读数", "抄表日期"], ["A01", 1, cell])

    assert errors(reader) == [(2, "抄表日期", message)]
    assert reader.read[0][3] is None


def test_a_month_alone_is_its_first_day_unless_the_end_is_asked_for():
    assert parse_date_text("2024-02") == datetime.date(2024, 2, 1)
    assert parse_date_text("2024-02", month_end=True) == datetime.date(2024, 2, 29)


def test_text_reads_whole_numbers_without_a_decimal_point_and_checks_required_and_length():
    reader = read(["表号", "读数"], [301.0, 1], [None, 2], ["A0000001", 3])

    assert [meter for _row, meter, _reading, _day in reader.read] == ["301", "", ""]
    assert errors(reader) == [(3, "表号", "必填，不能为空"), (4, "表号", "不能超过 6 个字")]


def test_the_shared_messages_follow_the_language_of_the_request():
    with translation.override("en"):
        reader = read(["表号", "读数"], [None, 1])

    assert errors(reader) == [(2, "表号", "Required; cannot be empty")]
