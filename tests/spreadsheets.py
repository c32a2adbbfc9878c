"""Reading exports back in tests, and the cell values a spreadsheet would run as formulas."""

import csv
import io

from openpyxl import load_workbook

BOM = "\ufeff"
# Text a spreadsheet program evaluates unless it is neutralised.
HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "+1", "-2", "@SUM(A1)", "\tX", "\rY"]


def as_text(value: str) -> str:
    """How a hostile value must come back from a file: behind an apostrophe (XML reads
    a carriage return back as a line feed)."""
    return "'" + value


def csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(BOM.encode()), "the CSV starts with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:], newline="")))


def xlsx_sheet(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def xlsx_rows(response) -> list[tuple]:
    return list(xlsx_sheet(response).iter_rows(values_only=True))


def xlsx_text(value: str) -> str:
    return as_text(value).replace("\r", "\n")
