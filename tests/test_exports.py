"""The generic spreadsheet writer (crm.exports): CSV streamed as UTF-8 with a BOM, XLSX
from a write-only workbook; formulas neutralised in text cells, numbers kept numbers."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from crm import exports

HEADERS = ["名称", "金额", "日期"]
DANGEROUS = ["=1+2", "+86 138", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd"]


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:])))


def read_xlsx(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.active.iter_rows(values_only=True))


def test_csv_is_streamed_with_a_bom_and_a_filename():
    response = exports.export_response(filename="应收", headers=HEADERS, rows=[], fmt="csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    assert read_csv(response) == [HEADERS]


def test_csv_rows_are_read_lazily():
    read = []

    def rows():
        for n in range(3):
            read.append(n)
            yield [f"客户{n}", Decimal(n), None]

    response = exports.export_response(filename="x", headers=HEADERS, rows=rows(), fmt="csv")
    assert read == []  # nothing read before the response is consumed
    assert len(read_csv(response)) == 4 and read == [0, 1, 2]


def test_csv_neutralises_formulas_and_keeps_numbers_plain():
    rows = [[text, Decimal("-12.50"), datetime.date(2026, 3, 1)] for text in DANGEROUS]
    rows.append(["安全的名称", 7, datetime.date(2026, 3, 2)])
    header, *body = read_csv(exports.export_response(filename="x", headers=HEADERS, rows=rows, fmt="csv"))
    assert [row[0] for row in body] == ["'" + text for text in DANGEROUS] + ["安全的名称"]
    # A negative number is a number, not text that starts with "-".
    assert [row[1] for row in body] == ["-12.50"] * len(DANGEROUS) + ["7"]
    assert body[0][2] == "2026-03-01"


def test_xlsx_cells_are_typed_and_formulas_neutralised():
    rows = [[text, Decimal("1234.56"), datetime.date(2026, 3, 1)] for text in DANGEROUS]
    rows.append(["绿色\x07兽药", -3, None])  # a control character XML cannot hold
    response = exports.export_response(filename="应收", headers=HEADERS, rows=rows, fmt="xlsx", title="应收账款")
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert ".xlsx" in response["Content-Disposition"]
    header, *body = read_xlsx(response)
    assert list(header) == HEADERS
    # XML reads a carriage return back as a line feed; the apostrophe is what matters.
    expected = ["'" + text.replace("\r", "\n") for text in DANGEROUS] + ["绿色兽药"]
    assert [row[0] for row in body] == expected
    assert all(row[1] == 1234.56 and isinstance(row[1], float) for row in body[:-1])
    assert body[-1][1] == -3
    assert body[0][2] == datetime.datetime(2026, 3, 1)
    assert body[-1][2] is None


def test_xlsx_never_writes_a_formula():
    response = exports.export_response(filename="x", headers=["a"], rows=[["=1+1"]], fmt="xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = workbook.active["A2"]
    assert cell.data_type == "s" and cell.value == "'=1+1"


def test_timezone_aware_datetimes_lose_their_zone():
    moment = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    assert exports.cell(moment) == datetime.datetime(2026, 3, 1, 9, 30)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        exports.export_response(filename="x", headers=[], rows=[], fmt="pdf")
