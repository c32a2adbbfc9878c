"""Files as they come from Chinese Excel, built by the tests: CSV in GBK, UTF-8 and
UTF-8 with a BOM, xlsx with a merged title row above the header, and helpers to run
an import the way the page and the CLI do (upload, dry run, commit)."""

import csv
import io

import pytest
from openpyxl import Workbook

from crm.imports import engine
from crm.models import ImportJob


def csv_bytes(rows, encoding="gb18030", delimiter=",") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def write_csv(path, rows, encoding="gb18030", delimiter=","):
    path.write_bytes(csv_bytes(rows, encoding, delimiter))
    return path


def write_xlsx(path, rows, *, title: str | None = None, sheet="客户", extra_sheets=()):
    """An xlsx as a clerk makes it: optionally a title merged across the columns above
    the header, then the header and the rows (numbers stay numbers)."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    if title:
        worksheet.append([title])
        worksheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(rows[0]), 2))
        worksheet.append([])
    for row in rows:
        worksheet.append(list(row))
    for name, extra in extra_sheets:
        other = workbook.create_sheet(name)
        for row in extra:
            other.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Stored import files go to the test's own directory, removed with it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def upload(admin_user):
    """upload(path, kind="customers", **options) -> the ImportJob, inspected."""

    def _upload(path, kind="customers", actor=None, **options):
        with open(path, "rb") as handle:
            return engine.job_create(
                actor=actor or admin_user, kind=kind, file=handle, original_name=path.name, **options
            )

    return _upload


@pytest.fixture
def run_import(upload):
    """run_import(path, kind=..., dry_run=False, **options) -> the job after its run."""

    def _run(path, kind="customers", dry_run=False, **options):
        job = upload(path, kind, **options)
        if dry_run:
            return engine.job_dry_run(job=job)
        return engine.job_commit(job=job)

    return _run


ALL_OR_NOTHING = ImportJob.Mode.ALL_OR_NOTHING
SKIP_FIELD = ImportJob.Destroyed.SKIP_FIELD
