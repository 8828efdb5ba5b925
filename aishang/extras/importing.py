"""What every spreadsheet import shares: reading cells, collecting row errors, reporting them."""

import datetime
import io
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from openpyxl import load_workbook

from .exports import xlsx_bytes

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
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


def open_workbook(file):
    """The uploaded file as a streaming workbook, or a ValidationError the clerk can act on."""
    name = (getattr(file, "name", "") or "").lower()
    size = getattr(file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(f"文件不能超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if name.endswith(".xls"):
        raise ValidationError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再上传")
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        return load_workbook(file, read_only=True, data_only=True)
    # A damaged or foreign file fails inside openpyxl in many ways; each means the same to the clerk.
    except Exception:
        raise ValidationError("无法读取该文件，请上传 Excel（.xlsx）文件，建议使用下载的导入模板") from None
    finally:
        if hasattr(file, "seek"):
            file.seek(0)


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
