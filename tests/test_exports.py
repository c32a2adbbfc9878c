"""The generic spreadsheet writer (crm.exports): CSV streamed as UTF-8 with a BOM, XLSX
from a write-only workbook; formulas neutralised in text cells, numbers kept numbers;
and the columns and `export_list` every list's export is built from.

Each list's own export (its filters, visibility and query count) is tested beside the
list: tests/customers/test_lists.py, tests/sales/test_exports_pages.py and the
receivables export in tests/sales/test_finance_pages.py.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.test import RequestFactory
from django.utils import timezone, translation
from openpyxl import load_workbook

from crm import exports
from crm.exports import DATE, DATETIME, INTEGER, MONEY, YES_NO, Column, person
from customers.models import Customer
from tests import spreadsheets

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


def test_csv_keeps_digits_that_are_text_as_text():
    # Excel reads a CSV cell of digits as a number: a mobile shown as 1.38123E+10, a
    # code's leading zero or an 18-digit credit code's last digits lost.
    texts = ["13812345678", "0531", "913701001234567890", "12345", "0", "KH000123", "138-1234-5678"]
    rows = [[text, 13812345678, None] for text in texts]
    header, *body = read_csv(exports.export_response(filename="x", headers=HEADERS, rows=rows, fmt="csv"))
    assert [row[0] for row in body] == [
        '="13812345678"', '="0531"', '="913701001234567890"', "12345", "0", "KH000123", "138-1234-5678"
    ]  # fmt: skip
    # A number is a number.
    assert {row[1] for row in body} == {"13812345678"}


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


def test_timezone_aware_datetimes_become_local_wall_time():
    moment = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    # Asia/Shanghai is eight hours ahead; Excel has no time zones.
    assert exports.cell(moment) == datetime.datetime(2026, 3, 1, 17, 30)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        exports.export_response(filename="x", headers=[], rows=[], fmt="pdf")


# -- Columns and export_list ------------------------------------------------------------------


def test_a_column_reads_its_path_and_shows_choice_labels_in_the_active_language():
    column = Column("Status", "status", choices=Customer.Status.choices)
    with translation.override("en"):
        english = column.reader()
    with translation.override("zh-hans"):
        chinese = column.reader()
        dormant = str(Customer.Status.DORMANT.label)
    row = {"status": "dormant"}
    assert english(row) == "Dormant"
    assert dormant != "Dormant" and chinese(row) == dormant
    # An unknown value is shown as it is.
    assert english({"status": "gone"}) == "gone"


def test_kinds_of_columns():
    row = {"n": 7, "flag": False, "code": 12, "missing": None}
    with translation.override("en"):
        assert Column("n", "n", INTEGER).reader()(row) == 7
        assert Column("flag", "flag", YES_NO).reader()(row) == "No"
        assert Column("flag", "missing", YES_NO).reader()(row) is None
        # Text stays text even when the value is a number (codes keep their form).
        assert Column("code", "code").reader()(row) == "12"
        assert Column("x", "missing").reader()(row) is None
    computed = Column("sum", value=lambda r: r["n"] * 2, needs=("n",), kind=INTEGER)
    assert computed.paths() == ("n",) and computed.reader()(row) == 14
    assert Column("n", "n").paths() == ("n",)


def test_person_shows_family_then_given_name_else_the_username():
    column = person("Rep", "customer__owner")
    assert column.paths() == ("customer__owner__last_name", "customer__owner__first_name", "customer__owner__username")
    read = column.reader()
    names = {"customer__owner__last_name": "李", "customer__owner__first_name": "明"}
    assert read({**names, "customer__owner__username": "rep"}) == "李明"
    blank = {"customer__owner__last_name": "", "customer__owner__first_name": ""}
    assert read({**blank, "customer__owner__username": "rep"}) == "rep"
    # No user at the end of the path (a nullable key): an empty cell.
    assert read({"customer__owner__last_name": None, "customer__owner__first_name": None,
                 "customer__owner__username": None}) is None  # fmt: skip


COLUMNS = [
    Column("Name", "name"),
    Column("Amount", "amount", MONEY),
    Column("Day", "day", DATE),
    Column("At", "at", DATETIME),
    Column("Paid", "paid", YES_NO),
]
ROWS = [
    {
        "name": text,
        "amount": Decimal("-1234.50"),
        "day": datetime.date(2026, 3, 1),
        "at": datetime.datetime(2026, 3, 1, 1, 0, tzinfo=datetime.UTC),
        "paid": True,
    }
    for text in spreadsheets.HOSTILE
]


def test_export_list_csv_is_the_default():
    request = RequestFactory().get("/x/")
    with translation.override("en"):
        response = exports.export_list(request, iter(ROWS), COLUMNS, filename="things", title="Things")
    assert f"things-{timezone.localdate():%Y%m%d}.csv" in response["Content-Disposition"]
    header, *body = spreadsheets.csv_rows(response)
    assert header == ["Name", "Amount", "Day", "At", "Paid"]
    assert [row[0] for row in body] == [spreadsheets.as_text(v) for v in spreadsheets.HOSTILE]
    assert body[0][1:] == ["-1234.50", "2026-03-01", "2026-03-01 09:00:00", "Yes"]


def test_export_list_xlsx_keeps_kinds_and_formats_money():
    request = RequestFactory().get("/x/", {"format": "xlsx"})
    response = exports.export_list(request, ROWS, COLUMNS, filename="things", title="应收/账款: [2026]")
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    sheet = spreadsheets.xlsx_sheet(response)
    assert sheet.title == "应收 账款 2026"  # characters Excel refuses in a sheet name are replaced
    header, *body = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in body] == [spreadsheets.xlsx_text(v) for v in spreadsheets.HOSTILE]
    assert all(cell.data_type == "s" for cell in sheet["A"])
    assert body[0][1] == -1234.5 and isinstance(body[0][1], float)
    assert body[0][2] == datetime.datetime(2026, 3, 1) and body[0][3] == datetime.datetime(2026, 3, 1, 9, 0)
    assert sheet["B2"].number_format == "#,##0.00"
    assert sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"


def test_export_list_refuses_an_unknown_format():
    with pytest.raises(Http404):
        exports.export_list(RequestFactory().get("/x/", {"format": "pdf"}), [], COLUMNS, filename="x")


@pytest.mark.django_db
def test_export_list_selects_only_the_columns_from_a_queryset(django_assert_num_queries, rep):
    from tests.factories import CustomerFactory

    CustomerFactory.create_batch(3, owner=rep)
    columns = [Column("Code", "code"), person("Owner", "owner")]
    request = RequestFactory().get("/x/")
    response = exports.export_list(request, Customer.objects.order_by("code"), columns, filename="x")
    # One query for every row, the owner joined in, read when the file is written.
    with django_assert_num_queries(1) as captured:
        header, *body = spreadsheets.csv_rows(response)
    assert len(body) == 3 and {row[1] for row in body} == {"李明"}
    sql = captured.captured_queries[0]["sql"]
    assert "search_text" not in sql and "custom_fields" not in sql
