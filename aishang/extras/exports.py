"""Streaming xlsx exports of any list: one row at a time, never the whole list in memory."""

import io

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font


def xlsx_bytes(headers, rows, sheet_title="数据"):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    from openpyxl.cell import WriteOnlyCell

    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename, headers, rows, sheet_title="数据"):
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    from urllib.parse import quote

    response = HttpResponse(
        xlsx_bytes(headers, rows, sheet_title),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{filename}-{stamp}.xlsx')}"
    return response
