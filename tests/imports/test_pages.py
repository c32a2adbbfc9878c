"""The import pages: upload → mapping → dry-run preview → import → history → the
rejected rows as a spreadsheet (imported again once fixed) → undo; hostile files
refused with a message at the file field; admins only; large files queued for Celery
after commit, with a progress page that survives a reload; jobs whose process died
marked failed."""

import datetime
import io
import threading

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from crm import nightly
from crm.imports import background
from crm.imports.cleaning import ERR_PROVINCE
from crm.models import ImportJob, ImportMapping
from customers import services
from customers.models import Customer

from .conftest import csv_bytes, write_xlsx
from .test_files import _rezip, _workbook_parts

HEADER = ["客户名称", "客户类型", "行业", "省份", "所在地区", "主营产品"]
ROWS = [
    ["临沂康达兽药经营部", "经销商", "兽药", "山东", "临沂", "疫苗"],
    ["火星牧业", "养殖场", "兽药", "火星", "临沂", "饲料"],
    ["潍坊牧原养殖场", "养殖场", "兽药", "山东", "潍坊", "疫苗"],
]
MAPPING = ["name", "type", "industry", "province", "city", "main_products"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def admin(login, admin_user):
    client = login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def csv_file(rows=ROWS, header=HEADER, name="客户.csv", encoding="gb18030"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, csv_bytes([header, *rows], encoding=encoding))


def post_upload(client, file, **fields):
    data = {"kind": "customers", "file": file, "mode": "all_valid", "destroyed": "reject", **fields}
    return client.post(reverse("imports:upload"), data)


def post_mapping(client, job, columns, remember=True):
    data = {f"column_{index}": name for index, name in enumerate(columns)}
    if remember:
        data["remember"] = "on"
    return client.post(reverse("imports:mapping", args=[job.pk]), data)


def html(response) -> str:
    text = response.content.decode()
    for marker in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert marker not in text, f"template syntax {marker} shows"
    return text


def uploaded(client, **kwargs) -> ImportJob:
    response = post_upload(client, csv_file(**kwargs))
    job = ImportJob.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
    return job


def previewed(client, **kwargs) -> ImportJob:
    job = uploaded(client, **kwargs)
    response = post_mapping(client, job, MAPPING)
    assert response.status_code == 302 and response["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    return job


# -- The whole way through ----------------------------------------------------------------------


def test_upload_map_preview_import_history_download_and_undo(admin, admin_user):
    page = html(admin.get(reverse("imports:upload")))
    assert 'enctype="multipart/form-data"' in page and 'name="owner"' in page

    job = uploaded(admin)
    assert (job.encoding, job.rows_total, job.created_by) == ("GBK/GB18030", 3, admin_user)
    # "所在地区" names no known column: the guess leaves it out.
    assert job.mapping == ["name", "type", "industry", "province", "", "main_products"]
    page = html(admin.get(reverse("imports:mapping", args=[job.pk])))
    assert "所在地区" in page and "临沂 · 临沂 · 潍坊" in page  # the column's sample values
    assert '<option value="name" selected>Customer name *</option>' in page  # required fields flagged

    # Confirming the mapping with the city corrected runs the dry run (a small file: at once).
    response = post_mapping(admin, job, MAPPING)
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "previewed" and job.mapping == MAPPING and job.mapping_confirmed
    assert job.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert not Customer.objects.exists(), "the dry run writes nothing"
    assert ImportMapping.objects.get(kind="customers").columns == MAPPING
    page = html(admin.get(reverse("imports:detail", args=[job.pk])))
    assert 'id="count-created">2<' in page and 'id="count-rejected">1<' in page
    assert '<td class="text-end">3</td>' in page and "<code>火星</code>" in page  # row 3, the value
    assert "Not one of the 34 provincial divisions." in page
    assert 'name="mode"' in page and reverse("imports:commit", args=[job.pk]) in page

    # The next file with these headers comes with the mapping confirmed here.
    again = uploaded(admin)
    assert again.mapping == MAPPING
    assert "confirmed for an earlier file" in html(admin.get(reverse("imports:mapping", args=[again.pk])))

    response = admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"}, follow=True)
    assert response.redirect_chain == [(reverse("imports:detail", args=[job.pk]), 302)]
    job.refresh_from_db()
    assert job.status == "done" and job.counts["created"] == 2
    assert job.started_at <= job.finished_at
    assert set(Customer.objects.values_list("name", "city")) == {
        ("临沂康达兽药经营部", "临沂"),
        ("潍坊牧原养殖场", "潍坊"),
    }
    page = html(response)
    assert "Imported: 2 created, 0 updated, 0 unchanged, 1 rejected." in page
    assert "Undo this import" in page and "Download the rejected rows" in page

    # The history: who, when, the file, its SHA-256, the counts and the status.
    page = html(admin.get(reverse("imports:list")))
    row = page.split(f'href="{reverse("imports:detail", args=[job.pk])}"', 1)[1].split("</tr>", 1)[0]
    assert "客户.csv" in row and job.sha256[:10] in row and str(admin_user) in row and "Imported" in row
    assert job.created_at.astimezone().strftime("%Y-") in row
    assert [cell.split(">")[-1] for cell in row.split("</td>")[2:6]] == ["2", "0", "0", "1"]

    # The rejected rows: the file's columns and a reason, ready to fix and import again.
    response = admin.get(reverse("imports:rejected", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    assert rows[0] == [*HEADER, "Reason for rejection"]
    assert rows[1][:6] == ROWS[1] and "省份" in rows[1][6] and "provincial divisions" in rows[1][6]
    assert len(rows) == 2

    # Undo: what it created is deleted.
    response = admin.post(reverse("imports:undo", args=[job.pk]))
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "undone" and job.undone_by == admin_user and not Customer.objects.exists()


def test_the_rejected_rows_fixed_import_again(admin, tmp_path):
    job = previewed(admin)
    admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    response = admin.get(reverse("imports:rejected", args=[job.pk]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    sheet["D2"] = "山东"  # the clerk fixes the province and keeps the reason column
    fixed = tmp_path / "fixed.xlsx"
    workbook.save(fixed)

    from django.core.files.uploadedfile import SimpleUploadedFile

    response = post_upload(admin, SimpleUploadedFile("fixed.xlsx", fixed.read_bytes()))
    second = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("imports:mapping", args=[second.pk])
    # The mapping confirmed for the original file, the reason column left out.
    assert second.mapping == [*MAPPING, ""]
    post_mapping(admin, second, second.mapping)
    admin.post(reverse("imports:commit", args=[second.pk]), {"mode": "all_valid"})
    second.refresh_from_db()
    assert second.status == "done"
    assert second.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    assert Customer.objects.get(name="火星牧业").province == "37"


def test_the_rejected_rows_file_holds_every_rejected_row_past_the_report_limit(admin, monkeypatch):
    from crm.imports import engine

    monkeypatch.setattr(engine, "REPORT_LIMIT", 2)
    rows = [[f"火星{n}号牧业", "养殖场", "兽药", "火星", "临沂", ""] for n in range(5)]
    job = previewed(admin, rows=[ROWS[0], *rows])
    admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    job.refresh_from_db()
    assert job.counts["rejected"] == 5 and len(job.report["rejects"]) == 2 and job.report["truncated"]
    response = admin.get(reverse("imports:rejected", args=[job.pk]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    found = [list(r) for r in workbook.active.iter_rows(values_only=True)][1:]
    assert [r[0] for r in found] == [r[0] for r in rows]
    assert ["省份" in r[6] for r in found] == [True, True, False, False, False]
    assert all("keeps its first 2 problems" in r[6] for r in found[2:])


def test_defaults_for_new_customers(admin, rep):
    rows = [["甲牧业", "山东", "临沂"]]
    response = post_upload(
        admin, csv_file(rows=rows, header=["客户名称", "省份", "城市"]), owner=rep.pk, industry="vet_drugs", type="farm"
    )
    job = ImportJob.objects.latest("pk")
    assert response.status_code == 302
    assert job.defaults == {"owner": rep.username, "industry": "vet_drugs", "type": "farm"}
    post_mapping(admin, job, ["name", "province", "city"])
    admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    customer = Customer.objects.get()
    assert (customer.owner, customer.industry, customer.type) == (rep, "vet_drugs", "farm")


def test_rejects_are_paginated(admin):
    rows = [[f"火星{n}号牧业", "养殖场", "兽药", "火星", "临沂", ""] for n in range(60)]
    job = previewed(admin, rows=[ROWS[0], *rows])
    assert job.counts["rejected"] == 60
    url = reverse("imports:detail", args=[job.pk])
    first = html(admin.get(url))
    assert "<code>火星</code>" in first and "1–50 of 60" in first and 'rel="next"' in first
    second = html(admin.get(url, {"page": 2}))
    assert second.count("<code>火星</code>") == 10 and '<td class="text-end">61</td>' in second


def test_all_or_nothing_imports_nothing_then_the_valid_rows(admin):
    job = previewed(admin)
    response = admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_or_nothing"}, follow=True)
    job.refresh_from_db()
    assert job.status == "failed" and job.mode == "all_or_nothing" and not Customer.objects.exists()
    page = html(response)
    assert "Nothing was imported: 1 rows were rejected" in page
    # Still checked in full, so the valid rows can be imported from here.
    assert reverse("imports:commit", args=[job.pk]) in page
    admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    job.refresh_from_db()
    assert job.status == "done" and Customer.objects.count() == 2


def test_mapping_page_shows_samples_kept_at_upload_without_reading_the_file(admin):
    job = uploaded(admin)
    assert job.samples[4] == ["临沂", "临沂", "潍坊"] and job.samples[0][0] == "临沂康达兽药经营部"
    # A large xlsx takes seconds to read: the page must not read it again.
    job.file.delete(save=False)
    page = html(admin.get(reverse("imports:mapping", args=[job.pk])))
    assert "临沂 · 临沂 · 潍坊" in page


def test_mapping_errors_shown_on_the_page(admin):
    job = uploaded(admin)
    response = post_mapping(admin, job, ["name", "name", "", "", "", ""])
    assert response.status_code == 200 and "Two columns are mapped to" in html(response)
    response = post_mapping(admin, job, ["", "type", "", "", "", ""])
    assert response.status_code == 200 and "The file needs a column for" in html(response)
    response = post_mapping(admin, job, ["", "", "", "", "", ""])
    assert "No column is mapped" in html(response)
    job.refresh_from_db()
    assert job.status == "pending" and not job.mapping_confirmed


def test_no_import_before_the_dry_run(admin):
    job = uploaded(admin)
    response = admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"}, follow=True)
    assert "Check the file first" in html(response)
    job.refresh_from_db()
    assert job.status == "pending" and not Customer.objects.exists()


def test_undo_refused_once_a_record_changed(admin, admin_user):
    job = previewed(admin)
    admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    customer = Customer.objects.get(name="潍坊牧原养殖场")
    services.customer_update(actor=admin_user, customer_id=customer.pk, data={"city": "日照"}, expected_version=None)
    page = html(admin.get(reverse("imports:detail", args=[job.pk])))
    assert "Cannot be undone: 1 record it wrote has changed since." in page and "Undo this import" not in page
    response = admin.post(reverse("imports:undo", args=[job.pk]), follow=True)
    assert "cannot be undone: 1 of the records it wrote have been changed since" in html(response)
    job.refresh_from_db()
    assert job.status == "done" and Customer.objects.count() == 2


# -- Bad and hostile files ------------------------------------------------------------------------


def _xlsx_bytes(tmp_path, rows) -> bytes:
    return write_xlsx(tmp_path / "good.xlsx", rows).read_bytes()


def _zip_bomb(tmp_path) -> bytes:
    parts = _workbook_parts(write_xlsx(tmp_path / "good.xlsx", [HEADER, ROWS[0]]))
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"<sheetData>", b"<sheetData>" + b" " * 30_000_000
    )
    return _rezip(tmp_path / "bomb.xlsx", parts).read_bytes()


def _entities(tmp_path) -> bytes:
    parts = _workbook_parts(write_xlsx(tmp_path / "good.xlsx", [HEADER, ROWS[0]]))
    xml = parts["xl/workbook.xml"].decode()
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    parts["xl/workbook.xml"] = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + body).encode()
    return _rezip(tmp_path / "evil.xlsx", parts).read_bytes()


HOSTILE = {
    "wrong type": (lambda tmp: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not a spreadsheet"),
    "old xls": (lambda tmp: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97"),
    "over the size limit": (lambda tmp: csv_bytes([HEADER, *ROWS * 20]), "files up to"),
    "empty sheet": (lambda tmp: _xlsx_bytes(tmp, [[]]), "empty"),
    "no recognisable column": (lambda tmp: csv_bytes([["甲", "乙"], ["1", "2"]]), "No column of the header row"),
    "header without rows": (lambda tmp: csv_bytes([HEADER]), "no data rows"),
    "zip bomb": (_zip_bomb, "zip bomb"),
    "XML entities": (_entities, "DOCTYPE or ENTITY"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_bad_and_hostile_files_get_a_message_at_the_file_field(admin, tmp_path, settings, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.IMPORT_MAX_BYTES = 2000 if case == "over the size limit" else settings.IMPORT_MAX_BYTES
    make, expected = HOSTILE[case]
    response = post_upload(admin, SimpleUploadedFile("客户.xlsx", make(tmp_path)))
    assert response.status_code == 200
    page = html(response)
    error = page.split('id="id_file_error">', 1)[1].split("</div>", 1)[0]
    assert expected in error.replace("\xa0", " ")
    assert 'aria-invalid="true"' in page
    assert not ImportJob.objects.exists()


def test_an_empty_upload_and_a_bad_default_are_form_errors(admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = post_upload(admin, SimpleUploadedFile("c.csv", b""))
    assert response.status_code == 200 and 'id="id_file_error"' in html(response)
    response = post_upload(admin, csv_file(), industry="fish")
    assert response.status_code == 200 and 'id="id_industry_error"' in html(response)
    assert not ImportJob.objects.exists()


# -- Who may, and what is not there ----------------------------------------------------------------


def _routes(job_pk):
    return [
        ("GET", reverse("imports:list")),
        ("GET", reverse("imports:upload")),
        ("POST", reverse("imports:upload")),
        ("GET", reverse("imports:detail", args=[job_pk])),
        ("GET", reverse("imports:mapping", args=[job_pk])),
        ("POST", reverse("imports:mapping", args=[job_pk])),
        ("POST", reverse("imports:commit", args=[job_pk])),
        ("GET", reverse("imports:progress", args=[job_pk])),
        ("GET", reverse("imports:rejected", args=[job_pk])),
        ("POST", reverse("imports:undo", args=[job_pk])),
    ]


@pytest.mark.parametrize("role", ["rep", "manager", "client_service", "finance"])
def test_only_admins(request, admin, role):
    job = previewed(admin)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(request.getfixturevalue(role))
    for method, url in _routes(job.pk):
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == 403, (method, url)
    assert "/imports/" not in client.get(reverse("home")).content.decode(), "no nav item for non-admins"
    assert reverse("imports:list") in admin.get(reverse("home")).content.decode()
    job.refresh_from_db()
    assert job.status == "previewed"


def test_unknown_job_is_404(admin):
    for method, url in _routes(987654):
        if "987654" not in url:
            continue
        response = admin.get(url) if method == "GET" else admin.post(url)
        assert response.status_code == 404, (method, url)


def test_wrong_method_is_405(admin):
    job = previewed(admin)
    assert admin.post(reverse("imports:list")).status_code == 405
    assert admin.post(reverse("imports:detail", args=[job.pk])).status_code == 405
    assert admin.get(reverse("imports:commit", args=[job.pk])).status_code == 405
    assert admin.get(reverse("imports:undo", args=[job.pk])).status_code == 405
    assert admin.post(reverse("imports:progress", args=[job.pk])).status_code == 405
    assert admin.post(reverse("imports:rejected", args=[job.pk])).status_code == 405
    assert admin.put(reverse("imports:upload")).status_code == 405
    assert admin.delete(reverse("imports:mapping", args=[job.pk])).status_code == 405


def test_no_rejects_nothing_to_download(admin):
    job = previewed(admin, rows=[ROWS[0]])
    assert admin.get(reverse("imports:rejected", args=[job.pk])).status_code == 404


def test_history_queries_do_not_grow(admin, admin_user, django_assert_num_queries):
    previewed(admin)
    url = reverse("imports:list")
    # session, user, count of the page's jobs, the page of jobs with their uploader
    with django_assert_num_queries(4):
        assert admin.get(url).status_code == 200
    for _ in range(4):
        previewed(admin)
    with django_assert_num_queries(4):
        page = html(admin.get(url))
    assert page.count("客户.csv") == 5
    with django_assert_num_queries(4):
        assert html(admin.get(url, {"status": "previewed", "kind": "customers", "q": "客户"})).count("客户.csv") == 5
    assert "客户.csv" not in html(admin.get(url, {"status": "done"}))


# -- Large files: Celery, progress, interrupted jobs -------------------------------------------------


@pytest.fixture
def queue_everything(monkeypatch):
    """Every file counts as large: its runs are queued for Celery (inline in the tests)."""
    monkeypatch.setattr(background, "INLINE_ROWS", 0)


def test_large_files_are_queued_after_commit(admin, queue_everything, django_capture_on_commit_callbacks):
    job = uploaded(admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_mapping(admin, job, MAPPING)
    assert response["Location"] == reverse("imports:progress", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "pending" and len(callbacks) == 1, "nothing runs before the transaction commits"
    callbacks[0]()  # queued: the task runs (eagerly here) ...
    job.refresh_from_db()
    assert job.status == "previewed" and job.counts["rejected"] == 1
    # ... and the progress page, polled or reloaded, moves on to the preview.
    progress = reverse("imports:progress", args=[job.pk])
    assert admin.get(progress)["Location"] == reverse("imports:detail", args=[job.pk])
    polled = admin.get(progress, headers={"HX-Request": "true"})
    assert polled["HX-Redirect"] == reverse("imports:detail", args=[job.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    assert response["Location"] == progress
    job.refresh_from_db()
    assert job.status == "done" and Customer.objects.count() == 2
    assert cache.get(background.progress_key(job.pk)) is None


def test_a_queued_job_shows_it_waits_and_cannot_start_twice(admin, monkeypatch, django_capture_on_commit_callbacks):
    job = previewed(admin)
    monkeypatch.setattr(background, "INLINE_ROWS", 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    # The marker is written when the task is sent, after commit; here it is sent by hand.
    background._publish(job.pk, background.COMMIT, "queued", 0, job.rows_total)
    try:
        page = html(admin.get(reverse("imports:progress", args=[job.pk])))
        assert "Waiting for a worker" in page and "0 of 3 rows" in page and 'hx-trigger="every 1s"' in page
        detail = html(admin.get(reverse("imports:detail", args=[job.pk])))
        assert "waiting for a worker" in detail and reverse("imports:commit", args=[job.pk]) not in detail
        response = admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"}, follow=True)
        assert "already running" in html(response)
    finally:
        cache.delete(background.progress_key(job.pk))
    assert len(callbacks) == 1


def test_progress_published_while_running(admin):
    job = previewed(admin)
    seen = []

    def spy(done, total):
        seen.append(cache.get(background.progress_key(job.pk)))

    background.run(job_id=job.pk, action=background.COMMIT, progress=spy)
    assert seen[0] == {"action": "commit", "state": "running", "done": 0, "total": 3}
    assert seen[-1] == {"action": "commit", "state": "running", "done": 3, "total": 3}
    assert cache.get(background.progress_key(job.pk)) is None


def test_a_worker_writes_the_report_in_the_language_of_the_admin_who_started_it(
    admin, monkeypatch, django_capture_on_commit_callbacks
):
    job = uploaded(admin)
    monkeypatch.setattr(background, "INLINE_ROWS", 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_mapping(admin, job, MAPPING)
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.language == "en"
    # A worker speaks the site's default language.
    with translation.override("zh-hans"):
        background.run(job_id=job.pk, action=background.DRY_RUN)
    job.refresh_from_db()
    [reject] = job.report["rejects"]
    with translation.override("en"):
        english = str(ERR_PROVINCE)
    with translation.override("zh-hans"):
        assert str(ERR_PROVINCE) != english
    assert reject["message"] == english


class _Holder(threading.Thread):
    """Another process's connection holding the job's lock, as a live runner does."""

    def __init__(self, job_pk):
        super().__init__(daemon=True)
        self.job_pk, self.held, self.release = job_pk, threading.Event(), threading.Event()

    def run(self):
        try:
            with background._job_lock(self.job_pk) as acquired:
                assert acquired
                self.held.set()
                self.release.wait(30)
        finally:
            connections.close_all()


def test_running_job_shows_rows_done_of_total(admin):
    job = previewed(admin)
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    holder = _Holder(job.pk)
    holder.start()
    try:
        assert holder.held.wait(10)
        background._publish(job.pk, background.COMMIT, "running", 2, 3)
        page = html(admin.get(reverse("imports:progress", args=[job.pk])))
        assert "Importing…" in page and "2 of 3 rows" in page and 'aria-valuenow="2"' in page and "67%" in page
        partial = html(admin.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"}))
        assert partial.startswith('<div id="import-progress"') and "2 of 3 rows" in partial
        job.refresh_from_db()
        assert job.status == "running", "a job whose runner lives is not interrupted"
    finally:
        holder.release.set()
        holder.join()
        cache.delete(background.progress_key(job.pk))


def test_a_job_left_running_is_marked_interrupted(admin):
    job = previewed(admin)
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    # Nobody holds its lock: its process died. The page says so, and it can run again.
    response = admin.get(reverse("imports:progress", args=[job.pk]))
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    page = html(admin.get(reverse("imports:detail", args=[job.pk])))
    assert "interrupted" in page and "nothing was written" in page
    assert 'id="count-created"' not in page, "the counts of the run before are not shown as this one's"
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    # Its last check may have been of another mapping: it is checked again first.
    response = admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"}, follow=True)
    assert "Check the file first" in html(response) and not Customer.objects.exists()
    post_mapping(admin, job, MAPPING)
    admin.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    job.refresh_from_db()
    assert job.status == "done" and Customer.objects.count() == 2


def test_the_nightly_run_marks_interrupted_jobs(admin):
    job = previewed(admin)
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    results = nightly.run(today=datetime.date(2026, 6, 30))
    assert results["imports_interrupted"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and "interrupted" in job.error
