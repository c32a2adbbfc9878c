"""Spreadsheet exports of every list: CSV (streamed, UTF-8 with a BOM so Excel reads the
Chinese right) and XLSX (openpyxl's write-only workbook, so memory stays flat).

How a list gets its export
--------------------------
An export is the list page's own rows: the same visibility-scoped queryset, through
the same FilterSet and the same query string, so it never holds more than the user
may see and a filter means the same in both. Three pieces per list:

1. The columns, a list of `Column`s: a translatable header, the `.values()` path
   the cell reads (or a function of the row plus the paths it `needs`), and a kind
   (TEXT, INTEGER, DECIMAL, MONEY, DATE, DATETIME, YES_NO) so that numbers, money and
   dates arrive as numbers and dates, not text. `choices=` shows a choice's label;
   `person(label, path)` is a user's name through a foreign key::

       VISIT_COLUMNS = [
           Column(_("Date"), "date", DATE),
           Column(_("Customer code"), "customer__code"),
           Column(_("Customer"), "customer__name"),
           person(_("Rep"), "rep"),
           Column(_("Kind"), "kind", choices=Visit.Kind.choices),
           Column(_("Amount"), "amount", MONEY),
       ]

2. A view beside the list's, building its queryset with the list page's own helper
   (one function returning the bound FilterSet, called by both views; never a second
   filtering path) and handing `filterset.qs` to `export_list`::

       @login_required
       @require_GET
       def visit_export(request):
           filterset = visit_filterset(request)  # the list page calls it too
           return exports.export_list(request, filterset.qs, VISIT_COLUMNS, filename="visits", title=_("Visits"))

   `export_list` reads ?format=csv (the default) or xlsx (anything else is a 404),
   selects only the columns' paths with `.values()` (one query, joins instead of a
   query per row, whatever the list's select_related) and reads the rows with
   `.iterator(chunk_size=CHUNK_SIZE)` while the file is written. Test the query count
   with two sizes of list: it must not grow with the rows.

3. The list template's Export dropdown, carrying the page's query string::

       {% url 'visits:visit_export' as export_url %}{% include "includes/export_menu.html" with url=export_url %}

   and an entry in tests/test_permission_matrix.py ROUTES, like
   "customers:export": [Check("GET", "list", "customer", params=(("format", "csv"),))].

Formula injection
-----------------
Spreadsheet programs run a cell that begins with = + - @ (or a tab or carriage return,
which some strip first) as a formula; a customer called "=HYPERLINK(...)" must arrive
as text. Such text cells are prefixed with an apostrophe. Numbers stay numbers: real
numeric cells in XLSX, plain digits in CSV (a negative amount is a number, not text
starting with "-").

Digits that are text
--------------------
Excel reads a CSV cell of digits as a number: a mobile becomes 1.38123E+10, an
all-digit credit code loses its last digits, a code its leading zeros. In CSV such a
text cell (eleven digits or more, or a leading zero) is written ="13812345678", which
Excel shows as the text itself; the importer reads it back as the digits. XLSX cells
are typed and need nothing.
"""

import csv
import datetime
import operator
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spool the workbook in memory up to this size, then on disk.
XLSX_SPOOL_BYTES = 8 * 1024 * 1024
# Rows fetched from PostgreSQL at a time while an export is written.
CHUNK_SIZE = 2000

# Kinds of column: what a cell holds, and how XLSX shows it.
TEXT, INTEGER, DECIMAL, MONEY, DATE, DATETIME, YES_NO = (
    "text",
    "integer",
    "decimal",
    "money",
    "date",
    "datetime",
    "yes_no",
)
NUMBER_FORMATS = {MONEY: "#,##0.00", DATE: "yyyy-mm-dd", DATETIME: "yyyy-mm-dd hh:mm"}
COLUMN_WIDTHS = {TEXT: 18, INTEGER: 10, DECIMAL: 12, MONEY: 14, DATE: 12, DATETIME: 17, YES_NO: 8}


# -- Cells ----------------------------------------------------------------------------------


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def cell(value):
    """One value as a spreadsheet cell: numbers, dates and booleans kept, the rest text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | datetime.date):
        # datetime.datetime is a date too; Excel has no time zones: local wall time.
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return safe_text(str(value))


# -- Columns ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a list export: the header, where the cell comes from, its kind.

    The cell is `row[field]` of the `.values()` row, or `value(row)` when given (then
    `needs` names the paths it reads). With `choices`, the choice's label is shown.
    """

    label: object
    field: str = ""
    kind: str = TEXT
    choices: Sequence[tuple] = ()
    value: Callable[[dict], object] | None = None
    needs: tuple[str, ...] = ()

    def paths(self) -> tuple[str, ...]:
        return self.needs or ((self.field,) if self.field else ())

    def reader(self) -> Callable[[dict], object]:
        """A function from a row to the cell's value, its labels translated now: the
        rows of a CSV are written after the view has returned."""
        get = self.value or operator.itemgetter(self.field)
        if self.choices:
            labels = {key: str(label) for key, label in _flat(self.choices)}
            return lambda row: labels.get(get(row), get(row))
        if self.kind == YES_NO:
            yes, no = _("Yes"), _("No")
            return lambda row: None if (value := get(row)) is None else yes if value else no
        if self.kind == TEXT:
            return lambda row: None if (value := get(row)) is None else str(value)
        return get


def _flat(choices) -> Iterable[tuple]:
    for key, label in choices:
        if isinstance(label, list | tuple):  # an option group
            yield from label
        else:
            yield key, label


def person(label, path: str) -> Column:
    """A user's name through the foreign key `path` ("owner", "customer__owner"), as the
    pages show it: family name then given name, else the username."""
    last, first, username = f"{path}__last_name", f"{path}__first_name", f"{path}__username"

    def name(row):
        if row[username] is None:
            return None
        return f"{row[last] or ''}{row[first] or ''}" or row[username]

    return Column(label, value=name, needs=(last, first, username))


# -- Files ------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer."""

    def write(self, value):
        return value


def _csv_lines(headers: Sequence, rows: Iterable[Sequence]):
    writer = csv.writer(_Echo())
    yield CSV_BOM + writer.writerow([cell(h) for h in headers])
    for row in rows:
        yield writer.writerow([_csv_value(cell(v)) for v in row])


# Text Excel would turn into a number, losing digits (see "Digits that are text").
_EXCEL_NUMBER = re.compile(r"0\d+|\d{11,}")


def _csv_value(value):
    if type(value) is str:
        return f'="{value}"' if _EXCEL_NUMBER.fullmatch(value) else value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value


def _xlsx_value(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # XML cannot hold most control characters; openpyxl refuses them rather than drop them.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _xlsx_file(headers: Sequence, rows: Iterable[Sequence], title: str, kinds: Sequence[str]):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    for index, kind in enumerate(kinds, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTHS.get(kind, COLUMN_WIDTHS[TEXT])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        header_cell = WriteOnlyCell(sheet, _xlsx_value(cell(header)))
        header_cell.font = bold
        header_cells.append(header_cell)
    sheet.append(header_cells)
    formats = [NUMBER_FORMATS.get(kind) for kind in kinds]
    for row in rows:
        values = [_xlsx_value(cell(v)) for v in row]
        for index, number_format in enumerate(formats):
            if number_format and values[index] != "":
                values[index] = WriteOnlyCell(sheet, values[index])
                values[index].number_format = number_format
        sheet.append(values)
    # Not a `with` block: FileResponse closes the file once it is sent.
    spool = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return spool


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name, and more than 31 of any.
    cleaned = " ".join("".join(" " if ch in "[]:*?/\\" else ch for ch in str(title)).split())
    return cleaned[:31] or "Sheet1"


def export_response(
    *,
    filename: str,
    headers: Sequence,
    rows: Iterable[Sequence],
    fmt: str,
    title: str = "",
    kinds: Sequence[str] = (),
):
    """A download of `rows` under `headers` as `filename`.<fmt> (fmt: "csv" or "xlsx").

    CSV is streamed row by row as the rows are read; XLSX is written by a write-only
    workbook (it cannot be streamed: the format is a zip whose index comes last), with
    each column shown as its kind in `kinds` says (money with two decimals, dates).
    """
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(headers, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
        return response
    if fmt == "xlsx":
        return FileResponse(
            _xlsx_file(headers, rows, title or filename, kinds),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )
    raise ValueError(f"unknown export format {fmt!r}; expected one of {FORMATS}")


# -- A list's export ----------------------------------------------------------------------------


def export_list(request, rows, columns: Sequence[Column], *, filename: str, title=""):
    """The list's rows as the ?format= the request asks for (csv by default; another
    format is a 404), named `filename`-<today>.

    `rows` is the list page's filtered queryset (only the columns' paths are selected,
    read in chunks) or any iterable of dicts holding those paths.
    """
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise Http404
    if isinstance(rows, QuerySet):
        paths = list(dict.fromkeys(path for column in columns for path in column.paths()))
        rows = rows.values(*paths).iterator(chunk_size=CHUNK_SIZE)
    readers = [column.reader() for column in columns]
    return export_response(
        filename=f"{filename}-{timezone.localdate():%Y%m%d}",
        headers=[str(column.label) for column in columns],
        rows=([read(row) for read in readers] for row in rows),
        fmt=fmt,
        title=str(title),
        kinds=[column.kind for column in columns],
    )
