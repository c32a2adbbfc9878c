"""Reading uploaded spreadsheets, and refusing the ones that are not what they say.

A file is judged by its content, never its name: an xlsx is a zip holding an Excel
workbook; anything else must be CSV text in UTF-8 (with or without a BOM), UTF-16
(Excel's "Unicode text") or GBK / GB18030, detected in that order. Before an xlsx is
parsed, its zip is checked: declared sizes and compression ratios within limits, every
XML part unpacked once (which also proves the declared sizes true) and free of
DOCTYPE and ENTITY declarations (Excel never writes them; the xlsx reader would drop
entity values silently). xlsx is read with python-calamine, about ten times faster
than openpyxl on a 100,000-row sheet.

`open_tables(path)` gives a `Table` per sheet; `find_header()` picks the sheet and the
row whose cells name the most known columns (title rows and merged cells above the
header are skipped). Rows are (row number as the spreadsheet shows it, cells). The
upload keeps the rows of that sheet beside the file (`keep_rows`), and `open_sheet()`
reads them back for the dry run, the commit and the rejected rows.
"""

import codecs
import contextlib
import csv
import hashlib
import io
import os
import pickle
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from crm.errors import DomainError

ERR_TOO_LARGE = _("The file is %(size)s; files up to %(limit)s can be imported.")
ERR_EMPTY_FILE = _("The file is empty.")
ERR_WRONG_TYPE = _("This is not a spreadsheet: save it from Excel as .xlsx or as CSV.")
ERR_XLS = _(
    "This is an old Excel 97–2003 (.xls) file or a password-protected workbook: open it in Excel "
    "and save it as .xlsx (without a password) or as CSV."
)
ERR_ZIP_NOT_XLSX = _("This is a zip file but not an Excel workbook (.xlsx).")
ERR_ZIP_BOMB = _(
    "This workbook unpacks to far more data than its size (%(size)s packed, %(unpacked)s unpacked); "
    "it is refused as a zip bomb."
)
ERR_XML_ENTITIES = _(
    "This workbook contains XML declarations (DOCTYPE or ENTITY) that Excel never writes; it is refused as unsafe."
)
ERR_DAMAGED = _("The workbook is damaged and cannot be read (%(error)s).")
ERR_ENCODING = _("The CSV file is not UTF-8 or GBK/GB18030 text; save it from Excel as “CSV UTF-8” or as .xlsx.")
ERR_CSV = _("The CSV file cannot be read (%(error)s).")
ERR_KEPT_DAMAGED = _(
    "The copy of the rows kept when the workbook was uploaded is damaged (%(error)s). It has been "
    "removed: run the import again and the workbook itself is read."
)
ERR_EMPTY_SHEET = _("The sheet is empty: there is nothing to import.")
ERR_NO_HEADER = _(
    "No column of the header row was recognised (found: %(found)s). Expected columns such as: %(expected)s."
)
ERR_NO_ROWS = _("The file has a header row but no data rows.")

# How far down a sheet the header row is looked for (title rows, notes, blank lines).
HEADER_SCAN_ROWS = 30
# An xlsx entry packed more tightly than this is no spreadsheet Excel wrote.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
XML_PARTS = (".xml", ".rels", ".vml")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_unpacked_bytes() -> int:
    return settings.IMPORT_MAX_UNPACKED_BYTES


@dataclass
class Table:
    """One sheet of a workbook, or a CSV file."""

    kind: str  # "csv" or "xlsx"
    sheet: str
    encoding: str = ""
    _rows: Callable[[], Iterator[list]] = field(default=None, repr=False)

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number, cells) for every row, blank ones included."""
        yield from enumerate(self._rows(), start=1)


def is_blank(cells: list) -> bool:
    # A loop, not all(): it runs for every row of the file, and returns at the first cell.
    for cell in cells:
        if cell is None or cell == "" or (type(cell) is str and cell.isspace()):
            continue
        return False
    return True


def check_size(path) -> int:
    return check_size_value(os.path.getsize(path))


def check_size_value(size: int) -> int:
    if size == 0:
        raise DomainError(ERR_EMPTY_FILE, field="file")
    if size > max_bytes():
        raise DomainError(
            ERR_TOO_LARGE % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes())}, field="file"
        )
    return size


def sniff(head: bytes) -> str:
    """ "xlsx" or "csv" from the first bytes, or a DomainError naming what it is."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError(ERR_XLS, field="file")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!")):
        raise DomainError(ERR_WRONG_TYPE, field="file")
    return "csv"


def sha256(handle) -> str:
    """The SHA-256 of a binary file's whole content; the handle is left at the start."""
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def open_tables(path, *, checked: bool = False) -> list[Table]:
    """Every sheet of the file at `path`, after the size, type and safety checks.
    `checked`: the file is the one that passed them when it was uploaded (the caller
    compared its SHA-256), and an xlsx is not scanned again: a third of a second on
    100,000 rows."""
    size = check_size(path)
    with open(path, "rb") as handle:
        kind = sniff(handle.read(8192))
    if kind == "xlsx":
        if not checked:
            check_xlsx(path, size)
        return _xlsx_tables(path)
    return [_csv_table(path)]


def open_sheet(path, sheet: str, *, checked_sha256: str) -> Table:
    """The sheet `sheet` of a stored file that passed the checks at upload with this
    SHA-256: the rows kept at upload (`keep_rows`) while the file is still those bytes,
    else the file read (and, if it changed, checked) again."""
    with open(path, "rb") as handle:
        # Only an xlsx is kept, and only an xlsx's checks are skipped: a CSV is not hashed.
        xlsx = sniff(handle.read(8192)) == "xlsx"
        unchanged = xlsx and bool(checked_sha256) and sha256(handle) == checked_sha256
    if unchanged and (kept := _kept_table(path, sheet, checked_sha256)) is not None:
        return kept
    tables = open_tables(path, checked=unchanged)
    return next((t for t in tables if t.sheet == sheet), tables[0])


# -- The rows kept at upload -------------------------------------------------------------
# An xlsx is read at upload, at its dry run, at its commit and for its rejected rows, and
# reading a 100,000-row sheet takes 2.5 s here, nearly all of it calamine parsing XML.
# The upload reads every row of the sheet it found the header in anyway (to count them)
# and keeps them next to the file, pickled a frame at a time: 0.35 s to write, 0.35 s to
# read back, with the values the reader gave (numbers, dates, blank cells). The kept
# rows name the file's SHA-256 and the sheet and are only used for those; unpickling
# them admits no class but the date and time types a cell can hold.

KEPT_VERSION = 1
KEPT_FRAME = 5000
_CELL_CLASSES = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta")}


# What unpickling a damaged (say, truncated) or foreign copy raises.
_UNREADABLE = (pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError)


class _CellUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _CELL_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def kept_path(path) -> str:
    return f"{path}.rows"


def remove_kept(path) -> None:
    for name in (kept_path(path), f"{kept_path(path)}.part"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def keep_rows(table: Table, path, file_sha256: str) -> Table:
    """`table`, whose rows are kept next to the file at `path` as they are read, if it
    is a sheet of an xlsx (a CSV reads as fast as its kept rows would). The kept copy
    takes its place (and is used) only once every row has been read."""
    if table.kind != "xlsx":
        return table
    target = kept_path(path)
    header = {
        "version": KEPT_VERSION,
        "sha256": file_sha256,
        "sheet": table.sheet,
        "kind": table.kind,
        "encoding": table.encoding,
    }

    def rows():
        partial = f"{target}.part"
        complete = False
        try:
            with open(partial, "wb") as handle:
                pickle.dump(header, handle, protocol=pickle.HIGHEST_PROTOCOL)
                frame = []
                for cells in table._rows():
                    frame.append(cells)
                    yield cells
                    if len(frame) == KEPT_FRAME:
                        pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
                        frame = []
                pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, target)
            complete = True
        finally:
            if not complete:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)

    return Table(kind=table.kind, sheet=table.sheet, encoding=table.encoding, _rows=rows)


def _kept_table(path, sheet: str, file_sha256: str) -> Table | None:
    """The rows kept at upload for this sheet of this file, or None if there are none
    (a file uploaded before rows were kept) or they are not this file's."""
    target = kept_path(path)
    try:
        with open(target, "rb") as handle:
            header = _CellUnpickler(handle).load()
    except (OSError, EOFError, *_UNREADABLE):
        return None
    expected = {"version": KEPT_VERSION, "sha256": file_sha256, "sheet": sheet}
    if not isinstance(header, dict) or any(header.get(key) != value for key, value in expected.items()):
        return None

    def rows():
        with open(target, "rb") as handle:
            _CellUnpickler(handle).load()
            while True:
                # An unpickler per frame: one keeps every object it loaded in its memo.
                try:
                    frame = _CellUnpickler(handle).load()
                except EOFError:
                    return
                except _UNREADABLE as error:
                    # Written whole or not at all (keep_rows), so damaged since: a disk's fault.
                    remove_kept(path)
                    raise DomainError(ERR_KEPT_DAMAGED % {"error": error}, field="file") from None
                yield from frame

    return Table(kind=header["kind"], sheet=sheet, encoding=header["encoding"], _rows=rows)


# -- xlsx --------------------------------------------------------------------------------


def check_xlsx(path, size: int) -> None:
    """Refuse zip bombs and XML entity tricks before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise DomainError(ERR_ZIP_NOT_XLSX, field="file")
            declared = sum(info.file_size for info in infos)
            too_dense = any(
                info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)
                for info in infos
            )
            if declared > max_unpacked_bytes() or too_dense:
                raise DomainError(
                    ERR_ZIP_BOMB % {"size": filesizeformat(size), "unpacked": filesizeformat(declared)}, field="file"
                )
            for info in infos:
                if info.filename.lower().endswith(XML_PARTS):
                    _scan_xml(archive, info)
    except zipfile.BadZipFile as error:
        raise DomainError(ERR_DAMAGED % {"error": error}, field="file") from None
    except (RuntimeError, NotImplementedError, OSError, EOFError) as error:
        # Encrypted entries, unknown compression methods, truncated streams.
        raise DomainError(ERR_DAMAGED % {"error": error}, field="file") from None


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    # zipfile stops at the declared size and checks the CRC, so a part that unpacks to
    # more than it declares fails here instead of in the parser.
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(1024 * 1024):
            window = tail + chunk
            # Every marker starts with "<!", which a sheet hardly ever holds: one pass, not four.
            if b"<!" in window and any(marker in window for marker in _FORBIDDEN):
                raise DomainError(ERR_XML_ENTITIES, field="file")
            tail = chunk[-16:]


def _xlsx_tables(path) -> list[Table]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
    except Exception as error:  # calamine raises its own error types for damaged files
        raise DomainError(ERR_DAMAGED % {"error": error}, field="file") from None

    def reader(name):
        loaded = {}

        def rows():
            # Loaded once: finding the header and reading the rows share the sheet.
            if "sheet" not in loaded:
                try:
                    loaded["sheet"] = workbook.get_sheet_by_name(name)
                except Exception as error:
                    raise DomainError(ERR_DAMAGED % {"error": error}, field="file") from None
            yield from loaded["sheet"].iter_rows()

        return rows

    return [Table(kind="xlsx", sheet=name, _rows=reader(name)) for name in names]


# -- CSV ---------------------------------------------------------------------------------

ENCODING_LABELS = {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "utf-16": "UTF-16", "gb18030": "GBK/GB18030"}


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) for CSV bytes: a BOM decides; else strict UTF-8, else GB18030
    (a superset of GBK and GB2312, which is what Chinese Excel writes)."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DomainError(ERR_ENCODING, field="file")


def delimiter_of(text: str) -> str:
    """The separator the first lines use most: comma, tab (Excel's Unicode text) or semicolon."""
    sample = text[:20000]
    counts = {sep: sample.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


# Digits a CSV export writes as ="13812345678" so that Excel keeps them text
# (crm.exports, "Digits that are text"): read back as the digits.
_EXCEL_TEXT = re.compile(r'="(\d+)"')


def _excel_text(row: list[str]) -> list[str]:
    return [m[1] if cell[:2] == '="' and (m := _EXCEL_TEXT.fullmatch(cell)) else cell for cell in row]


def _csv_table(path) -> Table:
    with open(path, "rb") as handle:
        data = handle.read()
    text, encoding = decode(data)
    if "\x00" in text:
        raise DomainError(ERR_WRONG_TYPE, field="file")
    delimiter = delimiter_of(text.lstrip("\ufeff"))
    # Only a file holding ="..." (our own CSV exports do) pays for looking at every cell.
    unwrap = '="' in text
    # The rows are decoded again as they are read: the whole text would take two to
    # four bytes a character for as long as the import runs, the file one to three.
    del text

    def lines():
        # newline="" semantics: quoted cells keep their line breaks.
        stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
        first = next(stream, None)
        if first is not None:
            yield first.lstrip("\ufeff")
            yield from stream

    def rows():
        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            yield from map(_excel_text, reader) if unwrap else reader
        except csv.Error as error:
            raise DomainError(ERR_CSV % {"error": error}, field="file") from None

    return Table(kind="csv", sheet="", encoding=encoding, _rows=rows)


# -- The header row ----------------------------------------------------------------------


@dataclass
class Located:
    table: Table
    header_row: int
    headers: list[str]
    score: int


def header_text(cell) -> str:
    from .cleaning import as_text

    return as_text(cell).replace("\n", " ").strip() if cell not in (None, "") else ""


def find_header(tables: list[Table], score: Callable[[list[str]], int], expected: list[str]) -> Located:
    """The sheet and row naming the most known columns, within the first rows of each
    sheet; raises the empty-sheet or no-recognisable-column error when there is none."""
    best: Located | None = None
    first_found: list[str] = []
    for table in tables:
        seen = 0
        for number, cells in table.rows():
            if seen >= HEADER_SCAN_ROWS:
                break
            if is_blank(cells):
                continue
            seen += 1
            headers = [header_text(cell) for cell in cells]
            if not first_found:
                first_found = [h for h in headers if h]
            points = score(headers)
            if points and (best is None or points > best.score):
                best = Located(table, number, headers, points)
    if best is None:
        if not first_found:
            raise DomainError(ERR_EMPTY_SHEET, field="file")
        raise DomainError(
            ERR_NO_HEADER % {"found": "、".join(first_found[:12]), "expected": "、".join(expected[:12])},
            field="file",
        )
    # Trailing empty header cells are not columns.
    while best.headers and not best.headers[-1]:
        best.headers.pop()
    return best


def data_rows(located: Located) -> Iterator[tuple[int, list]]:
    """The non-blank rows below the header."""
    header_row = located.header_row
    for number, cells in enumerate(located.table._rows(), start=1):
        if number <= header_row or is_blank(cells):
            continue
        yield number, cells
