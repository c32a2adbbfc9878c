"""Files as they come: encodings detected, the header found below title rows, blank
lines skipped, line breaks in quoted cells kept; and bad or hostile files refused
with a message that names the problem, leaving nothing behind."""

import datetime
import io
import os
import zipfile

import pytest
from django.utils import translation

from crm.errors import DomainError
from crm.imports import engine, readers
from crm.models import ImportJob
from customers.models import Customer
from tests.factories import valid_credit_code

from .conftest import csv_bytes, write_csv, write_xlsx

HEADER = ["客户名称", "客户类型", "行业", "省份", "城市", "主营产品"]
ROW = ["临沂康达兽药经营部", "经销商", "兽药", "山东", "临沂", "疫苗"]
ROW2 = ["潍坊牧原养殖场", "养殖场", "兽药", "山东", "潍坊", "饲料"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "encoding, label", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"), ("gb18030", "GBK/GB18030")]
)
def test_csv_encodings_detected(tmp_path, upload, encoding, label):
    job = upload(write_csv(tmp_path / "c.csv", [HEADER, ROW], encoding=encoding))
    assert (job.file_type, job.encoding, job.header_row, job.rows_total) == ("csv", label, 1, 1)
    assert job.mapping == ["name", "type", "industry", "province", "city", "main_products"]


def test_gb18030_four_byte_characters_survive(tmp_path, run_import):
    job = run_import(write_csv(tmp_path / "c.csv", [HEADER, ["𠮷野家牧业", *ROW[1:]]], encoding="gb18030"))
    assert job.created_count == 1
    assert Customer.objects.get().name == "𠮷野家牧业"


def test_digits_our_csv_export_keeps_text_come_back_as_digits(tmp_path, run_import):
    from crm import exports

    credit = next(code for code in map(valid_credit_code, range(1, 100)) if code.isdigit())
    response = exports.export_response(
        filename="客户",
        headers=[*HEADER, "客户手机", "统一社会信用代码", "客户编码"],
        rows=[[*ROW, "13812345678", credit, "007"]],
        fmt="csv",
    )
    path = tmp_path / "客户.csv"
    path.write_bytes(b"".join(response.streaming_content))
    assert b'"=""13812345678"""' in path.read_bytes()
    job = run_import(path)
    assert (job.created_count, job.rejected_count) == (1, 0)
    customer = Customer.objects.get()
    assert (customer.phone, customer.credit_code, customer.code) == ("13812345678", credit, "007")


def test_utf16_tab_separated_unicode_text(tmp_path, upload):
    path = tmp_path / "c.txt"
    path.write_bytes(csv_bytes([HEADER, ROW], encoding="utf-16", delimiter="\t"))
    job = upload(path)
    assert (job.encoding, job.rows_total) == ("UTF-16", 1)


def test_title_rows_blank_lines_and_line_breaks_in_csv(tmp_path, run_import):
    rows = [
        ["客户档案导入"],
        [],
        HEADER,
        ROW,
        [],
        ["潍坊牧原养殖场", "养殖场", "兽药", "山东", "潍坊", "疫苗\n兽用抗生素"],
        [],
    ]
    job = run_import(write_csv(tmp_path / "c.csv", rows))
    assert (job.header_row, job.rows_total, job.created_count) == (3, 2, 2)
    assert Customer.objects.get(name="潍坊牧原养殖场").main_products == "疫苗\n兽用抗生素"


def test_xlsx_with_merged_title_row(tmp_path, run_import):
    path = write_xlsx(tmp_path / "c.xlsx", [HEADER, ROW], title="2024年客户档案（华东大区）")
    job = run_import(path)
    assert (job.file_type, job.sheet, job.header_row, job.created_count) == ("xlsx", "客户", 3, 1)


def test_header_found_on_the_sheet_that_has_it(tmp_path, upload):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [["填表说明：请勿修改表头"], ["1. 每行一个客户"]],
        sheet="说明",
        extra_sheets=[("客户清单", [HEADER, ROW, ROW])],
    )
    job = upload(path)
    assert (job.sheet, job.header_row, job.rows_total) == ("客户清单", 1, 2)


# -- Refused files ----------------------------------------------------------------------


def refused(upload, path, **options) -> str:
    with pytest.raises(DomainError) as error:
        upload(path, **options)
    assert not ImportJob.objects.exists()
    return str(error.value.message)


def test_nothing_kept_of_a_refused_file(tmp_path, upload, settings):
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.4 binary")
    refused(upload, path)
    stored = settings.MEDIA_ROOT / "imports"
    assert not stored.exists() or not any(p.name.endswith("bad.pdf") for p in stored.rglob("*"))


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not a spreadsheet"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a spreadsheet"),
        (b"\x00\x01\x02binary\x00", "not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97"),
        (b"\x7fELF\x02\x01\x01\x00\x00", "not a spreadsheet"),
        (b"", "empty"),
    ],
)
def test_wrong_type_by_content_not_extension(tmp_path, upload, content, expected):
    path = tmp_path / "客户.xlsx"
    path.write_bytes(content)
    assert expected in refused(upload, path)


def test_undecodable_text(tmp_path, upload):
    path = tmp_path / "c.csv"
    path.write_bytes("客户名称,城市\n".encode() + b"\x81\x20\xff\xfe abc\n")
    assert "UTF-8 or GBK" in refused(upload, path)


def test_zip_that_is_not_a_workbook(tmp_path, upload):
    path = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert "not an Excel workbook" in refused(upload, path)


def test_damaged_workbook(tmp_path, upload):
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, ROW])
    path = tmp_path / "c.xlsx"
    path.write_bytes(good.read_bytes()[:2000])
    assert "damaged" in refused(upload, path)


def test_file_over_the_size_limit(tmp_path, upload, settings):
    settings.IMPORT_MAX_BYTES = 1000
    path = write_csv(tmp_path / "c.csv", [HEADER] + [ROW] * 50)
    message = refused(upload, path)
    assert "files up to 1000" in message.replace("\xa0", " ") or "up to" in message


def _workbook_parts(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_zip_bomb_refused_before_parsing(tmp_path, upload):
    parts = _workbook_parts(write_xlsx(tmp_path / "good.xlsx", [HEADER, ROW]))
    sheet = parts["xl/worksheets/sheet1.xml"]
    # 30 MB of padding that packs to a few tens of kilobytes.
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * 30_000_000)
    path = _rezip(tmp_path / "bomb.xlsx", parts)
    assert path.stat().st_size < 200_000
    assert "zip bomb" in refused(upload, path)


def test_workbook_unpacking_past_the_limit_refused(tmp_path, upload, settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 2000
    path = write_xlsx(tmp_path / "c.xlsx", [HEADER] + [ROW] * 30)
    assert "zip bomb" in refused(upload, path)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_xml_entities_refused(tmp_path, upload, part):
    parts = _workbook_parts(write_xlsx(tmp_path / "good.xlsx", [HEADER, ROW]))
    xml = parts[part].decode()
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    parts[part] = (
        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' + body
    ).encode()
    path = _rezip(tmp_path / "evil.xlsx", parts)
    assert "DOCTYPE or ENTITY" in refused(upload, path)


def test_empty_sheet(tmp_path, upload):
    assert "empty" in refused(upload, write_xlsx(tmp_path / "c.xlsx", [[]]))
    path = tmp_path / "c.csv"
    path.write_bytes(b"\r\n\r\n,,,\r\n")
    assert "sheet is empty" in refused(upload, path)


def test_header_with_no_recognisable_column(tmp_path, upload):
    message = refused(upload, write_csv(tmp_path / "c.csv", [["甲", "乙", "丙"], ["1", "2", "3"]]))
    assert "No column of the header row was recognised" in message
    assert "甲、乙、丙" in message


def test_header_without_rows(tmp_path, upload):
    assert "no data rows" in refused(upload, write_csv(tmp_path / "c.csv", [HEADER, [], []]))


def test_only_admins_import(tmp_path, upload, rep, client_service):
    path = write_csv(tmp_path / "c.csv", [HEADER, ROW])
    for user in (rep, client_service):
        assert "Only admins" in refused(upload, path, actor=user)


def test_csv_reader_handles_huge_cells(tmp_path):
    text = "客户名称,主营产品\r\n甲," + "x" * 200_000 + "\r\n"
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode())
    table = readers.open_tables(path)[0]
    with pytest.raises(DomainError):
        list(table.rows())


def test_rows_keep_the_spreadsheet_row_numbers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(io.BytesIO(csv_bytes([["标题"], HEADER, [], ROW])).getvalue())
    table = readers.open_tables(path)[0]
    located = readers.Located(table, 2, HEADER, 1)
    assert [number for number, _cells in readers.data_rows(located)] == [4]


def test_uploaded_file_from_a_form(admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.imports import engine

    data = csv_bytes([HEADER, ROW], encoding="utf-8-sig")
    job = engine.job_create(
        actor=admin_user, kind="customers", file=SimpleUploadedFile("客户.csv", data), original_name="客户.csv"
    )
    import hashlib

    assert (job.size, job.sha256, job.rows_total) == (len(data), hashlib.sha256(data).hexdigest(), 1)
    assert job.file.read() == data


def test_uploaded_file_over_the_limit_refused_before_it_is_stored(admin_user, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.imports import engine

    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(DomainError):
        engine.job_create(
            actor=admin_user, kind="customers", file=SimpleUploadedFile("c.csv", b"x" * 100), original_name="c.csv"
        )
    assert not ImportJob.objects.exists()


def test_the_commit_checks_the_stored_xlsx_again_only_if_it_changed(tmp_path, upload, monkeypatch):
    checks = []
    check_xlsx = readers.check_xlsx
    monkeypatch.setattr(readers, "check_xlsx", lambda path, size: checks.append(path) or check_xlsx(path, size))
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, ROW])
    job = upload(good)
    assert len(checks) == 1
    assert engine.job_commit(job=job).status == ImportJob.Status.DONE
    assert len(checks) == 1  # the same bytes: not scanned twice
    # The stored file swapped for one with entity tricks after the upload: checked, refused.
    job = upload(good)
    parts = _workbook_parts(good)
    parts["xl/workbook.xml"] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]>' + parts["xl/workbook.xml"]
    _rezip(job.file.path, parts)
    with pytest.raises(DomainError, match="DOCTYPE or ENTITY"):
        engine.job_commit(job=job)
    assert len(checks) == 3
    assert Customer.objects.count() == 1


# -- The rows kept at upload -----------------------------------------------------------------


def _no_file_reading(monkeypatch):
    def refuse(path):
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(readers, "_xlsx_tables", refuse)
    monkeypatch.setattr(readers, "_csv_table", refuse)


def test_rows_kept_at_upload_are_the_rows_the_reader_gave(tmp_path, upload, monkeypatch):
    rows = [
        HEADER,
        [*ROW[:5], 13812345678],
        [],
        ["潍坊牧原养殖场", None, 0.5, datetime.date(2023, 5, 7), datetime.datetime(2023, 5, 7, 8, 30), True],
    ]
    job = upload(write_xlsx(tmp_path / "c.xlsx", rows, title="客户档案", extra_sheets=[("说明", [["备注"]])]))
    read = [list(table.rows()) for table in readers.open_tables(job.file.path) if table.sheet == job.sheet][0]
    assert read[3][1][:2] == ["临沂康达兽药经营部", "经销商"] and read[5][1][3] == datetime.date(2023, 5, 7)
    _no_file_reading(monkeypatch)
    kept = readers.open_sheet(job.file.path, job.sheet, checked_sha256=job.sha256)
    assert (kept.kind, kept.sheet) == ("xlsx", "客户")
    assert list(kept.rows()) == read


def test_the_dry_run_and_the_commit_do_not_read_the_xlsx_again(tmp_path, upload, monkeypatch):
    job = upload(write_xlsx(tmp_path / "c.xlsx", [HEADER, ROW, [], ROW2]))
    _no_file_reading(monkeypatch)
    assert engine.job_dry_run(job=job).created_count == 2
    job = engine.job_commit(job=job)
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 2)
    assert sorted(Customer.objects.values_list("name", flat=True)) == sorted([ROW[0], ROW2[0]])


def test_a_csv_is_read_again_not_kept(tmp_path, upload):
    job = upload(write_csv(tmp_path / "c.csv", [HEADER, ROW]))
    assert not os.path.exists(readers.kept_path(job.file.path))
    assert engine.job_commit(job=job).created_count == 1


def test_kept_rows_are_not_used_for_a_file_that_changed_since(tmp_path, upload):
    job = upload(write_xlsx(tmp_path / "c.xlsx", [HEADER, ROW]))
    assert os.path.exists(readers.kept_path(job.file.path))
    write_xlsx(job.file.path, [HEADER, ROW2])
    job = engine.job_commit(job=job)
    assert list(Customer.objects.values_list("name", flat=True)) == [ROW2[0]]


def test_kept_rows_naming_any_other_class_are_not_loaded(tmp_path, upload, monkeypatch):
    import pickle
    import subprocess

    job = upload(write_xlsx(tmp_path / "c.xlsx", [HEADER, ROW]))
    header = {"version": readers.KEPT_VERSION, "sha256": job.sha256, "sheet": job.sheet, "kind": subprocess.Popen}
    with open(readers.kept_path(job.file.path), "wb") as kept:
        pickle.dump(header, kept)
        pickle.dump([["anything"]], kept)
    monkeypatch.setattr(subprocess, "Popen", None)  # what loading the header would reach for
    table = readers.open_sheet(job.file.path, job.sheet, checked_sha256=job.sha256)
    assert [cells[0] for _number, cells in table.rows()] == ["客户名称", ROW[0]]


def test_rows_read_in_part_are_not_kept(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [HEADER, ROW, ROW2])
    with open(path, "rb") as handle:
        sha = readers.sha256(handle)
    table = readers.keep_rows(readers.open_tables(path)[0], path, sha)
    rows = table.rows()
    assert next(rows) == (1, HEADER)
    rows.close()
    assert list(tmp_path.iterdir()) == [path]
    assert readers._kept_table(path, "客户", sha) is None
    assert len(list(table.rows())) == 3
    assert [cells for _number, cells in readers._kept_table(path, "客户", sha).rows()] == [HEADER, ROW, ROW2]


def test_an_upload_refused_after_its_rows_were_read_keeps_nothing(tmp_path, upload, settings):
    assert "no data rows" in refused(upload, write_xlsx(tmp_path / "c.xlsx", [HEADER, [], []]))
    stored = settings.MEDIA_ROOT / "imports"
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]


def test_damaged_kept_rows_fail_the_run_with_a_message_and_are_read_again_next_time(tmp_path, upload):
    job = upload(write_xlsx(tmp_path / "c.xlsx", [HEADER, ROW, ROW2]))
    kept = readers.kept_path(job.file.path)
    with open(kept, "r+b") as handle:
        handle.truncate(os.path.getsize(kept) - 10)
    with pytest.raises(DomainError, match="kept when the workbook was uploaded is damaged"):
        engine.job_commit(job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "damaged" in job.error
    assert not Customer.objects.exists() and not os.path.exists(kept)
    assert engine.job_commit(job=job).created_count == 2
