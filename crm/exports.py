"""Spreadsheet exports of any list: CSV (streamed, UTF-8 with a BOM so Excel reads the
Chinese right) and XLSX (openpyxl's write-only workbook, so memory stays flat).

A list view hands over its header row and an iterable of rows built from the same
visibility-scoped, filtered queryset the page shows, so an export never holds more
than the user may see. Iterate the queryset with `.iterator()` so a large export is
read in chunks rather than loaded at once.

Spreadsheet programs run a cell that begins with = + - @ (or a tab or carriage
return, which some strip first) as a formula; a customer called "=HYPERLINK(...)"
must arrive as text. Such text cells are prefixed with an apostrophe. Numbers stay
numbers: real numeric cells in XLSX, plain digits in CSV.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

FORMATS = ("csv", "xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spool the workbook in memory up to this size, then on disk.
XLSX_SPOOL_BYTES = 8 * 1024 * 1024


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def cell(value):
    """One value as a spreadsheet cell: numbers, dates and booleans kept, the rest text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | datetime.date):
        # datetime.datetime is a date too; Excel has no time zones, so drop it.
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    return safe_text(str(value))


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer."""

    def write(self, value):
        return value


def _csv_lines(headers: Sequence, rows: Iterable[Sequence]):
    writer = csv.writer(_Echo())
    yield CSV_BOM + writer.writerow([cell(h) for h in headers])
    for row in rows:
        yield writer.writerow([_csv_value(cell(v)) for v in row])


def _csv_value(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value


def _xlsx_value(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # XML cannot hold most control characters; openpyxl refuses them rather than drop them.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _xlsx_file(headers: Sequence, rows: Iterable[Sequence], title: str):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    sheet.append([_xlsx_value(cell(h)) for h in headers])
    for row in rows:
        sheet.append([_xlsx_value(cell(v)) for v in row])
    # Not a `with` block: FileResponse closes the file once it is sent.
    spool = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return spool


def export_response(*, filename: str, headers: Sequence, rows: Iterable[Sequence], fmt: str, title: str = ""):
    """A download of `rows` under `headers` as `filename`.<fmt> (fmt: "csv" or "xlsx").

    CSV is streamed row by row as the rows are read; XLSX is written by a write-only
    workbook (it cannot be streamed: the format is a zip whose index comes last).
    """
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(headers, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
        return response
    if fmt == "xlsx":
        return FileResponse(
            _xlsx_file(headers, rows, title or filename),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )
    raise ValueError(f"unknown export format {fmt!r}; expected one of {FORMATS}")
